"""The HTTP face: POST /slack/events (everything Slack sends), GET /healthz, and the public
pages (/scorecard…, /voice: bot/public/web.py) when the app is given its services."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.runtime.executor import AcksFirst
from bot.runtime.replays import ReplayGuard
from bot.runtime.settings import MAX_BODY_BYTES
from storage.db import Store

if TYPE_CHECKING:
    from bot.runtime.services import Services

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]



def _plain(start_response: Callable[..., Any], status: str, text: str,
           *, close: bool = False) -> list[bytes]:
    body = text.encode()
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    if close:
        # The rest of the body is never read, so the connection is not reused (gunicorn
        # honours this hop-by-hop header from the app; wsgiref's test server forbids it).
        headers.append(("Connection", "close"))
    start_response(status, headers)
    return [body]


def _read_body(environ: dict[str, Any]) -> bytes | str:
    """The request body, or the status line that refuses it."""
    length_text = environ.get("CONTENT_LENGTH") or ""
    if not length_text.strip():
        return "411 Length Required"
    try:
        length = int(length_text)
    except ValueError:
        return "400 Bad Request"
    if length < 0:
        return "400 Bad Request"
    if length > MAX_BODY_BYTES:
        return "413 Content Too Large"
    try:
        body = environ["wsgi.input"].read(length)
    except (OSError, ValueError):
        return "400 Bad Request"
    if len(body) != length:  # the client went away or stalled past the read timeout
        return "400 Bad Request"
    return bytes(body)


def make_wsgi_app(app: App, store: Store, signing_secret: str | None = None, *,
                  services: Services | None = None,
                  acks_first: AcksFirst | None = None) -> WSGIApp:
    slack = SlackRequestHandler(app, path="/slack/events")
    site = None
    if services is not None:
        from bot.public.web import PublicSite, is_public_path

        site = PublicSite(services)
    secret = signing_secret or getattr(app, "_signing_secret", "") or ""
    replays = ReplayGuard(store, secret) if secret else None

    def application(environ: dict[str, Any], start_response: Callable[..., Any]
                    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy = store.ping()
            answer = json.dumps({"ok": healthy, "database": "up" if healthy else "down"})
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"),
                                    ("Content-Length", str(len(answer)))])
            return [answer.encode()]
        if site is not None and is_public_path(path):
            form: bytes | None = None
            if environ.get("REQUEST_METHOD") == "POST":
                read = _read_body(environ)
                if isinstance(read, str):
                    return _plain(start_response, read, read[4:],
                                  close="gunicorn.socket" in environ)
                form = read
            return contextvars.Context().run(site, environ, start_response, form)
        if acks_first is None:
            return slack_request(environ, start_response)
        with acks_first.answering():  # the listeners' work waits for it (executor.py)
            return slack_request(environ, start_response)

    def slack_request(environ: dict[str, Any], start_response: Callable[..., Any]
                      ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            body = _read_body(environ)
            if isinstance(body, str):
                log.warning("refused a request body: %s", body)
                return _plain(start_response, body, body[4:],
                              close="gunicorn.socket" in environ)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            if replays is not None and replays.is_replay(
                    body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                    environ.get("HTTP_X_SLACK_SIGNATURE")):
                # Acted on already: answered like Slack's own duplicate deliveries, with an
                # empty 200 and no action (the first delivery got the real answer).
                log.warning("ignored a replayed signed request")
                return _plain(start_response, "200 OK", "")
        # A fresh context per request: nothing (the workspace tenant above all) carries over
        # from the previous request this thread served.
        try:
            return contextvars.Context().run(slack, environ, start_response)
        except Exception as exc:
            # Bolt reads the body before it checks the signature, and some malformed bodies
            # (an event whose `channel` is a number) make that reading raise: anyone on the
            # internet could turn that into a 500 and a traceback. It is a bad request.
            log.warning("refused a request Bolt could not read: %s", type(exc).__name__)
            return _plain(start_response, "400 Bad Request", "Bad request")

    return application
