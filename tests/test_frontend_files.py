"""/feed.atom, /sitemap.xml (and its index form) and /articles/{slug}/body.html, on both backends.

The tree is the bundled content/ plus four articles written here: a draft (never in the feed or the sitemap,
404 anonymously), an archived one (410), a public one whose body holds hostile HTML and whose title needs XML
escaping, and a second public one updated last (the feed's first entry).
"""

from __future__ import annotations

import re
import shutil
from typing import Any

import feedparser
import lxml.html
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from app.routers import frontend
from app.shapes import article_url, article_urls
from tests.agent_rules_tree import write_article
from tests.conftest import CONTENT, Databases, api_client, app_statements, ingest_json

TOKEN = "preview-frontend-files"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SETTINGS = {"GARDEN_PREVIEW_TOKEN": TOKEN, "GARDEN_RESPONSE_CACHE_MB": "0"}
SITE = "https://aura-knowledge.github.io"
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
W3C_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?")
HOSTILE = [
    "<script>document.title = 'owned'</script>",
    '<img src="x.png" onerror="alert(1)"> and <a href="javascript:alert(2)" onclick="alert(3)">a link</a>',
    '[a Markdown link](javascript:alert(4)) and <div style="background:url(javascript:alert(5))">div</div>',
    '<iframe src="https://example.org"></iframe><span id="not-a-claim" class="other">plain span</span>',
]


@pytest.fixture(scope="module")
def garden(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> str:
    repo = tmp_path_factory.mktemp("frontend") / "tree"
    shutil.copytree(CONTENT, repo / "content")
    write_article(repo, "hidden-draft-notes", fm_status="draft", status="draft", updated_at="2026-11-20")
    write_article(repo, "archived-old-beds", status="archived", updated_at="2026-11-19")
    write_article(repo, "hostile-markup-beds", title='Beds & <borders> "quoted"', updated_at="2026-11-01",
                  published_at="2026-10-01", body=HOSTILE)  # fmt: skip
    write_article(repo, "newest-public-notes", updated_at="2026-11-10", published_at="2026-11-09")
    db_url = databases.new("frontend")
    code, report = ingest_json(repo / "content", db_url=db_url)
    assert code == 0, report["errors"]
    return db_url


@pytest.fixture
def client(garden: str) -> Any:
    with api_client(garden, **SETTINGS) as test_client:
        yield test_client


def public_articles(client: TestClient) -> list[dict[str, Any]]:
    """Every public article, newest update first, as /articles lists them."""
    items: list[dict[str, Any]] = []
    url: str | None = "/articles?sort=-updated&limit=500"
    while url:
        body = client.get(url).json()
        items += body["items"]
        url = body["next"]
    return items


# --- /feed.atom ------------------------------------------------------------------------------------------------


def test_the_feed_parses_and_lists_the_public_articles_newest_first(client: TestClient) -> None:
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml"
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    expected = public_articles(client)[: frontend.FEED_ENTRIES]
    assert [entry.id for entry in feed.entries] == [item["articleUrl"] for item in expected]
    assert feed.entries[0].id == f"{SITE}/articles/newest-public-notes/"
    assert feed.feed.title == "Aura Knowledge"
    assert feed.feed.id == SITE  # no GARDEN_PUBLIC_URL: the site's URL (an Atom id is an absolute IRI)
    assert any(link.rel == "self" and link.href.endswith("/feed.atom") for link in feed.feed.links)
    assert feed.feed.updated.startswith("2026-11-10")
    by_id = {item["articleUrl"]: item for item in expected}
    for entry in feed.entries:
        item = by_id[entry.id]
        assert entry.title == item["title"]
        assert entry.updated.startswith(item["updatedAt"]) and entry.published.startswith(item["publishedAt"])
        assert entry.summary == item["summary"]
        assert [link.href for link in entry.links if link.rel == "alternate"] == [item["articleUrl"]]
    hostile = next(entry for entry in feed.entries if "hostile-markup-beds" in entry.id)
    assert hostile.title == 'Beds & <borders> "quoted"'  # escaped in the XML, read back as written


def test_the_feed_never_lists_a_draft_or_an_archived_article(client: TestClient) -> None:
    for headers in ({}, BEARER):  # with the token too: the feed is a publication file
        body = client.get("/feed.atom", headers=headers).text
        assert "hidden-draft-notes" not in body and "archived-old-beds" not in body


def test_the_feed_stops_at_feed_entries(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frontend, "FEED_ENTRIES", 3)
    feed = feedparser.parse(client.get("/feed.atom").content)
    assert [entry.id for entry in feed.entries] == [item["articleUrl"] for item in public_articles(client)[:3]]


def test_the_feed_id_is_its_own_url_with_a_public_url(garden: str) -> None:
    with api_client(garden, **SETTINGS, GARDEN_PUBLIC_URL="https://api.example.org") as client:
        feed = feedparser.parse(client.get("/feed.atom").content)
    assert feed.bozo == 0
    assert feed.feed.id == "https://api.example.org/feed.atom"


# --- /sitemap.xml ----------------------------------------------------------------------------------------------


def parse_xml(data: bytes) -> Any:
    return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))


