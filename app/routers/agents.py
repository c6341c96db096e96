"""The publisher's agent files (DATA-CONTRACT §2): the same bytes its generator would write.

The files that grow with the corpus are stored once per corpus version and date and streamed from the store
(app.agent.store); the small ones (manifest, packets, topics, the empty roadmap feed) are built per request.
Anonymous callers get the public subset, preview callers the publisher's files over every article.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.agent import files, store
from app.http import JSON, MARKDOWN, Context, ContextDep
from app.problems import ApiProblem
from app.queries.params import NoParams
from app.responses_agent import (
    AgentIndex,
    Diagnostics,
    FeedsManifest,
    GardenQueries,
    GraphEdges,
    GraphNode,
    Packet,
    TopicFile,
    VerificationReport,
)

router = APIRouter(tags=["agent files"])
Nothing = Annotated[NoParams, Query()]
NDJSON = "application/x-ndjson"
FEED_EXAMPLE = '{"from":"article:x","to":"article:x:claim-001","type":"argues"}\n'
Name = Annotated[str, Path(description="An article slug or a topic, as the index lists it.", max_length=200)]


def _doc(media_type: str, example: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {"schema": {"type": "string"}, "example": example}}}}


def _corpus(ctx: Context) -> files.Corpus:
    return files.Corpus(ctx.session, ctx.settings.site_url, ctx.today, preview=ctx.preview)


def _file(path: str, summary: str, build: Callable[[files.Corpus], bytes], media_type: str, model: Any) -> None:
    """A route serving one generated file; ``model`` documents JSON, or is an example for other media types."""

    def route(ctx: ContextDep, _: Nothing) -> Response:
        return ctx.respond(build(_corpus(ctx)), media_type)

    if media_type == JSON:
        router.add_api_route(path, route, methods=["GET"], summary=summary, response_model=model, name=path)
    else:
        router.add_api_route(path, route, methods=["GET"], summary=summary, response_class=Response,
                             responses=_doc(media_type, model), name=path)  # fmt: skip


def _stored(path: str, summary: str, model: Any) -> None:
    """A route serving the stored file of app.agent.store.SPECS at ``path`` (looked up per request)."""
    media_type = store.SPECS[path].media_type

    async def route(ctx: ContextDep, _: Nothing) -> Response:
        return await store.serve(ctx, path)

    if media_type == JSON:
        router.add_api_route(path, route, methods=["GET"], summary=summary, response_model=model, name=path)
    else:
        router.add_api_route(path, route, methods=["GET"], summary=summary, response_class=Response,
                             responses=_doc(media_type, model), name=path)  # fmt: skip


def _feed(path: str, summary: str, build: Callable[[files.Corpus], Iterator[bytes]]) -> None:
    def route(ctx: ContextDep, _: Nothing) -> Response:
        return ctx.stream(build(_corpus(ctx)), NDJSON)  # the stream holds the request's session to its end

    router.add_api_route(path, route, methods=["GET"], summary=summary, response_class=Response,
                         responses=_doc(NDJSON, FEED_EXAMPLE), name=path)  # fmt: skip


_stored("/agents/index.json", "The agent index: public articles, topics, archives", AgentIndex)
_stored("/agents/index.jsonl", "The agent index entries, one per line", '{"id":"article:x"}\n')
_file("/agents/feeds/manifest.json", "The feeds manifest with counts", files.manifest_json, JSON, FeedsManifest)
_stored("/agents/feeds/claims.jsonl", "Every public claim, one JSON row per line, streamed", FEED_EXAMPLE)
_stored("/agents/feeds/sources.jsonl", "Every public source per article, streamed", FEED_EXAMPLE)
_stored("/agents/feeds/edges.jsonl", "Every graph edge (from, to, type), streamed", FEED_EXAMPLE)
_feed("/agents/feeds/roadmap.jsonl", "The roadmap feed (always empty: roadmaps are out of scope)", files.roadmap_feed)
_stored("/agents/garden-queries.json", "The garden query catalog", GardenQueries)
_stored("/agents/verification-report.json", "Claim states and findings for every article", VerificationReport)
_stored("/agents/diagnostics.json", "The publisher's diagnostics for every article", Diagnostics)
_stored("/graph/nodes.json", "Graph nodes: articles, topics, claims, sources", list[GraphNode])
_stored("/graph/edges.json", "Graph edges with provenance", GraphEdges)
_stored("/llms.txt", "llms.txt: the site map for language models", "# Aura Knowledge\n…")


def _or_404(body: bytes | None, what: str) -> bytes:
    if body is None:
        raise ApiProblem(404, "Not Found", f"No {what}.")
    return body


@router.get("/agents/articles/{slug}.json", summary="An article packet", response_model=Packet)
def packet(ctx: ContextDep, slug: Name, _: Nothing) -> Response:
    return ctx.respond(_or_404(files.packet_json(_corpus(ctx), slug), f"packet for '{slug}'"), JSON)


@router.get("/agents/articles/{slug}.md", summary="An article's agent brief, byte for byte", response_class=Response,
            responses=_doc("text/markdown", "---\nschemaVersion: 1\n…"))  # fmt: skip
def packet_markdown(ctx: ContextDep, slug: Name, _: Nothing) -> Response:
    return ctx.respond(_or_404(files.packet_markdown(_corpus(ctx), slug), f"brief for '{slug}'"), MARKDOWN)


@router.get("/agents/topics/{topic}.json", summary="One topic's articles", response_model=TopicFile)
def topic(ctx: ContextDep, topic: Name, _: Nothing) -> Response:
    return ctx.respond(_or_404(files.topic_json(_corpus(ctx), topic), f"topic '{topic}'"), JSON)
