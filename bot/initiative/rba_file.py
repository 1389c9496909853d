"""initiative.yml's Results-Based Accountability keys (SPEC §10), checked like the rest.

`dimensions` (what reports are broken down by), `results` (population-level conditions
with their indicators), and per measure `kind`, `quadrant`, `result`, `headline`,
`source`, `breakdowns`, `min_group`, `development` and `forecast`. Every problem is a
key-path error (`measures[4].breakdowns[1]: unknown dimension 'zipcode'`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol


class _Checker(Protocol):
    """What bot.initiative.file's checker offers (named here: the file imports this one)."""

    def fail(self, path: str, problem: str) -> Exception: ...
    def mapping(self, value: Any, path: str, allowed: set[str],
                required: frozenset[str] | set[str] = ...) -> dict[str, Any]: ...
    def text(self, value: Any, path: str, *, max_len: int = ..., empty: bool = ...) -> str: ...
    def key(self, value: Any, path: str) -> str: ...
    def number(self, value: Any, path: str) -> float: ...
    def integer(self, value: Any, path: str, low: int, high: int) -> int: ...
    def choice(self, value: Any, path: str, options: tuple[str, ...]) -> str: ...

KINDS = ("performance", "indicator")
QUADRANTS = ("how-much", "how-well", "better-off")
RBA_MEASURE_KEYS = {"kind", "quadrant", "result", "headline", "source", "breakdowns",
                    "min_group", "development", "forecast"}
_FORECAST_KEY = re.compile(r"^(\d{4}(-(W\d{2}|Q[1-4]|\d{2}))?|FY\d{4})$")
MAX_GROUPS = 12  # a modal field per group: a dimension of more is a separate measure


@dataclass(frozen=True)
class DimensionSpec:
    key: str
    name: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class ResultSpec:
    key: str
    name: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class RbaMeasure:
    """A measure's RBA settings (defaults: a performance measure with no breakdowns)."""

    kind: str = "performance"
    quadrant: str | None = None
    result: str | None = None
    headline: bool = False
    source: str = ""
    breakdowns: tuple[str, ...] = ()
    min_group: int | None = None
    development: bool = False
    forecast: tuple[tuple[str, float], ...] = ()  # (year or period key, value)


