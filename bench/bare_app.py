"""A bare Bolt app, served the same way as Impact Bot: the baseline for bench/ack.py."""

from __future__ import annotations

import os
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

bolt = App(
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    token_verification_enabled=False,
    process_before_response=False,
)


@bolt.command("/impact")
def impact(ack: Ack, respond: Respond, body: dict[str, Any]) -> None:
    ack()
    respond(text="ok", response_type="ephemeral")


app = SlackRequestHandler(bolt)
