"""Many installed workspaces, and a burst of first requests from all of them at once.

Used by tests/reliability/test_first_requests.py (the in-process Sandbox) and by
bench/first_requests.py (also against a real `impactbot serve` process)."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.oauth.installation_store import Installation

from bot.emulator import SlackDriver, SlackEmulator
from bot.emulator.driver import Reply
from bot.emulator.sandbox import Sandbox
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.manifest import BOT_SCOPES
from bot.runtime.settings import Settings
from bot.tenancy.oauth import WorkspaceInstallationStore
from storage.db import Store

# Half the workspaces ask for the help, half read their measures (no initiative yet).
FIRST_COMMANDS = ("help", "measures")


def install_many(sandbox: Sandbox, count: int) -> list[str]:
    """`count` workspaces installed (what each OAuth install stores), none seen by the app."""
    services = sandbox.services
    return install_teams(sandbox.emulator, services.settings, services.store, services.clock,
                         count)


def install_teams(emulator: SlackEmulator, settings: Settings, store: Store, clock: Clock,
                  count: int) -> list[str]:
    """`install_many` for any app: `settings.client_id` is the emulator's OAuth app."""
    installations = WorkspaceInstallationStore(settings, store, clock)
    teams = []
    for n in range(count):
        team = f"T0W{n:05d}"
        token = f"xoxb-{team}-first"
        emulator.add_team(team, f"Workspace {n}")
        with emulator._lock:  # the token Slack issued at that install
            emulator.oauth.tokens[token] = team
        installations.save(Installation(
            app_id=emulator.app_id, team_id=team, team_name=f"Workspace {n}", bot_token=token,
            bot_id=f"B0{n:05d}", bot_user_id=emulator.bot_user_id, bot_scopes=list(BOT_SCOPES),
            user_id="U0INSTALLER"))
        teams.append(team)
    return teams


class _Held(SlackDriver):
    """A driver that signs a request and keeps it instead of sending it."""

    held: tuple[bytes, dict[str, str]]

    def raw(self, body: bytes, headers: dict[str, str]) -> Reply:
        self.held = (body, headers)
        return Reply(status=0, body="", json=None, elapsed=0.0)


def burst(sandbox: Sandbox, teams: list[str], texts: tuple[str, ...] = FIRST_COMMANDS
          ) -> list[Reply]:
    return burst_at(sandbox.driver.app_url, sandbox.settings.signing_secret or "",
                    sandbox.emulator, teams, texts)


Signed = tuple[bytes, dict[str, str]]  # a request's body and headers, signed
# Sends every signed request at once to the app on this port: the replies, in order, and
# the CPU seconds the sending cost.
Sender = Callable[[int, list[Signed]], tuple[list[Reply], float]]


def signed_requests(signing_secret: str, emulator: SlackEmulator, teams: list[str],
                    texts: tuple[str, ...] = FIRST_COMMANDS) -> list[Signed]:
    """One slash command from each workspace (`texts` in turn), signed now."""
    held = []
    for n, team in enumerate(teams):
        driver = _Held("http://unused", signing_secret, emulator, team_id=team)
        driver.command("U0AAA", texts[n % len(texts)])
        held.append(driver.held)
    return held


def burst_at(app_url: str, signing_secret: str, emulator: SlackEmulator, teams: list[str],
             texts: tuple[str, ...] = FIRST_COMMANDS) -> list[Reply]:
    """One slash command from each workspace (`texts` in turn), all released at the same
    moment. Every request is built and signed before the release, so a reply's `elapsed`
    is its HTTP round trip alone."""
    return release(app_url, emulator, signed_requests(signing_secret, emulator, teams, texts))


def release(app_url: str, emulator: SlackEmulator, requests: list[Signed]) -> list[Reply]:
    """Every request at once, one urllib client thread each (in this process)."""
    # A generous client timeout: this counts errors; the ack times are the bench's to
    # print (a shared CI machine can starve 500 threads of CPU for seconds).
    driver = SlackDriver(app_url, "", emulator, timeout=120.0)
    gate = threading.Barrier(len(requests))

    def first(index: int) -> Reply:
        gate.wait()
        return driver.raw(*requests[index])

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(first, range(len(requests))))


