"""What the bot does and every `/impact` subcommand, in one place."""

from __future__ import annotations

from bot.rendering import blocks as bk

# (usage, who, what) — the contract in SPEC §5.
SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("help", "everyone", "what Impact Bot does and every subcommand"),
    ("report", "partner members", "open the report form for what your partner owes"),
    ("report KEY VALUE [note…]", "partner members",
     "record a value for your partner's latest complete period (add `for September 2026`, "
     "`for last month` or `for 2026-09` to backfill; a rate is `43/60`)"),
    ("measures", "everyone", "every shared measure: latest value, target, trend, who has reported"),
    ("measures KEY", "everyone", "one measure: its curve, verdict, groups and story"),
    ("story KEY [TEXT]", "partner members", "the story behind the curve of a measure"),
    ("status", "everyone", "what your partner still owes, and when it is due"),
    ("win [KEY:] TEXT", "everyone", "share a win with the whole initiative (linked to measure "
                                     "KEY)"),
    ("wins [KEY]", "everyone", "recent wins (those linked to measure KEY)"),
    ("ask TEXT [for KEY]", "everyone", "ask the initiative; the partners that report KEY hear "
                                       "of it"),
    ("learn WORDS", "everyone", "search wins, stories behind the curve and answered "
                                "questions: what works"),
    ("connect [KEY|off|on]", "everyone", "meet someone from another partner on the same "
                                         "measure or action; off/on: scheduled intros"),
    ("agenda", "everyone", "the common agenda and who has committed to it"),
    ("commit", "partner members", "commit your partner to the common agenda"),
    ("voice TEXT", "everyone", "send anonymous community voice to the backbone team"),
    ("action add TEXT [@owner] [due DATE] [for KEY]", "partner members and admins",
     "add an action: who does what, by when, toward which measure"),
    ("actions [mine|all|KEY]", "everyone", "open actions: yours, everyone's, or a measure's"),
    ("action done ID", "partner members and admins",
     "close an action (its owner, their partner or an admin)"),
    ("action ID TEXT", "partner members and admins", "a status update on an action"),
    ("meeting", "everyone", "your next meeting and its agenda"),
    ("meeting add [KEY:] TEXT", "partner members and admins",
     "add an item to the agenda of your next meeting (or of meeting KEY)"),
    ("meeting notes [KEY]", "partner members and admins",
     "notes, decisions and actions after your meeting (or meeting KEY)"),
    ("pause DAYS", "everyone", "pause your reminders (vacation)"),
    ("resume", "everyone", "restart your reminders"),
    ("digest", "backbone admins", "preview this week's digest"),
    ("export", "backbone admins", "download every measure report as CSV"),
)

# Shown to backbone admins only, after the list: what only they can add to a command.
ADMIN_ONLY: tuple[tuple[str, str], ...] = (
    ("report KEY VALUE [for PERIOD] [note…] as PARTNER-KEY",
     "report on a partner's behalf: the value is filed for that partner and the answer says "
     "so (`as PARTNER-KEY` ends the line; inside a note it is prose)"),
)

ABOUT = (
    "Impact Bot keeps our collective impact initiative talking to itself: partners report "
    "their shared measures here, wins are shared across the initiative, and the backbone "
    "team gets a weekly digest."
)


def help_message(command: str = "/impact", unknown: str | None = None, *,
                 is_admin: bool = False) -> dict[str, object]:
    """Every subcommand; a backbone admin also reads what only admins may add."""
    lines = [f"`{command} {usage}` — {what}" + ("" if who == "everyone" else f" _({who})_")
             for usage, who, what in SUBCOMMANDS]
    if is_admin:
        lines += [f"`{command} {usage}` — {what} _(backbone admins)_"
                  for usage, what in ADMIN_ONLY]
    intro = ABOUT
    if unknown:
        intro = f"I don't know `{bk.escape(unknown[:40])}`. Here is what I can do.\n\n{ABOUT}"
    text = intro + "\n\n" + "\n".join(lines)
    return bk.message(text, [bk.section(intro), bk.divider(), bk.section("\n".join(lines)),
                             bk.context("React to a message with a win emoji to share it, "
                                        "or use the message menu › *Share as a win*.")])
