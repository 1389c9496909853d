"""The public voice form's rules (SPEC §13): CSRF token, honeypot, length, and a per-client
rate limit that keeps no address.

- CSRF: double submit. The form page sets a random nonce in a SameSite=Strict, HttpOnly
  cookie and puts `TIME.MAC` in the form, MAC = HMAC(signing secret, team | time | nonce);
  a post is accepted only with both, matching, and younger than `TOKEN_AGE`.
- Rate limit: at most `LIMIT` accepted posts per client per rolling hour. A client is
  HMAC(salt of the hour, team | address), the salt derived from the signing secret and the
  hour's number and never stored; a post is checked against this hour's and the last
  hour's salt. Each accepted post keeps one such hash and the time (`voice_limits`), deleted
  once an hour old (here on each post, and by the housekeeping job every few minutes).
- A refused post (any reason) stores nothing at all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import Voice, VoiceLimit

MAX_LENGTH = 2000
LIMIT = 5  # accepted posts per client per hour: the 6th is refused
WINDOW = timedelta(hours=1)
TOKEN_AGE = timedelta(hours=2)
COOKIE = "impactbot_voice"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str = ""  # csrf | honeypot | empty | too_long | rate
    voice_id: int | None = None
    length: int = 0


def _mac(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), "|".join(parts).encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def make_token(secret: str, team: str, nonce: str, now: datetime) -> str:
    stamp = str(int(now.timestamp()))
    return f"{stamp}.{_mac(secret, 'csrf', team, stamp, nonce)}"


def token_ok(secret: str, team: str, nonce: str | None, token: str | None,
             now: datetime) -> bool:
    if not nonce or not token or "." not in token:
        return False
    stamp, _, mac = token.partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(mac, _mac(secret, "csrf", team, stamp,
                                                                  nonce)):
        return False
    issued = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
    return timedelta(0) - timedelta(minutes=5) <= now - issued <= TOKEN_AGE


def client_hashes(secret: str, team: str, address: str, now: datetime) -> tuple[str, str]:
    """This hour's and the last hour's pseudonym of the client."""
    hour = int(now.timestamp()) // 3600
    return tuple(  # type: ignore[return-value]
        _mac(_mac(secret, "voice-salt", str(h)), team, address) for h in (hour, hour - 1))


def forget_old_limits(session: Session, now: datetime) -> None:
    session.execute(delete(VoiceLimit).where(VoiceLimit.created_at <= now - WINDOW)
                    .execution_options(synchronize_session=False))


def submit(session: Session, *, secret: str, team: str, address: str, nonce: str | None,
           token: str | None, honeypot: str, message: str, now: datetime) -> Outcome:
    """Check a post and, when it passes, store the voice (pending review) and one rate-limit
    hash. A refusal writes nothing."""
    if not token_ok(secret, team, nonce, token, now):
        return Outcome(False, "csrf")
    if honeypot.strip():
        return Outcome(False, "honeypot")
    text = message.replace("\r\n", "\n").strip()
    if not text:
        return Outcome(False, "empty")
    if len(text) > MAX_LENGTH:
        return Outcome(False, "too_long", length=len(text))
    current, previous = client_hashes(secret, team, address, now)
    recent = session.scalar(select(func.count(VoiceLimit.id)).where(
        VoiceLimit.client_hash.in_([current, previous]),
        VoiceLimit.created_at > now - WINDOW)) or 0
    if recent >= LIMIT:
        return Outcome(False, "rate")
    forget_old_limits(session, now)
    session.add(VoiceLimit(client_hash=current, created_at=now))
    row = Voice(text=text, created_at=now, source="web", status="pending", counted_at=None)
    session.add(row)
    session.flush()
    return Outcome(True, voice_id=row.id)
