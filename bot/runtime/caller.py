"""Who is calling: admin or not, and which partner they report for; and whether there is an
initiative to call into at all.

Every capability asks this, so it lives with the runtime rather than in one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.runtime.errors import UserError
from storage.db import tenant_key
from storage.models import Initiative, Member, Partner

# The one initiative a database (or workspace tenant) holds.
INITIATIVE_ID = 1

# What people in Slack are told before the backbone team has imported the initiative.
NO_INITIATIVE = ("No initiative is set up in this workspace yet. A backbone admin can set one "
                 "up with `impactbot import initiative.yml`.")
# What the command line says instead (the operator runs the import).
NO_INITIATIVE_CLI = "There is no initiative yet: run `impactbot import FILE` first."
# What `impactbot console` says when it starts on an empty database.
NO_INITIATIVE_CONSOLE = ("There is no initiative yet. For the example one, start `impactbot "
                         "console --demo`; for your own, `impactbot import FILE` into a "
                         "database, then start `impactbot console --database URL`.")


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
    return session.get(Initiative, tenant_key(session, INITIATIVE_ID))


def require_initiative(session: Session) -> Initiative:
    """The initiative, or a UserError telling the person in Slack there is none yet."""
    initiative = load_initiative(session)
    if initiative is None:
        raise UserError(NO_INITIATIVE)
    return initiative


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
