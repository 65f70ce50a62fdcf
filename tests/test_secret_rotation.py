"""Changing SECRET_KEY: the old key in SECRET_KEY_PREVIOUS still decrypts (writes use the new
one), `addon rotate-secrets` re-encrypts every stored secret under the new key, once, and
reports the values no key decrypts without touching them; start-up and `addon doctor` follow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Text, select, type_coerce, update
from typer.testing import CliRunner, Result

from addon import secret_rotation
from addon.audiences.models import NewsletterSettings
from addon.capabilities import start_up
from addon.cli import cli
from addon.config import Settings
from addon.crypto import KeyFit, SecretBox, SecretDecryptionError
from addon.db.types import use_secret_box
from addon.doctor import Status, run_checks
from addon.ecommerce.cart_models import CartRestoreKey, RestoredCheckout
from addon.installations.key_check import WrongSecretKey, secret_key_fits
from addon.installations.models import Installation
from addon.secret_rotation import encrypted_columns, rotate_secrets
from addon.services import Services, secret_box
from sandboxes.mailchimp import MailchimpSandbox
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import TEST_SECRET_KEY, dashboard_headers
from tests.test_connection import connect_key

OLD = TEST_SECRET_KEY  # what the fixtures store secrets under
NEW = "a-new-secret-key-after-the-old-one-leaked-0123456789"
STRANGER = "a key this deployment never had"


def rotated(settings: Settings, previous: str | None = f" , {OLD}") -> Settings:
    """The settings after the operator's change: SECRET_KEY new, the old one in PREVIOUS."""
    return settings.model_copy(
        update={
            "secret_key": SecretStr(NEW),
            "secret_key_previous": None if previous is None else SecretStr(previous),
        }
    )


@pytest.fixture
def keys(services: Services) -> Iterator[None]:
    """Tests switch the process's SecretBox: the fixtures' one is put back afterwards."""
    yield
    use_secret_box(secret_box(services.settings))


@pytest.fixture
async def stored(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    mailchimp: MailchimpSandbox,
    services: Services,
) -> int:
    """A secret under the old key in every encrypted column (three restored checkouts, so the
    rotation goes over several batches); the installation's id."""
    account = mailchimp.create_account("Green Grocer", "owner@grocer.example")
    headers = dashboard_headers(saleor, installed_app)
    assert (await connect_key(app_client, headers, account.api_key)).status_code == 200
    async with services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        await session.merge(CartRestoreKey(installation_id=installation_id, key=SecretStr("k")))
        for n in range(3):
            session.add(
                RestoredCheckout(
                    installation_id=installation_id,
                    checkout_id=f"Q2hlY2tvdXQ6{n}",
                    restored_token=SecretStr(f"checkout-token-{n}"),
                    channel_slug="default",
                    dropped_lines=0,
                )
            )
        newsletter = await session.get(NewsletterSettings, installation_id)
        if newsletter is None:
            newsletter = NewsletterSettings(installation_id=installation_id)
            session.add(newsletter)
        newsletter.webhook_secret = SecretStr("audience-webhook-secret")
    found = await stored_values(services)
    assert all(found.values()), found  # every encrypted column holds a secret
    return installation_id


async def stored_values(services: Services) -> dict[str, list[str]]:
    """Every encrypted column's stored ciphertexts, by "table.column"."""
    values = {}
    async with services.db.session() as session:
        for column in encrypted_columns():
            query = select(type_coerce(column, Text())).where(column.is_not(None))
            values[f"{column.table.name}.{column.name}"] = list(
                (await session.execute(query)).scalars()
            )
    return values


def under(key: str, values: dict[str, list[str]]) -> bool:
    box = SecretBox(key)
    return all(box.fit(value) is KeyFit.CURRENT for column in values.values() for value in column)


def test_secret_key_previous_is_a_comma_separated_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY_PREVIOUS", " first-old-key ,, second-old-key ")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.previous_secret_keys == ["first-old-key", "second-old-key"]
    assert "first-old-key" not in repr(settings)
    monkeypatch.setenv("SECRET_KEY_PREVIOUS", "  ")
    blank = Settings(_env_file=None)  # type: ignore[call-arg]
    assert blank.secret_key_previous is None and blank.previous_secret_keys == []


