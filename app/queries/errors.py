"""What the query layer raises when it cannot answer: domain errors that know nothing of HTTP or MCP.

Each error carries one sentence (``message``) and, where one argument is to blame, that argument's name as the
REST API spells it (``parameter``). The surfaces map them once each: ``app.problems`` to problem+json (the status
and title are decided there, not here), ``app.mcp_access`` to a one-sentence tool error or JSON-RPC error that
names the argument as the tool calls it.

Decided where the issue is silent:

* A missing thing names the argument that named it (``slug``, ``claim_id``, ``topic``, ``source_id``), although
  REST's 404 body never carried a ``parameter``: REST keeps its body, MCP prefixes the name.
* A cursor this API did not make is :class:`MalformedCursor`, whose message says only that: the advice differs
  per surface (REST hands back a ``next`` link, MCP a ``nextCursor``), so each surface adds it.
* A database that cannot answer now is :class:`Unavailable`, raised where a query's session runs
  (``app.mcp_access``; REST's handlers see SQLAlchemy's own errors) so that each surface words it once.
* :class:`app.budget.BudgetTooSmall` stays where it is: it is raised by the budget arithmetic, below the queries,
  and is already free of HTTP.
"""

from __future__ import annotations


class QueryError(Exception):
    """Base of every error the query layer raises on purpose: ``message`` is one sentence for the caller."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message, self.parameter = message, parameter


class NotFound(QueryError):
    """Nothing of that name is visible to this caller (absent, or hidden: draft or review)."""


class Gone(QueryError):
    """The article was archived: it existed and was published, and is no longer shown without preview."""


class Expired(QueryError):
    """What was asked for is older than the server keeps (a ``since`` before the retained change log); the
    message says how to resync."""


class NeedsPreview(QueryError):
    """The parameter is only for callers with preview access."""


class InvalidParameter(QueryError):
    """A parameter's value is outside what it accepts. ``problem`` says what is wrong, without the name;
    ``message`` is ``"<parameter>: <problem>"``, the REST detail."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}", parameter)
        self.problem = problem


class MalformedCursor(InvalidParameter):
    """A cursor this API did not make, or one altered since (a forged key included). The surfaces add the
    advice (pass back what the previous page gave, unchanged: a ``next`` link in REST, ``nextCursor`` in MCP)."""

    def __init__(self) -> None:
        super().__init__("cursor", "is malformed")


class CursorMismatch(InvalidParameter):
    """A genuine cursor, sent with another sort or other filters than the page that made it had."""

    def __init__(self) -> None:
        super().__init__("cursor", "was made under another sort or other filters")


class Unavailable(QueryError):
    """The database could not answer now: busy (no free connection in time), slow (past the request's deadline)
    or unreachable. Nothing the caller sent is at fault; the same call may succeed a moment later."""

    def __init__(self) -> None:
        super().__init__("The database is busy or unreachable; retry shortly.")
