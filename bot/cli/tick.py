"""`impactbot tick [--at ISO-8601] [--dry-run] [--team T]` (SPEC §11): every scheduled job
once as of an instant, with the scheduler's exactly-once guarantees (each side effect
claims its key in the database, so a tick beside a running scheduler repeats nothing).

In one workspace (single-workspace mode, or `--team`) each job runs as of `--at`, due or
not; in multi-workspace mode without `--team`, each workspace's jobs that are due at
`--at` run, claimed like a scheduler claims them. `--dry-run` prints the reminders and
nudges, action reminders, meeting steps, a due round's intros and a due digest that would
go out, and sends nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime

from bot.actions.remind import run_action_reminders
from bot.connect.intros import due_round
from bot.digest.posting import digest_would_post
from bot.meetings.cycle import run_meetings
from bot.reminders.tick import run_tick
from bot.runtime import scheduler
from bot.runtime.caller import load_initiative
from bot.runtime.services import Services

log = logging.getLogger(__name__)


def run_tick_command(services: Services, args: argparse.Namespace, *,
                     every_workspace: bool) -> int:
    now = services.clock.now()
    out = sys.stdout
    when = now.strftime("%Y-%m-%dT%H:%MZ")
    if args.dry_run:
        client = services.client() if services.can_post() else None
        reminders = run_tick(services, None, now, dry_run=True)
        for dm in reminders.planned:
            kind = "reminder" if dm.nudge == 0 else f"nudge {dm.nudge}"
            listing = ", ".join(f"{i.measure_key} {i.period}" for i in dm.items)
            print(f"{dm.user_id}\t{kind}\t{dm.partner_name}: {listing}", file=out)
        actions = run_action_reminders(services, client, now, dry_run=True)
        for planned in actions:
            print(f"{planned.action.owner_id}\taction #{planned.action.id} {planned.step}\t"
                  f"{planned.action.title}", file=out)
        steps = run_meetings(services, client, now, dry_run=True)
        for step in steps:
            print(f"{step.to}\tmeeting {step.kind}\t{step.occurrence.meeting.name} "
                  f"({step.occurrence.key})", file=out)
        pairs = _intro_round(services, now)
        for round_key, a, b in pairs:
            print(f"{a},{b}\tintro\tround {round_key}", file=out)
        digest = digest_would_post(services, now)
        if digest is not None:
            print(f"{digest[1]}\tdigest\t{digest[0]}", file=out)
        print(f"Dry run as of {when}: {len(reminders.planned)} reminder DM(s), "
              f"{len(actions)} action reminder(s), {len(steps)} meeting step(s), "
              f"{len(pairs)} intro(s) and {'the' if digest else 'no'} digest would be "
              "sent. Nothing was sent.", file=out)
        return 0
    if every_workspace:
        scheduler.run_due_now(services)
        print(f"Tick as of {when}: every job due in every workspace ran.", file=out)
        return 0
    failed = []
    for spec in scheduler.registered_jobs():
        try:
            spec.load()(services)
        except Exception:
            log.exception("job %s failed", spec.id)
            failed.append(spec.id)
        else:
            print(f"{spec.id}: ran", file=out)
    print(f"Tick as of {when}: {len(scheduler.registered_jobs()) - len(failed)} job(s) ran"
          + (f", failed: {', '.join(failed)}" if failed else "") + ".", file=out)
    return 1 if failed else 0


def _intro_round(services: Services, now: datetime) -> list[tuple[str, str, str]]:
    """The pairs a round due at `now` would introduce: (round, user, user)."""
    with services.store.session() as session:
        initiative = load_initiative(session)
        due = due_round(session, initiative, now) if initiative is not None else None
    if due is None:
        return []
    round_key, made = due
    return [(round_key, min(a.user_id, b.user_id), max(a.user_id, b.user_id))
            for a, b, _ in made]
