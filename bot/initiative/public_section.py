"""`initiative.public` in initiative.yml (SPEC §13): what the app shows the public.

```yaml
initiative:
  public: {scorecard: true, voice: true, languages: [en, es]}
```
Every key is optional: both pages are off and the language is English by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# The languages the public pages have catalogues for (bot/public/locales/).
LANGUAGES = ("en", "es")


class _Fails(Protocol):
    def fail(self, path: str, problem: str) -> Exception: ...

    def mapping(self, value: Any, path: str, allowed: set[str]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PublicSpec:
    scorecard: bool = False
    voice: bool = False
    languages: tuple[str, ...] = ("en",)


def parse_public(check: _Fails, raw: Any, path: str = "initiative.public") -> PublicSpec:
    if raw is None:
        return PublicSpec()
    entry = check.mapping(raw, path, {"scorecard", "voice", "languages"})
    flags = {}
    for name in ("scorecard", "voice"):
        value = entry.get(name, False)
        if not isinstance(value, bool):
            raise check.fail(f"{path}.{name}", f"expected true or false (got {value!r})")
        flags[name] = value
    languages = entry.get("languages", ["en"])
    if isinstance(languages, str):
        languages = [languages]
    if not isinstance(languages, list) or not languages:
        raise check.fail(f"{path}.languages",
                         f"expected a list of languages from {', '.join(LANGUAGES)}")
    seen: list[str] = []
    for index, item in enumerate(languages):
        if not isinstance(item, str) or item.lower() not in LANGUAGES:
            raise check.fail(f"{path}.languages[{index}]",
                             f"expected one of {', '.join(LANGUAGES)} (got {item!r})")
        if item.lower() in seen:
            raise check.fail(f"{path}.languages[{index}]", f"duplicate language {item!r}")
        seen.append(item.lower())
    return PublicSpec(scorecard=flags["scorecard"], voice=flags["voice"], languages=tuple(seen))
