"""Liveness and readiness."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from app.budget import estimate
from app.http import ContextDep
from app.queries.corpus import held

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str = "ok"


class CorpusSummary(BaseModel):
    """The stored corpus, as the caller may see it: anonymous callers get the counts of published articles
    only (how many drafts or reviews are stored is not theirs to learn); the preview token counts everything."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"version": 3, "ingestedAt": "2026-11-22T15:58:59Z", "articles": 12, "publicArticles": 10, "claims": 60}
    ]})  # fmt: skip

    version: int
    ingestedAt: dt.datetime | None
    articles: int = Field(description="Articles the caller may read: published ones, or all with preview access.")
    publicArticles: int = Field(description="Articles published in both front matter and artifact.")
    claims: int = Field(description="Claims of the articles the caller may read.")


class Ready(BaseModel):
    """The database answers; what it holds."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "database": "sqlite",
                    "corpus": {
                        "version": 3,
                        "ingestedAt": "2026-11-22T15:58:59Z",
                        "articles": 12,
                        "publicArticles": 10,
                        "claims": 60,
                    },
                }
            ]
        }
    )

    status: str
    database: str
    corpus: CorpusSummary


def _json(model: BaseModel) -> Response:
    body = model.model_dump_json().encode()
    return Response(body, media_type="application/json", headers={"X-Token-Estimate": str(estimate(body))})


@router.get("/healthz", response_model=Health, summary="The process is up (answers without the database)")
async def healthz() -> Response:  # no I/O: answered on the event loop, not in the thread pool
    return _json(Health())


@router.get("/readyz", response_model=Ready, summary="The database answers; the loaded corpus")
def readyz(ctx: ContextDep) -> Response:
    corpus = held(ctx.session, ctx.preview)
    summary = CorpusSummary(
        version=corpus.version,
        ingestedAt=corpus.ingested_at,
        articles=corpus.articles,
        publicArticles=corpus.public_articles,
        claims=corpus.claims,
    )
    return _json(Ready(status="ready", database=ctx.session.get_bind().dialect.name, corpus=summary))
