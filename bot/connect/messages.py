"""What intros look like: the group DM that introduces two people, and the check-back."""

from __future__ import annotations

from typing import Any

from bot.rendering import blocks as bk

MET_YES = "connect_met_yes"
MET_NO = "connect_met_no"


def intro_message(user_a: str, user_b: str, why: str) -> dict[str, Any]:
    head = f":wave: <@{user_a}>, meet <@{user_b}>!"
    ask = "Could you find 20 minutes in the next week or two to swap what is working?"
    return bk.message(f"{head} {why}", [
        bk.section(f"{head}\n{why}"), bk.section(ask),
        bk.context("Impact Bot introduces people from different partners who work on the "
                   "same shared measure. `/impact connect off` stops scheduled intros."),
    ])


def checkback_message(intro_id: int) -> dict[str, Any]:
    text = "A week ago I introduced you two. Did you get to meet?"
    return bk.message(text, [
        bk.section(text),
        bk.actions(bk.button("Yes, we met", MET_YES, str(intro_id), style="primary"),
                   bk.button("Not yet", MET_NO, str(intro_id)),
                   block_id=f"connect_met:{intro_id}"),
    ])


def checkback_answered(user_id: str, met: bool) -> dict[str, Any]:
    text = (f":tada: <@{user_id}> says you met. Thanks for connecting!" if met
            else f"<@{user_id}> says not yet. There is still time!")
    return bk.message(text, [bk.section(text)])
