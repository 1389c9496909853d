"""What the reminder plan decides from, read from the store in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.measures.obligations import Obligation, obligations, owing_partners
from bot.reminders.plan import Facts, MemberFacts, Sent
from bot.runtime.clock import as_utc
from bot.workdays import calendar_of
from storage.models import Initiative, Member, Partner, Pause, ReminderDelivery

# Deliveries older than this cannot belong to a current round (a year plus nudges: an
# annual measure is owed once a year, and its round lasts until it is reported).
HISTORY_WINDOW = timedelta(days=400)


def load_facts(session: Session, initiative: Initiative, now: datetime) -> Facts:
    """Members of partners that owe something now, with their history.

    Three queries whose SQL keeps its shape whatever the number of partners, measures or
    members: who owes is a subquery (`owing_partners`), never a list of ids."""
    facts = Facts(initiative)
    by_partner: dict[int, list[Obligation]] = defaultdict(list)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for ob in obligations(session, initiative, now):
        by_partner[ob.partner_id].append(ob)
        count = counts[(ob.measure_key, ob.period.key)]
        count[0] += ob.status == "reported"
        count[1] += 1
    facts.peers = {key: (done, of) for key, (done, of) in counts.items()}
    if not any(o.owed for obs in by_partner.values() for o in obs):
        return facts
    owing = owing_partners(session, initiative, now)
    members = session.execute(
        select(Member.user_id, Member.partner_id, Partner.name, Partner.holidays, Pause)
        .join(Partner, Partner.id == Member.partner_id)
        .outerjoin(Pause, Pause.user_id == Member.user_id)
        .where(Member.partner_id.in_(owing))
        .order_by(Partner.position, Member.user_id)).all()
    sent: dict[str, dict[str, list[Sent]]] = defaultdict(lambda: defaultdict(list))
    for row in session.execute(
            select(ReminderDelivery.dedupe_key, ReminderDelivery.user_id,
                   ReminderDelivery.nudge, ReminderDelivery.sent_at)
            .join(Member, Member.user_id == ReminderDelivery.user_id)
            .where(Member.partner_id.in_(owing), ReminderDelivery.sent_at.is_not(None),
                   ReminderDelivery.created_at >= now - HISTORY_WINDOW)):
        base = row.dedupe_key.rpartition("|")[0]
        sent[row.user_id][base].append(Sent(row.nudge, as_utc(row.sent_at)))
    for m in members:
        facts.members.append(MemberFacts(m.user_id, m.name, by_partner[m.partner_id],
                                         dict(sent.get(m.user_id, {})), m.Pause,
                                         calendar_of(initiative.calendar, m.holidays or ())))
    return facts
