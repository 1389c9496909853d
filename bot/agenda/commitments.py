"""What partners commit to the common agenda: validation, recording with history, announcing.

Re-committing adds a row and marks the earlier one not current; the partial unique index
`uq_commitments_current` keeps at most one current commitment per partner, so two people
committing for the same partner at once cannot both win.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.agenda.backbone_posts import POSTED, post_once
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.runtime.caller import identify, load_initiative
from storage.db import Store
from storage.models import Commitment, Member, Partner

log = logging.getLogger(__name__)

FIELD_LIMIT = 1000  # characters per answer; also the modal's max_length
FIELDS = ("resources", "data", "activities")
FIELD_LABELS = {
    "resources": "Resources",
    "data": "Data we will share",
    "activities": "Activities",
}


@dataclass(frozen=True)
class CommitmentInput:
    resources: str
    data: str
    activities: str
    signed_agenda: bool

    @classmethod
    def cleaned(cls, resources: str | None, data: str | None, activities: str | None,
                signed_agenda: bool) -> CommitmentInput:
        return cls((resources or "").strip(), (data or "").strip(), (activities or "").strip(),
                   signed_agenda)


def validate(entry: CommitmentInput) -> dict[str, str]:
    """Problems keyed by field name (`resources`, `data`, `activities`, `sign`); empty if fine."""
    errors: dict[str, str] = {}
    for name in FIELDS:
        if len(getattr(entry, name)) > FIELD_LIMIT:
            errors[name] = f"Please keep this under {FIELD_LIMIT} characters."
    if not any(getattr(entry, name) for name in FIELDS):
        errors["resources"] = ("Tell the initiative what your partner commits: resources, "
                               "the data it will share, or its activities (at least one).")
    if not entry.signed_agenda:
        errors["sign"] = "Tick the box to sign the common agenda; a commitment needs it."
    return errors


def member_ids(session: Session, partner_id: int) -> list[str]:
    return list(session.scalars(select(Member.user_id).where(Member.partner_id == partner_id)
                                .order_by(Member.user_id)))


def current_commitments(session: Session) -> dict[int, Commitment]:
    """Each partner's current commitment, by partner id."""
    rows = session.scalars(select(Commitment).where(Commitment.is_current.is_(True)))
    return {row.partner_id: row for row in rows}


def current_commitment(session: Session, partner_id: int) -> Commitment | None:
    return session.scalar(select(Commitment).where(Commitment.partner_id == partner_id,
                                                   Commitment.is_current.is_(True)))


def commitment_history(session: Session, partner_id: int) -> list[Commitment]:
    """Every commitment the partner has made, oldest first."""
    return list(session.scalars(select(Commitment).where(Commitment.partner_id == partner_id)
                                .order_by(Commitment.signed_at, Commitment.id)))


def record_commitment(session: Session, partner_id: int, entry: CommitmentInput,
                      signed_by: str, now: datetime) -> tuple[Commitment, bool]:
    """Store a valid commitment as the partner's current one; answer it and whether it
    replaced an earlier one. The caller validates first.

    Two members committing for one partner at once take turns on the partner's row (SQLite
    serialises writers anyway): the later one replaces the earlier, both stay in history.
    """
    session.execute(select(Partner.id).where(Partner.id == partner_id).with_for_update())
    result: Any = session.execute(
        update(Commitment)
        .where(Commitment.partner_id == partner_id, Commitment.is_current.is_(True))
        .values(is_current=False)
        .execution_options(synchronize_session=False)
    )
    replaced = bool(result.rowcount)
    row = Commitment(partner_id=partner_id, resources=entry.resources, data=entry.data,
                     activities=entry.activities, signed_agenda=True, signed_by=signed_by,
                     signed_at=now, is_current=True)
    session.add(row)
    session.flush()
    return row, replaced


def commitments_signed_between(session: Session, start: datetime, end: datetime
                               ) -> list[Commitment]:
    """Commitments made in [start, end): what the weekly digest lists as new."""
    return list(session.scalars(
        select(Commitment).where(Commitment.signed_at >= start, Commitment.signed_at < end)
        .order_by(Commitment.signed_at, Commitment.id)))


# --- the commit modal and the announcement ------------------------------------------------

