"""Where does the time before ack go? cProfile around `app.dispatch` for `/impact measures`.

In-process (the Sandbox's app, emulator and a temporary SQLite), single-workspace or, with
--oauth, multi-workspace after one install. Prints the functions with the most cumulative
time across N dispatches (ack only: listeners run in the executor, which is not profiled).

    python bench/profile_ack.py [--oauth] [--requests 500]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_bolt.request import BoltRequest  # noqa: E402

from bot.emulator.sandbox import Sandbox  # noqa: E402
from bot.initiative.importer import import_file  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oauth", action="store_true")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    path = Path(tempfile.mkdtemp(prefix="impactbot-prof-")) / "prof.db"
    settings = Settings(client_id="set-by-sandbox", client_secret="x") if args.oauth else None
    with Sandbox(f"sqlite:///{path}", now=datetime.now(UTC), settings=settings) as sandbox:
        team = sandbox.emulator.team_id
        sandbox.emulator.add_user("U0AAA", real_name="Ana Health")
        if args.oauth:
            sys.path.insert(0, str(ROOT / "tests"))
            from tests.support.workspaces import install

            team = "T0PROFILE"
            sandbox.emulator.add_team(team, "Profiled")
            assert install(sandbox, team).status == 200
            from storage.tenancy import tenant

            with tenant(team):
                import_file(sandbox.store, ROOT / "examples" / "initiative.yml",
                            datetime.now(UTC))
        else:
            import_file(sandbox.store, ROOT / "examples" / "initiative.yml", datetime.now(UTC))

        def request() -> BoltRequest:
            fields = {"command": "/impact", "text": "measures", "user_id": "U0AAA",
                      "team_id": team, "channel_id": "C0GENERAL", "api_app_id": "A0EMU",
                      "response_url": sandbox.emulator.new_response_url("C0GENERAL"),
                      "trigger_id": sandbox.emulator.new_trigger_id()}
            body = urllib.parse.urlencode(fields)
            headers = sandbox.driver.sign(body.encode())
            return BoltRequest(body=body, headers={k.lower(): [v] for k, v in headers.items()})

        for _ in range(50):  # warm up
            assert sandbox.app.dispatch(request()).status == 200
        sandbox.settle()
        requests = [request() for _ in range(args.requests)]
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for r in requests:
            sandbox.app.dispatch(r)
        profiler.disable()
        elapsed = time.perf_counter() - started
        sandbox.settle(timeout=60)
    print(f"{args.requests} dispatches, {elapsed / args.requests * 1000:.3f} ms each "
          f"(profiled) in {'multi' if args.oauth else 'single'}-workspace mode")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
