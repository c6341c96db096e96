"""``llms.txt`` (DATA-CONTRACT §2.9): the site map for language models, built from the published (P) articles.

Two forms, by GARDEN_LLMS_LINKS. ``site`` (the default) is the publisher's file byte for byte: it describes the
website at GARDEN_SITE_URL, which this server mirrors the agent files of, and so links that website's pages, each
article's page there, and its eval report, none of which this server serves. ``api`` describes this server: the
same parts, linking only what it answers with a 200 (its front door and API reference, each article's REST
resource, the agent files), at GARDEN_PUBLIC_URL or, when that is unset, relative to the file's own URL (as the
API's other links are, app.http.api_url). Both take the heading and the line under it from GARDEN_SITE_NAME and
GARDEN_SITE_DESCRIPTION.
"""

from __future__ import annotations

from app import shapes
from app.agent.files import Corpus, topic_groups

#: The publisher's website's pages (GARDEN_LLMS_LINKS=site).
SITE_PAGES = (("Home", "/"), ("Roadmap", "/roadmap/"), ("Evidence Canvas", "/evidence-canvas/"),
              ("Agent Entry", "/agents/"), ("Knowledge Graph", "/graph/"))  # fmt: skip
#: This server's pages (GARDEN_LLMS_LINKS=api): the front door and the API reference.
API_PAGES = (("Home", "/"), ("API reference (Swagger UI)", "/docs"), ("API reference (ReDoc)", "/redoc"),
             ("OpenAPI document", "/openapi.json"))  # fmt: skip
#: The whole-corpus agent files, in the publisher's order. The eval report is the website's only (this server does
#: not run the publisher's eval set), so ``api`` links leave it out.
ARTIFACTS = (
    ("Agent Index JSON", "/agents/index.json"), ("Agent Index JSONL", "/agents/index.jsonl"),
    ("Garden Query Catalog", "/agents/garden-queries.json"), ("Brief Eval Report", "/agents/eval-report.json"),
    ("Claim Verification Report", "/agents/verification-report.json"), ("Graph Nodes", "/graph/nodes.json"),
    ("Graph Edges", "/graph/edges.json"),
)  # fmt: skip
WEBSITE_ONLY = frozenset({"/agents/eval-report.json"})
LLMS_USE = (
    "Use article packets as the retrieval unit. Treat maturity values as uncertainty markers. Prefer claim IDs and "
    "source IDs over inferred citations. Article artifacts use schemaVersion 3 with a provenance block (agents, "
    "reviews, policy) and typed evidence/counterevidence packets. Trust a published packet only when its provenance "
    "contains a human-approved review whose contentHash matches the current article.md hash."
)


def llms_txt(corpus: Corpus) -> bytes:
    """The site map for language models. GARDEN_LLMS_LINKS=site (the default): the publisher's file, linking the
    website at GARDEN_SITE_URL (its pages, each article's page, the agent files, its eval report). ``api``: the
    same parts, linking only what this server serves (at GARDEN_PUBLIC_URL, or relative): its front door and API
    reference, each article's REST resource, and the agent files it serves."""
    identity = corpus.identity
    website = identity.llms_links == "site"
    base = corpus.site if website else identity.api
    articles = corpus.public_articles()
    entries = corpus.index_entries(articles)
    lines = [f"# {identity.name}", ""]
    if identity.description:
        lines += [f"> {identity.description}", ""]
    lines.append("## Primary Pages")
    lines += [f"- [{label}]({base}{path})" for label, path in (SITE_PAGES if website else API_PAGES)]
    lines += ["", "## Articles"]
    if website:
        lines += [f"- [{row['title']}]({shapes.article_url(base, row['canonical_path'])})" for row in articles]
    else:
        lines += [f"- [{row['title']}]({base}/articles/{row['slug']})" for row in articles]
    lines += ["", "## Agent Artifacts"]
    lines += [f"- [{label}]({base}{path})" for label, path in ARTIFACTS if website or path not in WEBSITE_ONLY]
    for row in articles:
        lines.append(f"- [{row['slug']} JSON]({base}/agents/articles/{row['slug']}.json)")
        lines.append(f"- [{row['slug']} Markdown]({base}/agents/articles/{row['slug']}.md)")
    lines += [f"- [{topic} topic JSON]({base}/agents/topics/{topic}.json)" for topic, _ in topic_groups(entries)]
    lines.append(f"- [Agent Feeds Manifest]({base}/agents/feeds/manifest.json)")
    for label, name in (("Claims", "claims"), ("Sources", "sources"), ("Roadmap", "roadmap"), ("Edges", "edges")):
        lines.append(f"- [{label} Feed JSONL]({base}/agents/feeds/{name}.jsonl)")
    lines += ["", "## Use", LLMS_USE]
    return ("\n".join(lines) + "\n").encode()
