"""`impactbot remind` in multi-workspace mode without --team: every workspace's due round."""

from __future__ import annotations

import sys
import threading

from bot.reminders.next_due import reminders_next_due
from bot.reminders.tick import run_tick, tick_options
from bot.runtime.due_work import run_due
from bot.runtime.services import Services


def remind_every_workspace(services: Services) -> int:
    """`impactbot remind` in multi-workspace mode without --team: the reminders due now in
    every workspace, claimed like a scheduler claims them (so it can run beside them)."""
    totals = {"sent": 0, "failed": 0}
    lock = threading.Lock()

    def one_workspace(svc: Services) -> None:
        result = run_tick(svc, svc.client(), svc.clock.now(), **tick_options())
        with lock:
            totals["sent"] += result.sent
            totals["failed"] += result.failed

    runs = run_due(services, {"reminder-tick": (one_workspace, reminders_next_due)})
    print(f"Reminders in {runs} workspace(s) where they were due: {totals['sent']} sent, "
          f"{totals['failed']} not delivered (retried by the scheduler).", file=sys.stdout)
    return 1 if totals["failed"] else 0
