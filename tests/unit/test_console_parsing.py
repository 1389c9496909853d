"""The console's own rules, without a sandbox: reading typed lines, durations and form answers;
naming mentions and showing emphasis."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.console import commands as cc
from tests.support.console import MODAL


def test_name_mentions_reaches_into_blocks() -> None:
    names = {"U0AAA": "ana", "C0WINS": "wins"}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "<@U0AAA> in <#C0WINS>"}}]

    assert cc.name_mentions(blocks, names) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "<@U0AAA|ana> in <#C0WINS|wins>"}}]
    assert cc.name_mentions("<@U0AAA|Ana A> <!here>", names) == "<@U0AAA|Ana A> <!here>"


@pytest.mark.parametrize(("text", "plain", "styled"), [
    ("*Lake County* owes _2 reports_", "Lake County owes 2 reports",
     "\x1b[1mLake County\x1b[0m owes 2 reports"),
    ("(*72%*) for `report_open:home-visits`", "(72%) for `report_open:home-visits`",
     "(\x1b[1m72%\x1b[0m) for `report_open:home-visits`"),
    ("2*3*4 and snake_case_name, * not bold *", "2*3*4 and snake_case_name, * not bold *",
     "2*3*4 and snake_case_name, * not bold *"),
])
def test_emphasis_reads_as_a_terminal_shows_it(text: str, plain: str, styled: str) -> None:
    assert cc.emphasis(text, ansi=False) == plain
    assert cc.emphasis(text, ansi=True) == styled


@pytest.mark.parametrize(("line", "expected"), [
    ("/impact report prenatal-visits 72", cc.Line("slash", "/impact", "report prenatal-visits 72")),
    ("/IMPACT", cc.Line("slash", "/impact", "")),
    (":react tada 123.45", cc.Line("command", "react", "tada 123.45")),
    (":Q", cc.Line("command", "quit", "")),
    (":?", cc.Line("command", "help", "")),
    ("help", cc.Line("command", "help", "")),
    ("exit", cc.Line("command", "quit", "")),
    ("help me please", cc.Line("message", "", "help me please")),
    ("  we did it :tada:  ", cc.Line("message", "", "we did it :tada:")),
    (": not a command", cc.Line("message", "", ": not a command")),
    ("   ", cc.Line("blank")),
])
def test_parse_line(line: str, expected: cc.Line) -> None:
    assert cc.parse_line(line) == expected


def test_parse_line_rejects_unknown_console_commands() -> None:
    with pytest.raises(cc.ConsoleInputError, match=":nope"):
        cc.parse_line(":nope")


@pytest.mark.parametrize(("text", "expected"), [
    ("2d", timedelta(days=2)), ("3h", timedelta(hours=3)), ("30m", timedelta(minutes=30)),
    ("1w", timedelta(weeks=1)), ("1d12h", timedelta(days=1, hours=12)),
    ("1D 6H", timedelta(days=1, hours=6)), ("90s", timedelta(seconds=90)),
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert cc.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "d", "2x", "-1d", "1.5h", "0m", "tomorrow", "2d junk"])
def test_parse_duration_rejects_what_is_not_a_forward_duration(text: str) -> None:
    with pytest.raises(cc.ConsoleInputError):
        cc.parse_duration(text)


def test_format_duration_round_trips() -> None:
    for text in ("1d", "2d3h", "1h30m", "45m", "7d"):
        assert cc.format_duration(cc.parse_duration(text)) == text


def test_parse_assignments_handles_quotes_and_rejects_bare_words() -> None:
    assert cc.parse_assignments('value=42 note="went well" empty=') == {
        "value": "42", "note": "went well", "empty": ""}
    with pytest.raises(cc.ConsoleInputError, match="FIELD=VALUE"):
        cc.parse_assignments("value")
    with pytest.raises(cc.ConsoleInputError):
        cc.parse_assignments('note="unclosed')


def test_buttons_are_counted_in_the_order_they_are_shown() -> None:
    blocks = [
        {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "x"},
         "accessory": {"type": "button", "action_id": "a", "text": {"type": "plain_text",
                                                                    "text": "First"}}},
        {"type": "actions", "block_id": "acts", "elements": [
            {"type": "static_select", "action_id": "sel"},
            {"type": "button", "action_id": "b", "value": "7",
             "text": {"type": "plain_text", "text": "Second"}}]},
    ]

    assert cc.buttons(blocks) == [cc.Button("First", "a", "s", None),
                                  cc.Button("Second", "b", "acts", "7")]
    assert cc.click_hint(cc.buttons(blocks)) == "(:click 1 = First, :click 2 = Second)"


def test_submission_values_fill_answers_and_leave_the_rest_empty() -> None:
    values = cc.submission_values(MODAL, {"amount_input": "40", "site": "North"})

    assert values == {
        "amount": {"amount_input": {"type": "plain_text_input", "value": "40"}},
        "site": {"site_select": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "North"}, "value": "north"}}},
        "note": {"note_input": {"type": "plain_text_input", "value": None}},
    }