def urls(root: Any) -> list[tuple[str, str]]:
    assert root.tag == f"{NS}urlset"
    found = []
    for url in root:
        assert url.tag == f"{NS}url"
        loc, lastmod = url.findtext(f"{NS}loc"), url.findtext(f"{NS}lastmod")
        assert loc is not None and lastmod is not None and W3C_DATE.fullmatch(lastmod), (loc, lastmod)
        found.append((loc, lastmod))
    return found


def test_the_sitemap_lists_every_public_article_once(client: TestClient) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.headers["content-type"] == "application/xml"
    found = urls(parse_xml(response.content))
    expected = {(item["articleUrl"], item["updatedAt"]) for item in public_articles(client)}
    assert len(found) == len(expected) and set(found) == expected
    for headers in ({}, BEARER):
        assert b"hidden-draft-notes" not in client.get("/sitemap.xml", headers=headers).content
    assert b"archived-old-beds" not in response.content
    assert urls(parse_xml(client.get("/sitemaps/1.xml").content)) == found
    assert client.get("/sitemaps/2.xml").status_code == 404


def test_above_the_limit_the_sitemap_is_an_index(garden: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frontend, "SITEMAP_LIMIT", 4)
    with api_client(garden, **SETTINGS, GARDEN_PUBLIC_URL="https://api.example.org") as client:
        expected = {(item["articleUrl"], item["updatedAt"]) for item in public_articles(client)}
        root = parse_xml(client.get("/sitemap.xml").content)
        assert root.tag == f"{NS}sitemapindex"
        pages = [(entry.findtext(f"{NS}loc"), entry.findtext(f"{NS}lastmod")) for entry in root]
        assert [loc for loc, _ in pages] == [f"https://api.example.org/sitemaps/{n}.xml"
                                             for n in range(1, len(pages) + 1)]  # fmt: skip
        assert len(pages) == -(-len(expected) // 4)
        found: list[tuple[str, str]] = []
        for loc, lastmod in pages:
            page = urls(parse_xml(client.get(loc.removeprefix("https://api.example.org")).content))
            assert 1 <= len(page) <= 4
            assert lastmod == max(date for _, date in page)
            found += page
        assert len(found) == len(expected) and set(found) == expected
        assert client.get(f"/sitemaps/{len(pages) + 1}.xml").status_code == 404
        assert client.get("/sitemaps/0.xml").status_code == 422


def test_the_sitemap_costs_a_fixed_number_of_statements(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    for limit in (frontend.SITEMAP_LIMIT, 4):  # the sitemap, then the index
        monkeypatch.setattr(frontend, "SITEMAP_LIMIT", limit)
        with app_statements() as seen:
            assert client.get("/sitemap.xml").status_code == 200
        assert len(seen) <= 3, seen  # the corpus version, the pages, the URLs of one: never one per article


@pytest.mark.parametrize("site", ["https://x.org", "https://x.org/", "https://x.org/sub/", "http://x.org:8080/a"])
def test_article_urls_resolve_as_article_url(site: str) -> None:
    resolve = article_urls(site)
    for path in ("/articles/a/", "/a/./b", "/a/../b", "/a/..", "//evil.example/x", "rel/x", "/a?q=1#f", "/",
                 "/a/.hidden/", "/a/.../"):  # fmt: skip
        assert resolve(path) == article_url(site, path), path


# --- /articles/{slug}/body.html --------------------------------------------------------------------------------


MARKER = re.compile(r'<span id="(claim-[0-9]+)" class="claim-marker"')


def test_every_claim_marker_of_content_becomes_a_linked_anchor(client: TestClient) -> None:
    slugs = sorted(path.name for path in (CONTENT / "articles").glob("*/*") if path.is_dir())
    assert slugs
    for slug in slugs:
        markdown = client.get(f"/articles/{slug}/body", headers=BEARER).text  # drafts of content/ too
        markers = MARKER.findall(markdown)
        assert markers, slug
        response = client.get(f"/articles/{slug}/body.html", headers=BEARER)
        assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
        html = response.text
        assert "<html" not in html and "<head" not in html  # a fragment
        anchors = re.findall(r'<a id="(claim-[0-9]+)" class="claim-marker" href="([^"]+)"', html)
        assert [claim for claim, _ in anchors] == markers, slug
        for claim, href in anchors:
            assert href == f"/claims/article:{slug}:{claim}"
        assert client.get(anchors[0][1], headers=BEARER).status_code == 200  # a claim this API serves
        assert "<span" not in html or 'class="claim-marker"' not in html


def test_raw_html_in_the_body_comes_out_inert(client: TestClient) -> None:
    html = client.get("/articles/hostile-markup-beds/body.html").text
    assert "document.title" not in html  # the script's content is dropped with it
    elements = list(lxml.html.fragment_fromstring(html, create_parent="div").iter())
    assert not {"script", "iframe", "style"} & {element.tag for element in elements}
    for element in elements:
        for name, value in element.attrib.items():
            assert not name.startswith("on") and name != "style", (element.tag, name)
            assert not value.strip().lower().startswith("javascript:"), (element.tag, name, value)
    assert "[a Markdown link](javascript:alert(4))" in html  # refused as a link: inert text
    assert 'id="not-a-claim"' not in html and "plain span" in html and "a link" in html
    assert '<a id="claim-001" class="claim-marker" href="/claims/article:hostile-markup-beds:claim-001"' in html


def test_the_body_html_has_the_body_s_visibility(client: TestClient) -> None:
    assert client.get("/articles/hidden-draft-notes/body.html").status_code == 404
    assert client.get("/articles/no-such-article/body.html").status_code == 404
    assert client.get("/articles/archived-old-beds/body.html").status_code == 410
    preview = client.get("/articles/hidden-draft-notes/body.html", headers=BEARER)
    assert preview.status_code == 200 and "claim-001" in preview.text
    assert preview.headers["cache-control"] == "private, no-store"
    assert (
        "default-src 'none'" in client.get("/articles/newest-public-notes/body.html").headers["content-security-policy"]
    )


# --- HTTP: ETag, 304, gzip; the lane answers as FastAPI does ------------------------------------------------------

PATHS = ("/feed.atom", "/sitemap.xml", "/sitemaps/1.xml", "/articles/pollinator-corridors/body.html")


@pytest.mark.parametrize("path", PATHS)
def test_each_file_revalidates_and_compresses(client: TestClient, path: str) -> None:
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["content-encoding"] == "gzip" and first.headers["cache-control"].startswith("public")
    etag = first.headers["etag"]
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    assert client.head(path).status_code == 200


def test_the_lane_answers_as_fastapi_does(garden: str) -> None:
    answers = []
    for lane in (True, False):
        with api_client(garden, lane=lane, **SETTINGS) as client:
            answers.append([(r.status_code, r.headers.get("etag"), r.content)
                            for r in (client.get(path) for path in (*PATHS, "/sitemaps/9.xml"))])  # fmt: skip
    assert answers[0] == answers[1]
