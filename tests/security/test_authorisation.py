"""Who may do what: every `/impact` subcommand × backbone admin, partner member and
someone in the workspace who is on no partner. A refusal says why and writes nothing."""

from __future__ import annotations

import pytest

from bot.emulator.sandbox import Sandbox
from bot.rendering.help import SUBCOMMANDS
from tests.support.adversary import table_counts, told
from tests.support.world import ADMIN

MEMBER, OUTSIDER = "U0AAA", "U0OUTSIDER"
WHO = {"admin": ADMIN, "member": MEMBER, "non-member": OUTSIDER}

# The text typed after /impact for each subcommand (valid for whoever may use it).
TYPED = {
    "help": "help",
    "report": "report prenatal-visits 72",
    "measures": "measures",
    "status": "status",
    "win": "win We enrolled 40 new families this month",
    "wins": "wins",
    "ask": "ask Who has a good Spanish-language flyer? for home-visits",
    "learn": "learn flyer",
    "connect": "connect off",
    "agenda": "agenda",
    "commit": "commit",
    "voice": "voice The clinic's evening hours would help working parents",
    "pause": "pause 7",
    "resume": "resume",
    "digest": "digest",
    "export": "export",
    "story": "story prenatal-visits Evening clinic hours helped",
    "action": "action add Call the clinics about Saturday hours due 2026-12-01",
    "actions": "actions all",
    "meeting": "meeting add Referral backlog at the county clinics",
}
ADMIN_ONLY = {"digest", "export"}
MEMBER_ONLY = {"report", "commit", "story"}
MEMBERS_AND_ADMINS = {"action", "meeting"}  # `meeting` alone (the next one) is for everyone
# What a refused person is told (a fragment of the reason).
REASONS = {
    ("digest", "member"): "Only backbone admins can use `/impact digest`",
    ("digest", "non-member"): "Only backbone admins can use `/impact digest`",
    ("export", "member"): "Only backbone admins can use `/impact export`",
    ("export", "non-member"): "Only backbone admins can use `/impact export`",
    ("report", "admin"): "add `as PARTNER-KEY` to report on a partner's behalf",
    ("report", "non-member"): "You are not a member of any partner",
    ("commit", "admin"): "Only partner members can commit a partner",
    ("commit", "non-member"): "Only partner members can commit a partner",
    ("story", "admin"): "Only partner members can tell the story behind a curve",
    ("story", "non-member"): "Only partner members can tell the story behind a curve",
    ("action", "non-member"): "Only partner members and the backbone team add actions",
    ("meeting", "non-member"): "Only partner members and the backbone team add agenda items",
}
REFUSAL_WORDS = ("Only backbone admins", "Only partner members", "add `as PARTNER-KEY`")


def test_the_matrix_covers_every_subcommand_in_the_help() -> None:
    documented = {usage.split()[0] for usage, _who, _what in SUBCOMMANDS}
    assert documented == set(TYPED)
    for usage, who, _what in SUBCOMMANDS:
        name = usage.split()[0]
        expected = ("backbone admins" if name in ADMIN_ONLY else
                    "partner members" if name in MEMBER_ONLY else
                    "partner members and admins" if name in MEMBERS_AND_ADMINS
                    and usage != "meeting" else "everyone")
        assert who == expected, usage


def _allowed(name: str, role: str) -> bool:
    if name in ADMIN_ONLY:
        return role == "admin"
    if name in MEMBER_ONLY:
        return role == "member"
    if name in MEMBERS_AND_ADMINS:
        return role != "non-member"
    return True


@pytest.mark.parametrize("role", list(WHO))
@pytest.mark.parametrize("name", list(TYPED))
def test_each_subcommand_answers_each_kind_of_person_as_the_contract_says(
        sandbox: Sandbox, name: str, role: str) -> None:
    user = WHO[role]
    before = table_counts(sandbox)

    reply = sandbox.driver.command(user, TYPED[name])
    sandbox.settle()

    assert reply.status == 200
    answers = told(sandbox)
    opened = sandbox.emulator.calls_to("views.open")
    if _allowed(name, role):
        assert answers or opened, f"{name} as {role}: no answer at all"
        assert not any(word in text for text in answers for word in REFUSAL_WORDS), answers
    else:
        assert len(answers) == 1, answers
        assert REASONS[(name, role)] in answers[0]
        assert opened == []
        assert sandbox.emulator.calls_to("chat.postMessage") == []
        assert sandbox.emulator.uploaded_files == []
        assert table_counts(sandbox) == before, f"{name} as {role} wrote something"


@pytest.mark.parametrize("role", list(WHO))
def test_opening_the_report_form_is_for_members_and_admins_only(
        sandbox: Sandbox, role: str) -> None:
    sandbox.driver.command(WHO[role], "report")
    sandbox.settle()

    opened = sandbox.emulator.calls_to("views.open")
    if role == "non-member":
        assert opened == []
        assert "not a member of any partner" in " ".join(told(sandbox))
    else:
        assert len(opened) == 1
