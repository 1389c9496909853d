"""What the reminder plan decides from, read from the store in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.measures.obligations import Obligation, obligations
from bot.reminders.plan import Facts, MemberFacts, Sent
from bot.runtime.clock import as_utc
from storage.models import Initiative, Member, Partner, Pause, ReminderDelivery

# Deliveries older than this cannot belong to a current round (a quarter plus nudges).
HISTORY_WINDOW = timedelta(days=200)


def load_facts(session: Session, initiative: Initiative, now: datetime) -> Facts:
    """Members of partners that owe something now, with their history (fixed query count)."""
    facts = Facts(initiative)
    by_partner: dict[int, list[Obligation]] = defaultdict(list)
    for ob in obligations(session, initiative, now):
        by_partner[ob.partner_id].append(ob)
    owing = [pid for pid, obs in by_partner.items() if any(o.owed for o in obs)]
    if not owing:
        return facts
    members = session.execute(
        select(Member.user_id, Member.partner_id, Partner.name)
        .join(Partner, Partner.id == Member.partner_id)
        .where(Member.partner_id.in_(owing))
        .order_by(Partner.position, Member.user_id)).all()
    users = [m.user_id for m in members]
    pauses = {p.user_id: p for p in session.scalars(select(Pause).where(Pause.user_id.in_(users)))}
    sent: dict[str, dict[str, list[Sent]]] = defaultdict(lambda: defaultdict(list))
    for row in session.execute(
            select(ReminderDelivery.dedupe_key, ReminderDelivery.user_id,
                   ReminderDelivery.nudge, ReminderDelivery.sent_at)
            .where(ReminderDelivery.user_id.in_(users), ReminderDelivery.sent_at.is_not(None),
                   ReminderDelivery.created_at >= now - HISTORY_WINDOW)):
        base = row.dedupe_key.rpartition("|")[0]
        sent[row.user_id][base].append(Sent(row.nudge, as_utc(row.sent_at)))
    for m in members:
        facts.members.append(MemberFacts(m.user_id, m.name, by_partner[m.partner_id],
                                         dict(sent.get(m.user_id, {})), pauses.get(m.user_id)))
    return facts
