"""The report modal: measure (what the partner still owes first), period, value and note.

Its submission is read back into a `ReportRequest`, so the modal and `/impact report`
share every check in `bot.measures.reporting`. `private_metadata` carries the channel the modal
was opened from (JSON), nothing the submission's user could use to act as someone else:
who reports for which partner is decided again from the database at submit time.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.measures.groups import BLOCK_PREFIX, block_id, dimensions_of
from bot.measures.obligations import Obligation, obligations
from bot.measures.reporting import ReportError, ReportRequest
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.caller import identify
from storage.models import Initiative, Measure, Partner

CALLBACK_ID = "report_submit"
MEASURE, PARTNER, PERIOD, VALUE, NOTE = "measure", "partner", "period", "value", "note"
FIELDS = (MEASURE, PARTNER, PERIOD, VALUE, NOTE)


def _obligation_option(o: Obligation, today: date) -> bk.Block:
    due = f"due {dates.action_day(o.due, today)}" if o.owed else o.status
    return bk.option(f"{o.measure_name} ({o.period.key})", o.measure_key,
                     f"{o.measure_key} · {due}")


def report_view(session: Session, initiative: Initiative, user_id: str, now: datetime, *,
                measure_key: str | None = None, period: str | None = None,
                channel_id: str = "") -> dict[str, Any]:
    """The modal for this user; ReportError when they have nothing they may report."""
    caller = identify(session, user_id, initiative)
    blocks: list[bk.Block] = []
    initial: bk.Block | None = None
    if caller.partner_id is not None:
        owed_items = obligations(session, initiative, now, [caller.partner_id])
        if not owed_items:
            raise ReportError(f"{bk.escape(caller.partner_name or 'Your partner')} has no "
                              "measures assigned yet; nothing to report.")
        today = now.astimezone(ZoneInfo(initiative.timezone)).date()
        owed = [_obligation_option(o, today) for o in owed_items if o.owed]
        done = [_obligation_option(o, today) for o in owed_items if not o.owed]
        all_options = owed + done
        initial = next((o for o in all_options if o["value"] == measure_key),
                       owed[0] if owed else None)
        count = f"{len(owed)} still owed" if owed else "nothing owed right now"
        blocks.append(bk.section(f"Reporting for *{bk.escape(caller.partner_name or '')}* "
                                 f"({count})."))
        menu = bk.static_select(MEASURE, "Choose a measure", initial=initial,
                                  option_groups=[("Still owed", owed),
                                                 ("Reported or skipped", done)])
        blocks.append(bk.input_block(MEASURE, "Measure", menu))
    elif caller.is_admin:
        measures = session.execute(select(Measure.key, Measure.name)
                                   .where(Measure.active.is_(True))
                                   .order_by(Measure.position)).all()
        partners = session.execute(select(Partner.key, Partner.name)
                                   .where(Partner.active.is_(True))
                                   .order_by(Partner.position)).all()
        if not measures or not partners:
            raise ReportError("There are no measures or partners yet: import initiative.yml.")
        options = [bk.option(name, key, key) for key, name in measures]
        initial = next((o for o in options if o["value"] == measure_key), None)
        blocks.append(bk.section("You are a backbone admin: choose the partner you are "
                                 "reporting for."))
        blocks.append(bk.input_block(PARTNER, "Partner", bk.static_select(
            PARTNER, "Choose a partner",
            options=[bk.option(name, key, key) for key, name in partners])))
        blocks.append(bk.input_block(MEASURE, "Measure", bk.static_select(
            MEASURE, "Choose a measure", options=options, initial=initial)))
    else:
        raise ReportError("You are not a member of any partner in this initiative, so "
                          "there is nothing for you to report. Ask the backbone team to "
                          "add you to your partner.")
    blocks.append(bk.input_block(
        PERIOD, "Period", bk.text_input(PERIOD, placeholder="The latest complete period",
                                        initial=period, max_length=24),
        hint="Leave empty for the measure's latest complete period, or backfill an earlier "
             "one: 2026-09 or September 2026 (monthly), 2026-W38 or week 38 (weekly), "
             "2026-Q3 or Q3 2026 (quarterly), 2026 or FY2027 (annual), or last "
             "month/week/quarter/year.",
        optional=True))
    blocks.append(bk.input_block(
        VALUE, "Value", bk.text_input(VALUE, placeholder="e.g. 72, 72.5, 72% or 1,250",
                                      max_length=40)))
    chosen = initial["value"] if initial is not None else None
    blocks += _group_fields(session, initiative, chosen)
    blocks.append(bk.input_block(
        NOTE, "Note", bk.text_input(NOTE, placeholder="Anything the backbone should know",
                                    multiline=True, max_length=1000), optional=True))
    return bk.modal("Report a measure", blocks, callback_id=CALLBACK_ID, submit="Report",
                    private_metadata=json.dumps({"channel": channel_id}))


def _group_fields(session: Session, initiative: Initiative, measure_key: str | None
                  ) -> list[bk.Block]:
    """One optional field per group of the measure's breakdowns (SPEC §10), checked like
    the total on submit; the total stays the measure's figure."""
    measure = None if measure_key is None else session.scalar(
        select(Measure).where(Measure.key == measure_key, Measure.active.is_(True)))
    if measure is None:
        return []
    dims = dimensions_of(initiative, measure)
    if not dims:
        return []
    example = "e.g. 12/30" if measure.rate else "e.g. 12"
    out: list[bk.Block] = [bk.section(
        f"*By group* (optional) for `{measure.key}`: "
        + "; ".join(bk.escape(d["name"]) for d in dims)
        + (". Give each group as numerator/denominator." if measure.rate else "."))]
    for dim in dims:
        for index, group in enumerate(dim["groups"]):
            out.append(bk.input_block(
                block_id(dim["key"], index), f"{dim['name']}: {group}",
                bk.text_input(block_id(dim["key"], index), placeholder=example,
                              max_length=40), optional=True))
    return out


