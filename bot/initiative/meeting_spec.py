"""initiative.yml's `meetings:` (SPEC §11), checked with the path of any mistake:

    meetings:
      - key: steering
        name: Steering committee
        channel: C0BACKBONE
        schedule: {every: month, weekday: thursday, week: 1, time: "10:00",
                   duration_minutes: 90}
        agenda_days_before: 3
        on_holiday: move        # move (to the next working day) | cancel
        partners: [county-health, clinic-north]   # optional: who is asked (default all)
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from bot.initiative.calendar_spec import LONG_NAMES

_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,31}$")


class Checker(Protocol):
    def fail(self, path: str, problem: str) -> Exception: ...
    def mapping(self, value: Any, path: str, allowed: set[str],
                required: frozenset[str] | set[str] = ...) -> dict[str, Any]: ...
    def key(self, value: Any, path: str) -> str: ...
    def text(self, value: Any, path: str, *, max_len: int = ..., empty: bool = ...) -> str: ...
    def integer(self, value: Any, path: str, low: int, high: int) -> int: ...
    def choice(self, value: Any, path: str, options: tuple[str, ...]) -> str: ...
    def clock_time(self, value: Any, path: str) -> str: ...
    def partner_refs(self, value: Any, path: str, partner_keys: set[str]) -> list[str]: ...


def meetings(check: Checker, raw: Any, partner_keys: set[str]) -> dict[str, Any]:
    """{"meetings": [...]} for the initiative's calendar column, or {} without any."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise check.fail("meetings", "expected a list of meetings")
    out: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        path = f"meetings[{index}]"
        entry = check.mapping(item, path, {"key", "name", "channel", "schedule",
                                           "agenda_days_before", "on_holiday", "partners"},
                              {"key", "name", "channel", "schedule"})
        key = check.key(entry["key"], f"{path}.key")
        if key in {m["key"] for m in out}:
            raise check.fail(f"{path}.key", f"duplicate meeting key {key!r}")
        channel = entry["channel"]
        if not isinstance(channel, str) or not _CHANNEL.match(channel):
            raise check.fail(f"{path}.channel",
                             f"expected a Slack channel id like C0123ABCD (got {channel!r})")
        when = check.mapping(entry["schedule"], f"{path}.schedule",
                             {"every", "weekday", "week", "time", "duration_minutes"},
                             {"every", "weekday", "time"})
        every = check.choice(when["every"], f"{path}.schedule.every", ("week", "month"))
        weekday = LONG_NAMES.index(check.choice(when["weekday"], f"{path}.schedule.weekday",
                                                LONG_NAMES))
        week = None
        if every == "month":
            week = check.integer(when.get("week", 1), f"{path}.schedule.week", 1, 4)
        elif "week" in when:
            raise check.fail(f"{path}.schedule.week", "only for meetings every month")
        out.append({
            "key": key, "name": check.text(entry["name"], f"{path}.name"), "channel": channel,
            "every": every, "weekday": weekday, "week": week,
            "time": check.clock_time(when["time"], f"{path}.schedule.time"),
            "duration_minutes": check.integer(when.get("duration_minutes", 60),
                                              f"{path}.schedule.duration_minutes", 5, 720),
            "agenda_days_before": check.integer(entry.get("agenda_days_before", 3),
                                                f"{path}.agenda_days_before", 1, 14),
            "on_holiday": check.choice(entry.get("on_holiday", "move"), f"{path}.on_holiday",
                                       ("move", "cancel")),
            "partners": _partners(check, entry.get("partners"), f"{path}.partners",
                                  partner_keys),
        })
    return {"meetings": out}


def _partners(check: Checker, raw: Any, path: str, partner_keys: set[str]) -> list[str] | None:
    """The partners whose members are the meeting's (with the admins); None: every partner."""
    if raw is None:
        return None
    if raw == []:
        raise check.fail(path, "expected a list of partner keys (leave it out for every "
                               "partner)")
    return check.partner_refs(raw, path, partner_keys)
