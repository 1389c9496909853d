"""The public routes (SPEC §13), served by the same WSGI app as /slack/events:

    /scorecard  /scorecard/KEY  /scorecard/KEY/embed  /scorecard.csv  /scorecard.json  /voice

In multi-workspace mode they live under /w/TEAM_ID/… (the installed workspace's tenant),
and only there; in single-workspace mode only at the root. Everything is 404 unless the
initiative turned the page on (`initiative.public`). Scorecard responses carry an ETag and
Last-Modified computed from a few index look-ups (`scorecard_data.version`), so a repeat
costs a 304 and no rendering; rendered bodies are kept briefly per version.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select

from bot.public import exports, voice_form
from bot.public.i18n import pick_language
from bot.public.pages import STYLESHEET, Links, render
from bot.public.scorecard_data import build_scorecard, version
from bot.public.svg import chart
from bot.runtime.caller import load_initiative
from bot.runtime.services import Services
from storage.models import Workspace
from storage.tenancy import tenant

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
_PREFIX = re.compile(r"^/w/([TE][A-Z0-9]{2,30})(/.*)$")
_ROUTE = re.compile(r"^/(?:scorecard(?:\.csv|\.json|/[a-z0-9][a-z0-9_-]{0,63}(?:/embed)?)?"
                    r"|voice)$")
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()
_CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'")
CACHE_ENTRIES = 256


def is_public_path(path: str) -> bool:
    match = _PREFIX.match(path)
    return bool(_ROUTE.match(match.group(2) if match else path)) or path.startswith("/w/")


class PublicSite:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._bodies: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    # --- plumbing -----------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse,
                 body: bytes | None) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        match = _PREFIX.match(path)
        team, route = (match.group(1), match.group(2)) if match else (None, path)
        if not _ROUTE.match(route):
            return _not_found(start_response)
        oauth = self.services.settings.oauth
        if (team is None) == oauth:  # each mode serves its own form of the paths only
            return _not_found(start_response)
        home = self._tenant_of(team) if team is not None else None
        if team is not None and home is None:
            return _not_found(start_response)
        with tenant(home):
            return self._route(environ, start_response, body, route, team, home)

    def _tenant_of(self, team_id: str) -> str | None:
        with self.services.store.global_session() as session:
            row = session.scalar(select(Workspace).where(Workspace.team_id == team_id))
            if row is None or row.uninstalled_at is not None:
                return None
            return row.tenant_team_id

    def _route(self, environ: dict[str, Any], start_response: StartResponse,
               body: bytes | None, route: str, team: str | None, home: str | None
               ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        now = self.services.clock.now()
        with self.services.store.session() as session:
            initiative = load_initiative(session)
            if initiative is None:
                return _not_found(start_response)
            settings = (initiative.public_scorecard, initiative.public_voice,
                        tuple(initiative.public_languages or ["en"]), initiative.name)
        scorecard_on, voice_on, offered, name = settings
        query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=10)
        lang = pick_language((query.get("lang") or [""])[0],
                             environ.get("HTTP_ACCEPT_LANGUAGE"), offered)
        prefix = f"/w/{team}" if team else ""
        host = environ.get("HTTP_HOST", "")
        scheme = environ.get("HTTP_X_FORWARDED_PROTO") or environ.get("wsgi.url_scheme", "http")
        links = Links(prefix=prefix, lang=lang,
                      scorecard=f"{prefix}/scorecard?lang={lang}" if scorecard_on else None,
                      voice=f"{prefix}/voice?lang={lang}" if voice_on else None,
                      origin=f"{scheme}://{host}" if host else "")
        page = {"lang": lang, "offered": offered, "name": name, "links": links, "now": now,
                "path": f"{prefix}{route}", "scheme": scheme}
        if route == "/voice":
            if not voice_on:
                return _not_found(start_response)
            if method == "POST":
                return self._voice_post(environ, start_response, body or b"", page, home)
            if method not in ("GET", "HEAD"):
                return _not_allowed(start_response, "GET, HEAD, POST")
            return self._voice_form(environ, start_response, page, home)
        if not scorecard_on:
            return _not_found(start_response)
        if method not in ("GET", "HEAD"):
            return _not_allowed(start_response, "GET, HEAD")
        return self._scorecard(environ, start_response, page, route, home, host)

    # --- the scorecard ------------------------------------------------------------------
    def _scorecard(self, environ: dict[str, Any], start_response: StartResponse,
                   page: dict[str, Any], route: str, home: str | None, host: str
                   ) -> Iterable[bytes]:
        now: datetime = page["now"]
        with self.services.store.session() as session:
            seed, modified = version(session, now)
        lang = page["lang"]
        tag = hashlib.sha256(f"{seed}|{route}|{lang}|{host}".encode()).hexdigest()[:32]
        etag = f'"{tag}"'
        headers = [("ETag", etag), ("Cache-Control", "public, max-age=60"),
                   ("Vary", "Accept-Language")]
        if modified is not None:
            headers.append(("Last-Modified", format_datetime(modified, usegmt=True)))
        if _not_modified(environ, etag, modified):
            start_response("304 Not Modified", headers)
            return [b""]
        key = (home, route, lang, host, tag)
        with self._lock:
            cached = self._bodies.get(key)
        if cached is None:
            made = self._make(route, page, now)
            if made is None:
                return _not_found(start_response)
            cached = made
            with self._lock:
                self._bodies[key] = cached
                while len(self._bodies) > CACHE_ENTRIES:
                    self._bodies.popitem(last=False)
        content_type, frameable = _kind(route)
        headers += [*_security(frameable), ("Content-Type", content_type),
                    ("Content-Length", str(len(cached)))]
        start_response("200 OK", headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else cached]

    def _make(self, route: str, page: dict[str, Any], now: datetime) -> bytes | None:
        with self.services.store.session() as session:
            card = build_scorecard(session, now)
        if card is None:
            return None
        if route == "/scorecard.csv":
            return exports.csv_bytes(card)
        if route == "/scorecard.json":
            return exports.json_bytes(card)
        common = {"initiative_name": page["name"], "links": page["links"], "as_of": now}
        if route == "/scorecard":
            charts = {m.key: chart(m) for m in card.featured}
            return render("scorecard.html", page["lang"], page["offered"], page["path"],
                          card=card, charts=charts, **common)
        key = route.split("/")[2]
        measure = card.measure(key)
        if measure is None:
            return None
        template = "embed.html" if route.endswith("/embed") else "measure.html"
        return render(template, page["lang"], page["offered"], page["path"], m=measure,
                      charts={key: chart(measure)}, **common)

    # --- the voice form -----------------------------------------------------------------
    def _voice_form(self, environ: dict[str, Any], start_response: StartResponse,
                    page: dict[str, Any], home: str | None) -> Iterable[bytes]:
        secret = self.services.settings.signing_secret or ""
        nonce = _cookie(environ) or voice_form.new_nonce()
        token = voice_form.make_token(secret, home or "", nonce, page["now"])
        body = render("voice.html", page["lang"], page["offered"], page["path"],
                      initiative_name=page["name"], links=page["links"], csrf_token=token,
                      max_length=voice_form.MAX_LENGTH)
        secure = "; Secure" if page["scheme"] == "https" else ""
        cookie = (f"{voice_form.COOKIE}={nonce}; Path=/; HttpOnly; SameSite=Strict; "
                  f"Max-Age=7200{secure}")
        return _page(environ, start_response, "200 OK", body,
                     [("Set-Cookie", cookie), ("Cache-Control", "no-store")])

    def _voice_post(self, environ: dict[str, Any], start_response: StartResponse,
                    body: bytes, page: dict[str, Any], home: str | None) -> Iterable[bytes]:
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True,
                          max_num_fields=10)

        def field(name: str) -> str:
            return (fields.get(name) or [""])[0]

        # Anonymity: the address only reaches the salted hash; it is never logged or kept.
        address = self.services.settings.trusted_proxies.client(environ)
        with self.services.store.session() as session:
            outcome = voice_form.submit(
                session, secret=self.services.settings.signing_secret or "", team=home or "",
                address=address, nonce=_cookie(environ), token=field("csrf_token"),
                honeypot=field("website"), message=field("message"), now=page["now"])
            channel = None
            if outcome.ok:
                initiative = load_initiative(session)
                channel = initiative.backbone_channel if initiative else None
        if outcome.ok:
            self._relay_soon(channel)
            status = "200 OK"
        else:
            log.info("public voice form: a post was refused (%s)", outcome.reason)
            status = "429 Too Many Requests" if outcome.reason == "rate" else "400 Bad Request"
        html = render("voice_result.html", page["lang"], page["offered"], page["path"],
                      initiative_name=page["name"], links=page["links"], ok=outcome.ok,
                      reason=outcome.reason, length=outcome.length,
                      max_length=voice_form.MAX_LENGTH)
        return _page(environ, start_response, status, html, [("Cache-Control", "no-store")])

    def _relay_soon(self, channel: str | None) -> None:
        if not channel:
            return  # the backbone-relay job posts it once a backbone channel is set
        services = self.services

        def relay() -> None:
            from bot.agenda.voice import relay_pending

            if services.can_post():
                relay_pending(services.store, services.client(), channel,
                              services.clock.now())

        services.background.request(("public-voice-relay", channel), relay)


def _kind(route: str) -> tuple[str, bool]:
    if route.endswith(".csv"):
        return "text/csv; charset=utf-8", False
    if route.endswith(".json"):
        return "application/json", False
    return "text/html; charset=utf-8", route.endswith("/embed")


def _security(frameable: bool) -> list[tuple[str, str]]:
    headers = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
               ("Content-Security-Policy",
                _CSP + ("" if frameable else "; frame-ancestors 'none'"))]
    if not frameable:
        headers.append(("X-Frame-Options", "DENY"))
    return headers


def _not_modified(environ: dict[str, Any], etag: str, modified: datetime | None) -> bool:
    wanted = environ.get("HTTP_IF_NONE_MATCH")
    if wanted is not None:
        tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
        return etag in tags or "*" in tags
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since and modified is not None:
        try:
            return modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _cookie(environ: dict[str, Any]) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except Exception:  # a malformed Cookie header is no cookie
        return None
    morsel = jar.get(voice_form.COOKIE)
    value = morsel.value if morsel is not None else ""
    return value if re.fullmatch(r"[A-Za-z0-9_-]{16,64}", value) else None


def _page(environ: dict[str, Any], start_response: StartResponse, status: str, body: bytes,
          extra: list[tuple[str, str]]) -> Iterable[bytes]:
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
               *_security(False), *extra]
    start_response(status, headers)
    return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]


def _not_found(start_response: StartResponse) -> Iterable[bytes]:
    body = b"Not Found"
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                     ("Content-Length", str(len(body)))])
    return [body]


def _not_allowed(start_response: StartResponse, allow: str) -> Iterable[bytes]:
    body = b"Method Not Allowed"
    start_response("405 Method Not Allowed", [("Allow", allow), ("Content-Type", "text/plain"),
                                              ("Content-Length", str(len(body)))])
    return [body]
