"""Run-wide tallies printed at the end of a run: faults injected and survived (the
reliability suite) and fuzz cases run (the fuzz suite).

A plugin of the root conftest, so that the totals are printed under pytest-xdist too: each
worker hands its counts to the controller (`workeroutput`), which adds them up.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

FAULTS: Counter[str] = Counter()  # kind -> faults the app survived
CASES: Counter[str] = Counter()  # fuzz test -> generated examples run


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: report to the controller
        workeroutput["impactbot_faults"] = dict(FAULTS)
        workeroutput["impactbot_cases"] = dict(CASES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {}) or {}
    FAULTS.update(output.get("impactbot_faults", {}))
    CASES.update(output.get("impactbot_cases", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FAULTS:
        terminalreporter.write_sep("-", f"faults injected and survived: {sum(FAULTS.values())}")
        for kind, count in sorted(FAULTS.items()):
            terminalreporter.write_line(f"  {count:6d}  {kind}")
    if CASES:
        total = sum(CASES.values())
        terminalreporter.write_sep("-", f"fuzz cases run: {total}")
        for name, count in sorted(CASES.items()):
            terminalreporter.write_line(f"  {count:6d}  {name}")
        report = os.environ.get("IMPACTBOT_FUZZ_REPORT")
        if report:
            Path(report).write_text(f"{total}\n")
