from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.emulator import SlackDriver, SlackEmulator, problems, render_blocks, render_view

TOKEN = "xoxb-emulator-token"


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator() as e:
        e.add_user("U0AAA", name="ana", real_name="Ana Alvarez", tz="America/New_York")
        e.add_user("U0BBB", name="bo")
        e.add_channel("C0GENERAL", name="general", members=["U0AAA", "U0BBB"])
        e.add_channel("C0WINS", name="wins")
        e.add_channel("C0SECRET", name="secret", is_private=True, bot_is_member=False)
        yield e


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(base_url=emu.api_url, token=TOKEN)


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        b["block_id"] = block_id
    return b


# ---------------------------------------------------------------- Web API
def test_auth_test_and_bad_token(emu: SlackEmulator, client: WebClient) -> None:
    r = client.auth_test()
    assert r["user_id"] == "U0IMPACTBOT" and r["team_id"] == "T0IMPACT"
    assert r["bot_id"] == "B0IMPACTBOT"
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=emu.api_url, token="xoxb-wrong").auth_test()
    assert err.value.response["error"] == "invalid_auth"
    assert emu.calls[-1].token == "xoxb-wrong"


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.api_call("nope.never")
    assert err.value.response["error"] == "unknown_method"


def test_post_to_channel_and_to_user(emu: SlackEmulator, client: WebClient) -> None:
    r = client.chat_postMessage(channel="C0WINS", text="hello", blocks=[section("*hi*")])
    assert r["channel"] == "C0WINS"
    assert r["message"]["bot_id"] == "B0IMPACTBOT" and r["message"]["text"] == "hello"
    assert [m["ts"] for m in emu.messages("C0WINS")] == [r["ts"]]
    assert emu.calls_to("chat.postMessage")[0].params["blocks"][0]["type"] == "section"

    dm = client.chat_postMessage(channel="U0AAA", text="please report")
    assert dm["channel"] == emu.dm_channel_for("U0AAA") == "D0AAA"
    opened = client.conversations_open(users="U0AAA")
    assert opened["channel"]["id"] == "D0AAA"
    client.chat_postMessage(channel="D0AAA", text="second")
    assert [m["text"] for m in emu.messages_to_user("U0AAA")] == ["please report", "second"]
    assert emu.messages_to_user("U0BBB") == []


def test_membership_and_unknowns(client: WebClient) -> None:
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: client.chat_postMessage(channel="C0SECRET", text="x"), "not_in_channel"),
        (lambda: client.conversations_history(channel="C0SECRET"), "not_in_channel"),
        (lambda: client.chat_postMessage(channel="C0NOPE", text="x"), "channel_not_found"),
        (lambda: client.conversations_info(channel="C0NOPE"), "channel_not_found"),
        (lambda: client.users_info(user="U0NOPE"), "user_not_found"),
        (lambda: client.conversations_open(users="U0NOPE"), "user_not_found"),
    ]
    for call, error in cases:
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response["error"] == error


def test_users_info_shape(client: WebClient) -> None:
    u = client.users_info(user="U0AAA")["user"]
    assert u["tz"] == "America/New_York" and u["tz_offset"] in (-18000, -14400)
    assert u["real_name"] == "Ana Alvarez" and u["profile"]["display_name"] == "ana"
    assert u["is_bot"] is False
    info = client.conversations_info(channel="C0GENERAL")["channel"]
    assert info["name"] == "general" and info["is_member"] is True


def test_user_change_changes_the_user_and_carries_the_whole_user_object(
        emu: SlackEmulator, client: WebClient) -> None:
    from bot.emulator.api import ApiError
    from bot.emulator.users import user_change

    event = user_change(emu, "U0AAA", tz="Europe/Berlin")

    # Slack's payload: the event type, `cache_ts`, and the user as users.info shows it.
    assert event["type"] == "user_change" and isinstance(event["cache_ts"], int)
    assert event["user"] == client.users_info(user="U0AAA")["user"]
    assert event["user"]["tz"] == "Europe/Berlin" and "tz_offset" in event["user"]
    with pytest.raises(ApiError, match="user_not_found"):
        user_change(emu, "U0NOBODY", tz="UTC")


