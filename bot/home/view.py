"""The App Home: one place where each person sees where they and the initiative stand.

Partner members see what their partner owes this period (with Report buttons), measure
progress, recent wins and the agenda (with a Commit button until their partner commits).
Admins also get a reporting-completeness panel. People on no partner see how to join.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.store import list_actions
from bot.actions.view import home_section
from bot.agenda.view import (
    Agenda,
    agenda_summary,
    cap_blocks,
    load_agenda,
    local_day,
    pack_lines,
)
from bot.measures.obligations import Obligation, obligations
from bot.measures.progress import coverage_text, format_percent, format_value, sparkline
from bot.measures.rba_data import Extras, rba_extras
from bot.measures.rba_view import gap_line
from bot.measures.view import MeasureStatus, measure_statuses
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.rendering.user_text import fit, repost_text
from bot.runtime.caller import NO_INITIATIVE, Caller, identify, load_initiative
from storage.models import Win

RECENT_WINS = 5
AGENDA_PREVIEW = 600


def recent_wins(session: Session, limit: int = RECENT_WINS) -> list[Win]:
    return list(session.scalars(select(Win).where(Win.status == "posted")
                                .order_by(Win.posted_at.desc(), Win.id.desc()).limit(limit)))


# --- rendering ------------------------------------------------------------------------------

def progress_line(m: MeasureStatus, extras: Extras | None = None) -> str:
    """One measure on the Home tab, from the same figures `/impact measures` shows, with
    its verdict and (broken down) its largest gap (SPEC §10)."""
    line = _progress(m)
    if extras is not None and m.value is not None:
        line += f" · {extras.verdict.text}"
        if extras.group_names:
            line += "\n" + gap_line(m, extras).replace("• ", "   ↳ ", 1)
    return line


def _progress(m: MeasureStatus) -> str:
    if m.value is None or m.value_period is None:
        return f"• *{bk.escape(m.name)}*: no reports yet"
    target = f" · target {format_value(m.target, m.unit)}" if m.target is not None else ""
    fraction = (f" · {format_percent(m.progress)} of the way" if m.progress is not None
                else "")
    spark = sparkline(m.history)
    spark = f" `{spark}`" if spark.strip() else ""
    # Every figure says what it covers (SPEC §9): the value's partners, the change's.
    covers = f", {coverage_text(m.coverage, m.expected)}" if m.coverage else ""
    both = (f" (like for like: {coverage_text(m.change_partners, m.expected)})"
            if m.change_partners else "")
    return (f"• *{bk.escape(m.name)}*: {format_value(m.value, m.unit)} "
            f"({m.value_period.key}{covers}){target}{fraction} · {m.trend.arrow} "
            f"{m.trend.word}{both}{spark}")


def win_line(win: Win) -> str:
    # Stored win text is Slack-formatted (entities, mentions): made safe exactly once.
    text = fit(repost_text(" ".join(win.text.split())), 200) or "_a win_"
    link = f" <{win.permalink}|view>" if win.permalink else ""
    return f"• {text} — <@{win.author_id}>{link}"


def owed_blocks(caller: Caller, owed: list[Obligation], today: date) -> list[bk.Block]:
    blocks: list[bk.Block] = [bk.section(f"*{bk.escape(caller.partner_name or '')}* — "
                                         "what your partner reports this period")]
    if not owed:
        blocks.append(bk.section("_Your partner reports no shared measures._"))
        return blocks
    open_items = [o for o in owed if o.owed]
    for o in open_items[:15]:
        blocks.append(bk.section(
            f"*{bk.escape(o.measure_name)}* for {o.period.key} — "
            + (f"*overdue* since {dates.action_day(o.due, today)}" if o.due < today
               else f"due {dates.action_day(o.due, today)}"),
            accessory=bk.button("Report", f"report_open:{o.measure_key}", o.measure_key,
                                style="primary")))
    done = [f"{'✓ reported' if o.status == 'reported' else '↷ skipped'}: "
            f"{bk.escape(o.measure_name)} ({o.period.key})"
            for o in owed if not o.owed]
    if not open_items:
        blocks.append(bk.section(":white_check_mark: All caught up: nothing owed this period."))
    if done:
        blocks.append(bk.context(bk.truncate(" · ".join(done), 2000)))
    return blocks


def completeness_blocks(all_obligations: list[Obligation], agenda: Agenda) -> list[bk.Block]:
    """Admins: how many of its reports each partner has in for its reporting periods."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # reported, skipped, total
    for o in all_obligations:
        c = counts[o.partner_id]
        c[2] += 1
        if o.status == "reported":
            c[0] += 1
        elif o.status == "skipped":
            c[1] += 1
    lines = []
    done = total = 0
    for p in agenda.partners:
        if p.partner_id not in counts:
            continue
        reported, skipped, owed_total = counts[p.partner_id]
        done += reported + skipped
        total += owed_total
        mark = "✅" if reported + skipped == owed_total else "⏳"
        skip = f", {skipped} skipped" if skipped else ""
        lines.append(f"{mark} {bk.escape(p.name)}: {reported}/{owed_total} reported{skip}")
    overall = f"{done} of {total} reports in" if total else "no reports assigned"
    blocks = [bk.section(f"*Reporting completeness* (admins) — {overall}")]
    blocks += [bk.section(t) for t in pack_lines(lines or ["_No partners report measures._"])]
    return blocks


