"""initiative.yml: parse and check the whole file before anything is written.

Every problem is reported as `FILE: PATH: what was expected`, e.g.
`initiative.yml: measures[0].partners[1]: unknown partner 'clinic-south'`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.initiative import calendar_spec, meeting_spec, rba_file
from bot.initiative.checker import (
    _CHANNEL,
    _TEAM,
    _USER,
    InitiativeFileError,
    _Checker,
)
from bot.initiative.public_section import PublicSpec, parse_public
from bot.initiative.rba_file import DimensionSpec, RbaMeasure, ResultSpec
from bot.initiative.strict_yaml import MAX_FILE_BYTES, StrictLoader
from bot.measures.periods import CADENCES, Cadence

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
@dataclass(frozen=True)
class PartnerSpec:
    key: str
    name: str
    members: tuple[str, ...]
    holidays: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeasureSpec:
    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float | None
    target_date: date | None
    cadence: Cadence
    aggregate: str
    partners: tuple[str, ...]
    rate: bool = False
    rba: RbaMeasure = field(default_factory=RbaMeasure)  # SPEC §10: kind, quadrant…


@dataclass(frozen=True)
class InitiativeSpec:
    name: str
    agenda: str
    timezone: str
    admins: tuple[str, ...]
    backbone_channel: str | None
    wins_channel: str | None
    reminder_day: int = 1
    reminder_time: str = "09:00"
    nudge_after_days: int = 3
    max_nudges: int = 2
    digest_weekday: int = 4
    digest_time: str = "15:00"
    win_emoji: tuple[str, ...] = ("tada",)
    win_threshold: int = 1
    workspaces: tuple[str, ...] = ()
    partners: tuple[PartnerSpec, ...] = field(default=())
    measures: tuple[MeasureSpec, ...] = field(default=())
    start: date | None = None  # None: the day of the first import
    fiscal_year_start: int = 1  # the month annual periods start in (SPEC §9)
    # `connect: {every: week|month, week: 1-4, weekday, time}` (SPEC §12); None: no rounds
    connect: dict[str, Any] | None = None
    public: PublicSpec = field(default=PublicSpec())
    dimensions: tuple[DimensionSpec, ...] = ()
    results: tuple[ResultSpec, ...] = ()
    calendar: dict[str, Any] = field(default_factory=dict)  # holidays, working_days (§11)


def load_initiative_file(path: Path | str) -> InitiativeSpec:
    path = Path(path)
    source = path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InitiativeFileError(source, "", f"the file is {size} bytes; at most "
                                                  f"{MAX_FILE_BYTES} are read")
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InitiativeFileError(source, "", f"cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InitiativeFileError(source, "", "expected UTF-8 text") from None
    return parse_initiative(raw, source=source)


def parse_initiative(raw: str, *, source: str = "initiative.yml") -> InitiativeSpec:
    check = _Checker(source)
    try:
        document = yaml.load(raw, Loader=StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}" if mark else ""
        raise InitiativeFileError(source, line, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise InitiativeFileError(source, "", f"not valid YAML: {exc}") from None

    top = check.mapping(document, "", {"initiative", "partners", "measures", "dimensions",
                                       "results", "meetings"}, {"initiative"})
    init = check.mapping(
        top["initiative"], "initiative",
        {"name", "agenda", "timezone", "admins", "channels", "reminders", "digest", "wins",
         "workspaces", "start", "connect", "public", "holidays", "working_days",
         "fiscal_year_start"},
        {"name"},
    )
    name = check.text(init["name"], "initiative.name")
    agenda = check.text(init.get("agenda", ""), "initiative.agenda", max_len=2900, empty=True)
    tz_name = init.get("timezone", "UTC")
    try:
        if not isinstance(tz_name, str) or not tz_name:
            raise ValueError
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise check.fail("initiative.timezone",
                         f"expected an IANA time zone like America/Chicago (got {tz_name!r})"
                         ) from None
    admins = check.id_list(init.get("admins"), "initiative.admins", _USER, "Slack user id")
    # Multi-workspace mode: partner workspaces (Slack Connect) that share this initiative.
    workspaces = check.id_list(init.get("workspaces"), "initiative.workspaces", _TEAM,
                               "Slack team id")

    channels = check.mapping(init.get("channels", {}), "initiative.channels", {"backbone", "wins"})
    backbone = _channel(check, channels.get("backbone"), "initiative.channels.backbone")
    wins_channel = _channel(check, channels.get("wins"), "initiative.channels.wins")

    reminders = check.mapping(init.get("reminders", {}), "initiative.reminders",
                              {"day", "time", "nudge_after_days", "max_nudges"})
    digest = check.mapping(init.get("digest", {}), "initiative.digest", {"weekday", "time"})
    wins = check.mapping(init.get("wins", {}), "initiative.wins", {"emoji", "threshold"})
    emoji_raw = wins.get("emoji", ["tada"])
    if isinstance(emoji_raw, str):
        emoji_raw = [emoji_raw]
    if not isinstance(emoji_raw, list) or not emoji_raw:
        raise check.fail("initiative.wins.emoji", "expected a list of emoji names like [tada]")
    emoji: list[str] = []
    for index, item in enumerate(emoji_raw):
        if not isinstance(item, str) or not re.match(r"^:?[a-z0-9_+'-]{1,100}:?$", item):
            raise check.fail(f"initiative.wins.emoji[{index}]",
                             f"expected an emoji name like tada (got {item!r})")
        emoji.append(item.strip(":"))

    partners = _partners(check, top.get("partners") or [])
    partner_keys = {p.key for p in partners}
    dims = rba_file.dimensions(check, top.get("dimensions"))
    result_specs = rba_file.results(check, top.get("results"))
    measures = _measures(check, top.get("measures") or [], partner_keys, dims,
                         {r.key for r in result_specs})
    linked = rba_file.link_results(check, result_specs,
                                   [(m.key, m.rba.kind, m.rba.result) for m in measures])
    measures = tuple(m if m.key not in linked else
                     replace(m, rba=replace(m.rba, result=linked[m.key])) for m in measures)

    return InitiativeSpec(
        name=name,
        agenda=agenda,
        timezone=tz_name,
        admins=admins,
        backbone_channel=backbone,
        wins_channel=wins_channel,
        reminder_day=check.integer(reminders.get("day", 1), "initiative.reminders.day", 1, 28),
        reminder_time=check.clock_time(reminders.get("time", "09:00"), "initiative.reminders.time"),
        nudge_after_days=check.integer(reminders.get("nudge_after_days", 3),
                                       "initiative.reminders.nudge_after_days", 1, 60),
        max_nudges=check.integer(reminders.get("max_nudges", 2),
                                 "initiative.reminders.max_nudges", 0, 10),
        digest_weekday=WEEKDAYS.index(check.choice(digest.get("weekday", "friday"),
                                                   "initiative.digest.weekday", WEEKDAYS)),
        digest_time=check.clock_time(digest.get("time", "15:00"), "initiative.digest.time"),
        win_emoji=tuple(emoji),
        win_threshold=check.integer(wins.get("threshold", 1), "initiative.wins.threshold", 1, 100),
        workspaces=workspaces,
        partners=partners,
        measures=measures,
        start=(None if init.get("start") is None
               else check.day(init["start"], "initiative.start")),
        fiscal_year_start=check.integer(init.get("fiscal_year_start", 1),
                                        "initiative.fiscal_year_start", 1, 12),
        connect=None if init.get("connect") is None else _connect(check, init["connect"]),
        public=parse_public(check, init.get("public")),
        dimensions=dims,
        results=result_specs,
        calendar={**calendar_spec.stored(
            calendar_spec.holidays(check, init.get("holidays"), "initiative.holidays"),
            calendar_spec.working_days(check, init.get("working_days"),
                                       "initiative.working_days")),
            **meeting_spec.meetings(check, top.get("meetings"), partner_keys)},
    )


def _connect(check: _Checker, raw: Any) -> dict[str, Any]:
    """`initiative.connect`: how often members are paired across partners (SPEC §12)."""
    path = "initiative.connect"
    entry = check.mapping(raw, path, {"every", "week", "weekday", "time"}, {"every"})
    return {"every": check.choice(entry["every"], f"{path}.every", ("week", "month")),
            "week": check.integer(entry.get("week", 1), f"{path}.week", 1, 4),
            "weekday": WEEKDAYS.index(check.choice(entry.get("weekday", "tuesday"),
                                                   f"{path}.weekday", WEEKDAYS)),
            "time": check.clock_time(entry.get("time", "10:00"), f"{path}.time")}


def _channel(check: _Checker, value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _CHANNEL.match(value):
        raise check.fail(path, f"expected a Slack channel id like C0123ABCD (got {value!r}); "
                               "find it under the channel's name > About")
    return value


def _partners(check: _Checker, raw: Any) -> tuple[PartnerSpec, ...]:
    if not isinstance(raw, list):
        raise check.fail("partners", "expected a list of partners")
    partners: list[PartnerSpec] = []
    keys: set[str] = set()
    members_seen: dict[str, str] = {}
    for index, item in enumerate(raw):
        path = f"partners[{index}]"
        entry = check.mapping(item, path, {"key", "name", "members", "holidays"},
                              {"key", "name"})
        key = check.key(entry["key"], f"{path}.key")
        if key in keys:
            raise check.fail(f"{path}.key", f"duplicate partner key {key!r}")
        keys.add(key)
        members = check.id_list(entry.get("members"), f"{path}.members", _USER, "Slack user id")
        for m_index, user in enumerate(members):
            if user in members_seen:
                raise check.fail(f"{path}.members[{m_index}]",
                                 f"{user} is already a member of {members_seen[user]!r}; "
                                 "a person reports for one partner")
            members_seen[user] = key
        partners.append(PartnerSpec(key, check.text(entry["name"], f"{path}.name"), members,
                                    calendar_spec.holidays(check, entry.get("holidays"),
                                                           f"{path}.holidays")))
    return tuple(partners)


def _measures(check: _Checker, raw: Any, partner_keys: set[str],
              dims: tuple[DimensionSpec, ...] = (), result_keys: frozenset[str] | set[str]
              = frozenset()) -> tuple[MeasureSpec, ...]:
    if not isinstance(raw, list):
        raise check.fail("measures", "expected a list of measures")
    allowed = {"key", "name", "unit", "direction", "baseline", "target", "target_date",
               "cadence", "aggregate", "partners", "rate", *rba_file.RBA_MEASURE_KEYS}
    measures: list[MeasureSpec] = []
    keys: set[str] = set()
    for index, item in enumerate(raw):
        path = f"measures[{index}]"
        entry = check.mapping(item, path, allowed, {"key", "name"})
        key = check.key(entry["key"], f"{path}.key")
        if key in keys:
            raise check.fail(f"{path}.key", f"duplicate measure key {key!r}")
        keys.add(key)
        unit = entry.get("unit", "")
        unit = "" if unit is None else check.text(str(unit), f"{path}.unit", max_len=32,
                                                  empty=True)
        baseline = None if entry.get("baseline") is None else check.number(
            entry["baseline"], f"{path}.baseline")
        target = None if entry.get("target") is None else check.number(
            entry["target"], f"{path}.target")
        target_date = entry.get("target_date")
        if target_date is not None:
            target_date = check.day(target_date, f"{path}.target_date")
        seen = check.partner_refs(entry.get("partners") or [], f"{path}.partners",
                                  partner_keys)
        cadence = check.choice(entry.get("cadence", "monthly"), f"{path}.cadence", CADENCES)
        rate = entry.get("rate", False)
        if not isinstance(rate, bool):
            raise check.fail(f"{path}.rate", f"expected true or false (got {rate!r})")
        if rate and unit not in ("", "%"):
            raise check.fail(f"{path}.unit", f"a rate is shown as a percentage: leave the unit "
                                             f"out or write \"%\" (got {unit!r})")
        aggregate = check.choice(entry.get("aggregate", "pooled" if rate else "sum"),
                                 f"{path}.aggregate", ("sum", "avg", "latest", "pooled"))
        if aggregate == "pooled" and not rate:
            raise check.fail(f"{path}.aggregate", "pooled (Σ numerators / Σ denominators) "
                                                  "is for rate measures: add `rate: true`")
        if rate and aggregate == "sum":
            raise check.fail(f"{path}.aggregate", "percentages do not add up: use pooled "
                                                  "(the default for rates), avg or latest")
        measures.append(MeasureSpec(
            key=key,
            name=check.text(entry["name"], f"{path}.name"),
            unit="%" if rate else unit,
            direction=check.choice(entry.get("direction", "up"), f"{path}.direction",
                                   ("up", "down")),
            baseline=baseline,
            target=target,
            target_date=target_date,
            cadence=cadence,  # type: ignore[arg-type]
            aggregate=aggregate,
            partners=tuple(seen),
            rate=rate,
            rba=rba_file.measure_rba(check, entry, path, rate=rate, unit="%" if rate else unit,
                                     dims=dims, result_keys=set(result_keys)),
        ))
    return tuple(measures)


def parse_clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