def test_history_and_replies(emu: SlackEmulator, client: WebClient) -> None:
    t1 = emu.add_message("C0GENERAL", user="U0AAA", text="one")
    t2 = emu.add_message("C0GENERAL", user="U0BBB", text="two")
    r1 = emu.add_message("C0GENERAL", user="U0BBB", text="reply", thread_ts=t1)
    meta = {"event_type": "win_shared", "event_payload": {"win_id": 7}}
    posted = client.chat_postMessage(channel="C0GENERAL", text="bot", metadata=meta)
    t3 = posted["ts"]
    assert float(t1) < float(t2) < float(r1) < float(t3)

    h = client.conversations_history(channel="C0GENERAL")
    assert [m["text"] for m in h["messages"]] == ["bot", "two", "one"]  # newest first, no replies
    assert "metadata" not in h["messages"][0]
    parent = h["messages"][2]
    assert parent["reply_count"] == 1 and parent["thread_ts"] == t1

    h = client.conversations_history(channel="C0GENERAL", include_all_metadata=True, limit=1)
    assert h["messages"][0]["metadata"] == meta and h["has_more"] is True

    one = client.conversations_history(channel="C0GENERAL", latest=t2, inclusive=True, limit=1)
    assert [m["ts"] for m in one["messages"]] == [t2]
    excl = client.conversations_history(channel="C0GENERAL", latest=t2, limit=1)
    assert [m["ts"] for m in excl["messages"]] == [t1]
    since = client.conversations_history(channel="C0GENERAL", oldest=t2)
    assert [m["ts"] for m in since["messages"]] == [t3]

    rep = client.conversations_replies(channel="C0GENERAL", ts=t1)
    assert [m["text"] for m in rep["messages"]] == ["one", "reply"]
    assert rep["messages"][1]["thread_ts"] == t1
    assert emu.message("C0GENERAL", r1)["parent_user_id"] == "U0AAA"  # type: ignore[index]

    link = client.chat_getPermalink(channel="C0GENERAL", message_ts=t2)["permalink"]
    assert link == f"https://impact.slack.com/archives/C0GENERAL/p{t2.replace('.', '')}"


def test_update_and_ephemeral(emu: SlackEmulator, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0WINS", text="v1")["ts"]
    r = client.chat_update(channel="C0WINS", ts=ts, text="v2", blocks=[section("v2")])
    assert r["ts"] == ts and emu.message("C0WINS", ts)["text"] == "v2"  # type: ignore[index]
    e = client.chat_postEphemeral(channel="C0GENERAL", user="U0AAA", text="psst")
    assert e["message_ts"]
    assert emu.ephemeral_messages[-1]["text"] == "psst"
    assert emu.messages("C0GENERAL") == []


def test_429_then_retry_handler_succeeds(emu: SlackEmulator) -> None:
    emu.fail_next("chat.postMessage", status=429, retry_after=1)
    plain = WebClient(base_url=emu.api_url, token=TOKEN)
    with pytest.raises(SlackApiError) as err:
        plain.chat_postMessage(channel="C0WINS", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert err.value.response["error"] == "ratelimited"
    assert emu.messages("C0WINS") == []  # a 429'd call changes nothing

    emu.fail_next("chat.postMessage", status=429, retry_after=1)
    retrying = WebClient(
        base_url=emu.api_url,
        token=TOKEN,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    r = retrying.chat_postMessage(channel="C0WINS", text="y")
    assert r["ok"]
    assert [c.status for c in emu.calls_to("chat.postMessage")] == [429, 429, 200]
    assert [m["text"] for m in emu.messages("C0WINS")] == ["y"]


def test_5xx_then_success_and_ok_false(emu: SlackEmulator) -> None:
    emu.fail_next("chat.postMessage", status=503, count=2)
    client = WebClient(
        base_url=emu.api_url,
        token=TOKEN,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=2)],
    )
    assert client.chat_postMessage(channel="C0WINS", text="z")["ok"]
    assert [c.status for c in emu.calls_to("chat.postMessage")] == [503, 503, 200]
    assert len(emu.messages("C0WINS")) == 1

    emu.fail_next("users.info", status=200, error="fatal_error")
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U0AAA")
    assert err.value.response["error"] == "fatal_error"


def test_rate_limit_buckets_and_failure_rate(emu: SlackEmulator, client: WebClient) -> None:
    emu.set_rate_limit("chat.postMessage", per_second=0.5, burst=2)
    client.chat_postMessage(channel="C0WINS", text="1")
    client.chat_postMessage(channel="C0GENERAL", text="2")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0WINS", text="3")
    assert err.value.response.status_code == 429
    assert int(err.value.response.headers["Retry-After"]) >= 1
    assert len(emu.messages("C0WINS")) == 1
    emu.clear_faults()

    emu.set_rate_limit("chat.postMessage", per_second=100, burst=10, per_channel_per_second=0.1)
    client.chat_postMessage(channel="C0WINS", text="a")
    client.chat_postMessage(channel="C0GENERAL", text="b")  # other channel: its own bucket
    emu.set_rate_limit("chat.postMessage", per_second=100, burst=1, per_channel_per_second=0.1)
    client.chat_postMessage(channel="C0WINS", text="c")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0WINS", text="d")
    emu.clear_faults()

    emu.set_failure_rate("users.info", 0.5, seed=42)
    outcomes = []
    for _ in range(40):
        try:
            client.users_info(user="U0AAA")
            outcomes.append(True)
        except SlackApiError:
            outcomes.append(False)
    assert 5 < outcomes.count(False) < 35


# ---------------------------------------------------------------- Block Kit
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_invalid_blocks_rejected(emu: SlackEmulator, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0WINS", text="long", blocks=[section("x" * 3001)])
    assert err.value.response["error"] == "invalid_blocks"
    assert any("3001" in e for e in err.value.response["errors"])
    assert emu.invalid_payloads and emu.invalid_payloads[0][0] == "chat.postMessage"
    assert emu.messages("C0WINS") == []

    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0WINS", blocks=[section("no fallback")])
    assert err.value.response["error"] == "invalid_blocks"

    many = [section(f"b{i}") for i in range(51)]
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0WINS", text="many", blocks=many)
    assert len(emu.invalid_payloads) == 3
    assert emu.messages("C0WINS") == []


def test_problems_function() -> None:
    ok = [
        {"type": "header", "text": {"type": "plain_text", "text": "Digest"}},
        section("*bold*"),
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"}]},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "a"}
            ],
        },
    ]
    assert problems(ok, kind="message", text="fallback") == []
    assert problems(ok, kind="view", text=None) == []
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert problems([header], kind="message", text="t")
    assert problems([{"type": "nonsense"}], kind="message", text="t")
    assert problems([section("a", "x"), section("b", "x")], kind="message", text="t")
    assert problems([section("v")] * 101, kind="view", text=None)
    assert problems([section("v")] * 100, kind="view", text=None) == []
    bad_button = {
        "type": "actions",
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 80}}],
    }
    assert problems([bad_button], kind="message", text="t")


