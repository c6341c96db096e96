"""Articles: the filtered, sorted, paged list and one article with its navigation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    union,
)

from app import derive, fulltext, shapes
from app.content.frontmatter import split_front_matter
from app.content.schema import CONFIDENCE_RANK
from app.models import SERIES_RANK
from app.queries.common import (
    ARTICLE,
    ARTICLE_COLUMNS,
    AUDIENCE,
    CLAIM,
    DOCUMENT,
    KEYWORD,
    RELATED,
    SOURCE,
    TAG,
    TOPIC,
    Listing,
    Scope,
    article_slug,
    find_article,
    grouped_columns,
    max_public_updated,
    state_condition,
    visible,
)
from app.queries.errors import InvalidParameter, NeedsPreview, NotFound
from app.queries.paging import Keyset, finish
from app.queries.params import ArticleParams
from app.queries.plan import Filter, ListQuery, fetch, substring_probe, unindexed

SORTS: dict[str, Keyset] = {
    "-published": Keyset([ARTICLE.c.published_at, ARTICLE.c.slug], descending=True),
    "published": Keyset([ARTICLE.c.published_at, ARTICLE.c.slug]),
    "-updated": Keyset([ARTICLE.c.updated_at, ARTICLE.c.slug], descending=True),
    "updated": Keyset([ARTICLE.c.updated_at, ARTICLE.c.slug]),
    "title": Keyset([func.lower(ARTICLE.c.title, type_=String), ARTICLE.c.slug]),
    # Series members first, by series and order; standalone articles after them. Constants are literals, as
    # in the index on these expressions (models.Article: ix_article_public_series), so that it matches.
    "series": Keyset([
        literal_column(SERIES_RANK, Integer),
        func.coalesce(ARTICLE.c.series_slug, literal_column("''", String)),
        func.coalesce(ARTICLE.c.series_order, literal_column("0", Integer)),
        ARTICLE.c.slug,
    ]),
}  # fmt: skip

ITEM_FIELDS = (
    "id", "slug", "title", "summary", "status", "maturity", "topics", "tags", "canonicalPath", "articleUrl",
    "agentJsonPath", "agentMarkdownPath", "updatedAt", "claimCount", "sourceCount", "tokenEstimate", "contentHash",
    "publishedAt", "dek", "readingTime", "audiences", "series",
)  # fmt: skip

#: The state_base values (app.derive) a computed claim state can come from; stale and draft depend on the date.
STATE_BASES = {"stale": ("stale", "draft"), "draft": ("draft",)}


def state_bases(states: list[str]) -> tuple[list[str], bool]:
    """(the stored state_base values ``states`` can come from, whether counting those is exact today)."""
    bases = sorted({base for state in states for base in STATE_BASES.get(state, (state,))})
    return bases, not {"stale", "draft"} & set(states)


def _linked(link_column: Any, values: list[str]) -> Filter:
    link = link_column.table
    check = select(literal(1)).where(link.c.article_id == ARTICLE.c.id, link_column.in_(values)).exists()
    drive = ARTICLE.c.id.in_(select(link.c.article_id).where(link_column.in_(values)))
    return Filter(check, drive, link_column.name if link_column.name != "type" else "source_type", values)


def _owned(owner: Any, condition: ColumnElement[bool], field: str | None, values: list[str], *,
           exact: bool = True) -> Filter:  # fmt: skip
    """Articles with at least one claim (or source) under ``condition``."""
    check = select(literal(1)).where(owner.c.article_id == ARTICLE.c.id, condition).exists()
    return Filter(check, ARTICLE.c.id.in_(select(owner.c.article_id).where(condition)), field, values, exact=exact)


def _column(scope: Scope, column: Any, condition: Any, field: str | None = None, values: Sequence[str] = (),
            *, sorted_on: bool = False) -> Filter:  # fmt: skip
    """A test on the article row itself: ``condition(column)``; unindexed in a walk unless the walk's own order
    index starts with the column (``sorted_on``: a date range on the sort's date is a range of that index)."""
    check = condition(column if sorted_on else unindexed(scope.dialect, column))
    return Filter(check, condition(column), field, values, disjoint=True)


def _related_to(scope: Scope, value: str) -> Filter:
    slug = article_slug(value)
    target = scope.session.execute(select(ARTICLE.c.id).where(ARTICLE.c.slug == slug, visible(scope.preview))).scalar()
    if target is None:
        raise InvalidParameter("related_to", f"no article '{slug}'.")
    links = scope.session.execute(select(RELATED.c.target).where(RELATED.c.article_id == target)).scalars()
    linked = [link.removeprefix("article:") for link in links if link.startswith("article:")]
    their_topics = select(TOPIC.c.topic).where(TOPIC.c.article_id == target).scalar_subquery()
    to_target = [f"article:{slug}", slug]
    shares_topic = select(literal(1)).where(TOPIC.c.article_id == ARTICLE.c.id, TOPIC.c.topic.in_(their_topics))
    links_to_target = select(literal(1)).where(RELATED.c.article_id == ARTICLE.c.id, RELATED.c.target.in_(to_target))
    check = and_(ARTICLE.c.id != target,
                 or_(shares_topic.exists(), links_to_target.exists(), ARTICLE.c.slug.in_(linked)))  # fmt: skip
    named = ARTICLE.alias("named")
    related = union(
        select(TOPIC.c.article_id).where(TOPIC.c.topic.in_(their_topics)),
        select(RELATED.c.article_id).where(RELATED.c.target.in_(to_target)),
        select(named.c.id).where(named.c.slug.in_(linked)),
    )
    return Filter(check, and_(ARTICLE.c.id != target, ARTICLE.c.id.in_(related)))


def _claim_filters(scope: Scope, params: ArticleParams) -> list[Filter]:
    filters = []
    if params.confidence:
        ranks = [CONFIDENCE_RANK[value] for value in params.confidence]  # the rank is indexed (ix_claim_confidence)
        filters.append(_owned(CLAIM, CLAIM.c.confidence_rank.in_(ranks), "confidence", params.confidence))
    if params.min_confidence:
        low = CONFIDENCE_RANK[params.min_confidence]
        names = [name for name, rank in CONFIDENCE_RANK.items() if rank >= low]
        filters.append(_owned(CLAIM, CLAIM.c.confidence_rank >= low, "confidence", names))
    if params.claim_state:
        bases, exact = state_bases(params.claim_state)
        condition = state_condition(params.claim_state, scope.today)
        filters.append(_owned(CLAIM, condition, "claim_state", bases, exact=exact))
    if params.source_type:
        filters.append(_linked(SOURCE.c.type, params.source_type))
    return filters


def filters(scope: Scope, params: ArticleParams) -> list[Filter]:
    """The filters of ``params``: values within a filter are ORed, filters ANDed."""
    found: list[Filter] = []
    if params.status:
        if not scope.preview:
            raise NeedsPreview("status: filtering by status needs preview access (a bearer token).", "status")
        found.append(_column(scope, ARTICLE.c.status, lambda c: c.in_(params.status)))
    for link, values in ((TOPIC.c.topic, params.topic), (TAG.c.tag, params.tag),
                         (AUDIENCE.c.audience, params.audience)):  # fmt: skip
        if values:
            found.append(_linked(link, values))
    if params.series:
        found.append(_column(scope, ARTICLE.c.series_slug, lambda c: c.in_(params.series), "series", params.series))
    if params.maturity:
        found.append(_column(scope, ARTICLE.c.maturity, lambda c: c.in_(params.maturity), "maturity",
                             params.maturity))  # fmt: skip
    found += _claim_filters(scope, params)
    if params.q:
        needle = params.q.lower()
        check = (
            select(literal(1))
            .where(KEYWORD.c.article_id == ARTICLE.c.id, func.lower(KEYWORD.c.text).contains(needle, autoescape=True))
            .exists()
        )
        drive = fulltext.contains(scope.dialect, KEYWORD.c.text, ARTICLE.c.id, needle)
        found.append(Filter(check, drive, probe=substring_probe(scope.dialect, "keyword_trigram", needle)))
    if params.related_to:
        found.append(_related_to(scope, params.related_to))
    lead = SORTS[params.sort].columns[0]
    for column, low, high in (
        (ARTICLE.c.updated_at, params.updated_since, params.updated_until),
        (ARTICLE.c.published_at, params.published_since, params.published_until),
    ):
        on = lead is column
        if low:
            found.append(_column(scope, column, lambda c, day=low.isoformat(): c >= day, sorted_on=on))
        if high:
            found.append(_column(scope, column, lambda c, day=high.isoformat(): c <= day, sorted_on=on))
    return found


def conditions(scope: Scope, params: ArticleParams) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``params`` (each filter in its indexable form), visibility first."""
    return [visible(scope.preview), *(item.drive if item.drive is not None else item.check
                                      for item in filters(scope, params))]  # fmt: skip


def list_articles(scope: Scope, params: ArticleParams) -> Listing:
    """One page of article summaries (index entry + publishedAt, dek, readingTime, audiences, series), read as
    app.queries.plan decides."""
    public = None if scope.preview else ARTICLE.c.is_public.is_(True)
    query = ListQuery("articles", ARTICLE, ARTICLE_COLUMNS, ARTICLE, public, SORTS[params.sort],
                      filters(scope, params), scope.dialect, scope.corpus)  # fmt: skip
    page = fetch(scope.session, params, query)
    return finish(page, summaries(scope, page.rows), ITEM_FIELDS)


def summaries(scope: Scope, rows: Any) -> list[dict[str, Any]]:
    """Article list items for ``rows`` of the article table, in their order."""
    ids = [row["id"] for row in rows]
    topics, tags, audiences = grouped_columns(scope.session, [TOPIC.c.topic, TAG.c.tag, AUDIENCE.c.audience], ids)
    items = []
    for row in rows:
        item = shapes.index_entry(row, topics[row["id"]], tags[row["id"]], scope.site)
        item["publishedAt"] = row["published_at"]
        if row["dek"] is not None:
            item["dek"] = row["dek"]
        if row["reading_time"] is not None:
            item["readingTime"] = row["reading_time"]
        item["audiences"] = audiences[row["id"]]
        item["series"] = shapes.series_of(row)
        items.append(item)
    return items


def _document(scope: Scope, article_id: int) -> Any:
    return scope.session.execute(select(DOCUMENT).where(DOCUMENT.c.article_id == article_id)).mappings().one()


def _series_members(preview: bool) -> Select[Any]:
    return (
        select(ARTICLE.c.slug, ARTICLE.c.title, ARTICLE.c.series_order, ARTICLE.c.series_role)
        .where(ARTICLE.c.series_slug == bindparam("series"), visible(preview))
        .order_by(ARTICLE.c.series_order, func.coalesce(ARTICLE.c.date, ARTICLE.c.published_at).desc(), ARTICLE.c.slug)
    )  # fmt: skip


#: A series' members in series order, by the caller's visibility (built once: app.queries.common).
_SERIES_MEMBERS = {preview: _series_members(preview) for preview in (False, True)}
#: The article row with the documents its detail is built from, in one statement.
_ARTICLE_WITH_DOCUMENT = (
    select(*ARTICLE_COLUMNS, DOCUMENT.c.artifact_json, DOCUMENT.c.front_matter)
    .join(DOCUMENT, DOCUMENT.c.article_id == ARTICLE.c.id)
    .where(ARTICLE.c.slug == bindparam("slug"))
)


def navigation(scope: Scope, article: Any) -> dict[str, Any] | None:
    """Where the article sits in its series among the members the caller can see (§3 site behaviour)."""
    if article["series_slug"] is None:
        return None
    query = _SERIES_MEMBERS[scope.preview]
    members = scope.session.execute(query, {"series": article["series_slug"]}).mappings().all()
    index = next(i for i, member in enumerate(members) if member["slug"] == article["slug"])

    def ref(member: Any) -> dict[str, Any]:
        return {"slug": member["slug"], "title": member["title"], "order": member["series_order"],
                "role": member["series_role"], "apiUrl": f"/articles/{member['slug']}"}  # fmt: skip

    return {
        "series": article["series_slug"],
        "order": article["series_order"],
        "position": index + 1,
        "total": len(members),
        "previous": ref(members[index - 1]) if index > 0 else None,
        "next": ref(members[index + 1]) if index + 1 < len(members) else None,
    }


def get_article(scope: Scope, slug: str) -> dict[str, Any]:
    """The packet (§2.1) plus the front matter and series navigation."""
    article = find_article(scope.session, slug, scope.preview, _ARTICLE_WITH_DOCUMENT)
    generated = shapes.generated_at(max_public_updated(scope.session, scope.corpus))
    body = shapes.packet(article, article["artifact_json"], generated, scope.site, scope.repo)
    body["frontMatter"] = article["front_matter"]
    body["seriesNavigation"] = navigation(scope, article)
    return body


def article_body(scope: Scope, slug: str) -> str:
    """The article body (Markdown with inline HTML), front matter removed."""
    article = find_article(scope.session, slug, scope.preview)
    markdown = _document(scope, article["id"])["article_md"]
    if markdown is None:
        raise NotFound(f"The article '{article['slug']}' was loaded as a packet: it has no body.", "slug")
    return split_front_matter(markdown)[1]


def brief_markdown(scope: Scope, slug: str) -> tuple[Any, Any, str]:
    """(article row, document row, agent.md as stored) or NotFound when the article has no brief."""
    article = find_article(scope.session, slug, scope.preview)
    document = _document(scope, article["id"])
    if document["agent_md"] is None:
        raise NotFound(f"The article '{article['slug']}' has no agent brief.", "slug")
    return article, document, document["agent_md"]


def get_brief(scope: Scope, slug: str) -> dict[str, Any]:
    """The agent brief as data: front matter (with tokenBudget), sections, listed claims, tokenEstimate, Markdown."""
    article, document, markdown = brief_markdown(scope, slug)
    body = split_front_matter(markdown)[1]
    return {
        "id": f"agent-brief:{article['slug']}",
        "articleId": f"article:{article['slug']}",
        "frontMatter": document["brief_front_matter"],
        "tokenBudget": article["token_budget"],
        "tokenEstimate": article["token_estimate"],
        "sections": derive.brief_sections(body),
        "claims": derive.brief_claims(body),
        "markdown": markdown,
    }


def related(scope: Scope, slug: str) -> list[dict[str, Any]]:
    """The article's related links in order, each resolved when its target is a visible article or a topic."""
    article = find_article(scope.session, slug, scope.preview)
    query = select(RELATED.c.type, RELATED.c.target).where(RELATED.c.article_id == article["id"])
    links = scope.session.execute(query.order_by(RELATED.c.position)).all()
    slugs = [target.removeprefix("article:") for _, target in links if target.startswith("article:")]
    rows = scope.session.execute(
        select(*ARTICLE_COLUMNS).where(ARTICLE.c.slug.in_(slugs), visible(scope.preview))
    ).mappings().all()  # fmt: skip
    by_id = {item["id"]: item for item in summaries(scope, rows)}
    items = []
    for kind, target in links:
        resolved: dict[str, Any] | None = by_id.get(target)
        if target.startswith("topic:"):
            topic = target.removeprefix("topic:")
            resolved = {"topic": topic, "label": topic.replace("-", " "), "apiUrl": f"/topics/{topic}"}
        items.append({"type": kind, "id": target, "target": resolved})
    return items
