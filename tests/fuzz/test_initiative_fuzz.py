"""initiative.yml, mutated at random: `parse_initiative` either accepts it or refuses it
with an InitiativeFileError that says where and why; it never raises anything else."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from bot.initiative.file import InitiativeFileError, InitiativeSpec, parse_initiative
from tests.fuzz.conftest import FUZZ, count_case
from tests.support.world import EXAMPLE

RAW = EXAMPLE.read_text()
DOCUMENT = yaml.safe_load(RAW)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["", "UTC", "America/Chicago", "America", "../etc/passwd", "Etc/GMT+99",
                     "U0AAA", "C0WINS", "monthly", "weekly", "quarterly", "fortnightly", "avg",
                     "sum", "latest", "up", "down", "25:00", "09:00", "2027-02-30", "2027-12-31",
                     "tada", ":tada:", "%", "county-health", "friday", "funday", "-1", "1e9"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=8)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


PATHS = _paths(DOCUMENT)[1:]


def _check(raw: str) -> None:
    try:
        spec = parse_initiative(raw, source="initiative.yml")
    except InitiativeFileError as exc:
        message = str(exc)
        assert message.startswith("initiative.yml"), message
        assert 10 < len(message) < 2000 and "Traceback" not in message, message
        return
    assert isinstance(spec, InitiativeSpec)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(st.just("delete"), values)),
                min_size=1, max_size=4))
# Found by this test: a list where a partner key belongs raised TypeError (unhashable).
@example(mutations=[(("measures", 3, "partners", 0), [])])
def test_structural_mutations_are_accepted_or_refused_with_a_reason(
        mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    count_case("initiative.yml structural mutation")
    document = copy.deepcopy(DOCUMENT)
    for path, value in mutations:
        parent: Any = document
        try:
            for step in path[:-1]:
                parent = parent[step]
            if value == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    _check(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=len(RAW)),
                          st.integers(min_value=0, max_value=40),
                          st.text(alphabet=st.sampled_from(list(":-[]{}#&*!|>'\"%@`, \n\t"
                                                                 "abcXYZ019")), max_size=8)),
                min_size=1, max_size=5))
def test_textual_mutations_are_accepted_or_refused_with_a_reason(
        edits: list[tuple[int, int, str]]) -> None:
    count_case("initiative.yml textual mutation")
    raw = RAW
    for position, cut, insert in edits:
        position = min(position, len(raw))
        raw = raw[:position] + insert + raw[position + cut:]
    _check(raw)


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text_is_refused_with_a_reason(raw: str) -> None:
    count_case("initiative.yml arbitrary text")
    _check(raw)
