"""The digest's actions (SPEC §11): done this week, due next week, overdue (pure; the
query is bot/actions/store.py's `action_lines`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.rendering import blocks as bk

LISTED = 8  # per list; the rest are counted


@dataclass(frozen=True)
class ActionLines:
    done: list[str] = field(default_factory=list)
    due_next_week: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.done or self.due_next_week or self.overdue)


def action_blocks(lines: ActionLines) -> list[bk.Block]:
    if lines.empty:
        return [bk.section("*Actions:* none done, due next week or overdue.")]
    text = ["*Actions*"]
    for title, items in (("✅ Done this week", lines.done),
                         ("📅 Due next week", lines.due_next_week),
                         ("⏰ Overdue", lines.overdue)):
        if items:
            more = f"\n_…and {len(items) - LISTED} more_" if len(items) > LISTED else ""
            text.append(f"{title} ({len(items)}):\n" + "\n".join(items[:LISTED]) + more)
    return [bk.section("\n".join(text))]
