"""Fuzzing settings and the count of cases run.

Profiles: `fuzz` (the default: modest example counts so CI stays fast) and `fuzz-long`
(`IMPACTBOT_FUZZ_PROFILE=fuzz-long`, for a night's soak). Every fuzz test calls
`count_case()` once per generated example; the total is printed at the end of the run
("fuzz cases run: N") and written to `$IMPACTBOT_FUZZ_REPORT` when that is set
(tests/support/tallies.py).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.support.tallies import CASES

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

def count_case(name: str) -> None:
    CASES[name] += 1
