"""Validating a commitment: each problem is named on its own field."""

from __future__ import annotations

import pytest

from bot.agenda.commitments import (
    FIELD_LIMIT,
    CommitmentInput,
    validate,
)


@pytest.mark.parametrize(("entry", "fields"), [
    (CommitmentInput("money", "", "", True), set()),
    (CommitmentInput("", "", "", True), {"resources"}),
    (CommitmentInput("", "data", "", False), {"sign"}),
    (CommitmentInput("", "", "y" * (FIELD_LIMIT + 1), True), {"activities"}),
    (CommitmentInput("", "", "", False), {"resources", "sign"}),
])
def test_validation_names_each_problem_field(entry: CommitmentInput, fields: set[str]) -> None:
    assert set(validate(entry)) == fields