# --- the app as deployed: `impactbot serve` in a process of its own ----------------------

ROOT = Path(__file__).resolve().parents[2]
SECRET = "first-requests-signing-secret"


@dataclass
class Served:
    """What a burst against a fresh `impactbot serve` gave."""

    replies: list[Reply]
    answered: int  # first requests whose answer reached Slack (see `answered`)
    server_cpu: float  # seconds: gunicorn master and workers, from the release to the last ack
    client_cpu: float  # seconds: this process (the clients and the emulator), the same span
    warnings: Counter[str] = field(default_factory=Counter)  # WARNING/ERROR lines, by text
    log_lines: int = 0  # lines the server logged once its workers were ready


class _Server:
    """`python -m bot serve` with its log lines read in the background."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT,
                                        env=env, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.warnings: Counter[str] = Counter()
        self.after_ready = 0
        self.ready = False
        self._pumping = threading.Thread(target=self._pump, daemon=True)
        self._pumping.start()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if " WARNING " in line or " ERROR " in line or "Traceback" in line:
                self.warnings[line.split(" ", 3)[-1].strip()[:120]] += 1
            self.after_ready += self.ready
            self.lines.put(line)

    def wait_ready(self, workers: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        ready = 0
        while ready < workers:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            ready += "worker" in line and "ready" in line
        self.ready = True

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self._pumping.join(timeout=30)


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn master + workers)."""
    pids = [pid] + [int(p) for p in
                    Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def served_burst(url: str, workspaces: int, *, workers: int = 2, threads: int = 8,
                 timeout: float = 300, send: Sender | None = None) -> Served:
    """`workspaces` installed in the database at `url` (migrated here), then a fresh
    `impactbot serve` (WEB_CONCURRENCY `workers` × WEB_THREADS `threads`) against an
    emulator in this process, then one first request from each, all released at once;
    returns once every answer has reached Slack and the server has stopped."""
    with SlackEmulator() as emulator:
        settings = Settings(client_id=emulator.oauth.client_id,
                            client_secret=emulator.oauth.client_secret, database_url=url)
        store = Store(url)
        store.upgrade()
        teams = install_teams(emulator, settings, store, SystemClock(), workspaces)
        store.dispose()
        port = _free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "IMPACTBOT_"))}
        env.pop("INITIATIVE_FILE", None)
        env.update({"SLACK_CLIENT_ID": emulator.oauth.client_id,
                    "SLACK_CLIENT_SECRET": emulator.oauth.client_secret,
                    "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": emulator.api_url,
                    "DATABASE_URL": url, "PORT": str(port), "LOG_LEVEL": "INFO",
                    "WEB_CONCURRENCY": str(workers), "WEB_THREADS": str(threads),
                    "PYTHONPATH": str(ROOT)})
        server = _Server(env)  # the restart: a fresh server, every workspace installed
        try:
            server.wait_ready(workers)
            requests = signed_requests(SECRET, emulator, teams)
            server_cpu = tree_cpu(server.process.pid)
            if send is None:
                client_cpu = time.process_time()
                replies = release(f"http://127.0.0.1:{port}/slack/events", emulator, requests)
                client_cpu = time.process_time() - client_cpu  # the emulator's included
            else:
                replies, client_cpu = send(port, requests)
            server_cpu = tree_cpu(server.process.pid) - server_cpu
            # Every answer reaches Slack: in the ack, or on its response_url afterwards.
            emulator.wait_for(lambda e: answered(replies, e) >= len(replies), timeout=timeout)
            count = answered(replies, emulator)
        finally:
            server.stop()
    return Served(replies, count, server_cpu, client_cpu, server.warnings, server.after_ready)


def answered(replies: list[Reply], emulator: SlackEmulator) -> int:
    """How many first requests got their answer: in the ack, or on their response_url."""
    return sum(1 for r in replies if r.body.strip()) + len(emulator.response_posts)
