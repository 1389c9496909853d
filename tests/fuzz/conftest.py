"""Fuzzing settings and the count of cases run.

Profiles: `fuzz` (the default: modest example counts so CI stays fast) and `fuzz-long`
(`IMPACTBOT_FUZZ_PROFILE=fuzz-long`, for a night's soak). Every fuzz test calls
`count_case()` once per generated example; the total is printed at the end of the run
("fuzz cases run: N") and written to `$IMPACTBOT_FUZZ_REPORT` when that is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "fuzz", max_examples=40, deadline=None, print_blob=True,
    # One sandbox serves all of a test's examples: they accumulate state on purpose, and
    # every invariant is checked per example against a snapshot taken just before it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large])
settings.register_profile("fuzz-long", parent=settings.get_profile("fuzz"), max_examples=1000)
PROFILE = os.environ.get("IMPACTBOT_FUZZ_PROFILE", "fuzz")
# Applied to each fuzz test (`@FUZZ`), not loaded globally: the suite's other property
# tests keep hypothesis' defaults.
FUZZ = settings(settings.get_profile(PROFILE))

CASES: dict[str, int] = {}


def count_case(name: str) -> None:
    CASES[name] = CASES.get(name, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CASES:
        return
    total = sum(CASES.values())
    terminalreporter.write_sep("-", f"fuzz cases run: {total}")
    for name, count in sorted(CASES.items()):
        terminalreporter.write_line(f"  {count:6d}  {name}")
    report = os.environ.get("IMPACTBOT_FUZZ_REPORT")
    if report:
        Path(report).write_text(f"{total}\n")
