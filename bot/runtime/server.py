"""Production serving: gunicorn (threaded workers) for HTTP, or Socket Mode."""

from __future__ import annotations

import logging
import os
from typing import Any

from bot.runtime.settings import Settings

log = logging.getLogger(__name__)


def _positive_int(name: str, default: int) -> int:
    from bot.runtime.errors import ConfigError

    text = os.environ.get(name, "").strip() or str(default)
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {text!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, not {value}")
    return value


def build_wsgi(settings: Settings) -> Any:
    """Build the app in this process (each gunicorn worker calls this after the fork)."""
    from bot.runtime.app import create_app
    from bot.runtime.clock import SystemClock
    from bot.runtime.executor import AcksFirst, ContextExecutor
    from bot.runtime.services import Services
    from bot.runtime.web import make_wsgi_app
    from storage.db import Store

    store = Store(settings.database_url)
    services = Services(settings, store, SystemClock())
    # The listeners' threads start now, not during the first requests, and their work
    # waits for the acks being sent (executor.py).
    acks_first = AcksFirst()
    listeners = ContextExecutor(acks_first=acks_first).start_threads()
    app = create_app(services, listener_executor=listeners)
    wsgi = make_wsgi_app(app, store, settings.signing_secret, services=services,
                         acks_first=acks_first)
    # Mappers configured and connections open before the first request, not during it.
    store.warm(connections=_positive_int("WEB_THREADS", 8))
    return wsgi


def prepare_database(settings: Settings) -> None:
    """Migrations and the INITIATIVE_FILE import, once, before any worker starts."""
    from bot.initiative.importer import import_file, unchanged_since_import
    from bot.runtime.clock import SystemClock
    from storage.db import Store

    store = Store(settings.database_url)
    store.upgrade()
    path = settings.initiative_file
    if path is not None and unchanged_since_import(store, path):
        log.info("initiative file %s: unchanged since its last import", path.name)
    elif path is not None:
        result = import_file(store, path, SystemClock().now())
        log.info("initiative file %s: %s", path.name, result.summary())
    store.dispose()


def _prepare_child(settings: Settings, report: Any) -> None:
    from bot.runtime.errors import UserError

    try:
        prepare_database(settings)
    except UserError as exc:  # handed to the parent, which raises it as its own
        report.send(("user", str(exc)))
    except BaseException as exc:
        log.debug("preparing the database failed", exc_info=True)
        report.send(("error", f"{type(exc).__name__}: {exc}"))
    else:
        report.send(None)
    finally:
        report.close()


def prepare_database_apart(settings: Settings) -> None:
    """`prepare_database` in a short-lived child process, so that the gunicorn master never
    imports SQLAlchemy, Alembic and the importer: it only forks and watches workers, and
    stays about 20 MB lighter (measured with bench/ack.py). A bad INITIATIVE_FILE is still
    a UserError here, with the same one-line message."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_prepare_child, args=(settings, send), name="prepare")
    child.start()
    send.close()
    try:
        outcome = receive.recv()
    except EOFError:
        outcome = ("error", "the process preparing the database died")
    finally:
        child.join()
        receive.close()
    if outcome is None:
        return
    kind, message = outcome
    if kind == "user":
        from bot.runtime.errors import UserError

        raise UserError(message)  # the CLI prints it as one line and exits 2
    raise RuntimeError(f"preparing the database failed: {message}")


def serve(settings: Settings, *, with_scheduler: bool) -> None:
    """Serve POST /slack/events and GET /healthz with gunicorn on PORT.

    WEB_CONCURRENCY worker processes (default 1) × WEB_THREADS threads (default 8).
    With `with_scheduler` (`impactbot run`) there is one worker process, and the scheduler
    runs inside it: never in the gunicorn master, whose threads would be inherited
    half-way through whatever they held by every worker it forks.
    """
    from gunicorn.app.base import BaseApplication

    prepare_database_apart(settings)
    workers = 1 if with_scheduler else _positive_int("WEB_CONCURRENCY", 1)
    threads = _positive_int("WEB_THREADS", 8)

    def when_ready(_server: Any) -> None:
        log.info("listening on port %s (%d worker(s) × %d threads)", settings.port, workers,
                 threads)

    def post_worker_init(worker: Any) -> None:
        if with_scheduler:
            from bot.runtime import scheduler
            from bot.runtime.clock import SystemClock
            from bot.runtime.services import Services
            from storage.db import Store

            services = Services(settings, Store(settings.database_url), SystemClock())
            scheduler.build(services, blocking=False).start()  # ends with the worker
            log.info("scheduler started in worker %s", worker.pid)
        log.info("worker %s ready", worker.pid)

    class ImpactBotServer(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"0.0.0.0:{settings.port}",
                "workers": workers,
                "threads": threads,
                # gthread, with each request read whole before a thread takes it
                "worker_class": "bot.runtime.worker.BufferingWorker",
                "timeout": 30,
                "graceful_timeout": 10,
                "keepalive": 5,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": settings.log_level.lower(),
                "when_ready": when_ready,
                "post_worker_init": post_worker_init,
                "proc_name": "impactbot",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return build_wsgi(settings)

    ImpactBotServer().run()


def run_socket_mode(settings: Settings) -> None:
    """Socket Mode: no public URL needed; the scheduler runs alongside."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime import scheduler
    from bot.runtime.app import create_app
    from bot.runtime.clock import SystemClock
    from bot.runtime.services import Services
    from storage.db import Store

    prepare_database(settings)
    services = Services(settings, Store(settings.database_url), SystemClock())
    app = create_app(services)
    health = serve_health(services.store, settings.port)
    sched = scheduler.build(services, blocking=False)
    sched.start()
    try:
        SocketModeHandler(app, settings.app_token).start()
    finally:
        sched.shutdown(wait=False)
        health.shutdown()


def serve_health(store: Any, port: int) -> Any:
    """Socket Mode has no HTTP server of its own: answer GET /healthz on PORT anyway, so
    container health checks and load balancers work the same in both modes."""
    import json
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    def health(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") != "/healthz":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]
        healthy = store.ping()
        body = json.dumps({"ok": healthy, "database": "up" if healthy else "down"}).encode()
        start_response("200 OK" if healthy else "503 Service Unavailable",
                       [("Content-Type", "application/json")])
        return [body]

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("0.0.0.0", port, health, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="healthz", daemon=True).start()
    log.info("Socket Mode; GET /healthz answers on port %s", port)
    return server
