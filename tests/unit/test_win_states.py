"""The win state machine, as people in Slack would notice it: no Slack, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.wins.states import (
    Action,
    WinState,
    WinStatus,
    answer,
    is_bot_message,
    is_win_emoji,
    needs_consent,
    nominate,
    resume,
    shared_outcome,
)

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
AUTHOR = "U0AUTHOR"


def fresh() -> WinState:
    return WinState(WinStatus.COUNTING, AUTHOR)


def react(state: WinState, who: str, *, threshold: int = 2, private: bool = False,
          now: datetime = NOW) -> tuple[WinState, Action]:
    move = nominate(state, nominator=who, private=private, threshold=threshold, now=now,
                    lease=LEASE)
    return move.state, move.action


# --- who counts --------------------------------------------------------------------------------


def test_a_second_reaction_by_the_same_person_does_not_count() -> None:
    state, _ = react(fresh(), "U0BBB")
    state, action = react(state, "U0BBB")

    assert state.reactors == ("U0BBB",)
    assert (state.status, action) == (WinStatus.COUNTING, Action.NONE)


def test_the_authors_own_reaction_does_not_count() -> None:
    state, action = react(fresh(), AUTHOR, threshold=1)

    assert state.reactors == ()
    assert (state.status, action) == (WinStatus.COUNTING, Action.NONE)


def test_reaching_the_threshold_in_a_public_channel_claims_the_post() -> None:
    state, action = react(fresh(), "U0BBB")
    assert action == Action.NONE

    state, action = react(state, "U0CCC")

    assert (state.status, action) == (WinStatus.APPROVED, Action.POST)
    assert state.lease_until == NOW + LEASE
    assert state.reactors == ("U0BBB", "U0CCC")


def test_people_reacting_after_it_is_being_posted_are_credited_but_post_nothing() -> None:
    state, _ = react(fresh(), "U0BBB", threshold=1)

    state, action = react(state, "U0CCC", threshold=1, now=NOW + timedelta(seconds=30))

    assert action == Action.NONE  # the first worker's claim is still live
    assert state.reactors == ("U0BBB", "U0CCC")


def test_skin_tones_of_a_win_emoji_count_and_other_emoji_do_not() -> None:
    assert is_win_emoji(["clap"], "clap::skin-tone-3")
    assert not is_win_emoji(["clap"], "eyes")
    assert not is_win_emoji(None, "clap")


def test_messages_from_bots_and_apps_are_never_wins() -> None:
    assert is_bot_message({"bot_id": "B1", "user": "U0AAA"})
    assert is_bot_message({"subtype": "bot_message"})
    assert is_bot_message({"text": "no author"})
    assert not is_bot_message({"user": "U0AAA", "text": "We did it"})


# --- consent -------------------------------------------------------------------------------------


def test_private_channels_dms_and_group_dms_need_consent() -> None:
    assert not needs_consent("C1", {"is_private": False})
    assert needs_consent("G1", {"is_private": True})
    assert needs_consent("C2", {"is_mpim": True})
    assert needs_consent("C4", {"is_im": True})
    assert needs_consent("D1", None)
    assert needs_consent("C3", None)  # cannot tell: ask


def test_a_private_message_reaching_the_threshold_asks_its_author_first() -> None:
    state, action = react(fresh(), "U0BBB", threshold=1, private=True)

    assert (state.status, action) == (WinStatus.PENDING, Action.ASK)


def test_the_author_sharing_their_own_pending_message_is_consent() -> None:
    pending = WinState(WinStatus.PENDING, AUTHOR, ("U0BBB",), None)

    state, action = react(pending, AUTHOR, threshold=1, private=False)

    assert (state.status, action) == (WinStatus.APPROVED, Action.POST)


def test_approve_posts_and_decline_stops_it_for_good() -> None:
    pending = WinState(WinStatus.PENDING, AUTHOR, ("U0BBB",), None)

    outcome, move = answer(pending, user_id=AUTHOR, approve=True, now=NOW, lease=LEASE)
    assert (outcome, move.state.status, move.action) == ("approved", WinStatus.APPROVED,
                                                         Action.POST)

    outcome, move = answer(pending, user_id=AUTHOR, approve=False, now=NOW, lease=LEASE)
    assert (outcome, move.state.status, move.state.lease_until) == ("declined",
                                                                    WinStatus.DECLINED, None)
    declined = move.state
    assert react(declined, "U0CCC", threshold=1)[1] == Action.NONE
    assert answer(declined, user_id=AUTHOR, approve=True, now=NOW, lease=LEASE)[0] == \
        "already_declined"


def test_only_the_author_may_answer_and_only_the_first_answer_counts() -> None:
    pending = WinState(WinStatus.PENDING, AUTHOR, ("U0BBB",), None)

    outcome, move = answer(pending, user_id="U0BBB", approve=True, now=NOW, lease=LEASE)
    assert (outcome, move.action, move.state) == ("not_author", Action.NONE, pending)

    posted = WinState(WinStatus.POSTED, AUTHOR)
    assert answer(posted, user_id=AUTHOR, approve=False, now=NOW, lease=LEASE)[0] == \
        "already_posted"
    posting = WinState(WinStatus.APPROVED, AUTHOR, (), NOW + LEASE)
    outcome, move = answer(posting, user_id=AUTHOR, approve=False, now=NOW, lease=LEASE)
    assert (outcome, move.action) == ("approved", Action.NONE)  # already under way


# --- taking over what a failed or dead worker left -------------------------------------------


def test_a_live_claim_is_not_taken_over_and_an_expired_one_is_with_a_look_first() -> None:
    posting = WinState(WinStatus.APPROVED, AUTHOR, ("U0BBB",), NOW + LEASE)

    assert resume(posting, now=NOW, lease=LEASE).action == Action.NONE
    later = NOW + LEASE
    move = resume(posting, now=later, lease=LEASE)
    assert (move.action, move.retry, move.state.lease_until) == (Action.POST, True,
                                                                 later + LEASE)


def test_a_released_win_is_posted_again_without_looking() -> None:
    released = WinState(WinStatus.APPROVED, AUTHOR, ("U0BBB",), None)

    move = resume(released, now=NOW, lease=LEASE)

    assert (move.action, move.retry) == (Action.POST, False)


def test_an_author_already_asked_is_not_asked_again_but_a_failed_ask_is_retried() -> None:
    asked = WinState(WinStatus.PENDING, AUTHOR, ("U0BBB",), None)
    failed = WinState(WinStatus.PENDING, AUTHOR, ("U0BBB",), NOW)

    assert resume(asked, now=NOW, lease=LEASE).action == Action.NONE
    assert resume(failed, now=NOW, lease=LEASE).action == Action.ASK


def test_posted_and_declined_wins_are_finished() -> None:
    for status in (WinStatus.POSTED, WinStatus.DECLINED, WinStatus.COUNTING):
        assert resume(WinState(status, AUTHOR), now=NOW, lease=LEASE).action == Action.NONE


def test_what_the_person_sharing_a_message_is_told() -> None:
    assert shared_outcome(WinStatus.POSTED, Action.POST) == "posted"
    assert shared_outcome(WinStatus.POSTED, Action.NONE) == "already_posted"
    assert shared_outcome(WinStatus.PENDING, Action.ASK) == "asked"
    assert shared_outcome(WinStatus.PENDING, Action.NONE) == "awaiting"
    assert shared_outcome(WinStatus.APPROVED, Action.POST) == "failed"  # Slack refused
    assert shared_outcome(WinStatus.APPROVED, Action.NONE) == "sharing"
    assert shared_outcome(WinStatus.DECLINED, Action.NONE) == "declined"
