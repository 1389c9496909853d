"""Who is asking: admin or not, and which partner they report for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.initiative.importer import INITIATIVE_ID
from storage.models import Initiative, Member, Partner


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool
    partner_id: int | None = None
    partner_key: str | None = None
    partner_name: str | None = None

    @property
    def is_member(self) -> bool:
        return self.partner_id is not None


def load_initiative(session: Session) -> Initiative | None:
    return session.get(Initiative, INITIATIVE_ID)


def identify(session: Session, user_id: str, initiative: Initiative | None = None) -> Caller:
    initiative = initiative or load_initiative(session)
    is_admin = bool(initiative and user_id in (initiative.admins or []))
    row = session.execute(
        select(Partner.id, Partner.key, Partner.name)
        .join(Member, Member.partner_id == Partner.id)
        .where(Member.user_id == user_id, Partner.active.is_(True))
    ).first()
    if row is None:
        return Caller(user_id, is_admin)
    return Caller(user_id, is_admin, row.id, row.key, row.name)


def partner_member_ids(session: Session, partner_key: str) -> list[str]:
    return list(session.scalars(
        select(Member.user_id).join(Partner, Partner.id == Member.partner_id)
        .where(Partner.key == partner_key).order_by(Member.user_id)))
