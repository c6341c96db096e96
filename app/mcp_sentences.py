"""MCP errors as one sentence that names the argument as the tool calls it.

Two kinds of failure reach an MCP caller:

* the query layer's errors (``app.queries.errors``, ``app.budget.BudgetTooSmall``, the 401 of a wrong preview
  token): :func:`error_sentence` words each, ``<argument>: <what is wrong>.``;
* arguments the SDK refuses before our tool runs: it validates them against each tool's signature and, left alone,
  answers pydantic's multi-line dump under "Error executing tool …". :class:`SentenceToolManager` takes its place in
  the server (:func:`install`) and answers :func:`validation_sentence` instead, built from the tool's own input
  schema: ``confidence: expected one of low, medium, medium-high, high (or a list of them); got 'bogus'.``

Decided where the issue is silent: every message starts with the argument's name and a colon (the rule a caller,
or a test, can rely on); where REST's message advises REST's means (changes_since's ``since`` older than the log:
refetch the feeds, follow /changes; the ``X-Corpus-Version`` header), the sentence says the MCP ones; the value
given is echoed only when short (a long one is described by its length); the wrong token's sentence names no
argument, as the token is no argument but the HTTP request's Authorization header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError, UnexpectedToolError
from mcp.server.mcpserver.resources.resource_manager import ResourceManager
from mcp.server.mcpserver.tools.tool_manager import ToolManager
from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from app.budget import BudgetTooSmall
from app.problems import ApiProblem
from app.queries.errors import CursorMismatch, Expired, InvalidParameter, MalformedCursor, QueryError

_Server = TypeVar("_Server", bound="MCPServer")

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context, MCPServer

_LONGEST_ECHO = 60  # characters of a given value repeated in a message; a longer one is described by its length


def error_sentence(error: QueryError | BudgetTooSmall | ApiProblem, renamed: Mapping[str, str]) -> str:
    """The one sentence for a query-layer error; ``renamed`` maps REST's parameter names to the tool's."""
    if isinstance(error, BudgetTooSmall):
        return (f"max_tokens: not even one item fits; the first needs {error.needed} tokens with its envelope, so ask "
                f"for at least {error.needed}.")  # fmt: skip
    if isinstance(error, ApiProblem):  # the 401 of preview access: its detail is one sentence already
        return _period(error.detail)
    name = renamed.get(error.parameter, error.parameter) if error.parameter else None
    if isinstance(error, Expired) and error.parameter == "since":  # REST's resync advice names REST's feeds
        oldest = re.search(r"after version (\d+)", error.message)
        first = error.message.removeprefix("since: ").split(". ")[0]
        return f"{name}: {first}; re-read what you cache, then pass since={oldest and oldest[1]} from then on."
    if isinstance(error, MalformedCursor):
        return f"{name}: malformed; pass back the previous page's nextCursor unchanged."
    if isinstance(error, CursorMismatch):
        return (f"{name}: made under other filters; start again without a cursor, or keep the arguments the "
                f"first page had.")  # fmt: skip
    if isinstance(error, InvalidParameter):
        return f"{name}: {_period(error.problem.replace('(X-Corpus-Version)', '(a corpusVersion)'))}"
    if name is None:
        return _period(error.message)
    message = error.message.removeprefix(f"{error.parameter}: ")
    return f"{name}: {message[:1].lower()}{_period(message[1:])}"


def validation_sentence(
    error: ValidationError,
    given: Mapping[str, Any],
    renamed: Mapping[str, str],
    schema: Mapping[str, Any] | None = None,
) -> str:
    """One sentence for the first argument pydantic refused. With the tool's input ``schema`` it says what the
    argument takes, from the schema; without one (REST's parameter models), pydantic's own message, tidied."""
    errors = error.errors(include_url=False)
    first = errors[0]
    name = str(first["loc"][0]) if first["loc"] else "arguments"
    shown = renamed.get(name, name)
    value = given.get(name)
    if first["type"] == "missing":
        expected = _expected(schema, name)
        return f"{shown}: required" + (f"; expected {expected}." if expected else ".")
    if (isinstance(value, str) and "\x00" in value) or first["type"] == "string_pattern_mismatch":
        return f"{shown}: must not contain the NUL character."
    expected = _expected(schema, name)
    if expected is None:
        message = str(first["msg"]).removeprefix("Value error, ")
        return f"{shown}: {message[:1].lower()}{message[1:].rstrip('.')}; got {_echo(value)}."
    return f"{shown}: expected {expected}; got {_echo(_offending(value, errors, name))}."


def _period(text: str) -> str:
    text = " ".join(text.split())  # one line, whatever the message held
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _echo(value: Any) -> str:
    if isinstance(value, str) and len(value) > _LONGEST_ECHO:
        return f"a string of {len(value)} characters"
    shown = "true" if value is True else "false" if value is False else "null" if value is None else repr(value)
    return shown if len(shown) <= _LONGEST_ECHO else f"a {type(value).__name__} too long to repeat"


def _offending(value: Any, errors: list[Any], name: str) -> Any:
    """Of a list, the items pydantic refused (``['low', 'bogus']`` got ``'bogus'``); else the value itself."""
    if not isinstance(value, list):
        return value
    bad = [value[e["loc"][2]] for e in errors if len(e["loc"]) == 3 and e["loc"][0] == name and
           isinstance(e["loc"][2], int) and e["loc"][2] < len(value)]  # fmt: skip
    return bad[0] if len(bad) == 1 else bad or value


def _expected(schema: Mapping[str, Any] | None, name: str) -> str | None:
    """What the argument ``name`` accepts, in words, from the tool's JSON Schema (None without one)."""
    if schema is None or name not in schema.get("properties", {}):
        return None
    return _describe(schema["properties"][name], schema.get("$defs", {}))


def _describe(node: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    if "$ref" in node:
        return _describe(defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {}), defs)
    members = [member for member in node.get("anyOf", node.get("oneOf", [])) if member.get("type") != "null"]
    if members:
        words = [_describe(member, defs) for member in members if member.get("type") != "array"]
        lists = [member for member in members if member.get("type") == "array"]
        for array in lists:
            item = _describe(array.get("items", {}), defs)
            words.append("a list of them" if item in words else f"a list of {item}")
        if len(words) == 2 and words[1] == "a list of them":
            return f"{words[0]} (or a list of them)"
        return " or ".join(words)
    return _describe_one(node)


def _describe_one(node: Mapping[str, Any]) -> str:
    if "enum" in node or "const" in node:
        values = [str(value) for value in node.get("enum", [node.get("const")])]
        return f"one of {', '.join(values)}" if len(values) > 1 else repr(values[0])
    kind = node.get("type")
    if kind == "integer":
        low, high = node.get("minimum"), node.get("maximum")
        if low is not None and high is not None:
            return f"an integer from {low} to {high}"
        if low is not None:
            return f"an integer of at least {low}"
        return "an integer" if high is None else f"an integer of at most {high}"
    if kind == "boolean":
        return "true or false"
    if kind == "string":
        text = "a non-empty string" if node.get("minLength", 0) >= 1 else "a string"
        return text + (f" of at most {node['maxLength']} characters" if "maxLength" in node else "")
    if kind == "array":
        return "a list"
    return f"a {kind}" if isinstance(kind, str) else "a value"


def error_result(text: str) -> CallToolResult:
    """A tool error: ``isError`` with ``text`` as its only content."""
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


class SentenceToolManager(ToolManager):
    """The SDK's tool manager, answering a tool's refusal with one sentence rather than "Error executing tool
    <name>: " and, for arguments the SDK's validation refused, pydantic's dump. A crash (``UnexpectedToolError``)
    is left to the SDK, which logs it and answers without its text."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False
    ) -> Any:
        tool = self.get_tool(name)
        if tool is None:
            return error_result(f"name: no tool {_echo(name)}; tools/list names every tool.")
        try:
            return await tool.run(arguments, context, convert_result=convert_result)
        except UnexpectedToolError:
            raise
        except ToolError as error:
            cause = error.__cause__
            if isinstance(cause, ValidationError):
                return error_result(validation_sentence(cause, arguments, {}, tool.parameters))
            if isinstance(cause, ToolError):  # raised by our tool: already one sentence
                return error_result(str(cause))
            raise


class SentenceResourceManager(ResourceManager):
    """The SDK's resource manager, answering a URI that matches no resource or template in one sentence naming
    the ``uri`` (the SDK says "Unknown resource: <uri>"); our resources' own errors pass unchanged."""

    async def get_resource(self, uri: Any, context: Context[Any, Any]) -> Any:
        try:
            return await super().get_resource(uri, context)
        except ResourceNotFoundError as error:
            if isinstance(error.__cause__, QueryError | ApiProblem):  # raised by our resource: one sentence already
                raise
            raise ResourceNotFoundError(
                f"uri: no resource at {_echo(str(uri))}; resources/templates/list names the URI templates."
            ) from error


def install(server: _Server) -> _Server:
    """Put :class:`SentenceToolManager` and :class:`SentenceResourceManager` in ``server`` in place of the SDK's,
    keeping anything added already. The SDK offers no hook for this (its middleware sees only the finished result,
    its text already a dump), so this sets the server's ``_tool_manager`` and ``_resource_manager``:
    ``tests/test_mcp_errors.py`` fails should an SDK release rename them."""
    tools: ToolManager = server._tool_manager
    server._tool_manager = SentenceToolManager(tools.warn_on_duplicate_tools, tools=tools.list_tools())
    resources: ResourceManager = server._resource_manager
    replacement = SentenceResourceManager(resources.warn_on_duplicate_resources, resources=resources.list_resources())
    for template in resources.list_templates():
        replacement._templates[template.uri_template] = template
    server._resource_manager = replacement
    return server
