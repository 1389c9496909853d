"""A modal with one field of each kind the console fills in: text, select, optional text."""

from __future__ import annotations

from typing import Any

MODAL: dict[str, Any] = {
    "type": "modal", "callback_id": "console_test_modal",
    "title": {"type": "plain_text", "text": "Families served"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {"type": "input", "block_id": "amount", "label": {"type": "plain_text", "text": "How many"},
         "element": {"type": "plain_text_input", "action_id": "amount_input"}},
        {"type": "input", "block_id": "site", "label": {"type": "plain_text", "text": "Site"},
         "element": {"type": "static_select", "action_id": "site_select", "options": [
             {"text": {"type": "plain_text", "text": "North"}, "value": "north"},
             {"text": {"type": "plain_text", "text": "South"}, "value": "south"}]}},
        {"type": "input", "block_id": "note", "optional": True,
         "label": {"type": "plain_text", "text": "Note"},
         "element": {"type": "plain_text_input", "action_id": "note_input"}},
    ],
}
