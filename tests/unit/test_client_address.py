"""Whose address the public voice form's rate limit hashes (bot/runtime/client_address.py):
X-Forwarded-For only from a trusted front-end, read from the right."""

from __future__ import annotations

import pytest

from bot.runtime.client_address import TrustedProxies
from bot.runtime.errors import ConfigError
from bot.runtime.settings import load_settings


def _client(trust: str, peer: str, forwarded: str | None = None) -> str:
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return TrustedProxies.parse(trust).client(environ)


def test_a_direct_client_is_its_connection_whatever_it_claims() -> None:
    assert _client("127.0.0.1,::1", "198.51.100.7") == "198.51.100.7"
    assert _client("127.0.0.1,::1", "198.51.100.7", "203.0.113.1") == "198.51.100.7"


def test_from_a_trusted_proxy_the_address_it_appended_is_the_client() -> None:
    assert _client("127.0.0.1,::1", "127.0.0.1", "198.51.100.7") == "198.51.100.7"
    # The client wrote its own header; nginx appended what it saw.
    assert _client("127.0.0.1", "127.0.0.1", "203.0.113.1, 198.51.100.7") == "198.51.100.7"
    assert _client("::1", "::1", "2001:db8::5") == "2001:db8::5"


def test_a_chain_of_trusted_proxies_is_passed_over() -> None:
    # A load balancer in 10.0.0.0/8 in front of nginx on loopback.
    assert _client("127.0.0.1,10.0.0.0/8", "127.0.0.1",
                   "203.0.113.1, 198.51.100.7, 10.1.2.3") == "198.51.100.7"
    assert _client("127.0.0.1,10.0.0.0/8", "127.0.0.1", "10.9.9.9, 10.1.2.3") == "10.9.9.9"


def test_star_trusts_the_front_end_but_only_the_entry_it_appended() -> None:
    assert _client("*", "172.18.0.5", "203.0.113.1, 198.51.100.7") == "198.51.100.7"
    assert _client("*", "172.18.0.5") == "172.18.0.5"


def test_the_setting_is_gunicorns_and_a_bad_entry_is_named() -> None:
    settings = load_settings({"FORWARDED_ALLOW_IPS": "10.0.0.0/8, 192.168.1.1"},
                             dotenv=False)
    assert settings.trusted_proxies.client(
        {"REMOTE_ADDR": "10.4.4.4", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}) == "198.51.100.7"
    with pytest.raises(ConfigError, match=r"FORWARDED_ALLOW_IPS.*'nginx'"):
        load_settings({"FORWARDED_ALLOW_IPS": "127.0.0.1,nginx"}, dotenv=False)


@pytest.mark.parametrize(("forwarded", "client"), [
    ("198.51.100.7:5555", "198.51.100.7"),  # a balancer that appends the port
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("2001:db8::1", "2001:db8::1"),
    ("::ffff:198.51.100.7", "198.51.100.7"),  # one client, however its proxy writes it
    (" 198.51.100.7 ", "198.51.100.7"),
])
def test_an_address_is_read_however_a_proxy_writes_it(forwarded: str, client: str) -> None:
    assert _client("127.0.0.1", "127.0.0.1", f"203.0.113.1, {forwarded}") == client


@pytest.mark.parametrize("forwarded", ["unknown", "", " ", "203.0.113.1, unknown",
                                       "203.0.113.1,"])
def test_a_hop_that_is_no_address_names_nobody_and_the_proxy_stands(forwarded: str) -> None:
    assert _client("127.0.0.1", "127.0.0.1", forwarded) == "127.0.0.1"


def test_set_but_empty_trusts_no_front_end_and_networks_are_checked_strictly() -> None:
    nobody = load_settings({"FORWARDED_ALLOW_IPS": ""}, dotenv=False)
    assert nobody.trusted_proxies.client(
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}) == "127.0.0.1"
    unset = load_settings({}, dotenv=False)
    assert unset.trusted_proxies.client(
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}) == "198.51.100.7"
    # gunicorn refuses a network with host bits set at start; so does the bot, by name.
    with pytest.raises(ConfigError, match=r"'10\.0\.0\.1/8'"):
        load_settings({"FORWARDED_ALLOW_IPS": "10.0.0.1/8"}, dotenv=False)
