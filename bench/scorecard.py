"""Benchmark: GET /scorecard on a 720,000-report store, and its 304, SQLite and PostgreSQL.

    PYTHONPATH=. python bench/scorecard.py [--postgres URL] [--repeat 7]

The store (tests/support/scale.py): 200 partners × 100 measures, every assignment reported
for its reporting period and the 35 before it (~720,000 reports). The page is asked of the
app's WSGI entry point (bot/public/web.py) as gunicorn would ask it, without the network.
Prints: the first render (cold), a warm render (the rendered-body cache emptied before each
request, so the figures are read and the page drawn every time), a warm repeat served from
that cache, and a repeat with If-None-Match (304). Goal: a warm render ≤ 300 ms.

PostgreSQL: give a scratch database; its tables are emptied first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import analyze, scratch_store  # noqa: E402
from bot.public.web import PublicSite  # noqa: E402
from bot.runtime.clock import ManualClock  # noqa: E402
from bot.runtime.services import Services  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from storage.models import Initiative, Report  # noqa: E402
from tests.support.scale import seed  # noqa: E402
from tests.support.world import NOW  # noqa: E402

HISTORY = 35  # earlier periods every partner reported: 20,000 × 36 ≈ 720,000 reports
GOAL_SECONDS = 0.300


def ask(site: PublicSite, headers: dict[str, str] | None = None) -> tuple[str, dict[str, str],
                                                                          int]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/scorecard",
                               "QUERY_STRING": "", "HTTP_HOST": "bench.example",
                               "wsgi.url_scheme": "https"}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(response_headers)

    body = b"".join(site(environ, start_response, None))
    return answer["status"], answer["headers"], len(body)


def timed(site: PublicSite, repeat: int, *, empty_cache: bool,
          headers: dict[str, str] | None = None) -> tuple[list[float], str, int]:
    times, status, size = [], "", 0
    for _ in range(repeat):
        if empty_cache:
            site._bodies.clear()
        started = time.perf_counter()
        status, _headers, size = ask(site, headers)
        times.append(time.perf_counter() - started)
    return times, status, size


def line(label: str, what: str, times: list[float], status: str, size: int) -> None:
    print(f"{label}: {what}: {statistics.median(times) * 1000:.1f} ms median, "
          f"{min(times) * 1000:.1f} ms best (of {len(times)}); {status}, {size:,} bytes")


def run(label: str, url: str, repeat: int) -> bool:
    store = scratch_store(url)
    started = time.perf_counter()
    seed(store, NOW, history=HISTORY)
    with store.session() as session:
        session.execute(update(Initiative).values(public_scorecard=True))
        reports = session.scalar(select(func.count(Report.id))) or 0
    analyze(store)
    print(f"{label}: {reports:,} reports (filled in {time.perf_counter() - started:.1f} s)")

    settings = Settings(signing_secret="bench", database_url=url)
    site = PublicSite(Services(settings, store, ManualClock(NOW)))
    first = time.perf_counter()
    status, headers, size = ask(site)
    line(label, "first render (cold)", [time.perf_counter() - first], status, size)
    warm, status, size = timed(site, repeat, empty_cache=True)
    line(label, "warm render (figures read, page drawn)", warm, status, size)
    cached, status, size = timed(site, repeat, empty_cache=False)
    line(label, "warm repeat (rendered body kept for this version)", cached, status, size)
    etag = headers["ETag"]
    again, status, size = timed(site, repeat, empty_cache=False,
                                headers={"If-None-Match": etag})
    line(label, f"repeat with If-None-Match {etag}", again, status, size)
    store.dispose()
    rendered = statistics.median(warm) <= GOAL_SECONDS
    served = statistics.median(cached) <= GOAL_SECONDS
    not_modified = status.startswith("304")
    print(f"{label}: goal ≤ {GOAL_SECONDS * 1000:.0f} ms warm: a fresh render (after a figure "
          f"changed) {'met' if rendered else 'NOT met'}; a warm repeat "
          f"{'met' if served else 'NOT met'}; 304 on a repeat with the ETag: "
          f"{'met' if not_modified else 'NOT met'}")
    ok = served and not_modified
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a scratch PostgreSQL database")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ok = run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.repeat)
    if args.postgres:
        ok = run("PostgreSQL", args.postgres, args.repeat) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
