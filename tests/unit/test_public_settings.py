"""`initiative.public` in initiative.yml: defaults, and key-path errors for bad values."""

from __future__ import annotations

import pytest

from bot.initiative.file import InitiativeFileError, parse_initiative
from bot.public.scorecard_data import GroupInput, group_figures

BASE = "initiative:\n  name: Test\n"


def test_public_pages_are_off_and_english_by_default() -> None:
    spec = parse_initiative(BASE)
    assert (spec.public.scorecard, spec.public.voice, spec.public.languages) == (
        False, False, ("en",))


def test_public_settings_are_read() -> None:
    spec = parse_initiative(BASE + "  public: {scorecard: true, voice: true, "
                                   "languages: [es, en]}\n")
    assert (spec.public.scorecard, spec.public.voice, spec.public.languages) == (
        True, True, ("es", "en"))


@pytest.mark.parametrize(("public", "path", "words"), [
    ("{scorecard: yes please}", "initiative.public.scorecard", "expected true or false"),
    ("{voice: 1}", "initiative.public.voice", "expected true or false"),
    ("{languages: [en, fr]}", "initiative.public.languages[1]", "expected one of en, es"),
    ("{languages: [es, es]}", "initiative.public.languages[1]", "duplicate language"),
    ("{languages: []}", "initiative.public.languages", "expected a list"),
    ("{scoreboard: true}", "initiative.public.scoreboard", "unknown key"),
    ("true", "initiative.public", "expected a mapping"),
])
def test_bad_public_settings_name_their_key_path(public: str, path: str, words: str) -> None:
    with pytest.raises(InitiativeFileError) as caught:
        parse_initiative(BASE + f"  public: {public}\n")
    assert caught.value.path == path and words in caught.value.problem


def test_small_groups_lose_their_values_and_gaps_are_to_the_best_shown_group() -> None:
    rates = group_figures([GroupInput("race", "A", 70.0, 50), GroupInput("race", "B", 55.0, 30),
                           GroupInput("race", "C", 99.0, 19)],
                          min_group=20, unit="%", direction="up")
    assert [(g.name, g.value, g.gap, g.suppressed_below) for g in rates] == [
        ("A", 70.0, 0.0, None), ("B", 55.0, -15.0, None), ("C", None, None, 20)]
    counts = group_figures([GroupInput("zip", "60085", 40.0, 40),
                            GroupInput("zip", "60064", 20.0, 20)],
                           min_group=20, unit="births", direction="down")
    assert [g.gap for g in counts] == [2.0, 1.0]
