"""The per-client-address limit counts an IPv6 client by its /64: one host holds the whole
prefix and takes new addresses in it at will (privacy addresses), so counted by its full address
it was never held back. IPv4 is counted by the address, as before."""

from __future__ import annotations

import pytest

from addon.errors import RateLimited
from addon.services import Services
from addon.subscriptions.ratelimit import StorefrontLimits, client_key


async def test_one_ipv6_host_cannot_exceed_the_per_address_limit(services: Services) -> None:
    limits = StorefrontLimits(services)
    limit = services.settings.storefront_rate_limit_per_address
    for n in range(limit):
        await limits.check_address(f"2001:db8:1:2::{n + 1:x}")  # one /64
    with pytest.raises(RateLimited):
        await limits.check_address("2001:db8:1:2:abcd:ef01:2345:6789")
    await limits.check_address("2001:db8:1:3::1")  # the next /64: another host
    await limits.check_address("192.0.2.1")


async def test_ipv4_clients_are_counted_by_their_address(services: Services) -> None:
    limits = StorefrontLimits(services)
    limit = services.settings.storefront_rate_limit_per_address
    for _ in range(limit):
        await limits.check_address("192.0.2.1")
    with pytest.raises(RateLimited):
        await limits.check_address("::ffff:192.0.2.1")  # the same client, IPv4-mapped
    await limits.check_address("192.0.2.2")


def test_the_key_of_a_client() -> None:
    assert client_key("2001:DB8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("unknown") == "unknown"