COMMIT_CALLBACK = "commit_submit"
SIGN_BLOCK = "sign"
SIGNED = "signed"
_PLACEHOLDERS = {
    "resources": "Staff time, funding, space… e.g. one care coordinator, 0.5 FTE",
    "data": "Which shared measures you will report, and any other data you will share",
    "activities": "What you will do that moves the agenda, and who it reinforces",
}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def commit_modal(initiative_name: str, agenda_text: str, partner_id: int, partner_name: str,
                 current: Commitment | None, signed_on: str = "") -> dict[str, Any]:
    """The modal a partner member fills in to commit (pre-filled when re-committing)."""
    intro = (f"You are committing *{bk.escape(partner_name)}* to the common agenda of "
             f"*{bk.escape(initiative_name)}*:")
    agenda = bk.safe_user_text(bk.truncate(agenda_text, 2500)) or "_No agenda text yet._"
    quoted = f">{agenda}".replace("\n", "\n>")
    blocks: list[dict[str, Any]] = [bk.section(intro), bk.section(quoted)]
    if current is not None:
        signed = signed_on or dates.day(current.signed_at.date())
        blocks.append(bk.context(f"This updates the commitment signed on {signed}; the "
                                 "earlier one stays in history."))
    for name in FIELDS:
        element: dict[str, Any] = {
            "type": "plain_text_input", "action_id": name, "multiline": True,
            "max_length": FIELD_LIMIT, "placeholder": _plain(_PLACEHOLDERS[name][:150])}
        if current is not None and getattr(current, name):
            element["initial_value"] = getattr(current, name)[:FIELD_LIMIT]
        blocks.append({"type": "input", "block_id": name, "optional": True,
                       "label": _plain(FIELD_LABELS[name]), "element": element})
    blocks.append({
        # Required: Slack itself asks for the tick; the server checks again (a crafted
        # submission without it gets the inline error).
        "type": "input", "block_id": SIGN_BLOCK, "optional": False,
        # The partner's name goes in the label (plain text, up to 2000 characters): an
        # option's description allows only 75, which long partner names overflowed.
        "label": _plain(bk.truncate(f"Signature on behalf of {partner_name}", 2000)),
        "element": {"type": "checkboxes", "action_id": SIGN_BLOCK, "options": [{
            "text": {"type": "mrkdwn", "text": "*We sign the common agenda*"},
            "description": {"type": "mrkdwn",
                            "text": "Your name and the time are recorded."},
            "value": SIGNED}]},
    })
    return {"type": "modal", "callback_id": COMMIT_CALLBACK,
            "private_metadata": str(partner_id),
            "title": _plain("Commit to the agenda"), "submit": _plain("Commit"),
            "close": _plain("Cancel"), "blocks": blocks}


def parse_submission(values: dict[str, Any]) -> CommitmentInput:
    """A `view_submission`'s state.values → what the person entered."""
    def text(name: str) -> str | None:
        value = (values.get(name) or {}).get(name) or {}
        return value.get("value") if isinstance(value, dict) else None

    selected = ((values.get(SIGN_BLOCK) or {}).get(SIGN_BLOCK) or {}).get("selected_options")
    signed = any(isinstance(o, dict) and o.get("value") == SIGNED for o in selected or [])
    return CommitmentInput.cleaned(text("resources"), text("data"), text("activities"), signed)


def commitment_message(partner_name: str, commitment: Commitment, replaced: bool
                       ) -> dict[str, Any]:
    verb = "updated its commitment to" if replaced else "committed to"
    headline = (f":handshake: *{bk.escape(partner_name)}* {verb} the common agenda "
                f"(signed by <@{commitment.signed_by}>).")
    lines = [f"*{FIELD_LABELS[name]}:* {bk.safe_user_text(getattr(commitment, name))}"
             for name in FIELDS if getattr(commitment, name)]
    blocks = [bk.section(headline)]
    if lines:
        blocks.append(bk.section("\n".join(lines)))
    blocks.append(bk.context("See every partner's commitment with `/impact agenda`."))
    fallback = f"{bk.escape(partner_name)} {verb} the common agenda."
    return bk.message(fallback, blocks)


def announce(store: Store, client: WebClient, channel: str | None, commitment_id: int,
             partner_name: str, replaced: bool, now: datetime) -> bool:
    """Post the commitment to the backbone channel exactly once (bot/agenda/backbone_posts.py)."""
    if not channel:
        return False
    with store.session() as session:
        commitment = session.get_one(Commitment, commitment_id)
        if commitment.announced_at is not None:
            return False
        message = commitment_message(partner_name, commitment, replaced)
    return post_once(store, client, channel, Commitment, commitment_id, message, now) == POSTED


class CommitRejected(Exception):
    """The submission cannot be recorded; `errors` are shown inline, keyed by block id."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Committed:
    commitment_id: int
    partner_name: str
    replaced: bool
    backbone_channel: str | None
    members: tuple[str, ...]  # everyone in the partner, whose Home should be refreshed


def submit_commitment(store: Store, user_id: str, form_partner: str, entry: CommitmentInput,
                      now: datetime) -> Committed:
    """The commit modal was submitted: validate, check who is signing for which partner,
    record it in one transaction. Raises `CommitRejected` with inline errors; nothing is
    written then. `form_partner` is the partner id the form was opened for."""
    errors = validate(entry)
    if errors:
        raise CommitRejected(errors)
    try:
        with store.session() as session:
            initiative = load_initiative(session)
            caller = identify(session, user_id, initiative)
            if caller.partner_id is None:
                raise CommitRejected({SIGN_BLOCK: "You are not on a partner any more, so you "
                                                  "cannot commit one."})
            if str(caller.partner_id) != form_partner:
                # Membership changed since the form was opened.
                raise CommitRejected({SIGN_BLOCK: "You now report for another partner. "
                                                  "Close this form and open it again."})
            row, replaced = record_commitment(session, caller.partner_id, entry, user_id, now)
            return Committed(row.id, caller.partner_name or "", replaced,
                             initiative.backbone_channel if initiative else None,
                             tuple(member_ids(session, caller.partner_id)))
    except IntegrityError:
        raise CommitRejected({SIGN_BLOCK: "Someone from your partner committed at the same "
                                          "moment. Please submit again."}) from None
