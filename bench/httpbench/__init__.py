"""HTTP load benchmark: garden-api under wrk, beside nginx (static packets) and Datasette (canned queries).

Usage::

    python bench/http_bench.py [--articles 1000] [--workers 1,2] [--rounds 3] [--duration 10]
                               [--only A,C,D] [--garden-env GARDEN_RESPONSE_CACHE_MB=0] [--datasette /work/dsvenv]
                               [--backends sqlite,postgresql] [--postgres-url URL] [--postgres-vacuum]

One command reproduces everything. It makes sure wrk, nginx and a Datasette (in its own venv, never the
project's) are there, generates and ingests a synthetic corpus of ``--articles`` articles (both cached under
``bench/out`` by size; ``--rebuild`` starts again), starts ``garden serve`` for each ``--workers`` count and its
peers (nginx serving the packets garden itself produced, byte for byte; Datasette serving the same SQLite file
with the canned queries of ``bench/datasette/metadata.yaml``), checks that the peers return the same data, then
runs the workloads in ``--rounds`` interleaved rounds (garden, then its peer, back to back) with
``bench/wrk/rotate.lua``:

* A ``/articles/{slug}`` (all slugs)                 vs Datasette ``article_by_slug``
* B ``/agents/articles/{slug}.json`` (all slugs)     vs nginx serving the same bytes from files
* C ``/claims?topic=T&confidence=high&limit=50``      vs Datasette ``claims_by_topic``
* D ``/articles?topic=T&sort=-updated&limit=20`` and its next page   vs Datasette ``articles_by_topic[_after]``
* E ``/search?q=W`` (words and phrases from titles)
* F ``/agents/feeds/claims.jsonl``, a few full downloads with curl: MB/s and the workers' memory
* G B's URLs with ``If-None-Match``: every answer must be 304
* H ``/healthz``: the stack's own ceiling

Every workload rotates over many URLs and is also run on its single most typical URL. Each wrk run checks
every status in Lua; a run with an unexpected status or a socket error is flagged. The Markdown report (medians
over rounds, ratios taken within a round, pass/fail of the targets, versions, machine, CPU use per run, worker
memory) is printed and written to ``bench/out/results-<N>[-<label>].md``, the raw runs to the ``.json`` beside it.

``--backends sqlite,postgresql`` measures garden on each database in the same run: the same corpus is also
ingested into the PostgreSQL database ``garden_bench_<N>`` on the ``--postgres-url`` server (created if missing,
re-created with ``--rebuild``), one ``garden serve`` per backend is started for each workers count (both on their
own port, only one ever under load), and within a round each workload runs on garden (sqlite), garden
(postgresql) and then the peer, back to back. The report has a row per backend, a PostgreSQL ÷ SQLite table
(medians of per-round ratios) and a check that both backends answer the same bytes for a sample of A, C and D.
The peers still read the SQLite file. On PostgreSQL the server's CPU includes the PostgreSQL backends serving
garden's connections, as SQLite's work is inside garden's own processes. The ingest does not vacuum; the report
says whether autovacuum is on and how many tables were never vacuumed, and ``--postgres-vacuum`` runs
``VACUUM ANALYZE`` after the ingest.

``--cold`` runs the cold workloads instead (:mod:`httpbench.cold_bench`): the response cache off, one client
sending one request at a time, every URL used once per run, garden and Datasette interleaved request by
request; latency percentiles, statuses and the targets' verdicts go to ``bench/out/cold-<N>[-<label>].md``.

The harness is this package; ``bench/http_bench.py`` is its one entry point:

* :mod:`httpbench.common`    paths, the workload table, the error type, small helpers
* :mod:`httpbench.procs`     processes: the Server class, /proc readings (CPU, memory)
* :mod:`httpbench.corpora`   the corpus and the databases (generate, ingest, PostgreSQL)
* :mod:`httpbench.peers`     garden, nginx, Datasette: tools, start, versions
* :mod:`httpbench.workloads` the wrk plans (URLs of A–H); :mod:`httpbench.checks` the peers' equivalence
* :mod:`httpbench.runner`    wrk runs and the feed downloads; :mod:`httpbench.report` their Markdown report
* :mod:`httpbench.load`      the wrk mode from start to report
* :mod:`httpbench.vocabulary`, :mod:`httpbench.cold_lists`, :mod:`httpbench.cold`  the cold plans (search
  questions, filter combinations, deep cursors, items) and their Datasette equivalents
* :mod:`httpbench.cold_runner`  the sequential runner; :mod:`httpbench.cold_report` its report and verdicts
* :mod:`httpbench.cold_bench`   the cold mode from start to report
* :mod:`httpbench.main`      the command line

Linux only (reads /proc).
"""