def test_the_box_reads_previous_keys_and_writes_under_the_current_one() -> None:
    old_token = SecretBox(OLD).encrypt(SecretStr("app-token"))
    box = SecretBox(NEW, ["another-retired-key", OLD])
    assert box.decrypt(old_token).get_secret_value() == "app-token"
    assert box.fit(old_token) is KeyFit.PREVIOUS
    written = box.encrypt(SecretStr("fresh"))
    assert SecretBox(NEW).decrypt(written).get_secret_value() == "fresh"
    assert SecretBox(OLD).fit(written) is KeyFit.NONE
    assert SecretBox(NEW).fit(box.rotate(old_token)) is KeyFit.CURRENT
    with pytest.raises(SecretDecryptionError):
        SecretBox(NEW).decrypt(old_token)
    with pytest.raises(SecretDecryptionError):
        box.rotate(SecretBox(STRANGER).encrypt(SecretStr("x")))


async def test_the_app_reads_old_secrets_and_writes_new_ones_under_the_new_key(
    stored: int, services: Services, keys: None
) -> None:
    async with services.db.session() as session:
        token = (await session.get_one(Installation, stored)).app_token
    use_secret_box(secret_box(rotated(services.settings)))
    async with services.db.transaction() as session:
        installation = await session.get_one(Installation, stored)
        assert installation.app_token == token
        installation.app_token = SecretStr("a-token-saleor-gave-again")
    [written] = (await stored_values(services))["installations.app_token"]
    assert SecretBox(NEW).decrypt(written).get_secret_value() == "a-token-saleor-gave-again"
    assert SecretBox(OLD).fit(written) is KeyFit.NONE


async def test_start_up_accepts_a_previous_key_and_refuses_without_it(
    app_client: httpx.AsyncClient, stored: int, services: Services, keys: None
) -> None:
    use_secret_box(secret_box(rotated(services.settings)))
    assert await secret_key_fits(services.db)
    await start_up(services)
    assert (await app_client.get("/readyz")).status_code == 200

    use_secret_box(secret_box(rotated(services.settings, previous=None)))
    assert not await secret_key_fits(services.db)
    with pytest.raises(WrongSecretKey, match="SECRET_KEY_PREVIOUS"):
        await start_up(services)
    assert (await app_client.get("/readyz")).status_code == 503


