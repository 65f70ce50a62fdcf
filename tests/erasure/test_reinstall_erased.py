"""An erased customer stays erased when the store uninstalls the app and installs it again: the
erased addresses' hashes are kept by the Saleor's URL, and the new installation's initial sync
sends none of the guest orders Saleor keeps with the address (`addon/privacy/erased.py`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection, select, text

from addon.db.engine import Database
from addon.db.migrations import alembic_config
from addon.installations.models import Installation
from addon.privacy.erased import ErasedAddress
from sandboxes.mailchimp.state import subscriber_hash
from tests.conftest import APP_URL
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.erasure.test_erasure import ANN, _customer_with_history
from tests.initial_sync.conftest import SMALL, finish, start
from tests.migration_rows import NOW, installed_at


async def _set_up_again(shop: Shop, *, install: bool = True) -> None:
    """The admin installs the app again (unless done), connects the same account and tracks
    the channel."""
    if install:
        shop.app = await shop.saleor.install_app(f"{APP_URL}/api/manifest")
    ecommerce = {
        "tracking_enabled": True,
        "product_url_template": "https://shop.grocer.example/products/{slug}",
        "checkout_url_template": "https://shop.grocer.example/checkout?token={token}",
        "store_email": "shop@grocer.example",
    }
    for method, path, body in (
        ("POST", "/api/connection/api-key", {"api_key": shop.account.api_key}),
        ("PATCH", "/api/ecommerce/settings", ecommerce),
        ("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": shop.list_id}),
    ):
        response = await shop.api(method, path, body)
        assert response.status_code == 200, response.text
    await shop.drain()


async def test_reinstalling_does_not_send_an_erased_customer_back(shop: Shop) -> None:
    await shop.api("PUT", "/api/erasure/settings", {"delete_orders": True})
    customer, order, _ = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    assert str(order.id) not in shop.orders()
    assert shop.saleor.store.orders[order.id].user_email == ANN  # Saleor keeps the order

    await shop.saleor.uninstall_app(shop.app)
    await shop.drain()
    async with shop.services.db.session() as session:
        assert await session.scalar(select(Installation)) is None
        [kept] = await session.scalars(select(ErasedAddress))
    assert (kept.saleor_api_url, kept.email_hash) == (shop.saleor.api_url, subscriber_hash(ANN))

    await _set_up_again(shop)
    shop.services.settings = shop.services.settings.model_copy(update=SMALL)
    await start(shop)
    await finish(shop)
    emails = [c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)]
    assert ANN not in emails
    assert str(order.id) not in shop.orders()


async def test_0046_keys_the_erased_addresses_by_saleor_and_goes_back_down(
    tmp_path: Path,
) -> None:
    """Each row takes its installation's URL; going down, a Saleor no longer installed has its
    rows dropped (the schema before kept none), the others get their installation back."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    erased = text(
        "INSERT INTO ecommerce_erased_addresses (installation_id, email_hash, erased_at)"
        " VALUES (1, :hash, :now)"
    )

    def up_and_down(connection: Connection) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
        installed_at(connection, "0045_engagement_ratings")
        for address in ("a@x.example", "b@x.example"):
            connection.execute(erased, {"hash": subscriber_hash(address), "now": NOW})
        config = alembic_config(connection)
        command.upgrade(config, "0046_erased_addresses_by_saleor")
        up = connection.execute(
            text("SELECT saleor_api_url, email_hash FROM ecommerce_erased_addresses")
        )
        by_saleor = sorted((url, hash_) for url, hash_ in up)
        connection.execute(
            text(
                "INSERT INTO ecommerce_erased_addresses (saleor_api_url, email_hash, erased_at)"
                " VALUES ('https://gone.example/graphql/', :hash, :now)"
            ),
            {"hash": subscriber_hash("c@x.example"), "now": NOW},
        )
        command.downgrade(config, "0045_engagement_ratings")
        down = connection.execute(
            text("SELECT installation_id, email_hash FROM ecommerce_erased_addresses")
        )
        by_installation = sorted((id_, hash_) for id_, hash_ in down)
        command.upgrade(config, "0046_erased_addresses_by_saleor")
        return by_saleor, by_installation

    try:
        async with database.engine.begin() as connection:
            by_saleor, by_installation = await connection.run_sync(up_and_down)
    finally:
        await database.dispose()
    hashes = sorted(subscriber_hash(a) for a in ("a@x.example", "b@x.example"))
    assert by_saleor == [("https://shop.example/graphql/", h) for h in hashes]
    assert by_installation == [(1, h) for h in hashes]