def test_views(emu: SlackEmulator, client: WebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "report",
        "title": {"type": "plain_text", "text": "Report"},
        "submit": {"type": "plain_text", "text": "Save"},
        "private_metadata": "m1",
        "blocks": [
            {
                "type": "input",
                "block_id": "value",
                "label": {"type": "plain_text", "text": "Value"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            }
        ],
    }
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="made-up", view=modal)
    assert err.value.response["error"] == "invalid_trigger_id"
    trigger = emu.new_trigger_id()
    v = client.views_open(trigger_id=trigger, view=modal)["view"]
    assert v["id"].startswith("V") and v["hash"] and v["private_metadata"] == "m1"
    assert v["callback_id"] == "report" and v["state"] == {"values": {}}
    u = client.views_update(view_id=v["id"], hash=v["hash"], view=modal)["view"]
    assert u["id"] == v["id"]
    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id=v["id"], hash=v["hash"], view=modal)
    assert err.value.response["error"] == "hash_conflict"

    home = {"type": "home", "blocks": [section("Welcome")]}
    p = client.views_publish(user_id="U0AAA", view=home)["view"]
    assert emu.home_views["U0AAA"]["id"] == p["id"]

    bad = dict(modal, title={"type": "plain_text", "text": "t" * 30})
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=emu.new_trigger_id(), view=bad)
    assert err.value.response["error"] == "invalid_arguments"
    assert emu.invalid_payloads[-1][0] == "views.open"


def test_files_upload_v2(emu: SlackEmulator, client: WebClient) -> None:
    r = client.files_upload_v2(
        channel="C0WINS", content=b"\x89PNG-bytes", filename="x.png", initial_comment="chart"
    )
    assert r["file"]["name"] == "x.png"
    [f] = emu.uploaded_files
    assert f.bytes == b"\x89PNG-bytes" and f.filename == "x.png" and f.channel_id == "C0WINS"
    assert f.title == "x.png"
    [msg] = emu.messages("C0WINS")
    assert msg["text"] == "chart" and msg["files"][0]["id"] == f.file_id


