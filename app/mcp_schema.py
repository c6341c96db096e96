"""The MCP tools' JSON schemas, sized for an agent's context: ``tools/list`` goes into the model's context on every
turn, so each schema says what a client needs to call a tool and read its result, once.

- **Inputs** are typed and described: each argument keeps its type (or a ``$ref`` to one), its constraints, its
  description and a default other than null. The enums and the value-or-list shapes of the claim filters are
  named type aliases (below), which pydantic writes once per tool under ``$defs``.
- **Outputs** are generated from the response models (``app.responses*``, shared with the OpenAPI document) and
  keep what a client needs to read and validate a result: the types and ``required`` of the result's fields
  and of the fields of the items it lists (a page's ``items``, a series' ``members``); any other object in it
  is typed ``object`` (a map below the result too: a change's ``before``), a list of such objects ``array``, and
  an enum or a constant is typed ``string`` (its values are search_claims' input ``$defs`` and the OpenAPI
  document's). Descriptions, titles, examples and the deeper shapes are the OpenAPI document's to carry
  (``/openapi.json``, ``/docs``); here they would cost tokens on every turn.

``compact`` does both, one function for every tool; ``app.mcp_server`` applies it as it lists them. Decided where
the issue is silent: an optional argument is published without its ``null`` branch (omit it rather than pass
null; the server still accepts null); ``additionalProperties: true`` (JSON Schema's default) is left out; and
output schemas type only what an agent reads (above), so that ``tools/list`` stays under 12 KB as the response
models gain typed embedded objects (they did: typed for the OpenAPI document, two levels of them made 15.2 KB).
Measured on content/: 37,203 bytes before; 10,958 after. Issue 17 added changes_since and get_claim's
``version`` (13,150 bytes as first written); the rules for maps, lists of objects and constants, an id's NUL
refused by a validator rather than a ``pattern`` (app.mcp_server), and shorter titles and descriptions brought
tools/list back to 12,238 bytes on the wire (eight tools).
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypeAliasType

from app.content import schema as content
from app.queries import params

# The enums and their value-or-list shapes, each a named alias: pydantic writes each once under a tool's $defs
# and refers to it (one value, or a list of them, ORed: how every claim filter is given).
Confidence = TypeAliasType("Confidence", content.Confidence)
ClaimKind = TypeAliasType("ClaimKind", content.ClaimKind)
Verification = TypeAliasType("Verification", content.VerificationStatus)
State = TypeAliasType("State", params.State)
Support = TypeAliasType("Support", content.Supports)
Confidences = TypeAliasType("Confidences", Confidence | list[Confidence])
ClaimKinds = TypeAliasType("ClaimKinds", ClaimKind | list[ClaimKind])
Verifications = TypeAliasType("Verifications", Verification | list[Verification])
States = TypeAliasType("States", State | list[State])
Supports = TypeAliasType("Supports", Support | list[Support])
Texts = TypeAliasType("Texts", str | list[str])
ChangeType = Literal["article", "claim", "source"]
ChangeTypes = TypeAliasType("ChangeTypes", ChangeType | list[ChangeType])


#: Keys that only document a schema (titles, examples) or restate JSON Schema's defaults.
_DOCUMENTING = frozenset({"title", "examples"})
_NULL = {"type": "null"}


def compact(schema: dict[str, Any], *, describe: bool) -> dict[str, Any]:
    """``schema`` without what an agent does not need: titles, examples, null defaults, ``additionalProperties:
    true``, unused ``$defs``. ``X | None`` becomes ``type: [X, "null"]`` where X is a plain typed schema; on an
    optional argument (not required, default null) the null branch goes.

    ``describe=False`` makes an output schema: no descriptions, defaults or enums, typed where an agent reads
    it (``_to_level``)."""
    if not describe:
        return _prune_defs(_compact(_to_level(schema, schema.get("$defs", {})), describe))
    optional = set(schema.get("properties", {})) - set(schema.get("required", ()))
    out = _compact(schema, describe)
    for name in optional:
        out["properties"][name] = _without_null(out["properties"][name])
    return _prune_defs(out)


#: The lists whose items an output schema types: a page's ``items``, a series' ``members``.
LISTED = frozenset({"items", "members"})


def _to_level(node: Any, defs: dict[str, Any], typed: bool | str = True) -> Any:
    """``node`` with its references inlined, typed where an agent reads it: the result's own fields, and the
    fields of the items it lists (``LISTED``); any other object in it is typed ``object`` (its properties are the
    OpenAPI document's to describe). New fields on embedded models, such as an evidence packet's source, then cost
    an agent's context nothing, and the result still validates. ``typed``: True at the result, "listed" in the
    items of one of its lists, False below."""
    if isinstance(node, list):
        return [_to_level(item, defs, typed) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        rest = {key: value for key, value in node.items() if key != "$ref"}
        return _to_level({**defs[ref.removeprefix("#/$defs/")], **rest}, defs, typed)
    if ("properties" in node and not typed) or (
        isinstance(node.get("additionalProperties"), dict) and typed is not True
    ):
        return {"type": node.get("type", "object")}  # an embedded object, or a map below the result (a change's before)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs":
            continue
        if key == "properties":
            out[key] = {
                name: _to_level(sub, defs, "listed" if typed is True and name in LISTED else False)
                for name, sub in value.items()
            }
        else:
            out[key] = _to_level(value, defs, typed)
    if out.get("items") == {"type": "object"}:  # a list of embedded objects: typed array (their shape is OpenAPI's)
        del out["items"]
    return out


def _compact(node: Any, describe: bool) -> Any:
    if isinstance(node, list):
        return [_compact(item, describe) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DOCUMENTING or (key == "additionalProperties" and value is True):
            continue
        if key in ("description", "default", "enum", "const") and not describe:
            continue
        if key == "default" and value is None:
            continue
        if key in ("properties", "$defs"):  # maps of names: their keys are not keywords
            out[key] = {name: _compact(sub, describe) for name, sub in value.items()}
        else:
            out[key] = _compact(value, describe)
    return _merge_null(out)


def _merge_null(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [{type: X, …}, {type: null}]`` as ``type: [X, "null"], …``, when X is one plain type (no enum,
    const or reference, which a null would not satisfy)."""
    branches = node.get("anyOf")
    if not (isinstance(branches, list) and len(branches) == 2 and _NULL in branches):
        return node
    [other] = [branch for branch in branches if branch != _NULL]
    if not isinstance(other.get("type"), str) or {"enum", "const", "$ref"} & set(other):
        return node
    rest = {key: value for key, value in node.items() if key != "anyOf"}
    return {**other, **rest, "type": [other["type"], "null"]}


def _without_null(node: dict[str, Any]) -> dict[str, Any]:
    """An optional argument's schema without its null branch (omitting the argument is how to leave it out)."""
    kind = node.get("type")
    if isinstance(kind, list) and "null" in kind:
        kept = [k for k in kind if k != "null"]
        return {**node, "type": kept[0] if len(kept) == 1 else kept}
    branches = node.get("anyOf")
    if isinstance(branches, list) and _NULL in branches:
        kept_branches = [branch for branch in branches if branch != _NULL]
        rest = {key: value for key, value in node.items() if key != "anyOf"}
        return {**kept_branches[0], **rest} if len(kept_branches) == 1 else {**rest, "anyOf": kept_branches}
    return node


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return {ref for item in node for ref in _refs(item)}
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
    return found | {ref for key, value in node.items() if key != "$defs" for ref in _refs(value)}


def _prune_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with only the ``$defs`` something refers to (directly or through another definition)."""
    defs = schema.get("$defs")
    if not defs:
        return schema
    used, todo = set(), _refs(schema)
    while todo:
        name = todo.pop()
        if name not in used and name in defs:
            used.add(name)
            todo |= _refs(defs[name])
    rest = {key: value for key, value in schema.items() if key != "$defs"}
    return {**rest, "$defs": {name: defs[name] for name in defs if name in used}} if used else rest
