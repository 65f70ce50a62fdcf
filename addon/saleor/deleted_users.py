"""Whether Saleor deleted a user the app cannot see: the one probe the erasure of a deleted
customer, the replay of deletions missed while the app was deactivated, and the e-mail change
share.

`customers` and `user(id:)` / `user(email:)` show a MANAGE_USERS app no staff member without
orders (saleor/graphql/account/resolvers.py `resolve_user`, saleor/account/models.py
`UserManager.customers`), and the app holds no MANAGE_STAFF: a customer whom `staffCreate` made
staff (it promotes the existing user of that address, saleor/graphql/account/mutations/staff/
staff_create.py `get_instance`) reads as null, as a deleted one does. A metadata mutation that
names no key tells them apart: Saleor looks the user up first and answers a missing one
NOT_FOUND, a staff member PermissionDenied (`queries/missed_customer_deleted.graphql`).
"""

from __future__ import annotations

from pydantic import SecretStr

from addon.saleor.client import SaleorClient, SaleorPermissionDenied, SaleorTokenRefused

__all__ = ["user_deleted"]


async def user_deleted(saleor: SaleorClient, api_url: str, token: SecretStr, user_id: str) -> bool:
    """Whether Saleor has no user of this id: not a staff member hidden from the app.

    Only Saleor's NOT_FOUND is evidence (saleor/graphql/meta/permissions.py
    `public_user_permissions` raises it for a missing user, before comparing permissions; a
    staff member needs MANAGE_STAFF, refused as PermissionDenied). The refusal is expected, so
    it is not reported as the app's token being refused; anything else raises (the caller's
    job is retried). Ask only about a user the app's reads answered null for: on a customer it
    can see, the mutation succeeds (deleting nothing)."""
    try:
        data = await saleor.execute(
            api_url, token, "missed_customer_deleted", {"id": user_id}, notify_refusal=False
        )
    except SaleorTokenRefused:
        raise
    except SaleorPermissionDenied as exc:
        if exc.denied_at("deleteMetadata"):
            return False  # a staff member: Saleor has them
        raise
    result = data.get("deleteMetadata")
    if result is None:
        raise ValueError("Saleor answered nothing to missed_customer_deleted")
    errors = result.get("errors") or []
    return any(e.get("field") == "id" and e.get("code") == "NOT_FOUND" for e in errors)
