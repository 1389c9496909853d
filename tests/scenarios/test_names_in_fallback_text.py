"""Finding 8: a partner or measure name holding `<!channel>` must not broadcast anywhere —
not in blocks and not in any fallback `text` (what notifications show)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from bot.emulator.sandbox import Sandbox
from storage.models import Initiative, Measure, Partner
from tests.support.forms import commit_form
from tests.support.reminders import tick
from tests.support.world import NOW

BROADCASTS = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^S0TEAM>")


def _formatted_texts(payload: Any) -> list[str]:
    """Every text Slack formats (fallback `text`, mrkdwn objects); plain_text never pings."""
    if isinstance(payload, list):
        return [t for item in payload for t in _formatted_texts(item)]
    if not isinstance(payload, dict) or payload.get("type") == "plain_text":
        return []
    found = [payload["text"]] if isinstance(payload.get("text"), str) else []
    return found + [t for key, value in payload.items() if key != "text"
                    for t in _formatted_texts(value)] + _formatted_texts(payload.get("text"))


def test_names_with_broadcast_mentions_are_escaped_in_every_text(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        session.execute(update(Partner).values(name=Partner.name + " <!channel>"))
        session.execute(update(Measure).values(name="<!here> " + Measure.name))
        session.execute(update(Initiative).values(name="<!everyone> Starts",
                                                  agenda="Do <!subteam^S0TEAM> things"))
        session.commit()

    tick(sandbox, NOW)  # reminder DMs name the partner and its measures
    sandbox.driver.command("U0AAA", "report prenatal-visits 72")
    sandbox.driver.command("U0AAA", "agenda")
    sandbox.settle()
    sandbox.driver.command("U0AAA", "commit")
    sandbox.settle()
    view = sandbox.driver.last_view("views.open")
    sandbox.driver.view_submission("U0AAA", view, commit_form(resources="Staff"))
    sandbox.settle()

    sent = [c.params for c in sandbox.emulator.calls
            if c.method.startswith("chat.") and c.response.get("ok")]
    sent += [p.payload for p in sandbox.emulator.response_posts]
    texts = [str(p.get("text") or "") for p in sent]
    assert any("Reminder:" in t for t in texts)  # the reminder DM went out
    assert any("committed to the common agenda" in t for t in texts)  # the announcement
    assert any("Common agenda of" in t for t in texts)
    assert any("Recorded" in t for t in texts)
    formatted = _formatted_texts(sent)
    assert len(formatted) > len(texts)  # the blocks' mrkdwn too
    for mention in BROADCASTS:
        assert not [t for t in formatted if mention in t], mention
