"""The emulator's HTTP side: decode a request, route it, send the JSON answer.

Routes: `/api/<method>` (Web API), `/response/<id>` (response URLs), `/upload/v1/<file id>`
(the upload URL files.getUploadURLExternal hands out). Every request wakes `wait_for`.
"""

from __future__ import annotations

import base64
import contextlib
import email.parser
import email.policy
import json
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from bot.emulator.api import Answer

# Parameters that form-encoded callers send as JSON text.
JSON_PARAMS = ("blocks", "view", "metadata", "files", "attachments", "users_list")


class Backend(Protocol):
    """What the handler needs of the emulator."""

    @property
    def base_url(self) -> str: ...

    def _handle_api(self, method: str, params: dict[str, Any], token: str | None) -> Answer: ...

    def _handle_response_url(
        self, rid: str, url: str, payload: Any
    ) -> tuple[int, dict[str, Any]]: ...

    def _upload(self, fid: str, data: bytes) -> bool: ...

    def notify(self) -> None: ...


def decode_params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
        params[k] = v
    ctype = content_type.split(";")[0].strip().lower()
    if body:
        if ctype == "application/json":
            data = json.loads(body.decode("utf-8"))
            if isinstance(data, dict):
                params.update(data)
        elif ctype == "multipart/form-data":
            for name, (_, part) in multipart(content_type, body).items():
                params[name] = part.decode("utf-8", "replace")
        else:
            for k, v in urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True):
                params[k] = v
    for key in JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The parts of a multipart/form-data body: name -> (filename, bytes)."""
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    out: dict[str, tuple[str | None, bytes]] = {}
    for part in msg.iter_parts() if msg.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            out[name] = (part.get_filename(), payload)
    return out


def handler_for(backend: Backend) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to this emulator (the server makes one per request)."""

    class BoundHandler(Handler):
        emu = backend

    return BoundHandler


class Handler(BaseHTTPRequestHandler):
    emu: Backend
    server_version = "SlackEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr logging
        return

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self, status: int, body: Any, headers: dict[str, str] | None = None, *, raw: bool = False
    ) -> None:
        data = body.encode() if raw else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if raw else "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._route(b"")

    def do_POST(self) -> None:
        self._route(self._body())

    def _route(self, body: bytes) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/api/"):
            self._api(path[len("/api/") :], body)
        elif path.startswith("/response/") and self.command == "POST":
            self._response_url(path, body)
        elif path.startswith("/upload/v1/") and self.command == "POST":
            self._upload(path[len("/upload/v1/") :], body)
        else:
            self._send(404, {"ok": False, "error": "not_found"})
        self.emu.notify()

    def _api(self, method: str, body: bytes) -> None:
        query = urllib.parse.urlsplit(self.path).query
        try:
            params = decode_params(self.headers.get("Content-Type", ""), body, query)
        except (ValueError, UnicodeDecodeError):
            self._send(200, {"ok": False, "error": "invalid_json"})
            return
        auth = self.headers.get("Authorization") or ""
        token: str | None = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if auth.lower().startswith("basic "):  # oauth.v2.access sends client credentials
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            params.setdefault("client_id", user)
            params.setdefault("client_secret", password)
        if token is None and isinstance(params.get("token"), str):
            token = params.pop("token")
        status, resp, headers = self.emu._handle_api(method, params, token)
        self._send(status, resp, headers)

    def _response_url(self, path: str, body: bytes) -> None:
        rid = path[len("/response/") :]
        try:
            payload = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            payload = None
        status, resp = self.emu._handle_response_url(rid, self.emu.base_url + path, payload)
        self._send(status, resp)

    def _upload(self, fid: str, body: bytes) -> None:
        data: bytes = body
        ctype = self.headers.get("Content-Type", "")
        if ctype.lower().startswith("multipart/form-data"):
            for _filename, part_bytes in multipart(ctype, body).values():
                data = part_bytes
                break
        if self.emu._upload(fid, data):
            self._send(200, f"OK - {len(data)}", raw=True)
        else:
            self._send(404, "file_not_found", raw=True)
