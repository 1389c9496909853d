"""Who could meet whom, and why (SPEC §12): partner members with their measures, people
working on the same open action, and the short "why" an intro opens with."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from bot.connect.rules import Person
from bot.rendering import blocks as bk
from bot.rendering.user_text import fit, repost_text
from storage.calendar_models import Action, ActionUpdate
from storage.models import (
    ConnectOptOut,
    Measure,
    MeasurePartner,
    Member,
    Partner,
    Win,
    WinStatus,
)


def people(session: Session, *, opted_in: bool = True) -> list[Person]:
    """Members of active partners with their partner's active measures (not those who
    opted out)."""
    rows = session.execute(
        select(Member.user_id, Member.partner_id, MeasurePartner.measure_id)
        .join(Partner, Partner.id == Member.partner_id)
        .outerjoin(MeasurePartner, MeasurePartner.partner_id == Partner.id)
        .outerjoin(Measure, and_(Measure.id == MeasurePartner.measure_id,
                                 Measure.active.is_(True)))
        .where(Partner.active.is_(True))).all()
    out: set[str] = set(session.scalars(select(ConnectOptOut.user_id))) if opted_in else set()
    found: dict[str, tuple[int, set[int]]] = {}
    for user, partner, measure in rows:
        if user not in out:
            found.setdefault(user, (partner, set()))[1].update([measure] if measure else [])
    return [Person(u, p, frozenset(m)) for u, (p, m) in sorted(found.items())]


def action_mates(session: Session, user_id: str) -> dict[str, list[str]]:
    """Who works on an open action with `user_id` (its owner, who added it, who posted an
    update on it), and those actions' titles (`#12 Book the hall`)."""
    involved: dict[int, set[str]] = {}
    titles: dict[int, str] = {}
    for action_id, title, owner, creator in session.execute(
            select(Action.id, Action.title, Action.owner_id, Action.created_by)
            .where(Action.status == "open")):
        involved[action_id] = {owner, creator}
        titles[action_id] = f"#{action_id} {title}"
    for action_id, user in session.execute(
            select(ActionUpdate.action_id, ActionUpdate.user_id)
            .join(Action, Action.id == ActionUpdate.action_id).where(Action.status == "open")):
        involved.setdefault(action_id, set()).add(user)
    mates: dict[str, list[str]] = {}
    for action_id, users in sorted(involved.items()):
        if user_id in users:
            for other in sorted(users - {user_id}):
                mates.setdefault(other, []).append(titles[action_id])
    return mates


def why(session: Session, a: str, b: str, shared: frozenset[int],
        actions: list[str] | None = None) -> str:
    """The short why: the partners, the measures and actions they share, the other's
    latest win."""
    names = dict(session.execute(select(Measure.id, Measure.name)
                                 .where(Measure.id.in_(list(shared)))).all())
    partners = dict(session.execute(select(Member.user_id, Partner.name)
                                    .join(Partner, Partner.id == Member.partner_id)
                                    .where(Member.user_id.in_([a, b]))).all())
    text = (f"<@{a}> is with *{bk.escape(partners.get(a, '?'))}* and <@{b}> with "
            f"*{bk.escape(partners.get(b, '?'))}*.")
    if names:
        text += " You both work on " + ", ".join(
            f"*{bk.escape(names[m])}*" for m in sorted(names)) + "."
    if actions:
        text += " You both work on the action" + ("s " if len(actions) > 1 else " ") + ", ".join(
            f"“{bk.safe_user_text(t[:80])}”" for t in actions[:3]) + "."
    for user in (b, a):
        win = session.scalar(select(Win.text).where(Win.author_id == user,
                                                    Win.status == WinStatus.POSTED)
                             .order_by(Win.posted_at.desc()).limit(1))
        if win:
            text += f" <@{user}>'s latest win: “{fit(repost_text(' '.join(win.split())), 200)}”"
    return text