def test_response_url(emu: SlackEmulator) -> None:
    url = emu.new_response_url("C0GENERAL")
    assert url.startswith(emu.base_url + "/response/")
    hook = WebhookClient(url)
    assert hook.send(text="only you", response_type="ephemeral").status_code == 200
    assert hook.send(text="everyone", response_type="in_channel").status_code == 200
    assert [p.payload["text"] for p in emu.response_posts] == ["only you", "everyone"]
    assert [m["text"] for m in emu.messages("C0GENERAL")] == ["everyone"]
    bad = hook.send(text="x", blocks=[section("y" * 3001)])
    assert bad.status_code == 400
    assert emu.invalid_payloads[-1][0] == "response_url"
    assert len(emu.response_posts) == 2


def test_wait_for_wakes_on_request(emu: SlackEmulator, client: WebClient) -> None:
    assert emu.wait_for(lambda e: bool(e.messages("C0WINS")), timeout=0.05) is False
    done = threading.Event()

    def later() -> None:
        done.wait(5)
        client.chat_postMessage(channel="C0WINS", text="async")

    t = threading.Thread(target=later)
    t.start()
    done.set()
    assert emu.wait_for(lambda e: bool(e.messages("C0WINS")), timeout=5)
    t.join()


# ---------------------------------------------------------------- rendering
def test_render_blocks_readable() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly digest"}},
        section("*Prenatal visits* <@U0AAA|ana> reported <https://x.org|here>"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Target*\n80%"},
                {"type": "mrkdwn", "text": "*Latest*\n72%"},
            ],
        },
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "3 of 4 reported"}]},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Report"}},
                {"type": "button", "text": {"type": "plain_text", "text": "Snooze"}},
            ],
        },
        {"type": "image", "image_url": "https://x.org/c.png", "alt_text": "chart"},
    ]
    out = render_blocks(blocks, "fallback")
    lines = out.splitlines()
    assert lines[0] == "WEEKLY DIGEST"
    assert "*Prenatal visits* @ana reported here (https://x.org)" in out
    assert "*Target*" in out and "80%" in out
    assert "─" * 10 in out
    assert "(3 of 4 reported)" in out
    assert "[ Report ]  [ Snooze ]" in out
    assert "[image: chart]" in out
    assert render_blocks(None, "just <@U0BBB>") == "just @U0BBB"
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Report"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [section("Hello")],
    }
    rv = render_view(view)
    assert "Report" in rv and "Hello" in rv and "[ Save ]" in rv


# ---------------------------------------------------------------- driver
class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def _wsgi(app: App) -> Callable[..., list[bytes]]:
    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode("utf-8") if length else ""
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        req = BoltRequest(body=body, query=environ.get("QUERY_STRING", ""), headers=headers)
        resp = app.dispatch(req)
        hdrs = [(k, v) for k, vs in resp.headers.items() for v in vs]
        start_response(f"{resp.status} X", hdrs)
        return [resp.body.encode("utf-8")]

    return wsgi_app


