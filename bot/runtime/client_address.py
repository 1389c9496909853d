"""Who is posting: the address the public voice form's rate limit hashes.

Behind a reverse proxy (the compose file's nginx) every connection comes from the proxy,
so the connection's address alone would make one rate limit for the whole public: five
posts an hour for a county. From a trusted front-end, `X-Forwarded-For` names the client:
its entries are read from the right (the ones the trusted proxies appended), passing over
trusted proxies, and the first other address is the client's. From anyone else the header
is ignored, since a client can write any address in it.

Trust is `FORWARDED_ALLOW_IPS`, the variable gunicorn reads for the same purpose
(`X-Forwarded-Proto`), with gunicorn's meaning: comma-separated addresses or networks,
default `127.0.0.1,::1`, set but empty for none; `*` trusts whichever front-end connects
(only safe when nothing else can reach the app), and then only the entry that front-end
appended is believed. A local forwarder that passes a client's headers through untouched
(stunnel, `ssh -L`) must not be trusted: set the variable empty there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"


@dataclass(frozen=True)
class TrustedProxies:
    any_front_end: bool
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """Raises ValueError naming the entry that is neither an address, a network nor *
        (checked as strictly as gunicorn does: `10.0.0.1/8` is refused, not widened)."""
        entries = [e.strip() for e in text.split(",") if e.strip()]
        networks = []
        for entry in entries:
            if entry == "*":
                continue
            try:
                networks.append(ipaddress.ip_network(entry))
            except ValueError:
                raise ValueError(entry) from None
        return cls("*" in entries, tuple(networks))

    def _listed(self, address: str) -> bool:
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client(self, environ: Mapping[str, Any]) -> str:
        """The address of whoever sent this request, as far as it can be known."""
        peer = str(environ.get("REMOTE_ADDR") or "")
        forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "")
        if not forwarded or not (self.any_front_end or self._listed(peer)):
            return peer
        hops = forwarded.split(",")
        for hop in reversed(hops):
            if not self._listed(hop):
                # Written by the nearest trusted proxy: the client it saw. Something that is
                # not an address ("unknown", a blank) names nobody: the peer stands.
                parsed = _address(hop)
                return str(parsed) if parsed is not None else peer
        first = _address(hops[0])  # proxies all the way: the first of them
        return str(first) if first is not None else peer


def _address(text: str) -> IPAddress | None:
    """An address as a proxy may write it (`1.2.3.4`, `1.2.3.4:5555`, `2001:db8::1`,
    `[2001:db8::1]:443`), IPv4-mapped IPv6 read as IPv4; None when it is none of those."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed
