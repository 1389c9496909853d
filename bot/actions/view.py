"""Actions in Block Kit: the list, the confirmation, the App Home section, the modal and
the owner's reminder DM. Every title is the user's text: escaped, mentions defused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.actions.store import ActionRow
from bot.rendering import blocks as bk
from bot.rendering import dates

EVENT_TYPE = "impactbot_action_reminder"
ADD_CALLBACK = "action_add"
STATUS_MARK = {"open": "⬜", "doing": "🔄", "done": "✅", "dropped": "✖️"}
STEP_WORDS = {"before": "is due in 3 days", "due": "is due today"}


def line(row: ActionRow, today: date | None = None) -> str:
    due = ""
    if row.due_date is not None:
        late = today is not None and row.due_date < today and row.status in ("open", "doing")
        due = f" · due {dates.action_day(row.due_date, today)}" + (" *(overdue)*" if late else "")
    measure = f" · for `{row.measure_key}`" if row.measure_key else ""
    update = f"\n>{bk.safe_user_text(bk.truncate(row.last_update, 200))}" \
        if row.last_update else ""
    return (f"{STATUS_MARK[row.status]} *#{row.id}* {bk.safe_user_text(row.title)} — "
            f"<@{row.owner_id}>{due}{measure}{update}")


def list_message(heading: str, rows: Sequence[ActionRow], today: date,
                 empty: str) -> dict[str, Any]:
    if not rows:
        return bk.message(f"{heading}: {empty}", [bk.section(f"*{bk.escape(heading)}*\n{empty}")])
    blocks = [bk.section(f"*{bk.escape(heading)}*")]
    blocks += [bk.section(line(row, today)) for row in rows[:45]]
    blocks.append(bk.context("`/impact action done ID` closes one; `/impact action ID TEXT` "
                             "adds a status update."))
    return bk.message(f"{heading}: {len(rows)} action(s)", blocks)


def home_section(rows: Sequence[ActionRow], today: date) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [bk.divider(), bk.section(
        "*Your actions*", accessory=bk.button("Add an action", "action_open", "home"))]
    if not rows:
        blocks.append(bk.context("Nothing open. Add one here or with `/impact action add`."))
    blocks += [bk.section(line(row, today)) for row in rows[:10]]
    return blocks


def reminder_dm(action_id: int, title: str, step: str, due: date,
                today: date | None = None) -> dict[str, Any]:
    if step in STEP_WORDS:
        when = f"{STEP_WORDS[step]} ({dates.action_day(due, today)})"
    else:
        when = f"was due on {dates.action_day(due, today)} and is still open"
    text = f"Your action #{action_id} {when}: {bk.neutralise_fallback(bk.escape(title))}"
    return bk.message(text, [
        bk.section(f":alarm_clock: Your action *#{action_id}* {when}:\n"
                   f"{bk.safe_user_text(title)}"),
        bk.actions(bk.button("Mark done", "action_done", str(action_id), style="primary")),
        bk.context(f"Or say where it stands: `/impact action {action_id} TEXT`."),
    ])


def add_modal(measures: Sequence[tuple[str, str]]) -> dict[str, Any]:
    blocks = [
        bk.input_block("title", "What will be done", bk.text_input("title", max_length=300)),
        bk.input_block("owner", "Owner", {"type": "users_select", "action_id": "owner",
                                          "placeholder": bk.plain_text("You, if empty")},
                       optional=True),
        bk.input_block("due", "Due date", {"type": "datepicker", "action_id": "due"},
                       optional=True),
    ]
    if measures:
        blocks.append(bk.input_block("measure", "Toward which measure", bk.static_select(
            "measure", "Choose a measure",
            options=[bk.option(name, key) for key, name in measures]), optional=True))
    return bk.modal("Add an action", blocks, callback_id=ADD_CALLBACK, submit="Add")
