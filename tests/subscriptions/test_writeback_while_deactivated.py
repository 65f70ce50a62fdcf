"""A status write-back refused because the app was just deactivated waits, and is written once
the app is active again (`addon.installations.token_doubt`).

Before Saleor 3.23.5 a deactivation shows only as the app's token refused, confirmed by a check
a minute later. The write-back took a refusal of its lookup for the app lacking the permission
and ended done, and one of its metadata write for a customer it may never write (a marker that
skips that customer's later write-backs): the status never reached Saleor."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from addon.clock import ManualClock
from addon.jobs.models import JobStatus
from addon.jobs.worker import Worker
from addon.subscriptions.metadata import STATUS_PREFIX
from addon.subscriptions.profile_writeback import WRITE_PROFILE_JOB
from addon.subscriptions.writeback import WRITE_STATUS_JOB
from addon.subscriptions.writeback_notes import STATUS_NOT_WRITTEN
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.versions import OLDEST_VERSION
from sandboxes.transport import HostRoutingTransport
from tests.audiences.conftest import _create_field, _customer, _map
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_writeback import _checkout, _jobs


@pytest.fixture
def saleor(
    network: HostRoutingTransport, saleor_signing_key: Any, clock: ManualClock
) -> SaleorSandbox:
    """Saleor 3.20: no APP_STATUS_CHANGED, a deactivation is seen as a refused token only."""
    sandbox = SaleorSandbox(
        SALEOR_API_URL, transport=network, signing_key=saleor_signing_key, version=OLDEST_VERSION
    )
    network.add("saleor.test", sandbox.app)
    return sandbox


class _DeactivateAt(httpx.AsyncBaseTransport):
    """The store admin deactivates the app just as the write-back sends `operation`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, shop: Shop, operation: bytes) -> None:
        self.inner, self.shop, self.operation = inner, shop, operation

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.operation in request.content:
            self.shop.saleor.store.apps[self.shop.app.id].is_active = False
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize(
    "operation",
    [b"SubscriptionsUserByEmail", b"SubscriptionsWriteStatus"],
    ids=["lookup refused", "metadata write refused"],
)
async def test_a_write_back_refused_by_a_deactivated_app_is_written_once_it_is_active(
    newsletter: Shop, network: HostRoutingTransport, clock: ManualClock, operation: bytes
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    ann = await shop.saleor.create_customer("ann@example.com", "Ann")
    await _checkout(shop, "ann@example.com", ann)
    route = network._routes["saleor.test"]
    network._routes["saleor.test"] = _DeactivateAt(route, shop, operation)  # type: ignore[assignment]
    await shop.work()
    network._routes["saleor.test"] = route
    await shop.services.saleor.settle()

    jobs = await _jobs(shop)
    [write] = [j for j in jobs if j.kind == WRITE_STATUS_JOB]
    # Waiting for the lifecycle check, its attempt not counted; no refusal recorded.
    assert (write.status, write.attempts) == (JobStatus.PENDING, 0)
    assert "waiting for the lifecycle check" in (write.last_error or "")
    assert STATUS_NOT_WRITTEN not in {j.kind for j in jobs}

    await shop.saleor.set_app_active(shop.app, True)  # activated again (3.20: no webhook)
    for _ in range(3):
        clock.advance(3600)
        await Worker(shop.services).run_until_idle()
        await shop.services.saleor.settle()
    assert ann.metadata.get(STATUS_PREFIX + news) == "subscribed"
    jobs = await _jobs(shop)
    [write] = [j for j in jobs if j.kind == WRITE_STATUS_JOB]
    assert write.status is JobStatus.DONE
    assert STATUS_NOT_WRITTEN not in {j.kind for j in jobs}


async def test_a_profile_write_back_refused_by_a_deactivated_app_is_written_once_active(
    newsletter: Shop, network: HostRoutingTransport, clock: ManualClock
) -> None:
    """Mailchimp's value of a mapped public key, refused at the write (or at the read of the
    customer's metadata before it) by a just-deactivated app: it waits, and is written."""
    shop = newsletter
    news = shop.ids["news"]
    await _create_field(shop, news, name="Team", tag="TEAM", type="text")
    mapped = await _map(shop, news, [{"merge_tag": "TEAM", "source": "metadata", "key": "team"}])
    assert mapped.status_code == 200, mapped.text
    customer = await _customer(shop, "eve@example.com", team="Red")
    await shop.work()
    await shop.mc(
        "PATCH", f"/lists/{news}/members/eve@example.com", {"merge_fields": {"TEAM": "Blue"}}
    )
    route = network._routes["saleor.test"]
    network._routes["saleor.test"] = _DeactivateAt(  # type: ignore[assignment]
        route, shop, b"SubscriptionsCustomerProfile"
    )
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "profile", {"email": "eve@example.com"}, source="user"
    )
    assert responses and all(r.status_code == 200 for r in responses)
    await shop.work()
    network._routes["saleor.test"] = route
    await shop.services.saleor.settle()
    [write] = [j for j in await _jobs(shop) if j.kind == WRITE_PROFILE_JOB]
    assert (write.status, write.attempts) == (JobStatus.PENDING, 0), write.last_error
    assert shop.saleor.store.get_customer(customer.id).metadata["team"] == "Red"

    await shop.saleor.set_app_active(shop.app, True)
    for _ in range(3):
        clock.advance(3600)
        await Worker(shop.services).run_until_idle()
        await shop.services.saleor.settle()
    assert shop.saleor.store.get_customer(customer.id).metadata["team"] == "Blue"
