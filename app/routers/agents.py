"""The publisher's agent files (DATA-CONTRACT §2): the same bytes its generator would write.

With the preview token, exactly the publisher's files. Anonymous callers get the same files without the
articles hidden from them (app.queries.common.hides): the files built from published (P) articles are the same
for both; the verification report, diagnostics.json and garden-queries.json leave hidden articles out
(app.agent.reports).

The files that grow with the corpus are stored once per corpus version and date and streamed from the store
(app.agent.store); the small ones (manifest, packets, topics, the empty roadmap feed) are built per request.

A stored file is answered with Context.respond's headers (the URL's strong ETag, app.http.Context.etag, the same
whether the bytes come from the store or are built in memory; 304, Cache-Control, X-Corpus-Version,
X-Token-Estimate on JSON) and read from disk as it is
sent, after the request's database slot is given back. Files have a Content-Length; the feeds are sent
chunked, as they were. A request that finds its file not yet stored either builds it from its own session
(holding the build lock) or, if another holds the lock, gives its slot back and waits for it (a 503 with
Retry-After if the builder gives up). With no usable store directory, files are built per request as before.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, BinaryIO

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session

from app.agent import files, store
from app.db import get_engine
from app.deadline import current_guard
from app.http import JSON, MARKDOWN, Context, ContextDep, read_corpus
from app.problems import ApiProblem
from app.queries.params import NoParams
from app.responses_agent import (
    AgentIndex,
    ClaimFeedRow,
    Diagnostics,
    EdgeRow,
    FeedsManifest,
    GardenQueries,
    GraphEdges,
    GraphNode,
    IndexEntry,
    Packet,
    RoadmapRow,
    SourceFeedRow,
    TopicFile,
    VerificationReport,
)

router = APIRouter(tags=["agent files"])
Nothing = Annotated[NoParams, Query()]
NDJSON = "application/x-ndjson"
Name = Annotated[str, Path(description="An article slug or a topic, as the index lists it.", max_length=200)]


def _doc(media_type: str, example: str | type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The 200 of a non-JSON file, with an example; an NDJSON feed is given its row model instead: the schema of
    one line, and the model's examples as lines."""
    if isinstance(example, type):
        row = example
        examples = row.model_json_schema().get("examples", [])  # none for the roadmap feed: always empty
        example = "".join(orjson.dumps(line).decode() + "\n" for line in examples)
        schema: dict[str, Any] = {"$ref": f"#/components/schemas/{row.__name__}"}
        return {200: {"description": f"One {row.__name__} per line (JSON Lines).",
                      "content": {media_type: {"schema": schema, "example": example}}}}  # fmt: skip
    return {200: {"content": {media_type: {"schema": {"type": "string"}, "example": example}}}}


def _corpus(ctx: Context) -> files.Corpus:
    settings = ctx.settings
    return files.Corpus(ctx.session, settings.site_url, ctx.today, preview=ctx.preview,
                        identity=files.Identity.of(settings))  # fmt: skip


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
        return await _serve_stored(ctx, store.SPECS[path])

    if media_type == JSON:
        router.add_api_route(path, route, methods=["GET"], summary=summary, response_model=model, name=path)
    else:
        router.add_api_route(path, route, methods=["GET"], summary=summary, response_class=Response,
                             responses=_doc(media_type, model), name=path)  # fmt: skip


async def _serve_stored(ctx: Context, spec: store.Spec) -> Response:
    """The stored file of ``spec`` for the caller's generation, building it first if no one has."""
    gzip_ok = ctx.gzip_ok
    try:
        generation = store.Generation.of(ctx.settings, ctx.corpus, ctx.today, ctx.preview)
        opened = generation.open(spec, gzip_ok) or await _build_once(ctx, generation, spec, gzip_ok)
        if isinstance(opened, Response):
            return opened
    except OSError as exc:  # no usable cache directory, or a full disk: build in memory, as before the store
        store.log.warning("agent file store unusable (%s); building %s per request", exc, spec.path)
        return await _in_memory(ctx, spec)
    await ctx.release()  # the download holds no database slot
    return _response(ctx, spec, opened)


async def _build_once(
    ctx: Context, generation: store.Generation, spec: store.Spec, gzip_ok: bool
) -> store.Opened | Response:
    """Build and store the file (its lock taken), or wait for whoever holds the lock: the opened file."""
    with generation.lock(spec, wait=False) as mine:
        if mine:
            if generation.lookup(spec) is None:
                if await anyio.to_thread.run_sync(_build_unbounded, ctx, generation, spec) is None:
                    raise _not_found(spec)
                await anyio.to_thread.run_sync(store.collect, generation)
            opened = generation.open(spec, gzip_ok)
            if opened is None:
                raise FileNotFoundError(f"{spec.path} vanished from {generation.directory} as it was stored")
            return opened
    if not spec.eager:  # a topic: small enough to build here rather than wait (it may not even exist)
        return await _in_memory(ctx, spec)
    await ctx.release()  # another request or process is building it: wait without a database slot
    deadline = time.monotonic() + store.WAIT_SECONDS
    try:
        while time.monotonic() < deadline:
            await anyio.sleep(store.POLL_SECONDS)
            opened = generation.open(spec, gzip_ok)
            if opened is not None:
                return opened
            with generation.lock(spec, wait=False) as free:
                if free:  # the builder is done, or gave up (then the next request builds again)
                    opened = generation.open(spec, gzip_ok)
                    if opened is not None:
                        return opened
                    break
    except OSError as exc:  # the slot is given back: no building in memory from here
        store.log.warning("waiting for %s failed: %s", spec.path, exc)
    raise ApiProblem(503, "Service Unavailable", f"{spec.path} is being built; try again shortly.",
                     headers={"Retry-After": "2"})  # fmt: skip


