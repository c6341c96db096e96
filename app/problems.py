"""One error shape for every 4xx and 5xx: RFC 9457 ``application/problem+json``, built here and nowhere else."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.budget import BudgetTooSmall, estimate
from app.queries.errors import (
    CursorMismatch,
    Expired,
    Gone,
    MalformedCursor,
    NeedsPreview,
    NotFound,
    QueryError,
    Unavailable,
)

log = logging.getLogger("garden.api")
PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem document: the body of every error response."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{
            "type": "about:blank", "title": "Invalid parameter", "status": 422,
            "detail": "confidence: Input should be 'low', 'medium', 'medium-high' or 'high'", "parameter": "confidence",
        }]},
    )  # fmt: skip

    type: str = Field(description="A URI reference naming the problem type (about:blank: see title).")
    title: str
    status: int
    detail: str
    parameter: str | None = Field(None, description="The offending query or path parameter, when there is one.")
    requestId: str | None = Field(None, description="For 500s: the id under which the failure was logged.")
    needed: int | None = Field(None, description="For a max_tokens too small for one item: the tokens it needs.")


def _problem(description: str) -> dict[str, Any]:
    """An error response referring to the one Problem schema (app.openapi puts it in components/schemas)."""
    return {"description": description, "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


#: Declared on every route, so that clients and schema checkers know the error shapes and codes.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: the If-None-Match or If-Modified-Since validator still holds."},
    400: _problem("Unknown parameter or malformed cursor."),
    401: _problem(
        "The Authorization header does not grant preview access: the token is wrong, or this server has no "
        "GARDEN_PREVIEW_TOKEN configured (the detail says which)."
    ),
    403: _problem("The request needs preview access."),
    404: _problem("No such resource, or it is not published."),
    410: _problem("The article was archived, or (/changes) `since` is older than the retained change log."),
    422: _problem("A parameter has a value outside what it accepts."),
    500: _problem("An unexpected failure; logged under requestId."),
    503: _problem(
        "The database is busy, slow or unreachable: no free slot within GARDEN_POOL_TIMEOUT, or no answer "
        "within GARDEN_REQUEST_TIMEOUT. Retry-After says when to try again."
    ),
}


class ApiProblem(Exception):
    """Raised by a route (never by a query: app.queries.errors) to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        parameter: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.parameter, self.headers = parameter, headers or {}


def malformed_cursor() -> ApiProblem:
    """The 400 for a cursor this API did not make, or one altered since (a forged key included)."""
    return ApiProblem(400, "Invalid cursor", "cursor is malformed: pass back the `next` link unchanged.",
                      parameter="cursor")  # fmt: skip


def domain_problem(error: QueryError) -> ApiProblem:
    """The problem document for a query-layer error (``app.queries.errors``): the one place that decides its status
    and title. A missing or archived thing is not a parameter error, so its body names no ``parameter``."""
    if isinstance(error, MalformedCursor):
        return malformed_cursor()
    if isinstance(error, CursorMismatch):
        detail = "cursor was made under another sort or other filters; start again without a cursor, or keep the "
        return ApiProblem(400, "Invalid cursor", detail + "parameters the first page had.", parameter="cursor")
    if isinstance(error, NotFound):
        return ApiProblem(404, "Not Found", error.message)
    if isinstance(error, Gone):
        return ApiProblem(410, "Gone", error.message)
    if isinstance(error, Expired):
        return ApiProblem(410, "Gone", error.message, parameter=error.parameter)
    if isinstance(error, Unavailable):
        return ApiProblem(503, "Service Unavailable", error.message, headers={"Retry-After": "1"})
    if isinstance(error, NeedsPreview):
        return ApiProblem(403, "Forbidden", error.message, parameter=error.parameter)
    # InvalidParameter, and any other error the query layer may add: the caller's value is at fault.
    return ApiProblem(422, "Invalid parameter", error.message, parameter=error.parameter)


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response; ``extra`` adds members such as ``parameter`` or ``requestId``."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    # Errors depend on who asks (a draft is 404 to some, 200 to others): no shared cache may keep them.
    headers = {
        "Cache-Control": "no-store",
        "Vary": "Authorization",
        "X-Token-Estimate": str(estimate(orjson.dumps(body))),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def api_problem(_request: Request, exc: ApiProblem) -> JSONResponse:
    extra = {"parameter": exc.parameter} if exc.parameter else {}
    response = problem(exc.status, exc.title, exc.detail, **extra)
    response.headers.update(exc.headers)
    return response


async def query_error(request: Request, exc: QueryError) -> JSONResponse:
    return await api_problem(request, domain_problem(exc))


async def budget_too_small(_request: Request, exc: BudgetTooSmall) -> JSONResponse:
    return problem(422, "Token budget too small", f"max_tokens: not even one item fits; the next one needs "
                   f"{exc.needed} tokens with its envelope. Ask for at least that many.", parameter="max_tokens",
                   needed=exc.needed)  # fmt: skip


async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    titles = {404: "Not Found", 405: "Method Not Allowed", 410: "Gone"}
    response = problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405 and response.headers.get("allow") == "GET":
        response.headers["Allow"] = "GET, HEAD"  # HEAD is answered for every GET route (app.http.HeadAsGet)
    return response


async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0]
    # ("query", "maturity", 0) names the parameter "maturity": the index is which of its values failed.
    parameter = ".".join(str(part) for part in first["loc"][1:] if not isinstance(part, int))
    parameter = parameter or str(first["loc"][0])
    if first["type"] == "extra_forbidden":
        return problem(400, "Unknown parameter", f"{parameter} is not a parameter of this resource.",
                       parameter=parameter)  # fmt: skip
    message = str(first["msg"]).removeprefix("Value error, ")
    return problem(422, "Invalid parameter", f"{parameter}: {message}", parameter=parameter)


async def database_busy(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return await api_problem(request, domain_problem(Unavailable()))


async def refused_value(request: Request, exc: Exception) -> JSONResponse:
    # A value the database refuses for its column's type (PostgreSQL checks; SQLite compares anyway): only a
    # forged cursor gets this far, every parameter is validated before.
    log.warning("value refused by the database on %s %s: %s", request.method, request.url.path, exc)
    return await api_problem(request, malformed_cursor())


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex
    log.error("unexpected error on %s %s (request %s)", request.method, request.url.path, request_id, exc_info=exc)
    return problem(500, "Internal Server Error", "The server failed to answer; the error was logged.",
                   requestId=request_id)  # fmt: skip


#: Which handler answers which exception (the most specific class wins, as Starlette looks them up).
HANDLERS: dict[type[Exception], Any] = {
    ApiProblem: api_problem,
    QueryError: query_error,
    BudgetTooSmall: budget_too_small,
    StarletteHTTPException: http_error,
    RequestValidationError: invalid_request,
    SQLAlchemyTimeout: database_busy,
    OperationalError: database_busy,
    DataError: refused_value,
    Exception: unexpected,
}


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error FastAPI or Starlette raises, and every unexpected one, into ``problem()``."""
    for exception, handler in HANDLERS.items():
        app.add_exception_handler(exception, handler)
