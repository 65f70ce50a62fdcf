"""`customerUpdate` as Saleor answers it (the sandbox's `account_schema.resolve_customer_update`):
names stored as given and at most 256 characters; saved, with CUSTOMER_UPDATED, on every call
at 3.20, on a change only since 3.22.18 / 3.23.0 (saleor/saleor#18570)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION, customer_update_only_changes

from .conftest import FakeApp, gql
from .test_graphql import install

UPDATE = """mutation($id: ID!, $first: String, $last: String) {
  customerUpdate(id: $id, input: {firstName: $first, lastName: $last}) {
    errors { field code message }
    user { firstName lastName }
  }
}"""


def test_the_change_came_with_3_22_18_and_3_23_0_not_to_3_21() -> None:
    assert not customer_update_only_changes("3.20.119")
    assert not customer_update_only_changes("3.21.69")
    assert not customer_update_only_changes("3.22.17")
    assert customer_update_only_changes("3.22.18")
    assert customer_update_only_changes("3.23.0")


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_names_are_stored_as_given_and_saved_as_the_version_saves_them(
    sandbox: SaleorSandbox,
    fake_app: FakeApp,
    client: httpx.AsyncClient,
    emitted: list[str],
    version: str,
) -> None:
    sandbox.version = version
    customer = sandbox.store.create_customer("ann@example.com", "Ann", "Lee")
    customer.updated_at -= timedelta(days=1)
    before = customer.updated_at
    token = (await install(sandbox, ["MANAGE_USERS"])).auth_token
    emitted.clear()
    sent = emitted

    same = await gql(client, UPDATE, {"id": customer.global_id, "first": "Ann"}, token=token)
    assert same["data"]["customerUpdate"]["errors"] == []
    if version == CURRENT_VERSION:  # nothing changed: not saved, no event
        assert (customer.updated_at, sent) == (before, [])
    else:  # saved and announced whatever was given
        assert customer.updated_at > before and sent == ["CUSTOMER_UPDATED"]

    spaced = await gql(client, UPDATE, {"id": customer.global_id, "first": " Anna "}, token=token)
    assert spaced["data"]["customerUpdate"]["user"]["firstName"] == " Anna "
    assert customer.first_name == " Anna " and sent[-1] == "CUSTOMER_UPDATED"


async def test_a_name_over_256_characters_is_refused_and_nothing_is_saved(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    customer = sandbox.store.create_customer("ann@example.com", "Ann", "Lee")
    token = (await install(sandbox, ["MANAGE_USERS"])).auth_token
    body = await gql(
        client, UPDATE, {"id": customer.global_id, "first": "B", "last": "x" * 257}, token=token
    )
    assert body["data"]["customerUpdate"] == {
        "errors": [
            {
                "field": "lastName",
                "code": "INVALID",
                "message": "Ensure this value has at most 256 characters (it has 257).",
            }
        ],
        "user": None,
    }
    assert (customer.first_name, customer.last_name) == ("Ann", "Lee")


async def test_user_takes_one_argument_and_the_address_as_given(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """saleor/graphql/account/schema.py `resolve_user`: `id` and `email` together are refused
    (`validate_one_of_args_is_in_query`); resolvers.py matches `email__iexact=email.lower()`,
    trimming nothing."""
    customer = sandbox.store.create_customer("ann@example.com", "Ann", "Lee")
    token = (await install(sandbox, ["MANAGE_USERS"])).auth_token
    query = "query($id: ID, $email: String) { user(id: $id, email: $email) { id } }"
    both = await gql(
        client, query, {"id": customer.global_id, "email": "ann@example.com"}, token=token
    )
    assert both["data"]["user"] is None
    assert both["errors"][0]["message"] == "Argument 'id' cannot be combined with 'email'"
    found = await gql(client, query, {"email": "ANN@example.com"}, token=token)
    assert found["data"]["user"] == {"id": customer.global_id}
    padded = await gql(client, query, {"email": " ann@example.com"}, token=token)
    assert padded["data"]["user"] is None and "errors" not in padded
