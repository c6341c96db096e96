"""An article body as an HTML fragment: Markdown rendered with markdown-it-py, claim markers turned into anchors,
everything else that is raw HTML sanitised with nh3.

Decided where the issue is silent:

* **A fragment, not a document.** A frontend embeds the body in its own page (its own ``<head>``, styles and
  scripts); a full document would have to be taken apart first. The fragment is what ``/articles/{slug}/body``'s
  Markdown renders to, no title or wrapper added.
* **A claim marker links to the claim on this API** (``/claims/article:<slug>:claim-001``, a URL on
  GARDEN_PUBLIC_URL when set), not to the claim's ``citationUrl``: that is ``articleUrl#claim-001``, the very
  anchor the marker becomes on the article's page, so it would link the marker to itself. The claim resource is
  where a reader (or a frontend's popover) finds the claim's confidence, evidence and sources.
* **Sanitised last.** The Markdown is rendered with raw HTML on, the markers are rewritten, and then nh3 cleans
  the whole fragment with an allow-list (ammonia's default tags and attributes; links only to http, https,
  mailto and relative URLs; ``id`` and ``class`` only on a claim anchor, with a claim id's form and the value
  ``claim-marker``). Nothing runs after the sanitiser, so no step can bring back what it took out: a
  ``<script>`` (and its content), an ``onerror=``, a ``javascript:`` link or a ``style`` all come out inert.
* **What a marker is:** a ``<span>`` whose class list holds ``claim-marker`` and whose ``id`` has a claim id's form
  (``claim-`` then letters, digits, ``-`` or ``_``; the artifact schema's ``claim-NNN`` is one), as
  docs/content-format.md writes them; its ``</span>`` becomes ``</a>``
  (nested spans are counted). Markers in inline HTML and in HTML blocks are both found. Any other span is left
  to the sanitiser, which keeps it without attributes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt

#: A claim id as a marker's ``id`` may hold it: what becomes an anchor's ``id`` and a link's last segment.
CLAIM_ID = re.compile(r"claim-[A-Za-z0-9_-]{1,90}")
_SPAN = re.compile(r"<span\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>|</span\s*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_TAGS = set(nh3.ALLOWED_TAGS)
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["a"] = {*_ATTRIBUTES.get("a", set()), "title", "id", "class"}
_SCHEMES = {"http", "https", "mailto"}

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        name = match.group(1).lower()
        value = next((group for group in match.groups()[1:] if group is not None), "")
        found.setdefault(name, html.unescape(value))
    return found


class _Markers:
    """Rewrites claim-marker spans into anchors across the HTML pieces of one document, in order (a marker may
    open in one inline token and close in another), counting nested spans."""

    def __init__(self, link: Callable[[str], str]) -> None:
        self.link = link
        self.open: list[bool] = []  # for each open span: whether it became an anchor

    def rewrite(self, piece: str) -> str:
        return _SPAN.sub(self._tag, piece)

    def _tag(self, match: re.Match[str]) -> str:
        if match.group(0).startswith("</"):
            if not self.open:
                return match.group(0)
            return "</a>" if self.open.pop() else match.group(0)
        attributes = _attributes(match.group(1) or "")
        claim = attributes.get("id", "")
        is_marker = "claim-marker" in attributes.get("class", "").split() and CLAIM_ID.fullmatch(claim) is not None
        self.open.append(is_marker)
        if not is_marker:
            return match.group(0)
        href = html.escape(self.link(claim), quote=True)
        return f'<a id="{claim}" class="claim-marker" href="{href}">'


def _keep(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: ``id`` and ``class`` survive on a claim anchor only."""
    if tag == "a" and attribute == "id":
        return value if CLAIM_ID.fullmatch(value) else None
    if tag == "a" and attribute == "class":
        return value if value == "claim-marker" else None
    return value


def render_body(markdown: str, link: Callable[[str], str]) -> str:
    """The body's HTML fragment: ``link(claim id)`` is the URL a claim marker's anchor points to."""
    tokens = _MARKDOWN.parse(markdown)
    markers = _Markers(link)
    for token in tokens:
        if token.type == "html_block":
            token.content = markers.rewrite(token.content)
        for child in token.children or ():
            if child.type == "html_inline":
                child.content = markers.rewrite(child.content)
    rendered = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return nh3.clean(rendered, tags=_TAGS, attributes=_ATTRIBUTES, attribute_filter=_keep, url_schemes=_SCHEMES)
