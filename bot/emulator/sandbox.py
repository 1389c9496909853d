"""The real app, served on loopback, against the Slack emulator.

One wiring for the test suite, the offline console and the benchmarks: an emulator
(Slack's Web API), the app behind a local HTTP server, and a driver that sends signed
requests into it the way Slack does.
"""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from dataclasses import replace
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App

from bot.emulator import SlackDriver, SlackEmulator
from bot.runtime.app import create_app
from bot.runtime.background import Background
from bot.runtime.clock import ManualClock
from bot.runtime.executor import ContextExecutor
from bot.runtime.services import Services
from bot.runtime.settings import Settings
from bot.runtime.web import make_wsgi_app
from storage.db import Store

log = logging.getLogger(__name__)

# Background work (the App Home refresh after a report) waits this long for more requests
# to merge with, or until `settle()` runs it: tests decide when it happens, not timing.
BACKGROUND_QUIET = 60.0


class TrackingExecutor(ContextExecutor):
    """Runs listeners after the ack, and can tell when all of them have finished."""

    def __init__(self, max_workers: int = 8) -> None:
        super().__init__(max_workers=max_workers)
        self._futures: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until every submitted listener (and any it submitted) has finished."""
        while True:
            with self._lock:
                pending = set(self._futures)
            if not pending:
                return
            _, not_done = wait_futures(pending, timeout=timeout)
            if not_done:
                raise TimeoutError(f"{len(not_done)} listener(s) still running after {timeout}s")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of connections beyond it is reset
    # by the kernel before the app sees it. Production servers queue 2048 (gunicorn).
    request_queue_size = 2048


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


class Sandbox:
    """Emulator + app + driver. Use as a context manager, or start()/stop()."""

    def __init__(self, database_url: str, *, now: datetime, settings: Settings | None = None,
                 emulator: SlackEmulator | None = None, upgrade: bool = True) -> None:
        self.emulator = emulator or SlackEmulator()
        self._own_emulator = emulator is None
        self.clock = ManualClock(now)
        self._base_settings = settings or Settings()
        self._database_url = database_url
        self._upgrade = upgrade
        self.executor = TrackingExecutor()
        self.store: Store
        self.services: Services
        self.app: App
        self.driver: SlackDriver
        self._server: WSGIServer | None = None

    def start(self) -> Sandbox:
        if self._own_emulator:
            self.emulator.start()
        base = self._base_settings
        if base.client_id is not None:
            # Multi-workspace mode: the emulator's OAuth app; tokens come from installs.
            base = replace(base, client_id=self.emulator.oauth.client_id,
                           client_secret=self.emulator.oauth.client_secret)
        settings = replace(
            base,
            bot_token=None if base.client_id is not None else self.emulator.bot_token,
            signing_secret=self._base_settings.signing_secret or secrets.token_hex(16),
            api_url=self.emulator.api_url,
            database_url=self._database_url,
        )
        self.store = Store(settings.database_url)
        if self._upgrade:
            self.store.upgrade()
        self.services = Services(settings, self.store, self.clock,
                                 background=Background(quiet=BACKGROUND_QUIET))
        self.app = create_app(self.services, listener_executor=self.executor)
        wsgi = make_wsgi_app(self.app, self.store, services=self.services)
        self._server = make_server("127.0.0.1", 0, wsgi, server_class=_ThreadingWSGIServer,
                                   handler_class=_QuietHandler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="sandbox-http",
                         daemon=True).start()
        self.driver = SlackDriver(f"{self.base_url}/slack/events", settings.signing_secret or "",
                                  self.emulator, team_id=self.emulator.team_id)
        return self

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until all work Slack requests started has finished (no sleeping): the
        listeners after each ack, then the background work they asked for."""
        self.executor.wait_idle(timeout)
        self.services.background.wait_idle(timeout)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.executor.shutdown(wait=True)
        self.services.background.stop()
        self.store.dispose()
        if self._own_emulator:
            self.emulator.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
