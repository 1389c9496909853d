"""Wins linked to measures (SPEC §12): `/impact win KEY: TEXT`, the wins post's "link to a
measure" select (its author or an admin), `/impact wins KEY`, the digest's grouping."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.emulator.render import render_blocks
from bot.emulator.sandbox import Sandbox
from storage.models import Measure, Win
from tests.support.wins import post_text, win_rows, wins_posts
from tests.support.world import ADMIN, NOW, WINS


def _measure_id(sandbox: Sandbox, key: str) -> int:
    with sandbox.store.session() as session:
        found = session.scalar(select(Measure.id).where(Measure.key == key))
        assert found is not None
        return found


def _select(post: dict[str, Any]) -> dict[str, Any]:
    (element,) = [e for b in post["blocks"] if b["type"] == "actions"
                  for e in b["elements"] if e["action_id"] == "win_link_measure"]
    return element


def _last_reply(sandbox: Sandbox) -> str:
    post = sandbox.emulator.response_posts[-1].payload
    return render_blocks(post.get("blocks") or [], post.get("text") or "")


def test_win_with_a_measure_key_is_linked_and_listed_under_it(sandbox: Sandbox) -> None:
    reply = sandbox.driver.command("U0AAA", "win home-visits: Enrolled 12 families this week")
    sandbox.settle()  # posted first: the two are posted by parallel listeners otherwise
    sandbox.driver.command("U0CCC", "win Great news: the clinic repainted")
    sandbox.settle()

    assert reply.status == 200
    linked, plain = win_rows(sandbox)
    assert linked.measure_id == _measure_id(sandbox, "home-visits")
    assert linked.text == "Enrolled 12 families this week"
    assert (plain.measure_id, plain.text) == (None, "Great news: the clinic repainted")
    first, _ = wins_posts(sandbox.emulator)
    assert "Families enrolled in home visiting" in post_text(first)
    assert _select(first)["initial_option"]["value"] == "home-visits"

    sandbox.driver.command("U0DDD", "wins home-visits")
    sandbox.settle()
    shown = _last_reply(sandbox)
    assert "Enrolled 12 families" in shown and "repainted" not in shown

    sandbox.driver.command("U0DDD", "wins nonsense")
    sandbox.settle()
    assert "There is no measure `nonsense`" in _last_reply(sandbox)


def test_the_author_links_a_win_with_the_select_and_others_cannot(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "win We opened a new site")
    sandbox.settle()
    (post,) = wins_posts(sandbox.emulator)
    assert "initial_option" not in _select(post)
    option = {"text": {"type": "plain_text", "text": "x"}, "value": "prenatal-visits"}

    sandbox.driver.block_action("U0CCC", "win_link_measure", message=post, channel=WINS,
                                selected_option=option)
    sandbox.settle()
    assert win_rows(sandbox)[0].measure_id is None
    assert "Only the win's author or a backbone admin" in _last_reply(sandbox)

    sandbox.driver.block_action("U0AAA", "win_link_measure", message=post, channel=WINS,
                                selected_option=option)
    sandbox.settle()
    assert win_rows(sandbox)[0].measure_id == _measure_id(sandbox, "prenatal-visits")
    (update,) = sandbox.emulator.calls_to("chat.update")
    assert update.params["ts"] == post["ts"]
    assert "First-trimester prenatal visits" in post_text(sandbox.emulator.message(
        WINS, post["ts"]) or {})

    admin_choice = {**option, "value": "home-visits"}
    sandbox.driver.block_action(ADMIN, "win_link_measure", message=post, channel=WINS,
                                selected_option=admin_choice)
    sandbox.settle()
    assert win_rows(sandbox)[0].measure_id == _measure_id(sandbox, "home-visits")


def test_the_digest_groups_the_weeks_wins_by_measure(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "win home-visits: Enrolled 12 families")
    sandbox.driver.command("U0CCC", "win prenatal-visits: Saturday clinic opened")
    sandbox.driver.command("U0DDD", "win A new volunteer joined")
    sandbox.settle()
    with sandbox.store.session() as session:
        assert len(session.scalars(select(Win)).all()) == 3

    sandbox.clock.set(NOW.replace(day=13, hour=22))  # the Friday after, before the digest
    sandbox.driver.command(ADMIN, "digest")
    sandbox.settle()

    shown = _last_reply(sandbox)
    home = shown.index("Families enrolled in home visiting")
    prenatal = shown.index("First-trimester prenatal visits", shown.index("Wins of the week"))
    unlinked = shown.index("Not linked to a measure")
    assert home < shown.index("Enrolled 12 families") < unlinked
    assert prenatal < shown.index("Saturday clinic opened") < unlinked
    assert unlinked < shown.index("A new volunteer joined")
