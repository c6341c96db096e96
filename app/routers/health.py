"""Liveness and readiness."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func
from sqlmodel import select

from app import models
from app.budget import estimate
from app.http import ContextDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str = "ok"


class CorpusSummary(BaseModel):
    """The stored corpus."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"version": 3, "ingestedAt": "2026-11-22T15:58:59Z", "articles": 12, "publicArticles": 10, "claims": 60}
    ]})  # fmt: skip

    version: int
    ingestedAt: dt.datetime | None
    articles: int
    publicArticles: int
    claims: int


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
    session = ctx.session
    corpus = session.exec(select(models.Corpus)).first()
    article = models.Article
    articles = session.scalar(select(func.count()).select_from(article)) or 0
    public = session.scalar(select(func.count()).select_from(article).where(article.is_public)) or 0
    claims = session.scalar(select(func.count()).select_from(models.Claim)) or 0
    summary = CorpusSummary(
        version=corpus.version if corpus else 0,
        ingestedAt=corpus.ingested_at if corpus else None,
        articles=articles,
        publicArticles=public,
        claims=claims,
    )
    return _json(Ready(status="ready", database=session.get_bind().dialect.name, corpus=summary))
