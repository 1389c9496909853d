"""The HTTP face: POST /slack/events (everything Slack sends), GET /healthz."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from storage.db import Store

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(app: App, store: Store) -> WSGIApp:
    slack = SlackRequestHandler(app, path="/slack/events")

    def application(environ: dict[str, Any], start_response: Callable[..., Any]
                    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy = store.ping()
            body = json.dumps({"ok": healthy, "database": "up" if healthy else "down"}).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"),
                                    ("Content-Length", str(len(body)))])
            return [body]
        # A fresh context per request: nothing (the workspace tenant above all) carries over
        # from the previous request this thread served.
        try:
            return contextvars.Context().run(slack, environ, start_response)
        except Exception as exc:
            # Bolt reads the body before it checks the signature, and some malformed bodies
            # (an event whose `channel` is a number) make that reading raise: anyone on the
            # internet could turn that into a 500 and a traceback. It is a bad request.
            log.warning("refused a request Bolt could not read: %s", type(exc).__name__)
            refused = b"Bad request"
            start_response("400 Bad Request", [("Content-Type", "text/plain"),
                                               ("Content-Length", str(len(refused)))])
            return [refused]

    return application
