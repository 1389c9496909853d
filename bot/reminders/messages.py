"""What a reminder DM and the skip form look like (Block Kit, always with fallback text)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.exactly_once import marker
from bot.rendering import blocks as bk
from bot.rendering import dates

EVENT_TYPE = "impact_reminder"  # message metadata that names the DM's dedupe key
SKIP_CALLBACK = "reminder_skip"
SKIP_ACTION = "reminder_skip"  # action ids are `reminder_skip:<measure-key>`
SNOOZE_ACTION = "reminder_snooze"
REPORT_ACTION = "report_open"  # issue 3 opens the report modal from `report_open:<key>`
REASON_BLOCK, REASON_ACTION = "skip_reason", "reason"
# intro + (section + actions) per measure + snooze + context must stay within 50 blocks.
MAX_LISTED = 22


@dataclass(frozen=True)
class ReminderItem:
    measure_key: str
    measure_name: str
    period: str
    due: date


def peers_line(peers: Mapping[tuple[str, str], tuple[int, int]], item: ReminderItem) -> str:
    """Social proof (SPEC §12): "1 of 2 partners have reported" for the item's period."""
    done, of = peers.get((item.measure_key, item.period), (0, 0))
    return f"{done} of {of} partners have reported" if of > 1 else ""


def reminder_message(partner_name: str, items: list[ReminderItem], nudge: int,
                     delivery_key: str,
                     peers: Mapping[tuple[str, str], tuple[int, int]] | None = None,
                     today: date | None = None) -> dict[str, Any]:
    """One DM listing every measure the person's partner owes, with report/skip/snooze,
    and for each how many partners have already reported that period."""
    peers = peers or {}
    count = len(items)
    what = "an update" if count == 1 else f"{count} updates"
    partner = bk.escape(partner_name)
    if nudge == 0:
        intro = f"Hi! *{partner}* has {what} to report for our shared measures."
        text = f"Reminder: {partner} has {what} to report."
    else:
        intro = f"A friendly nudge: *{partner}* still has {what} to report."
        text = f"Nudge: {partner} still has {what} to report."
    listing = "; ".join(f"{bk.escape(i.measure_name)} ({i.period}, "
                        f"due {dates.action_day(i.due, today)}"
                        + (f", {line}" if (line := peers_line(peers, i)) else "") + ")"
                        for i in items)
    blocks: list[bk.Block] = [bk.section(intro)]
    for item in items[:MAX_LISTED]:
        proof = f" · {line}" if (line := peers_line(peers, item)) else ""
        blocks.append(bk.section(
            f"*{bk.escape(item.measure_name)}*\nPeriod *{item.period}* · "
            f"due {dates.action_day(item.due, today)}"
            f"{proof}"))
        blocks.append(bk.actions(
            bk.button("Report", f"{REPORT_ACTION}:{item.measure_key}", item.period,
                      style="primary"),
            bk.button("Skip this period", f"{SKIP_ACTION}:{item.measure_key}", item.period),
        ))
    if count > MAX_LISTED:
        blocks.append(bk.context(f"…and {count - MAX_LISTED} more: use `/impact report` "
                                 "to see them all."))
    blocks.append(bk.actions(bk.button("Snooze one day", SNOOZE_ACTION, delivery_key)))
    blocks.append(bk.context("Away? `/impact pause DAYS` stops your reminders until you are "
                             "back."))
    message = bk.message(f"{text} {listing}", blocks)
    message["metadata"] = marker(EVENT_TYPE, {"delivery": delivery_key})
    return message


def skip_modal(measure_name: str, period: str, private_metadata: dict[str, Any]) -> bk.Block:
    return {
        "type": "modal",
        "callback_id": SKIP_CALLBACK,
        "private_metadata": json.dumps(private_metadata)[:3000],
        "title": {"type": "plain_text", "text": "Skip this period"},
        "submit": {"type": "plain_text", "text": "Skip"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            bk.section(f"Skip *{bk.escape(measure_name)}* for *{period}*? The backbone sees "
                       "it as skipped, with your reason, and you will not be reminded about it."),
            {"type": "input", "block_id": REASON_BLOCK,
             "label": {"type": "plain_text", "text": "Why can't you report it?"},
             "element": {"type": "plain_text_input", "action_id": REASON_ACTION,
                         "multiline": True, "max_length": 500,
                         "placeholder": {"type": "plain_text",
                                         "text": "e.g. our data system is down this month"}}},
        ],
    }


def skipped_message(measure_name: str, period: str, reason: str) -> dict[str, Any]:
    text = (f"Skipped *{bk.escape(measure_name)}* for {period}. "
            f"Reason: {bk.safe_user_text(reason)}")
    return bk.message(text, [bk.section(text)])
