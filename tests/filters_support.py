"""What the list-filter tests (tests/test_api_filters_*.py) share: the data-set, client and oracle fixtures, the
table helpers (``per_dataset``, ``cases``, ``only``), page walking (``walk``), the sort oracle and the test that
runs each module's tables on the publisher's corpus.

A test module takes the fixtures by binding them to module names (``dataset, client, o = support.dataset, ...``),
so that each module gets its own module-scoped client per data set.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient

from tests.conftest import EXPECTED, api_client, need_shared
from tests.filters_oracle import Article, Oracle, oracle

PAGE_LIMIT = 7  # small and prime: pages end mid-article and mid-tie
MAX_PAGES = 200


# --------------------------------------------------------------------------------------------------------
# The data set, the client and page walking.

DATASETS = ["content", "corpus"]


@pytest.fixture(scope="module", params=DATASETS)
def dataset(request: pytest.FixtureRequest) -> str:
    """``content`` (our content/, always) or ``corpus`` (the publisher's, skipped without ../shared)."""
    if request.param == "corpus":
        need_shared(EXPECTED)
    return str(request.param)


@pytest.fixture(scope="module")
def client(dataset: str, backend: str, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    # ``backend`` is asked for so that the database fixture picked by name runs on each backend.
    with api_client(request.getfixturevalue(f"{dataset}_db")) as client:
        yield client


@pytest.fixture(scope="module")
def o(dataset: str) -> Oracle:
    return oracle(dataset)


#: {module: {test name: (test function, argument names, the corpus's rows)}}: the table-driven tests' rows for
#: the publisher's corpus, run by each module's test_the_tables_on_the_publishers_corpus (one test per table, so
#: that a checkout without ../shared skips a handful of tests, not hundreds).
ON_CORPUS: dict[str, dict[str, tuple[Callable[..., None], list[str], list[tuple[Any, ...]]]]] = {}


def per_dataset(names: str, tables: dict[str, list[tuple[Any, ...]]], ident: Callable[..., str]) -> Any:
    """Parametrize a test with content/'s rows (ids ``content-<ident(*row)>``), and register the corpus's rows
    for test_the_tables_on_the_publishers_corpus."""
    argnames = names.split(",")
    params = [pytest.param("content", *row, id=f"content-{ident(*row)}") for row in tables.get("content", [])]
    mark = pytest.mark.parametrize(("dataset", *argnames), params, indirect=["dataset"], scope="module")

    def decorate(function: Callable[..., None]) -> Any:
        if "corpus" in tables:
            ON_CORPUS.setdefault(function.__module__, {})[function.__name__] = (function, argnames, tables["corpus"])
        return mark(function)

    return decorate


def only(*datasets: str) -> Any:
    """Run a test on these data sets only."""
    return pytest.mark.parametrize("dataset", datasets, indirect=True, scope="module")


def walk(client: TestClient, path: str, query: str, limit: int = 500) -> list[dict[str, Any]]:
    """Every item of a list, following ``next`` from the first page; checks total, next and Link on the way."""
    url: str | None = f"{path}?{query}&limit={limit}" if query else f"{path}?limit={limit}"
    items: list[dict[str, Any]] = []
    totals = set()
    for _ in range(MAX_PAGES):
        assert url is not None
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        totals.add((body["total"], body["totalRelation"]))
        url = body["next"]
        if url is None:
            assert "link" not in response.headers, "the last page must not announce a next page"
            break
        assert body["items"], "a page with a next link must not be empty"
        assert response.headers.get("link") == f'<{url}>; rel="next"'
    else:
        pytest.fail(f"{path}?{query} did not end within {MAX_PAGES} pages")
    assert totals == {(len(items), "eq")}, f"total {totals} is not constant or not the number of rows ({len(items)})"
    return items


class Case(NamedTuple):
    query: str
    predicate: Callable[[Any], Any]
    may_be_empty: bool = False  # the data has no such row (still a meaningful check: nothing leaks)


def cases(tables: dict[str, list[Case]]) -> Any:
    return per_dataset("case", {name: [(case,) for case in rows] for name, rows in tables.items()}, lambda c: c.query)


def _expected(rows: list[Any], case: Case) -> list[Any]:
    expected = [row for row in rows if case.predicate(row)]
    assert expected or case.may_be_empty, f"the oracle has no row for {case.query}: pick a filter the data has"
    return expected


# --------------------------------------------------------------------------------------------------------
# The order of /articles.


def _article_order(sort: str) -> Callable[[list[Article]], list[Article]]:
    """The oracle of each sort: the key, ties broken by slug (descending sorts: slug descending)."""
    keys: dict[str, tuple[Callable[[Article], Any], bool]] = {
        "-published": (lambda a: (a.published, a.slug), True),
        "published": (lambda a: (a.published, a.slug), False),
        "-updated": (lambda a: (a.updated, a.slug), True),
        "updated": (lambda a: (a.updated, a.slug), False),
        "title": (lambda a: (a.title.lower(), a.slug), False),
        # series members first (by series slug, then order), standalone articles last; slug breaks ties
        "series": (lambda a: (a.series is None, a.series_slug or "", (a.series or {}).get("order", 0), a.slug), False),
    }
    key, descending = keys[sort]
    return lambda articles: sorted(articles, key=key, reverse=descending)


SORTS = ["-published", "published", "-updated", "updated", "title", "series"]


# --------------------------------------------------------------------------------------------------------
# The tables' rows on the publisher's corpus (registered by per_dataset).


def tables_on_the_corpus(module: str) -> Callable[..., None]:
    """test_the_tables_on_the_publishers_corpus over the tables ``module`` registered. A module with such tables
    binds it at its end, once every table is defined::

        test_the_tables_on_the_publishers_corpus = tables_on_the_corpus(__name__)
    """
    registered = ON_CORPUS[module]

    @only("corpus")
    @pytest.mark.parametrize("name", sorted(registered))
    def test_the_tables_on_the_publishers_corpus(client: TestClient, o: Oracle, name: str) -> None:
        """Every row a table holds for the corpus, through the same test function; every failing row is listed."""
        function, argnames, rows = registered[name]
        fixtures = {"client": client, "o": o}
        wanted = [arg for arg in inspect.signature(function).parameters if arg in fixtures]
        failures = []
        for row in rows:
            try:
                function(**{arg: fixtures[arg] for arg in wanted}, **dict(zip(argnames, row, strict=True)))
            except AssertionError as error:
                failures.append(f"{row[0] if len(row) == 1 else row}: {str(error)[:500]}")
        assert not failures, f"{len(failures)} of {len(rows)} rows fail:\n" + "\n".join(failures)

    return test_the_tables_on_the_publishers_corpus
