"""The front door, ``/``: what this server holds and where to go next, for a person or a program.

A browser (``Accept: text/html``, ``*/*`` or no Accept header) gets a small HTML page with no external assets:
the corpus (articles, claims, sources, last ingest, corpus version), links to the API reference, llms.txt, the
agent index and feeds and the MCP endpoint, and a curl example for each kind of user. ``Accept: application/json``
gets the same as JSON; an Accept header that admits neither is a 406. The answer is cacheable like every public
one (ETag, 304, Last-Modified, X-Corpus-Version); its ETag names the representation and it varies on Accept, so
the in-process response cache (app.cache) leaves it to the route. Every value on the page is HTML-escaped.

Links start with GARDEN_PUBLIC_URL, or are relative when it is unset (app.http.api_url). The curl examples need
an absolute address: they read it from a shell variable set on their first line, to GARDEN_PUBLIC_URL or, when
that is unset, to the README's address (the server cannot know its own; the Host header is never trusted).
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.http import JSON, Context, ContextDep, api_url
from app.negotiation import preferred
from app.problems import ApiProblem
from app.queries.corpus import Overview, overview
from app.queries.params import NoParams

router = APIRouter(tags=["front door"])
HTML = "text/html; charset=utf-8"
OFFERS = ("text/html", "application/json")
DEFAULT_BASE = "http://127.0.0.1:8000"

#: (key, label, path) of every link, in the page's order.
LINKS = (
    ("docs", "API reference (Swagger UI)", "/docs"),
    ("redoc", "API reference (ReDoc)", "/redoc"),
    ("openapi", "OpenAPI document", "/openapi.json"),
    ("llmsTxt", "llms.txt: the site map for language models", "/llms.txt"),
    ("agentIndex", "Agent index", "/agents/index.json"),
    ("feedsManifest", "Feeds manifest", "/agents/feeds/manifest.json"),
    ("claimsFeed", "Claims feed (JSONL)", "/agents/feeds/claims.jsonl"),
    ("sourcesFeed", "Sources feed (JSONL)", "/agents/feeds/sources.jsonl"),
    ("edgesFeed", "Graph edges feed (JSONL)", "/agents/feeds/edges.jsonl"),
    ("roadmapFeed", "Roadmap feed (JSONL)", "/agents/feeds/roadmap.jsonl"),
    ("mcp", "MCP endpoint (streamable HTTP: POST JSON-RPC)", "/mcp"),
    ("articles", "Articles", "/articles"),
    ("claims", "Claims", "/claims"),
    ("series", "Series", "/series"),
    ("topics", "Topics", "/topics"),
    ("ready", "Readiness and corpus", "/readyz"),
)


def _examples(corpus: Overview) -> list[dict[str, str]]:
    """(user, what, path) for each kind of user, with a topic and a series the corpus holds where it has one."""
    topic = f"topic={quote(corpus.topic, safe='')}&" if corpus.topic else ""
    series = f"/series/{quote(corpus.series, safe='')}" if corpus.series else "/series"
    return [
        {"user": "agent", "what": "An agent querying claims: by topic and confidence, with their state",
         "path": f"/claims?{topic}min_confidence=medium-high&fields=claimId,claim,confidence,state"},
        {"user": "frontend", "what": "A web frontend listing articles: a page of summaries, newest first",
         "path": "/articles?limit=5&sort=-updated&fields=slug,title,dek,readingTime,series"},
        {"user": "script", "what": "A script pulling a series in order: its members with their parts",
         "path": series},
    ]  # fmt: skip


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value  # stored in UTC
    return utc.isoformat(timespec="seconds") + "Z"


def _document(ctx: Context, corpus: Overview) -> dict[str, Any]:
    """The front door as JSON (the HTML page shows the same)."""
    settings = ctx.settings
    shell = f"GARDEN={settings.public_url or DEFAULT_BASE}" + (
        "" if settings.public_url else "  # this server's address"
    )
    return {
        "name": settings.site_name,
        "description": settings.site_description,
        "corpus": {
            "version": corpus.version,
            "ingestedAt": _iso(corpus.ingested_at),
            "articles": corpus.articles,
            "claims": corpus.claims,
            "sources": corpus.sources,
        },
        "links": {key: api_url(settings, path) for key, _, path in LINKS},
        "examples": [
            {
                "user": item["user"],
                "description": item["what"],
                "url": api_url(settings, item["path"]),
                "command": f'curl -s "$GARDEN{item["path"]}"',
            }
            for item in _examples(corpus)
        ],
        "shell": shell,
    }


STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1d1d1d}"
    "th,td{text-align:left;padding:.15rem 1.5rem .15rem 0}pre{background:#f3f3f0;padding:.75rem;overflow-x:auto}"
    "code,pre{font:14px/1.4 ui-monospace,monospace}h2{margin-top:2rem}"
)


def _html(document: dict[str, Any]) -> bytes:
    """The page: every value escaped, no script, no external stylesheet, font or image."""
    e = escape
    corpus = document["corpus"]
    rows = [("Articles", corpus["articles"]), ("Claims", corpus["claims"]), ("Sources", corpus["sources"]),
            ("Last ingest", corpus["ingestedAt"] or "never"), ("Corpus version", corpus["version"])]  # fmt: skip
    links = "".join(f'<li><a href="{e(document["links"][key])}">{e(label)}</a></li>' for key, label, _ in LINKS)
    examples = "".join(
        f"<h3>{e(item['description'])}</h3><pre><code>{e(item['command'])}</code></pre>"
        for item in document["examples"]
    )
    description = f"<p>{e(document['description'])}</p>" if document["description"] else ""
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(document['name'])}</title><style>{STYLE}</style></head><body>"
        f"<h1>{e(document['name'])}</h1>{description}"
        f"<h2>The corpus</h2><table>{''.join(f'<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>' for k, v in rows)}"
        f"</table><h2>Where to go</h2><ul>{links}</ul>"
        f"<h2>Try it</h2><p>Set the server's address once, then run the examples:</p>"
        f"<pre><code>{e(document['shell'])}</code></pre>{examples}</body></html>\n"
    )
    return page.encode()


@router.get("/", summary="The front door: the corpus and where to go next", include_in_schema=False)
def front_door(ctx: ContextDep, _: Annotated[NoParams, Query()]) -> Response:
    chosen = preferred(ctx.request.headers.get("accept", ""), OFFERS)
    if chosen is None:
        detail = "/ is text/html or application/json; the Accept header admits neither."
        raise ApiProblem(406, "Not Acceptable", detail)
    ctx.variant = "json" if chosen == "application/json" else "html"
    document = _document(ctx, overview(ctx.session, ctx.preview))
    if ctx.variant == "json":
        return ctx.respond(orjson.dumps(document), JSON)
    return ctx.respond(_html(document), HTML)