@pytest.fixture
def bolt(emu: SlackEmulator) -> Iterator[tuple[App, SlackDriver, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    app = App(
        client=WebClient(base_url=emu.api_url, token=TOKEN),
        signing_secret="s3cret",
        process_before_response=True,
    )

    @app.command("/impact")
    def impact(ack: Any, command: dict[str, Any], client: WebClient, respond: Any) -> None:
        seen.append(command)
        if command["text"] == "modal":
            ack()
            client.views_open(
                trigger_id=command["trigger_id"],
                view={
                    "type": "modal",
                    "callback_id": "m",
                    "private_metadata": "pm",
                    "title": {"type": "plain_text", "text": "M"},
                    "submit": {"type": "plain_text", "text": "Go"},
                    "blocks": [
                        {
                            "type": "input",
                            "block_id": "v",
                            "label": {"type": "plain_text", "text": "V"},
                            "element": {"type": "plain_text_input", "action_id": "a"},
                        }
                    ],
                },
            )
        else:
            ack(f"got {command['text']}")
            respond(text="later", response_type="ephemeral")

    @app.view("m")
    def submitted(ack: Any, view: dict[str, Any]) -> None:
        seen.append(view)
        ack()

    @app.event("reaction_added")
    def reacted(event: dict[str, Any], client: WebClient) -> None:
        seen.append(event)
        client.chat_postMessage(channel="C0WINS", text="win!")

    @app.action("go")
    def go(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.append(body)

    @app.shortcut("share_win")
    def share(ack: Any, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        seen.append(shortcut)

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient, context: Any) -> None:
        seen.append(event)
        client.views_publish(
            user_id=event["user"], view={"type": "home", "blocks": [section("Home")]}
        )

    server: WSGIServer = make_server("127.0.0.1", 0, _wsgi(app), handler_class=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    driver = SlackDriver(
        f"http://127.0.0.1:{server.server_port}/slack/events", "s3cret", emu
    )
    try:
        yield app, driver, seen
    finally:
        server.shutdown()
        server.server_close()


def test_driver_command_signed_and_forged(
    emu: SlackEmulator, bolt: tuple[App, SlackDriver, list[dict[str, Any]]]
) -> None:
    _, driver, seen = bolt
    r = driver.command("U0AAA", "status")
    assert r.status == 200 and r.text == "got status"
    assert seen[0]["user_id"] == "U0AAA" and seen[0]["channel_name"] == "general"
    assert seen[0]["response_url"].startswith(emu.base_url)
    assert emu.wait_for(lambda e: len(e.response_posts) == 1)
    assert emu.response_posts[0].payload["text"] == "later"

    body = b"command=%2Fimpact&text=hack&user_id=U0AAA"
    forged = {**driver.sign(body), "Content-Type": "application/x-www-form-urlencoded"}
    forged["X-Slack-Signature"] = "v0=" + "0" * 64
    assert driver.raw(body, forged).status == 401
    stale = {**driver.sign(body, timestamp=1), "Content-Type": "application/x-www-form-urlencoded"}
    assert driver.raw(body, stale).status == 401
    assert driver.raw(body, {"Content-Type": "application/x-www-form-urlencoded"}).status == 401
    assert len(seen) == 1


def test_driver_modal_event_action(
    emu: SlackEmulator, bolt: tuple[App, SlackDriver, list[dict[str, Any]]]
) -> None:
    _, driver, seen = bolt
    assert driver.command("U0AAA", "modal").status == 200
    view = driver.last_view()
    assert view["private_metadata"] == "pm"
    values = {"v": {"a": {"type": "plain_text_input", "value": "42"}}}
    assert driver.view_submission("U0AAA", view, values).status == 200
    assert seen[-1]["state"]["values"]["v"]["a"]["value"] == "42"
    assert seen[-1]["private_metadata"] == "pm"

    ts = emu.add_message("C0GENERAL", user="U0BBB", text="we did it")
    assert driver.reaction("U0AAA", "C0GENERAL", ts).status == 200
    assert seen[-1]["item_user"] == "U0BBB" and seen[-1]["item"]["ts"] == ts
    assert emu.wait_for(lambda e: len(e.messages("C0WINS")) == 1)

    msg = emu.messages("C0WINS")[0]
    assert driver.block_action("U0AAA", "go", value="1", message=msg, channel="C0WINS").ok
    assert seen[-1]["actions"][0]["value"] == "1"
    assert seen[-1]["container"]["message_ts"] == msg["ts"]

    r = driver.url_verification("chal")
    assert r.status == 200 and "chal" in r.body
    assert emu.invalid_payloads == []


def test_driver_raw_json_reply(emu: SlackEmulator) -> None:
    # Reply parses JSON bodies and exposes elapsed time, against the emulator itself.
    driver = SlackDriver(emu.api_url + "auth.test", "s", emu)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = driver.raw(b"token=" + TOKEN.encode(), form)
    assert isinstance(r.json, dict) and r.json["ok"] is True and r.elapsed >= 0
    req = urllib.request.Request(emu.base_url + "/nowhere", method="GET")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(req, timeout=5)
    assert json.loads(r.body)["user_id"] == "U0IMPACTBOT"


def test_driver_shortcut_home_retry(
    emu: SlackEmulator, bolt: tuple[App, SlackDriver, list[dict[str, Any]]]
) -> None:
    _, driver, seen = bolt
    ts = emu.add_message("C0GENERAL", user="U0BBB", text="big news")
    assert driver.message_shortcut("U0AAA", "share_win", "C0GENERAL", ts).status == 200
    assert seen[-1]["message"]["text"] == "big news" and seen[-1]["message_ts"] == ts
    assert seen[-1]["user"]["id"] == "U0AAA" and seen[-1]["trigger_id"]

    assert driver.app_home_opened("U0AAA").status == 200
    assert seen[-1]["channel"] == "D0AAA" and seen[-1]["tab"] == "home"
    assert emu.wait_for(lambda e: "U0AAA" in e.home_views)

    r = driver.reaction("U0AAA", "C0GENERAL", ts, event_id="Ev1", retry_num=1)
    assert r.status == 200  # Bolt does not de-duplicate retries by itself
    assert emu.wait_for(lambda e: len(e.messages("C0WINS")) == 1)
