"""The weekly digest as Block Kit: one message when it fits, a summary plus a thread when not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.actions.digest import action_blocks
from bot.digest.content import (
    FRESH_PERIODS,
    ON_TIME_PERIODS,
    CommitmentLine,
    DigestData,
    MeasureLine,
    PartnerLine,
    WinLine,
)
from bot.measures.periods import Period
from bot.measures.progress import (
    coverage_text,
    format_delta,
    format_percent,
    format_value,
    sparkline,
)
from bot.rendering import dates
from bot.rendering.blocks import (
    MESSAGE_BLOCK_LIMIT,
    SECTION_LIMIT,
    Block,
    context,
    divider,
    escape,
    header,
    message,
    neutralise_fallback,
    safe_user_text,
    section,
    truncate,
)
from bot.rendering.user_text import fit, repost_text

WIN_TEXT_LIMIT = 140
COMMITMENT_TEXT_LIMIT = 200


@dataclass(frozen=True)
class Post:
    """One chat.postMessage: fallback text and blocks."""

    text: str
    blocks: list[Block]

    def __post_init__(self) -> None:
        message(self.text, self.blocks)  # raises if Slack would refuse it


@dataclass(frozen=True)
class DigestMessage:
    """The digest message, and what goes in its thread when it is too large for one."""

    main: Post
    thread: list[Post] = field(default_factory=list)


def _cadence_noun(period: Period, count: int) -> str:
    noun = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "annual": "year"}[
        period.cadence]
    return noun if count == 1 else f"{count} {noun}s"


# --- pieces ------------------------------------------------------------------------------


def measure_text(m: MeasureLine) -> str:
    """One measure: value against baseline and target, progress, trend, sparkline."""
    lines = [f"*{safe_user_text(m.name)}*"]
    if m.current is None or m.current_period is None:
        lines.append("No values reported yet.")
    else:
        tr = m.trend
        change = ""
        if tr.delta is not None:
            change = (f" ({format_delta(tr.delta, m.unit)} like for like: "
                      f"{coverage_text(m.change_partners, m.assigned)} in both periods)")
        word = tr.word if tr.delta is not None or not m.current_coverage else \
            "no earlier value from the same partners"
        lines.append(f"*{format_value(m.current, m.unit)}* in "
                     f"{dates.period_label(m.current_period)}"
                     f" ({coverage_text(m.current_coverage, m.assigned)})"
                     f" · {tr.arrow} {word}{change}")
    target_by = f" by {dates.day(m.target_date)}" if m.target_date else ""
    better = "higher" if m.direction == "up" else "lower"
    lines.append(f"Baseline {format_value(m.baseline, m.unit)} → target "
                 f"*{format_value(m.target, m.unit)}*{target_by} ({better} is better)"
                 f" · progress *{format_percent(m.progress)}*")
    # The sparkline starts at the first period with a value (interior gaps stay as gaps).
    first = next((i for i, v in enumerate(m.values) if v is not None), len(m.values))
    shown = m.values[first:]
    spark = f"`{sparkline(shown)}` last {_cadence_noun(m.reporting_period, len(shown))} · " \
        if shown else ""
    partners = "partner" if m.assigned == 1 else "partners"
    skipped = f", {m.skipped} skipped" if m.skipped else ""
    lines.append(f"{spark}{m.reported} of {m.assigned} {partners} reported "
                 f"{dates.period_label(m.reporting_period)}{skipped}")
    return "\n".join(lines)


def partner_text(p: PartnerLine, today: date) -> str:
    """One partner on one line: what it reported, what is missing, what it skipped and why."""
    name = f"*{safe_user_text(p.name)}*"
    if p.status == "reported":
        what = "its measure" if len(p.reported) == 1 else f"all {len(p.reported)} measures"
        return f"✅ {name}: reported {what}"
    pieces = []
    if p.missing:
        items = []
        for owed in p.missing:
            when = (f"overdue since {dates.action_day(owed.due, today)}" if owed.due < today
                    else f"due {dates.action_day(owed.due, today)}")
            items.append(f"{safe_user_text(owed.measure_name)} "
                         f"({dates.period_label(owed.period)}, {when})")
        pieces.append(f"not reported {', '.join(items)}")
    for skipped in p.skipped:
        reason = safe_user_text(" ".join(skipped.reason.split())) or "no reason given"
        pieces.append(f"skipped {safe_user_text(skipped.measure_name)} "
                      f"({dates.period_label(skipped.period)}): _{truncate(reason, 200)}_")
    if p.reported:
        pieces.append(f"{len(p.reported)} reported")
    icon = "⏳" if p.missing else "⏭️"
    return f"{icon} {name}: {' · '.join(pieces)}"


def _win_text(win: WinLine) -> str:
    # Stored win text is Slack-formatted (entities, mentions): made safe exactly once.
    text = fit(repost_text(" ".join(win.text.split())), WIN_TEXT_LIMIT) or "a win"
    label = text.replace("|", "¦")
    who = f"<@{win.author_id}>" + (f" ({safe_user_text(win.partner_name)})"
                                   if win.partner_name else "")
    if win.permalink:
        return f"🎉 <{win.permalink}|{label}> — {who}"
    where = f" in <#{win.posted_channel}>" if win.posted_channel else ""
    return f"🎉 {label} — {who}{where}"


def _wins_by_measure(wins: list[WinLine]) -> list[str]:
    """The week's wins grouped under the measure each is linked to (SPEC §12), measures
    in the order of their first win, unlinked wins last."""
    groups: dict[str | None, list[WinLine]] = {}
    for win in wins:
        groups.setdefault(win.measure_name, []).append(win)
    if list(groups) == [None]:
        return [_win_text(w) for w in wins]
    lines: list[str] = []
    for name in sorted(groups, key=lambda n: n is None):
        lines.append(f"📊 *{safe_user_text(name)}*" if name else "_Not linked to a measure_")
        lines.extend(_win_text(w) for w in groups[name])
    return lines


def _commitment_text(c: CommitmentLine) -> str:
    what = [f"{label}: {truncate(' '.join(value.split()), COMMITMENT_TEXT_LIMIT)}"
            for label, value in (("activities", c.activities), ("resources", c.resources),
                                 ("data", c.data)) if value.strip()]
    signed = " signed the common agenda" if c.signed_agenda else " committed"
    body = safe_user_text("; ".join(what)) if what else ""
    return f"🤝 *{safe_user_text(c.partner_name)}*{signed}" + (f": {body}" if body else "")


def _sections(title: str, lines: list[str]) -> list[Block]:
    """Lines gathered into as few sections as the 3,000-character limit allows."""
    blocks: list[Block] = []
    current = title
    for line in lines:
        line = truncate(line, SECTION_LIMIT - len(title) - 2)
        if len(current) + 1 + len(line) > SECTION_LIMIT:
            blocks.append(section(current))
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        blocks.append(section(current))
    return blocks


def _listing(title: str, lines: list[str], limit: int, more: str) -> Block:
    """At most `limit` characters of lines in one section, then how many were left out."""
    shown: list[str] = []
    used = len(title) + 80
    for line in lines:
        if used + len(line) + 1 > limit:
            break
        shown.append(line)
        used += len(line) + 1
    left = len(lines) - len(shown)
    tail = [f"_…and {left} more {more}_"] if left else []
    return section("\n".join([title, *shown, *tail]))


def completeness_summary(data: DigestData) -> str:
    counts = {"reported": 0, "missing": 0, "skipped": 0}
    for p in data.partners:
        counts[p.status] += 1
    return (f"*Reporting completeness:* {counts['reported']} of {len(data.partners)} partners "
            f"reported everything · {counts['missing']} still missing reports · "
            f"{counts['skipped']} skipped with a reason")


def engagement_blocks(data: DigestData) -> list[Block]:
    e = data.engagement
    started = data.initiative_start
    since = (f" since the initiative started ({dates.day(started)})"
             if started else "")
    score = f"— (nothing has fallen due yet{since})" if e.score is None else f"{e.score}/100"
    on_time = (f"{e.on_time} of {e.owed} owed reports on time ({format_percent(e.on_time_share)})"
               if e.owed else f"no reports were due yet{since}")
    fresh = (f"{e.fresh} of {e.assignments} partner measures fresh "
             f"({format_percent(e.freshness)})" if e.assignments
             else "no partner measure has fallen due yet")
    footnote = (
        "Engagement, in the manner of Clear Impact's: the average of *on-time reporting* "
        f"(of the reports owed for each measure's last {ON_TIME_PERIODS} periods whose due "
        "date has passed, the share first reported by the due date; a skip with a reason is "
        "excused) and *data freshness* (the share of partner-measure pairs with a value for "
        f"one of the measure's last {FRESH_PERIODS} periods)."
    )
    return [section(f"📈 *Engagement score: {score}*\n{on_time} · {fresh}"), context(footnote)]


def _head(data: DigestData) -> list[Block]:
    head = [
        header(f"Weekly digest: {data.initiative_name}"),
        context(f"*{data.week.key}* · week of {dates.day(data.week.monday)} · reporting, "
                f"measures and wins as of {dates.action_day(data.today, data.today)}"),
    ]
    # SPEC §10: the digest leads with the headline measures' verdicts and the equity gaps.
    rba = data.rba
    if rba.headlines:
        head.append(section(truncate("*Headline measures*\n" + "\n".join(rba.headlines),
                                     SECTION_LIMIT)))
    if rba.gaps:
        head.append(section(truncate("*Equity gaps* (largest gap to the best group)\n"
                                     + "\n".join(rba.gaps), SECTION_LIMIT)))
    if rba.stories:
        head.append(section(truncate("*Stories behind the curve*\n"
                                     + "\n".join(rba.stories), SECTION_LIMIT)))
    return head


def _wins_commitments_voice(data: DigestData, *, limit: int) -> list[Block]:
    blocks: list[Block] = []
    if data.wins:
        blocks.append(_listing(f"*Wins of the week ({len(data.wins)})*",
                               _wins_by_measure(data.wins), limit, "wins in the thread"))
    else:
        blocks.append(section("*Wins of the week:* none shared yet. React with the wins emoji "
                              "or use `/impact win` to share one."))
    if data.commitments:
        blocks.append(_listing(f"*New commitments ({len(data.commitments)})*",
                               [_commitment_text(c) for c in data.commitments], limit,
                               "commitments in the thread"))
    else:
        blocks.append(section("*New commitments:* none this week."))
    blocks += action_blocks(data.actions)
    voices = data.voice_count
    blocks.append(section(f"💬 *Community voice:* {voices} anonymous "
                          f"message{'s' if voices != 1 else ''} this week"))
    made, answered, met = data.intros
    if made or answered:
        blocks.append(section(f"🤝 *Intros:* {made} made this week; {met} of {answered} "
                              "check-back answers say they met"))
    return blocks


def fallback_text(data: DigestData) -> str:
    reported = sum(1 for p in data.partners if p.status != "missing")
    missing = [escape(p.name) for p in data.missing_partners]
    text = (f"Weekly digest for {escape(data.initiative_name)}, {data.week.key}: {reported} of "
            f"{len(data.partners)} partners up to date, {len(data.measures)} measures, "
            f"{len(data.wins)} win{'s' if len(data.wins) != 1 else ''}, "
            f"{len(data.commitments)} new commitment{'s' if len(data.commitments) != 1 else ''}"
            f", {data.voice_count} community voice message{'s' if data.voice_count != 1 else ''}.")
    if missing:
        text += " Not reported yet: " + ", ".join(missing) + "."
    return truncate(neutralise_fallback(text), SECTION_LIMIT)


# --- the whole message -------------------------------------------------------------------


def _with_verdict(text: str, verdict: str | None) -> str:
    line = f"\nVerdict: *{verdict}*" if verdict else ""
    return truncate(text, SECTION_LIMIT - len(line)) + line


def digest_message(data: DigestData, *, block_limit: int = MESSAGE_BLOCK_LIMIT) -> DigestMessage:
    """Everything in one message if it fits in `block_limit` blocks; else summary + thread."""
    partner_lines = [partner_text(p, data.today) for p in data.partners]
    partner_blocks = _sections("*Reporting completeness by partner*", partner_lines)
    verdicts = dict(data.rba.verdicts)
    shown = [m for m in data.measures if m.key not in data.rba.development]
    # The verdict is kept whole: a long measure text gives way, not the verdict.
    measure_blocks = [section(_with_verdict(measure_text(m), verdicts.get(m.key)))
                      for m in shown]
    full = [
        *_head(data),
        section(completeness_summary(data)),
        *partner_blocks,
        divider(),
        section(f"*Shared measures ({len(data.measures)})*"),
        *measure_blocks,
        divider(),
        *_wins_commitments_voice(data, limit=SECTION_LIMIT),
        divider(),
        *engagement_blocks(data),
    ]
    text = fallback_text(data)
    overflow = _overflow(data, block_limit)
    if len(full) <= block_limit:
        return DigestMessage(Post(text, full), overflow)

    main = [
        *_head(data),
        section(completeness_summary(data)),
        _missing_summary(data),
        divider(),
        section(_measures_summary(data)),
        divider(),
        *_wins_commitments_voice(data, limit=SECTION_LIMIT),
        divider(),
        *engagement_blocks(data),
        context("🧵 Every partner and every measure, in detail, is in the thread."),
    ]
    thread = [*_chunks("Reporting completeness by partner", partner_blocks, data, block_limit),
              *_chunks("Shared measures", measure_blocks, data, block_limit), *overflow]
    return DigestMessage(Post(text, main[:block_limit]), thread)


def _overflow(data: DigestData, block_limit: int) -> list[Post]:
    """Every win and commitment in the thread, when more than fit in the message."""
    posts = []
    for title, lines in (("Wins of the week", _wins_by_measure(data.wins)),
                         ("New commitments", [_commitment_text(c) for c in data.commitments])):
        if sum(len(line) + 1 for line in lines) + len(title) + 80 > SECTION_LIMIT:
            posts.extend(_chunks(title, _sections("", lines), data, block_limit))
    return posts


def _missing_summary(data: DigestData) -> Block:
    missing = data.missing_partners
    if not missing:
        return section("Every partner is up to date. 🎉")
    names = [f"{safe_user_text(p.name)} ({len(p.missing)})" for p in missing]
    shown: list[str] = []
    budget = SECTION_LIMIT - 200
    for name in names:
        if sum(len(n) + 2 for n in shown) + len(name) > budget:
            break
        shown.append(name)
    more = f", …and {len(names) - len(shown)} more in the thread" if len(shown) < len(names) \
        else ""
    return section(f"*Not reported yet ({len(missing)} partners, reports missing in "
                   f"brackets):* {', '.join(shown)}{more}")


def _measures_summary(data: DigestData) -> str:
    better = sum(1 for m in data.measures if m.trend.better is True)
    worse = sum(1 for m in data.measures if m.trend.better is False)
    reached = sum(1 for m in data.measures if m.progress is not None and m.progress >= 1)
    no_data = sum(1 for m in data.measures if m.current is None)
    return (f"*Shared measures ({len(data.measures)}):* {better} better and {worse} worse than "
            f"their previous period · {reached} at or past target · {no_data} without values yet")


def _chunks(title: str, blocks: list[Block], data: DigestData, block_limit: int) -> list[Post]:
    """Thread replies of at most `block_limit` blocks each, headed with what they hold."""
    posts = []
    per_post = block_limit - 1
    total = (len(blocks) + per_post - 1) // per_post
    for index in range(total):
        part = blocks[index * per_post:(index + 1) * per_post]
        label = title if total == 1 else f"{title} ({index + 1} of {total})"
        posts.append(Post(f"{label}: {data.initiative_name}, {data.week.key}",
                          [section(f"*{label}*"), *part]))
    return posts
