"""The `state.values` a person's answers give a submitted modal, for the forms the app opens."""

from __future__ import annotations

from typing import Any


def _text(name: str, value: str) -> dict[str, Any]:
    return {name: {name: {"type": "plain_text_input", "value": value or None}}}


def _select(name: str, value: str) -> dict[str, Any]:
    return {name: {name: {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": value}, "value": value}}}}


def commit_form(resources: str = "", data: str = "", activities: str = "",
                signed: bool = True) -> dict[str, Any]:
    """The commitment modal: what the partner commits, and the box that signs the agenda."""
    selected = ([{"text": {"type": "mrkdwn", "text": "*We sign the common agenda*"},
                  "value": "signed"}] if signed else [])
    return {**_text("resources", resources), **_text("data", data),
            **_text("activities", activities),
            "sign": {"sign": {"type": "checkboxes", "selected_options": selected}}}


def report_form(measure: str, value: str, period: str = "", note: str = "", *,
                partner: str | None = None) -> dict[str, Any]:
    """The report modal; `partner` is the admin's extra field."""
    values = {**_select("measure", measure), **_text("period", period),
              **_text("value", value), **_text("note", note)}
    if partner is not None:
        values.update(_select("partner", partner))
    return values
