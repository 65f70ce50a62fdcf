"""Users and their metadata under Saleor's permission rules (saleor/graphql/meta/permissions.py,
saleor/graphql/account/resolvers.py ``resolve_user``, ``User.objects.customers()``)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION

from .conftest import API_URL, FakeApp, gql
from .test_graphql import install

UPDATE_METADATA = """
mutation($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""
UPDATE_PRIVATE_METADATA = """
mutation($id: ID!, $input: [MetadataInput!]!) {
  updatePrivateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""
USER_BY_EMAIL = "query($email: String!) { user(email: $email) { id email } }"


async def _order_for(sandbox: SaleorSandbox, customer_email: str) -> None:
    customer = sandbox.store.find_customer_by_email(customer_email)
    if not sandbox.store.channels:
        await sandbox.add_channel("default")
    product = await sandbox.create_product("Pear", [VariantSpec(sku=None)])
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email=customer_email, customer=customer
    )
    await sandbox.complete_checkout(checkout)


async def test_staff_metadata_needs_manage_staff_even_with_manage_users(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await install(sandbox)  # MANAGE_USERS, MANAGE_ORDERS, ... but not MANAGE_STAFF
    staff = sandbox.store.create_customer("boss@example.com", is_staff=True)
    variables = {"id": staff.global_id, "input": [{"key": "a", "value": "b"}]}
    for document, field in (
        (UPDATE_METADATA, "updateMetadata"),
        (UPDATE_PRIVATE_METADATA, "updatePrivateMetadata"),
    ):
        body = await gql(client, document, variables, token=app.auth_token)
        # A top-level GraphQL error, not a mutation error: Saleor raises PermissionDenied.
        assert body["data"] == {field: None}
        [error] = body["errors"]
        assert error["extensions"]["exception"]["code"] == "PermissionDenied"
        assert error["message"] == (
            "To access this path, you need one of the following permissions: MANAGE_STAFF"
        )
        assert error["path"] == [field]
    assert staff.metadata == {} and staff.private_metadata == {}

    with_staff = await install(sandbox, ["MANAGE_USERS", "MANAGE_STAFF"], variant="staff")
    body = await gql(client, UPDATE_METADATA, variables, token=with_staff.auth_token)
    assert body["data"] == {"updateMetadata": {"errors": []}}
    assert staff.metadata == {"a": "b"}


async def test_user_writes_own_public_but_not_own_private_metadata(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    customer = sandbox.store.create_customer("ann@example.com")
    token = sandbox.mint_customer_token(customer)
    variables = {"id": customer.global_id, "input": [{"key": "a", "value": "b"}]}
    body = await gql(client, UPDATE_METADATA, variables, token=token)
    assert body["data"] == {"updateMetadata": {"errors": []}}
    body = await gql(client, UPDATE_PRIVATE_METADATA, variables, token=token)
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    assert customer.private_metadata == {}


async def test_user_lookup_follows_the_requesters_permissions(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    sandbox.store.create_customer("ann@example.com")
    sandbox.store.create_customer("boss@example.com", is_staff=True)
    # Four apps, four identifiers (one manifest's variants).
    users_app = await install(sandbox, ["MANAGE_USERS"], variant="users")
    staff_app = await install(sandbox, ["MANAGE_STAFF"], variant="staff")
    both_app = await install(sandbox, ["MANAGE_USERS", "MANAGE_STAFF"], variant="both")
    none_app = await install(sandbox, ["MANAGE_PRODUCTS"], variant="none")

    async def seen(token: str, email: str) -> str | None:
        body = await gql(client, USER_BY_EMAIL, {"email": email}, token=token)
        user = body["data"]["user"]
        return None if user is None else str(user["email"])

    assert await seen(users_app.auth_token, "ann@example.com") == "ann@example.com"
    assert await seen(users_app.auth_token, "boss@example.com") is None  # staff, no orders
    assert await seen(staff_app.auth_token, "ann@example.com") is None
    assert await seen(staff_app.auth_token, "boss@example.com") == "boss@example.com"
    assert await seen(both_app.auth_token, "boss@example.com") == "boss@example.com"
    denied = await gql(
        client, USER_BY_EMAIL, {"email": "ann@example.com"}, token=none_app.auth_token
    )
    assert denied["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"

    # A staff user who placed an order counts as a customer (User.objects.customers()).
    await _order_for(sandbox, "boss@example.com")
    assert await seen(users_app.auth_token, "boss@example.com") == "boss@example.com"
    body = await gql(
        client, "{ customers(first: 10) { edges { node { email } } } }", token=users_app.auth_token
    )
    emails = {e["node"]["email"] for e in body["data"]["customers"]["edges"]}
    assert emails == {"ann@example.com", "boss@example.com"}


async def test_metadata_mutations_set_the_modification_time_since_3_23(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """saleor/saleor#18601 (first tagged 3.23.0, backported to 3.21.37 and 3.22.19): a metadata
    write sets the user's `updatedAt`; 3.20 and the 3.21 and 3.22 releases before leave it."""
    app = await install(sandbox)
    customer = sandbox.store.create_customer("ann@example.com", "Ann")
    versions = [
        (OLDEST_VERSION, False),
        ("3.21.36", False),
        ("3.21.37", True),
        ("3.22.18", False),
        ("3.22.19", True),
        (CURRENT_VERSION, True),
    ]
    for version, moves in versions:
        sandbox.version = version
        before = customer.updated_at = datetime(2026, 1, 1, tzinfo=UTC)
        for mutation in (UPDATE_METADATA, UPDATE_PRIVATE_METADATA):
            body = await gql(
                client,
                mutation,
                {"id": customer.global_id, "input": [{"key": "k", "value": version}]},
                token=app.auth_token,
            )
            assert "errors" not in body, body
            assert (customer.updated_at > before) is moves, (version, mutation)
            customer.updated_at = before


DELETES = [
    """mutation($id: ID!) { deleteMetadata(id: $id, keys: []) { errors { code } } }""",
    """mutation($id: ID!) { deletePrivateMetadata(id: $id, keys: []) { errors { code } } }""",
]


async def test_metadata_deletes_save_the_modification_time_on_every_version(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """`deleteMetadata` / `deletePrivateMetadata` save the instance's `updated_at` even with no
    key (saleor/graphql/meta/mutations/delete_metadata.py:43, utils.py:23-30 `save_instance`
    at 3.20.119; `delete_metadata_keys` with `get_extra_update_field` since 3.23.0), a checkout's
    `last_change` never for a delete that changes nothing (saved by the mutation only when its
    metadata changed since #18601: meta/mutations/base.py `has_changed`; its metadata is a
    `CheckoutMetadata` without `updated_at`)."""
    app = await install(sandbox)
    customer = sandbox.store.create_customer("ann@example.com", "Ann")
    checkout = await sandbox.create_checkout(lines=[], email="ann@example.com")
    for version in (OLDEST_VERSION, "3.22.18", CURRENT_VERSION):
        sandbox.version = version
        for mutation in DELETES:
            before = customer.updated_at = datetime(2026, 1, 1, tzinfo=UTC)
            checkout.last_change = before
            for target in (customer.global_id, checkout.global_id):
                body = await gql(client, mutation, {"id": target}, token=app.auth_token)
                assert "errors" not in body, body
            assert customer.updated_at > before, (version, mutation)
            assert checkout.last_change == before, (version, mutation)
    # A delete that removes a key moves it (on a Saleor of #18601).
    checkout.metadata = {"k": "v"}
    checkout.last_change = before
    body = await gql(
        client,
        """mutation($id: ID!) { deleteMetadata(id: $id, keys: ["k"]) { errors { code } } }""",
        {"id": checkout.global_id},
        token=app.auth_token,
    )
    assert "errors" not in body, body
    assert checkout.last_change > before


async def test_more_than_four_mutations_in_a_request_are_refused_whole(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """Saleor's MutationCountLimitRule (GRAPHQL_MUTATION_COUNT_LIMIT, 4 by default, since
    3.20.118): aliases count; nothing of a refused request runs."""
    app = await install(sandbox)
    customer = sandbox.store.create_customer("many@example.com")

    def document(count: int) -> str:
        fields = " ".join(
            f'w{i}: updatePrivateMetadata(id: $id, input: [{{key: "k{i}", value: "v"}}])'
            " { errors { code } }"
            for i in range(count)
        )
        return f"mutation($id: ID!) {{ {fields} }}"

    refused = await client.post(
        API_URL,
        json={"query": document(5), "variables": {"id": customer.global_id}},
        headers={"Authorization": f"Bearer {app.auth_token}"},
    )
    assert refused.status_code == 400
    assert [e["message"] for e in refused.json()["errors"]] == [
        "Number of mutations exceed the limit of 4"
    ]
    assert customer.private_metadata == {}

    body = await gql(client, document(4), {"id": customer.global_id}, token=app.auth_token)
    assert "errors" not in body and len(customer.private_metadata) == 4


async def test_user_by_email_matches_any_case_only_since_3_22(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """`user(email:)` is `email__iexact` since 3.22.0 (saleor/saleor#17874), an exact match
    before: Saleor stores addresses in lower case, so another case finds nobody there."""
    app = await install(sandbox, ["MANAGE_USERS"])
    sandbox.store.create_customer("ann@example.com", "Ann")
    for version, found in ((OLDEST_VERSION, False), ("3.21.69", False), ("3.22.0", True)):
        sandbox.version = version
        body = await gql(client, USER_BY_EMAIL, {"email": "Ann@Example.com"}, token=app.auth_token)
        assert (body["data"]["user"] is not None) is found, version
        body = await gql(client, USER_BY_EMAIL, {"email": "ann@example.com"}, token=app.auth_token)
        assert body["data"]["user"]["email"] == "ann@example.com", version
