"""HTTP benchmark of garden-api, beside nginx and Datasette: the one entry point of the harness in
``bench/httpbench`` (its package docstring says what each module does).

Usage::

    python bench/http_bench.py [--articles 1000] [--workers 1,2] [--only A,C,D] ...   # throughput under wrk
    python bench/http_bench.py --cold --articles 50000 [--only search,lists] ...       # cold first requests

``python bench/http_bench.py --help`` lists every option.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/: the httpbench package, however this is run

from httpbench.main import main
from httpbench.workloads import search_terms

__all__ = ["main", "search_terms"]

if __name__ == "__main__":
    sys.exit(main())