def dimensions(check: _Checker, raw: Any) -> tuple[DimensionSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise check.fail("dimensions", "expected a list of dimensions like "
                                       "{key: zip, name: ZIP code, groups: [\"60085\"]}")
    out: list[DimensionSpec] = []
    for index, item in enumerate(raw):
        path = f"dimensions[{index}]"
        entry = check.mapping(item, path, {"key", "name", "groups"}, {"key", "name", "groups"})
        key = check.key(entry["key"], f"{path}.key")
        if any(d.key == key for d in out):
            raise check.fail(f"{path}.key", f"duplicate dimension key {key!r}")
        groups_raw = entry["groups"]
        if not isinstance(groups_raw, list) or not groups_raw:
            raise check.fail(f"{path}.groups", "expected a list of group names")
        if len(groups_raw) > MAX_GROUPS:
            raise check.fail(f"{path}.groups", f"expected at most {MAX_GROUPS} groups")
        groups: list[str] = []
        for g_index, group in enumerate(groups_raw):
            if isinstance(group, int) and not isinstance(group, bool):
                group = str(group)  # an unquoted ZIP code
            name = check.text(group, f"{path}.groups[{g_index}]", max_len=40)
            if name.lower() in (g.lower() for g in groups):
                raise check.fail(f"{path}.groups[{g_index}]", f"duplicate group {name!r}")
            groups.append(name)
        out.append(DimensionSpec(key, check.text(entry["name"], f"{path}.name", max_len=60),
                                 tuple(groups)))
    return tuple(out)


def results(check: _Checker, raw: Any) -> tuple[ResultSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise check.fail("results", "expected a list of results like "
                                    "{key: healthy-births, name: …, indicators: [KEY]}")
    out: list[ResultSpec] = []
    for index, item in enumerate(raw):
        path = f"results[{index}]"
        entry = check.mapping(item, path, {"key", "name", "indicators"}, {"key", "name"})
        key = check.key(entry["key"], f"{path}.key")
        if any(r.key == key for r in out):
            raise check.fail(f"{path}.key", f"duplicate result key {key!r}")
        refs = entry.get("indicators") or []
        if not isinstance(refs, list):
            raise check.fail(f"{path}.indicators", "expected a list of measure keys")
        indicators = tuple(check.key(ref, f"{path}.indicators[{i}]")
                           for i, ref in enumerate(refs))
        out.append(ResultSpec(key, check.text(entry["name"], f"{path}.name"), indicators))
    return tuple(out)


def measure_rba(check: _Checker, entry: dict[str, Any], path: str, *, rate: bool, unit: str,
                dims: tuple[DimensionSpec, ...], result_keys: set[str]) -> RbaMeasure:
    kind = check.choice(entry.get("kind", "performance"), f"{path}.kind", KINDS)
    quadrant = None
    if entry.get("quadrant") is not None:
        if kind == "indicator":
            raise check.fail(f"{path}.quadrant", "quadrants are for performance measures; "
                                                 "an indicator measures a result")
        quadrant = check.choice(entry["quadrant"], f"{path}.quadrant", QUADRANTS)
    result = None
    if entry.get("result") is not None:
        result = check.key(entry["result"], f"{path}.result")
        if result not in result_keys:
            raise check.fail(f"{path}.result", f"unknown result {result!r}; expected one of "
                             f"the results' keys ({', '.join(sorted(result_keys)) or 'none'})")
    flags = {name: entry.get(name, False) for name in ("headline", "development")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise check.fail(f"{path}.{name}", f"expected true or false (got {value!r})")
    source = entry.get("source") or ""
    source = check.text(str(source), f"{path}.source", max_len=200, empty=True)
    breakdowns = _breakdowns(check, entry.get("breakdowns"), path, dims)
    if breakdowns and unit == "%" and not rate:
        raise check.fail(f"{path}.breakdowns", "a percentage broken down by group needs each "
                         "group's denominator (to keep small groups private): add `rate: true`")
    min_group = None
    if entry.get("min_group") is not None:
        min_group = check.integer(entry["min_group"], f"{path}.min_group", 1, 100000)
        if not breakdowns:
            raise check.fail(f"{path}.min_group", "min_group is for measures with breakdowns")
    return RbaMeasure(kind=kind, quadrant=quadrant, result=result,
                      headline=flags["headline"], source=source, breakdowns=breakdowns,
                      min_group=min_group, development=flags["development"],
                      forecast=_forecast(check, entry.get("forecast"), f"{path}.forecast",
                                         unit))


def _breakdowns(check: _Checker, raw: Any, path: str, dims: tuple[DimensionSpec, ...]
                ) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise check.fail(f"{path}.breakdowns", "expected a list of dimension keys")
    known = {d.key for d in dims}
    out: list[str] = []
    for index, ref in enumerate(raw):
        where = f"{path}.breakdowns[{index}]"
        if not isinstance(ref, str) or ref not in known:
            raise check.fail(where, f"unknown dimension {ref!r}; expected one of the "
                             f"dimensions' keys ({', '.join(sorted(known)) or 'none'})")
        if ref in out:
            raise check.fail(where, f"duplicate dimension {ref!r}")
        out.append(ref)
    return tuple(out)


def _forecast(check: _Checker, raw: Any, path: str, unit: str) -> tuple[tuple[str, float], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise check.fail(path, "expected a mapping of years (or periods) to values, "
                               "like {2027: 70, 2028: 72}")
    out: list[tuple[str, float]] = []
    for key, value in raw.items():
        where = f"{path}.{key}"
        if not _FORECAST_KEY.match(str(key)):
            raise check.fail(where, "expected a year like 2027, a fiscal year like FY2027 or a "
                                     "period like 2027-Q1")
        number = check.number(value, where)
        if unit == "%" and not 0 <= number <= 100:
            raise check.fail(where, f"expected a percentage from 0 to 100 (got {value!r})")
        out.append((str(key), number))
    return tuple(sorted(out))


def link_results(check: _Checker, result_specs: tuple[ResultSpec, ...],
                 measures: list[tuple[str, str, str | None]]) -> dict[str, str]:
    """Each indicator's result: from `results[].indicators` or the measure's `result`.
    `measures` is (key, kind, result) per measure; an indicator named by a result must be
    a measure of kind indicator, and may not name another result itself."""
    kinds = {key: (kind, result) for key, kind, result in measures}
    linked: dict[str, str] = {}
    for r_index, r in enumerate(result_specs):
        for i_index, ref in enumerate(r.indicators):
            where = f"results[{r_index}].indicators[{i_index}]"
            if ref not in kinds:
                raise check.fail(where, f"unknown measure {ref!r}")
            kind, own = kinds[ref]
            if kind != "indicator":
                raise check.fail(where, f"{ref!r} is a {kind} measure; an indicator needs "
                                        "`kind: indicator`")
            if ref in linked or (own is not None and own != r.key):
                raise check.fail(where, f"{ref!r} already measures another result")
            linked[ref] = r.key
    return linked
