"""Metadata mutations on an id of a type other than User that names no object.

Saleor compares the permission of the id's type before it looks for the object
(saleor/graphql/meta/mutations/base.py `mutate`: `get_permissions`, `check_permissions`, then
`get_instance`; meta/permissions.py's maps): a caller without the permission is refused the
same whether the object exists or not, and only a caller holding it learns that it does not
(`get_node_or_error`: NOT_FOUND, "Couldn't resolve to a node: <id>"). A checkout's public
metadata needs no permission (`no_permissions`).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.ids import from_global_id, to_global_id

from .conftest import FakeApp, gql
from .test_graphql import install

UPDATE = (
    'mutation($id: ID!) {{ {field}(id: $id, input: [{{key: "k", value: "v"}}])'
    " {{ errors {{ field code message }} }} }}"
)


def _objects(sandbox: SaleorSandbox) -> dict[str, Any]:
    """One existing object of each type, by type name."""
    store = sandbox.store
    return {
        "Order": store.create_order(email="buyer@example.com"),
        "Checkout": store.create_checkout(email="buyer@example.com"),
        "Channel": store.default_channel(),
    }


def _missing(global_id: str) -> str:
    """An id of the same type as `global_id` that names no object."""
    type_name, pk = from_global_id(global_id)
    return to_global_id(type_name, str(int(pk) + 10**6) if pk.isdigit() else str(uuid.uuid4()))


CASES = [
    # (type, mutation, the permission it needs: None for none)
    ("Order", "updatePrivateMetadata", "MANAGE_ORDERS"),
    ("Order", "updateMetadata", "MANAGE_ORDERS"),
    ("Checkout", "updatePrivateMetadata", "MANAGE_CHECKOUTS"),
    ("Checkout", "updateMetadata", None),
    ("Channel", "updateMetadata", "MANAGE_CHANNELS"),
]


@pytest.mark.parametrize(("type_name", "field", "needed"), CASES)
async def test_without_the_permission_a_missing_object_is_refused_as_an_existing_one(
    sandbox: SaleorSandbox,
    fake_app: FakeApp,
    client: httpx.AsyncClient,
    type_name: str,
    field: str,
    needed: str | None,
) -> None:
    app = await install(sandbox, ["MANAGE_USERS"])
    existing = _objects(sandbox)[type_name].global_id
    document = UPDATE.format(field=field)

    answers = [
        await gql(client, document, {"id": object_id}, token=app.auth_token)
        for object_id in (existing, _missing(existing))
    ]

    if needed is None:  # anyone with the id: the missing one is not found
        assert answers[0] == {"data": {field: {"errors": []}}}
        assert answers[1]["data"][field]["errors"][0]["code"] == "NOT_FOUND"
        return
    for body in answers:
        assert body["data"] == {field: None}
        [error] = body["errors"]
        assert error["extensions"]["exception"]["code"] == "PermissionDenied"
        assert error["message"].endswith(f"one of the following permissions: {needed}")
        assert error["path"] == [field]


@pytest.mark.parametrize(("type_name", "field", "needed"), CASES)
async def test_with_the_permission_a_missing_object_is_not_found(
    sandbox: SaleorSandbox,
    fake_app: FakeApp,
    client: httpx.AsyncClient,
    type_name: str,
    field: str,
    needed: str | None,
) -> None:
    app = await install(sandbox, [needed] if needed else ["MANAGE_USERS"])
    existing = _objects(sandbox)[type_name].global_id
    missing = _missing(existing)

    body = await gql(client, UPDATE.format(field=field), {"id": missing}, token=app.auth_token)

    assert body == {
        "data": {
            field: {
                "errors": [
                    {
                        "field": "id",
                        "code": "NOT_FOUND",
                        "message": f"Couldn't resolve to a node: {missing}",
                    }
                ]
            }
        }
    }
    written = await gql(client, UPDATE.format(field=field), {"id": existing}, token=app.auth_token)
    assert written == {"data": {field: {"errors": []}}}


@pytest.mark.parametrize(
    ("type_name", "needed"),
    [
        ("Category", "MANAGE_PRODUCTS"),
        ("GiftCard", "MANAGE_GIFT_CARD"),
        ("Shop", "MANAGE_SETTINGS"),
    ],
)
async def test_a_type_the_sandbox_keeps_no_objects_of_is_refused_first_too(
    sandbox: SaleorSandbox,
    fake_app: FakeApp,
    client: httpx.AsyncClient,
    type_name: str,
    needed: str,
) -> None:
    """Saleor's types with objects the sandbox does not keep: their permission compared first,
    then NOT_FOUND (an id of one never names anything here)."""
    missing = to_global_id(type_name, "7")
    document = UPDATE.format(field="updatePrivateMetadata")
    lacking = await install(sandbox, ["MANAGE_USERS"])
    refused = await gql(client, document, {"id": missing}, token=lacking.auth_token)
    holding = await install(sandbox, [needed], variant="holding")
    allowed = await gql(client, document, {"id": missing}, token=holding.auth_token)

    [error] = refused["errors"]
    assert error["extensions"]["exception"]["code"] == "PermissionDenied"
    assert error["message"].endswith(f"one of the following permissions: {needed}")
    assert allowed["data"]["updatePrivateMetadata"]["errors"][0]["code"] == "NOT_FOUND"
