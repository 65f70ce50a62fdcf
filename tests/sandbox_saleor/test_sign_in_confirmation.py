"""Who may sign in (the sandbox's customer tokens) as `tokenCreate` decides by the store's
account confirmation settings, and `User.isConfirmed` as the app reads it."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.sandbox_tokens import SignInRefused

from .conftest import APP_HOST, FakeApp, gql


async def test_an_unconfirmed_account_signs_in_only_where_the_store_allows_it(
    sandbox: SaleorSandbox,
) -> None:
    ann = await sandbox.create_customer("ann@example.com")  # registered: unconfirmed
    assert ann.is_confirmed is False
    with pytest.raises(SignInRefused, match=r"Account needs to be confirmed via email\."):
        sandbox.mint_customer_token(ann)
    sandbox.store.allow_login_without_confirmation = True
    assert sandbox.mint_customer_token(ann)
    sandbox.store.allow_login_without_confirmation = False
    sandbox.store.enable_account_confirmation_by_email = False
    assert sandbox.mint_customer_token(ann)
    sandbox.store.enable_account_confirmation_by_email = True
    await sandbox.confirm_account(ann)
    assert sandbox.mint_customer_token(ann)


async def test_an_inactive_account_cannot_sign_in(sandbox: SaleorSandbox) -> None:
    ann = sandbox.store.create_customer("ann@example.com", is_active=False)
    with pytest.raises(SignInRefused, match=r"Account inactive\."):
        sandbox.mint_customer_token(ann)


async def test_the_app_reads_whether_a_user_confirmed(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    ann = await sandbox.create_customer("ann@example.com")
    query = "query($id: ID!) { user(id: $id) { email isConfirmed } }"

    async def confirmed() -> object:
        body = await gql(client, query, {"id": ann.global_id}, token=app.auth_token)
        return body["data"]["user"]["isConfirmed"]

    assert await confirmed() is False
    await sandbox.confirm_account(ann)
    assert await confirmed() is True


async def test_a_sign_in_saves_last_login_and_updated_at_at_most_every_five_seconds(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """`update_user_last_login_if_required` (saleor/graphql/account/mutations/authentication/
    utils.py): `last_login` and `updated_at` saved, no webhook; again only once the last
    sign-in is older than TOKEN_UPDATE_LAST_LOGIN_THRESHOLD (5 s)."""
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    ann = sandbox.store.create_customer("ann@example.com", is_confirmed=True)
    query = "query($id: ID!) { user(id: $id) { updatedAt lastLogin } }"
    ann.updated_at = created = ann.updated_at - timedelta(minutes=1)  # registered earlier
    assert ann.last_login is None

    sandbox.mint_customer_token(ann)

    first = ann.last_login
    assert first is not None and ann.updated_at > created
    body = await gql(client, query, {"id": ann.global_id}, token=app.auth_token)
    assert body["data"]["user"]["lastLogin"] == first.isoformat()
    saved = ann.updated_at
    sandbox.mint_customer_token(ann)  # within the threshold: nothing saved
    assert (ann.last_login, ann.updated_at) == (first, saved)
    ann.last_login = ann.updated_at = first - timedelta(seconds=6)  # signed in 6 s ago
    sandbox.mint_customer_token(ann)
    assert ann.last_login > first - timedelta(seconds=6) and ann.updated_at >= ann.last_login
