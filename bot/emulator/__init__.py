"""A loopback fake of Slack: Web API emulator, request driver, Block Kit checks, rendering."""

from bot.emulator.blockkit import problems, view_problems
from bot.emulator.driver import Reply, SlackDriver
from bot.emulator.render import render_blocks, render_view
from bot.emulator.server import Call, Hold, ResponsePost, SlackEmulator, UploadedFile

__all__ = [
    "Call",
    "Hold",
    "Reply",
    "ResponsePost",
    "SlackDriver",
    "SlackEmulator",
    "UploadedFile",
    "problems",
    "render_blocks",
    "render_view",
    "view_problems",
]