def _groups(values: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """(dimension, `#INDEX` of the group, text) for every group field filled in; the
    index is resolved against initiative.yml when the report is checked."""
    out = []
    for block in values:
        parts = str(block).split("|")
        if len(parts) != 3 or parts[0] != BLOCK_PREFIX:
            continue
        text = _value(values, block)
        if text is None:
            continue
        out.append((parts[1], f"#{parts[2]}", text))
    return tuple(out)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _value(values: dict[str, Any], block: str, kind: str = "value") -> str | None:
    # Shapes are checked, not assumed: whatever the submission holds, a missing answer.
    element = _dict(_dict(values.get(block)).get(block))
    if kind == "selected":
        value = _dict(element.get("selected_option")).get("value")
    else:
        value = element.get("value")
    return value if isinstance(value, str) and value.strip() else None


def request_from_view(view: dict[str, Any]) -> ReportRequest:
    """What the person entered in the modal, as a report request."""
    values = _dict(_dict(view.get("state")).get("values"))
    measure = _value(values, MEASURE, "selected")
    if measure is None:
        raise ReportError("Choose a measure.", field=MEASURE)
    value = _value(values, VALUE)
    if value is None:
        raise ReportError("Give a value, like 72, 72.5 or 1,250.", field=VALUE)
    return ReportRequest(
        measure_key=measure,
        value_text=value,
        note=_value(values, NOTE) or "",
        period_text=_value(values, PERIOD),
        partner_key=_value(values, PARTNER, "selected"),
        groups=_groups(values),
    )


def view_errors(view: dict[str, Any], error: ReportError) -> dict[str, str]:
    """`response_action: errors` for a refused submission: the message on its field."""
    present = {b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict)}
    field = error.field if error.field in present else None
    if field is None:
        field = MEASURE if MEASURE in present else VALUE
    # Inline errors are plain text: drop the mrkdwn marks the slash-command reply uses.
    text = str(error).replace("`", "").replace("*", "")
    return {field: bk.truncate(text, 300)}


def channel_of(view: dict[str, Any]) -> str:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return ""
    channel = meta.get("channel") if isinstance(meta, dict) else None
    return channel if isinstance(channel, str) else ""
