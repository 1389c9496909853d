"""An unknown `/impact` subcommand is echoed as typed, escaped exactly once."""

from __future__ import annotations

from bot.emulator.sandbox import Sandbox


def test_an_unknown_subcommand_is_escaped_once(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "<b>&co")
    sandbox.settle()

    (post,) = sandbox.emulator.response_posts
    shown = [post.payload["text"], post.payload["blocks"][0]["text"]["text"]]
    for text in shown:
        assert text.startswith("I don't know `&lt;b&gt;&amp;co`. Here is what I can do.")
        assert "&amp;lt;" not in text and "&amp;amp;" not in text