def home_view(session: Session, user_id: str, now: datetime) -> dict[str, Any]:
    """The Home tab for one person, as a `views.publish` view."""
    initiative = load_initiative(session)
    if initiative is None:
        return _view([bk.header("Impact Bot"),
                      bk.section(NO_INITIATIVE)])
    caller = identify(session, user_id, initiative)
    agenda = load_agenda(session)
    blocks: list[bk.Block] = [bk.header(initiative.name)]

    if caller.is_member:
        assert caller.partner_id is not None
        mine = obligations(session, initiative, now, [caller.partner_id])
        today = now.astimezone(ZoneInfo(initiative.timezone)).date()
        blocks += owed_blocks(caller, mine, today)
    else:
        admins = " ".join(f"<@{a}>" for a in (initiative.admins or [])[:5]) or "the backbone team"
        blocks.append(bk.section(
            ":wave: *You are not on a partner yet.* Partners report the shared measures and "
            "commit to the common agenda. To join, ask the backbone team "
            f"({admins}) to add you to your organisation's `members` in initiative.yml; "
            "this page then shows what your partner owes. Meanwhile you can share wins "
            "(`/impact win …`) and send anonymous community voice (`/impact voice …`)."))

    if caller.is_member or caller.is_admin:
        today = now.astimezone(ZoneInfo(initiative.timezone)).date()
        blocks += home_section(list_actions(session, owner=user_id, limit=10), today)

    if caller.is_admin:
        everyone = obligations(session, initiative, now)
        blocks += [bk.divider(), *completeness_blocks(everyone, agenda)]

    progress = measure_statuses(session, initiative, now)
    extras = rba_extras(session, initiative, progress)
    wanted = [p.name for p in progress if p.key in extras and extras[p.key].measure.development]
    progress = [p for p in progress if not (p.key in extras and extras[p.key].measure.development)]
    blocks += [bk.divider(), bk.section("*Measure progress*")]
    blocks += [bk.section(t) for t in
               pack_lines([progress_line(p, extras.get(p.key)) for p in progress]
                          or ["_No shared measures yet._"])]
    if wanted:
        blocks.append(bk.context(bk.truncate("Data development agenda (no data yet): "
                                             + "; ".join(bk.escape(n) for n in wanted), 2000)))

    wins = recent_wins(session)
    blocks += [bk.divider(), bk.section("*Recent wins*")]
    blocks.append(bk.section("\n".join(win_line(w) for w in wins) if wins else
                             "_No wins shared yet. React with a win emoji or use "
                             "`/impact win …`._"))

    blocks += [bk.divider(), *agenda_blocks(agenda, caller)]
    blocks = cap_blocks(blocks, bk.VIEW_BLOCK_LIMIT)
    return _view(blocks)


def agenda_blocks(agenda: Agenda, caller: Caller) -> list[bk.Block]:
    text = bk.safe_user_text(bk.truncate(agenda.text, AGENDA_PREVIEW)) or "_No agenda yet._"
    blocks = [bk.section(f"*Common agenda*\n{text}"), bk.context(agenda_summary(agenda))]
    mine = agenda.partner(caller.partner_id) if caller.partner_id is not None else None
    if mine is not None and not mine.committed:
        blocks.append(bk.section(
            f"*{bk.escape(mine.name)}* has not committed to the common agenda yet.",
            accessory=bk.button("Commit", "commit_open", str(mine.partner_id), style="primary")))
    elif mine is not None and mine.commitment is not None:
        day = local_day(mine.commitment.signed_at, agenda.timezone)
        blocks.append(bk.context(
            f"✅ {bk.escape(mine.name)} committed on {day}. "
            "Update it with `/impact commit`; see everyone's with `/impact agenda`."))
    return blocks


def _view(blocks: list[bk.Block]) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks}
