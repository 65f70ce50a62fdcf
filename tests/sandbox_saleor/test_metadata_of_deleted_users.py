"""Metadata mutations on a user deleted meanwhile (an id of the right type, no such user).

Saleor looks the user up to pick the permission before comparing any
(saleor/graphql/meta/mutations/base.py `mutate` → `get_permissions`; meta/permissions.py, the
same at 3.20.119, 3.23.28 and main 723cd4e): the private mutations answer a top-level
PermissionDenied (`private_user_permissions` raises a bare `PermissionDenied()`), the public ones
a NOT_FOUND mutation error (`public_user_permissions`: "Couldn't resolve user."), whatever the
caller's permissions.
"""

from __future__ import annotations

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION

from .conftest import FakeApp, gql
from .test_graphql import install

PRIVATE = {
    "updatePrivateMetadata": (
        'mutation($id: ID!) { updatePrivateMetadata(id: $id, input: [{key: "k", value: "v"}])'
        " { errors { field code message } } }"
    ),
    "deletePrivateMetadata": (
        'mutation($id: ID!) { deletePrivateMetadata(id: $id, keys: ["k"])'
        " { errors { field code message } } }"
    ),
}
PUBLIC = {
    "updateMetadata": (
        'mutation($id: ID!) { updateMetadata(id: $id, input: [{key: "k", value: "v"}])'
        " { errors { field code message } } }"
    ),
    "deleteMetadata": (
        'mutation($id: ID!) { deleteMetadata(id: $id, keys: ["k"])'
        " { errors { field code message } } }"
    ),
}
DENIED = "You do not have permission to perform this action"


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
@pytest.mark.parametrize("permissions", [None, ["MANAGE_PRODUCTS"]])
async def test_private_metadata_of_a_deleted_user_is_a_top_level_permission_denied(
    sandbox: SaleorSandbox,
    fake_app: FakeApp,
    client: httpx.AsyncClient,
    version: str,
    permissions: list[str] | None,
) -> None:
    sandbox.version = version
    app = await install(sandbox, permissions)  # None: the manifest's (MANAGE_USERS among them)
    customer = sandbox.store.create_customer("gone@example.com")
    await sandbox.delete_customer(customer)
    for field, document in PRIVATE.items():
        body = await gql(client, document, {"id": customer.global_id}, token=app.auth_token)
        assert body["data"] == {field: None}
        [error] = body["errors"]
        assert error["message"] == DENIED  # no permission named: none was compared
        assert error["extensions"]["exception"]["code"] == "PermissionDenied"
        assert error["path"] == [field]


@pytest.mark.parametrize("permissions", [None, ["MANAGE_PRODUCTS"]])
async def test_public_metadata_of_a_deleted_user_is_a_not_found_mutation_error(
    sandbox: SaleorSandbox,
    fake_app: FakeApp,
    client: httpx.AsyncClient,
    permissions: list[str] | None,
) -> None:
    app = await install(sandbox, permissions)
    customer = sandbox.store.create_customer("gone@example.com")
    await sandbox.delete_customer(customer)
    for field, document in PUBLIC.items():
        body = await gql(client, document, {"id": customer.global_id}, token=app.auth_token)
        assert body == {
            "data": {
                field: {
                    "errors": [
                        {"field": "id", "code": "NOT_FOUND", "message": "Couldn't resolve user."}
                    ]
                }
            }
        }


async def test_a_deleted_user_fails_only_its_own_alias_of_a_request(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """As the engagement writer sends them (4 aliases): the deleted user's field is null with
    an error at its path; the other writes are made and answered (mutations run one after the
    other; an error of a nullable field nulls that field only)."""
    app = await install(sandbox)
    customers = [sandbox.store.create_customer(f"c{i}@example.com") for i in range(4)]
    await sandbox.delete_customer(customers[1])
    fields = " ".join(
        f'w{i}: updatePrivateMetadata(id: $id{i}, input: [{{key: "k", value: "v{i}"}}])'
        " { errors { field code message } }"
        for i in range(4)
    )
    document = "mutation(" + ", ".join(f"$id{i}: ID!" for i in range(4)) + f") {{ {fields} }}"
    variables = {f"id{i}": c.global_id for i, c in enumerate(customers)}

    body = await gql(client, document, variables, token=app.auth_token)

    assert body["data"] == {
        "w0": {"errors": []},
        "w1": None,
        "w2": {"errors": []},
        "w3": {"errors": []},
    }
    [error] = body["errors"]
    assert error["path"] == ["w1"] and error["message"] == DENIED
    assert error["extensions"]["exception"]["code"] == "PermissionDenied"
    for i in (0, 2, 3):
        assert sandbox.store.get_customer(customers[i].id).private_metadata == {"k": f"v{i}"}
