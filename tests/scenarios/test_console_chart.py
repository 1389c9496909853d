"""Issue 15, finding 10: the console shows the digest's chart, saved to a file whose path it
prints (a terminal cannot show a PNG)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.console.session import Console
from bot.digest.chart import chart_available
from bot.emulator.sandbox import Sandbox
from tests.support.digest import seed_week


@pytest.mark.skipif(not chart_available(), reason="matplotlib is not installed")
def test_the_console_saves_the_digest_chart_and_prints_its_path(sandbox: Sandbox) -> None:
    seed_week(sandbox.store)

    out = io.StringIO()
    console = Console(sandbox, out, "U0AAA", "C0GENERAL")
    assert console.handle(":advance 3d")  # to Friday 15:00 in Chicago: digest time
    out_text = out.getvalue()

    assert "Impact Bot shared a file in #backbone" in out_text
    found = re.search(r"saved to (\S+\.png) \(open it to see it\)", out_text)
    assert found, out_text
    saved = Path(found.group(1))
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
