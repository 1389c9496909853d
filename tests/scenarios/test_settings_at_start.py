"""Settings as a started process sees them: a missing secret stops `serve` with one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOKEN = "xoxb-1234567890-0987654321-SuperSecretTokenValue"


def test_serve_without_signing_secret_stops_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "", "SLACK_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "impactbot: SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic "
        "Information page into .env"]
