"""``create_app()``: the FastAPI application, its error shape and its routers; ``app = create_app()``."""

from __future__ import annotations

from fastapi import FastAPI

from app.problems import install_problem_handlers
from app.routers import health


def create_app() -> FastAPI:
    """The garden-api application."""
    app = FastAPI(
        title="garden-api",
        version="0.1.0",
        summary="Agent-readable articles: claims, evidence, sources, briefs, series and topics.",
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    return app


app = create_app()