async def _in_memory(ctx: Context, spec: store.Spec) -> Response:
    corpus = await anyio.to_thread.run_sync(_corpus, ctx)
    if spec.chunked:
        built = spec.build(corpus)
        assert isinstance(built, Iterator)
        return ctx.stream(built, spec.media_type)
    body = await anyio.to_thread.run_sync(spec.build, corpus)
    if body is None:
        raise _not_found(spec)
    assert isinstance(body, bytes)
    return ctx.respond(body, spec.media_type)


def _build_unbounded(ctx: Context, generation: store.Generation, spec: store.Spec) -> store.Meta | None:
    """Build ``spec`` from a session of its own, outside the request's deadline (no guard: app.deadline), so that
    a file whose build takes longer than GARDEN_REQUEST_TIMEOUT (a large corpus; the first request of a new day)
    is still stored once: the request is answered 503 at its deadline, and a later one finds the file. The
    generation is named after the request's corpus version, so the build reads that version or nothing: if an
    ingest committed since, it reads the request's own snapshot instead, within the deadline."""
    token = current_guard.set(None)
    try:
        with Session(get_engine()) as session:
            if read_corpus(session) == ctx.corpus:
                return generation.build(session, spec)
    finally:
        current_guard.reset(token)
    return generation.build(ctx.session, spec)


def _not_found(spec: store.Spec) -> ApiProblem:
    return ApiProblem(404, "Not Found", f"No file at {spec.path}.")


def _response(ctx: Context, spec: store.Spec, opened: store.Opened) -> Response:
    """Context.respond's headers for the stored bytes, which are read from disk as they are sent."""
    meta = opened.meta
    headers, unchanged = ctx.validated()
    if unchanged:
        opened.file.close()
        return Response(status_code=304, headers=headers)
    if meta.tokens is not None:
        headers["X-Token-Estimate"] = str(meta.tokens)
    if opened.gzip:
        headers["Content-Encoding"] = "gzip"
    if not spec.chunked:
        headers["Content-Length"] = str(meta.gzip_size if opened.gzip else meta.size)
    return StreamingResponse(_chunks(opened.file, _reads(ctx)), media_type=spec.media_type, headers=headers)


async def _chunks(file: BinaryIO, limiter: anyio.CapacityLimiter) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(file.read, store.CHUNK, limiter=limiter):
            yield chunk
    finally:
        file.close()


def _reads(ctx: Context) -> anyio.CapacityLimiter:
    """The worker's limiter for file reads: two at a time, apart from the request threads' tokens, so that
    downloads never take the thread a single-item read needs (made on first use, on the event loop)."""
    state = ctx.request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "agent_file_reads", None)
    if limiter is None:
        limiter = state.agent_file_reads = anyio.CapacityLimiter(2)
    return limiter


def _feed(path: str, summary: str, build: Callable[[files.Corpus], Iterator[bytes]]) -> None:
    def route(ctx: ContextDep, _: Nothing) -> Response:
        return ctx.stream(build(_corpus(ctx)), NDJSON)  # the stream holds the request's session to its end

    router.add_api_route(path, route, methods=["GET"], summary=summary, response_class=Response,
                         responses=_doc(NDJSON, RoadmapRow), name=path)  # fmt: skip


_stored("/agents/index.json", "The agent index: public articles, topics, archives", AgentIndex)
_stored("/agents/index.jsonl", "The agent index entries, one per line", IndexEntry)
_file("/agents/feeds/manifest.json", "The feeds manifest with counts", files.manifest_json, JSON, FeedsManifest)
_stored("/agents/feeds/claims.jsonl", "Every public claim, one JSON row per line, streamed", ClaimFeedRow)
_stored("/agents/feeds/sources.jsonl", "Every public source per article, streamed", SourceFeedRow)
_stored("/agents/feeds/edges.jsonl", "Every graph edge (from, to, type), streamed", EdgeRow)
_feed("/agents/feeds/roadmap.jsonl", "The roadmap feed (always empty: roadmaps are out of scope)", files.roadmap_feed)
_stored("/agents/garden-queries.json", "The garden query catalog", GardenQueries)
_stored(
    "/agents/verification-report.json",
    "Claim states and findings for every article the caller may see",
    VerificationReport,
)
_stored("/agents/diagnostics.json", "The publisher's diagnostics for every article the caller may see", Diagnostics)
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
async def topic(ctx: ContextDep, topic: Name, _: Nothing) -> Response:
    return await _serve_stored(ctx, store.topic_spec(topic))
