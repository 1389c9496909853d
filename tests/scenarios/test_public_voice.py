"""Community voice from outside Slack (SPEC §13): the public form, its refusals, and the
backbone's Approve / Discard. Plain HTTP in, what the emulator received and what the
database holds out."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.agenda.voice import APPROVE, DISCARD
from bot.digest.data import build_digest
from bot.emulator.sandbox import Sandbox
from bot.public.voice_form import COOKIE, LIMIT, MAX_LENGTH
from bot.runtime import scheduler
from bot.runtime.client_address import TrustedProxies
from bot.runtime.settings import Settings
from storage.models import Voice, VoiceLimit
from tests.support.public import Page, every_row, fetch, go_public
from tests.support.world import ADMIN, BACKBONE, NOW, import_example, populate_world

CLIENT = "127.0.0.1"  # the sandbox's loopback client: must never be stored


def _form(sandbox: Sandbox, lang: str = "en") -> tuple[str, str]:
    """Open the form as a browser would: its cookie and its token."""
    page = fetch(sandbox, f"/voice?lang={lang}")
    assert page.status == 200
    cookie = next(c for c in page.set_cookies if c.startswith(COOKIE)).split(";")[0]
    assert "HttpOnly" in page.set_cookies[0] and "SameSite=Strict" in page.set_cookies[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return cookie, token.group(1)


def _post(sandbox: Sandbox, message: str, *, honeypot: str = "", token: bool = True,
          cookie: bool = True, lang: str = "en", forwarded_for: str | None = None) -> Page:
    jar, csrf = _form(sandbox, lang)
    fields = {"message": message, "website": honeypot}
    if token:
        fields["csrf_token"] = csrf
    headers = {"Cookie": jar} if cookie else {}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    return fetch(sandbox, f"/voice?lang={lang}", method="POST", form=fields, headers=headers)


def _kept(sandbox: Sandbox, before: set[str]) -> set[str]:
    return {row for row in every_row(sandbox) - before
            if not row.startswith(("signed_requests:", "due_work:"))}


def _review_message(sandbox: Sandbox) -> dict:  # type: ignore[type-arg]
    (message,) = sandbox.emulator.bot_messages(BACKBONE)
    return message


def test_a_post_reaches_the_backbone_for_approval_and_keeps_nothing_about_the_sender(
        sandbox: Sandbox, tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    before = every_row(sandbox)

    page = _post(sandbox, "The bus to the clinic stops running at 5 pm & nobody can get there")
    sandbox.settle()

    assert page.status == 200 and "Thank you" in page.text
    assert "Nothing that identifies you was kept." in page.text
    message = _review_message(sandbox)
    assert "The bus to the clinic stops running at 5 pm &amp; nobody" in message["text"]
    buttons = [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == [APPROVE, DISCARD]
    kept = _kept(sandbox, before)
    assert {row.split(":")[0] for row in kept} == {"voices", "voice_limits"}
    for row in kept:
        assert CLIENT not in row
    with sandbox.store.session() as session:
        (voice,) = session.scalars(select(Voice))
        assert (voice.source, voice.status, voice.counted_at) == ("web", "pending", None)
        (limit,) = session.scalars(select(VoiceLimit))
        assert len(limit.client_hash) == 64 and CLIENT not in limit.client_hash
        # Pending voice is not community voice yet.
        assert build_digest(session, sandbox.clock.now()).voice_count == 0  # type: ignore[union-attr]


def test_approved_voice_counts_exactly_once_and_discarded_never(
        sandbox: Sandbox, tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    _post(sandbox, "Please keep the Saturday clinic")
    _post(sandbox, "Buy my crypto")
    sandbox.settle()
    keep, spam = sandbox.emulator.bot_messages(BACKBONE)

    # A double click, and a second admin-less click: one decision.
    sandbox.driver.block_action(ADMIN, APPROVE, message=keep, channel=BACKBONE)
    sandbox.driver.block_action(ADMIN, APPROVE, message=keep, channel=BACKBONE)
    sandbox.driver.block_action(ADMIN, DISCARD, message=keep, channel=BACKBONE)
    sandbox.driver.block_action(ADMIN, DISCARD, message=spam, channel=BACKBONE)
    sandbox.settle()

    with sandbox.store.session() as session:
        statuses = dict(session.execute(select(Voice.text, Voice.status)).all())
        assert statuses == {"Please keep the Saturday clinic": "approved",
                            "Buy my crypto": "discarded"}
        digest = build_digest(session, sandbox.clock.now())
        assert digest is not None and digest.voice_count == 1
    updated = {m["text"] for m in sandbox.emulator.bot_messages(BACKBONE)}
    assert any("(approved)" in text for text in updated)
    assert any("(discarded)" in text for text in updated)
    told = [p.payload.get("text", "") for p in sandbox.emulator.response_posts]
    assert sum("already approved" in text for text in told) == 2
    scorecard = fetch(sandbox, "/scorecard").text
    assert "1 message of community voice heard so far." in scorecard


def test_only_admins_review(sandbox: Sandbox, tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    _post(sandbox, "More benches at the bus stop")
    sandbox.settle()
    sandbox.driver.block_action("U0AAA", APPROVE, message=_review_message(sandbox),
                                channel=BACKBONE)
    sandbox.settle()
    with sandbox.store.session() as session:
        assert session.scalars(select(Voice.status)).all() == ["pending"]


def test_refusals_show_a_clear_page_and_store_nothing(sandbox: Sandbox,
                                                      tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    before = every_row(sandbox)
    cases = {
        "no token": (_post(sandbox, "hello", token=False), 400, "has expired"),
        "no cookie": (_post(sandbox, "hello", cookie=False), 400, "has expired"),
        "honeypot": (_post(sandbox, "hello", honeypot="http://spam"), 400, "could not accept"),
        "too long": (_post(sandbox, "x" * (MAX_LENGTH + 1)), 400, "2,001 characters long"),
        "empty": (_post(sandbox, "   "), 400, "was empty"),
    }
    for name, (page, status, words) in cases.items():
        assert page.status == status, name
        assert "Your message was not sent" in page.text and words in page.text, name
        assert "Nothing was kept." in page.text
    sandbox.settle()
    assert _kept(sandbox, before) == set()
    assert sandbox.emulator.bot_messages(BACKBONE) == []

    # Spanish refusal pages are Spanish.
    refused = _post(sandbox, "x" * (MAX_LENGTH + 1), lang="es")
    assert "Su mensaje no se envió" in refused.text and "2.001 caracteres" in refused.text


def test_exactly_two_thousand_characters_go_through(sandbox: Sandbox, tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    assert _post(sandbox, "y" * MAX_LENGTH).status == 200


def test_the_sixth_post_in_an_hour_is_refused_and_the_hashes_last_an_hour(
        sandbox: Sandbox, tmp_path: Path) -> None:
    go_public(sandbox, tmp_path)
    for index in range(LIMIT):
        assert _post(sandbox, f"message {index}").status == 200
    before = every_row(sandbox)
    sixth = _post(sandbox, "message 6")
    assert sixth.status == 429 and "Too many messages" in sixth.text
    assert _kept(sandbox, before) == set()

    sandbox.clock.advance(timedelta(minutes=61))
    scheduler.run_due_now(sandbox.services, only={"forget-old-events"})
    with sandbox.store.session() as session:
        assert session.scalars(select(VoiceLimit)).all() == []
    assert _post(sandbox, "an hour later").status == 200
    sandbox.settle()
    with sandbox.store.session() as session:
        assert len(session.scalars(select(Voice)).all()) == LIMIT + 1


def test_behind_the_proxy_each_person_has_a_limit_of_their_own(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """The compose file's nginx on loopback (trusted by default, as gunicorn does): every
    connection comes from it, and X-Forwarded-For says who is posting."""
    go_public(sandbox, tmp_path)
    for index in range(LIMIT):
        assert _post(sandbox, f"from A {index}", forwarded_for="198.51.100.7").status == 200
    assert _post(sandbox, "A again", forwarded_for="198.51.100.7").status == 429
    # A neighbour behind the same proxy is not refused for A's posts; nor is A's forged
    # left-hand entry believed (nginx appends the address it saw on the right).
    assert _post(sandbox, "from B", forwarded_for="203.0.113.9").status == 200
    assert _post(sandbox, "A, forging", forwarded_for="203.0.113.50, 198.51.100.7"
                 ).status == 429


def test_an_address_claimed_by_an_untrusted_client_is_not_believed(
        database_url: str, tmp_path: Path) -> None:
    settings = Settings(trusted_proxies=TrustedProxies.parse("10.0.0.0/8"))
    with Sandbox(database_url, now=NOW, settings=settings) as direct:
        populate_world(direct)
        import_example(direct.store)
        go_public(direct, tmp_path)
        for index in range(LIMIT):
            claimed = f"198.51.100.{index}"  # a new address each time: still one client
            assert _post(direct, f"message {index}", forwarded_for=claimed).status == 200
        assert _post(direct, "one more", forwarded_for="203.0.113.9").status == 429
        direct.settle()