async def test_rotation_reencrypts_every_encrypted_column_once(
    stored: int, services: Services, keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by their type, not listed: each of these is a secret of its own kind.
    assert set(await stored_values(services)) >= {
        "installations.app_token",
        "installations.webhook_key",
        "mailchimp_connections.credential",
        "newsletter_settings.webhook_secret",
        "cart_restore_keys.key_encrypted",
        "restored_checkouts.restored_token_encrypted",
    }
    monkeypatch.setattr(secret_rotation, "BATCH_ROWS", 2)  # several batches of a table
    before = await stored_values(services)
    assert under(OLD, before)
    box = secret_box(rotated(services.settings))

    first = await rotate_secrets(services.db, box)
    counts = {t.table: (t.rotated, t.current, t.unreadable) for t in first.tables}
    assert counts["restored_checkouts"] == (3, 0, [])
    assert counts["installations"] == (2, 0, [])  # the app token and the delivery key
    assert first.rotated == sum(map(len, before.values())) and not first.unreadable
    after = await stored_values(services)
    assert under(NEW, after) and {k: len(v) for k, v in after.items()} == {
        k: len(v) for k, v in before.items()
    }

    # Without SECRET_KEY_PREVIOUS now, the app reads every secret it read before.
    use_secret_box(SecretBox(NEW))
    async with services.db.session() as session:
        checkouts = (await session.execute(select(RestoredCheckout))).scalars()
        assert sorted(c.restored_token.get_secret_value() for c in checkouts) == [
            "checkout-token-0",
            "checkout-token-1",
            "checkout-token-2",
        ]

    second = await rotate_secrets(services.db, box)
    assert second.rotated == 0 and not second.unreadable
    assert sum(t.current for t in second.tables) == first.rotated
    assert await stored_values(services) == after  # not even re-encrypted with a fresh IV


async def test_a_value_no_key_decrypts_is_reported_and_left_untouched(
    stored: int, services: Services, keys: None
) -> None:
    foreign = SecretBox(STRANGER).encrypt(SecretStr("checkout-token-x"))
    async with services.db.transaction() as session:
        row = await session.scalar(select(RestoredCheckout.id).order_by(RestoredCheckout.id))
        table = RestoredCheckout.__table__
        await session.execute(
            update(table)
            .where(table.c.id == row)
            .values(restored_token_encrypted=type_coerce(foreign, Text()))
        )

    rotation = await rotate_secrets(services.db, secret_box(rotated(services.settings)))
    assert rotation.unreadable == [f"restored_checkouts id={row}"]
    after = await stored_values(services)
    assert foreign in after["restored_checkouts.restored_token_encrypted"]
    others = {k: [v for v in values if v != foreign] for k, values in after.items()}
    assert under(NEW, others)  # the rest was rotated


async def test_a_value_the_app_rewrote_meanwhile_is_not_overwritten(
    stored: int, services: Services
) -> None:
    """Between the rotation's read and its write the app stored a new token (under SECRET_KEY
    already): the rotation's update, made for the value it read, changes nothing."""
    box = secret_box(rotated(services.settings))
    read = SecretBox(OLD).encrypt(SecretStr("the token read"))
    meanwhile = box.encrypt(SecretStr("the token saleor gave since"))
    table = Installation.__table__
    async with services.db.transaction() as session:
        await session.execute(
            update(table)
            .values(app_token=type_coerce(meanwhile, Text()))
            .where(table.c.id == stored)
        )
        replaced = await secret_rotation._replace(
            session, table.c.app_token, [table.c.id], [stored], read, box
        )
    assert not replaced
    assert (await stored_values(services))["installations.app_token"] == [meanwhile]


async def test_the_command_counts_per_table_and_fails_on_an_unreadable_value(
    stored: int,
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keep_logging: None,
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    env = {
        "DATABASE_URL": services.settings.database_url,
        "SECRET_KEY": NEW,
        "SECRET_KEY_PREVIOUS": OLD,
    }

    async def run() -> Result:
        # The command runs its own event loop: in a thread, beside the test's.
        return await asyncio.to_thread(CliRunner().invoke, cli, ["rotate-secrets"], env=env)

    first = await run()
    assert first.exit_code == 0, first.output
    assert "restored_checkouts: 3 re-encrypted, 0 already under SECRET_KEY" in first.output
    assert "installations: 2 re-encrypted, 0 already under SECRET_KEY" in first.output
    assert "SECRET_KEY_PREVIOUS can be removed" in first.output
    second = await run()
    assert second.exit_code == 0, second.output
    assert "restored_checkouts: 0 re-encrypted, 3 already under SECRET_KEY" in second.output
    assert "Nothing to re-encrypt" in second.output

    # A value under a key the command was not given: listed by row, never shown, kept.
    secret = "a-cart-restore-key-from-elsewhere"
    foreign = SecretBox(STRANGER).encrypt(SecretStr(secret))
    table = CartRestoreKey.__table__
    async with services.db.transaction() as session:
        await session.execute(update(table).values(key_encrypted=type_coerce(foreign, Text())))
    failed = await run()
    assert failed.exit_code == 1, failed.output
    assert f"cart_restore_keys installation_id={stored}: decrypts under no key" in failed.output
    assert "cart_restore_keys: 0 re-encrypted, 0 already under SECRET_KEY, 1 unreadable" in (
        failed.output
    )
    assert secret not in failed.output and foreign not in failed.output
    assert (await stored_values(services))["cart_restore_keys.key_encrypted"] == [foreign]


async def test_the_doctor_warns_while_secrets_are_under_a_previous_key(
    stored: int, services: Services, keys: None
) -> None:
    async def check() -> str | None:
        found = {c.name: c async for c in run_checks(services)}
        assert found["Stored credentials"].status is Status.OK
        previous = found.get("SECRET_KEY_PREVIOUS")
        return None if previous is None else f"{previous.status.value}: {previous.detail}"

    assert await check() is None  # no key change under way: nothing to say

    services.settings = rotated(services.settings)
    use_secret_box(secret_box(services.settings))
    total = sum(map(len, (await stored_values(services)).values()))
    warning = await check()
    assert warning is not None and warning.startswith(f"warn: {total} stored secret(s)")
    assert "run `addon rotate-secrets`" in warning and "restored_checkouts" in warning

    await rotate_secrets(services.db, secret_box(services.settings))
    assert await check() == (
        "warn: no longer needed: every stored secret is under SECRET_KEY, remove "
        "SECRET_KEY_PREVIOUS"
    )

    # A value under a key neither setting holds: the doctor names its row, and fails.
    table = RestoredCheckout.__table__
    foreign = SecretBox(STRANGER).encrypt(SecretStr("x"))
    async with services.db.transaction() as session:
        row = await session.scalar(select(table.c.id).order_by(table.c.id))
        stale = type_coerce(foreign, Text())
        await session.execute(
            update(table).where(table.c.id == row).values(restored_token_encrypted=stale)
        )
    assert await check() == (
        f"fail: 1 stored secret(s) decrypt under no key (restored_checkouts id={row})"
    )
