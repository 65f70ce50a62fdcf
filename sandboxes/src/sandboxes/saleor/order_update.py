"""What Saleor's `orderUpdate` changes on an order (saleor/graphql/order/mutations/
order_update.py, `clean_input`, `_save`, at tag 3.20.119 and commit 723cd4e), as the changes
`SaleorStore.update_order` saves; whether it saves and announces them is the caller's
(`sandbox_order_edits.py`, by version: `versions.order_update_only_changes`).

* A draft is refused ("Use `draftOrderUpdate` mutation instead.", `get_instance`).
* `userEmail` is stored as given (no lower-casing: `construct_instance`; `full_clean()` refuses
  an invalid address). A non-empty one also picks the order's user:
  `User.objects.get(email=email, is_active=True)`, an exact match (PostgreSQL compares case;
  Saleor stores the addresses of its users as its mutations lower-case them). The user found,
  when another than the order's, becomes its user; none found, the order loses its user and is a
  guest's. So correcting the address to another registered customer's gives them the order, and
  to an unregistered address (or one in other capitals than the user's) makes it a guest's.
* Addresses: since 3.22.0 compared field by field with the order's (`InstanceTracker`), the same
  address being no change; before, each one given is saved as a new address, a change.
* `languageCode` since 3.21.0 (`versions.order_update_takes_language`).
"""

from __future__ import annotations

import re
from typing import Any

from .models import Address, WithMetadata
from .order_models import Order, OrderStatus
from .store import SaleorStore
from .versions import order_addresses_tracked, order_update_takes_language

# Django's `validate_email` in spirit (`Order.user_email = models.EmailField(...)`): one "@", a
# dotted domain, no blanks.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ADDRESSES = ("shipping_address", "billing_address")
# What `AddressInput` sets (`ADDRESS_UPDATE_FIELDS`): an address's fields, not its pk or metadata.
_ADDRESS_FIELDS = tuple(f for f in Address.model_fields if f not in WithMetadata.model_fields)


class OrderUpdateRefused(ValueError):
    """`orderUpdate` answers an error and changes nothing."""


def order_update_changes(
    store: SaleorStore, order: Order, version: str, **given: Any
) -> dict[str, Any]:
    """The fields of `order` that `orderUpdate(input: given)` changes, with their new values
    (`user_id` when its user changes): empty when it changes nothing. Raises
    `OrderUpdateRefused` for what Saleor refuses; `TypeError` for what its input cannot say."""
    allowed = {"user_email", *_ADDRESSES}
    if order_update_takes_language(version):
        allowed.add("language_code")
    unknown = set(given) - allowed
    if unknown:
        raise TypeError(
            f"orderUpdate takes no {', '.join(sorted(unknown))} at Saleor {version} "
            "(its input: userEmail, shippingAddress, billingAddress"
            f"{', languageCode' if 'language_code' in allowed else ''}); lines are changed by "
            "`add_order_lines` / `update_order_line` / `delete_order_line`, a note added by "
            "`add_order_note`"
        )
    if order.status is OrderStatus.DRAFT:
        raise OrderUpdateRefused(
            "Provided order id belongs to draft order. Use `draftOrderUpdate` mutation instead."
        )
    changes: dict[str, Any] = {}
    if "user_email" in given:
        changes |= _email_changes(store, order, given["user_email"])
    for field in _ADDRESSES:
        if given.get(field) is not None:  # `if shipping_address_data:`
            changes |= _address_change(store, order, field, given[field], version)
    language = given.get("language_code")
    if language is not None and language != order.language_code:
        changes["language_code"] = language
    return changes


def _email_changes(store: SaleorStore, order: Order, email: Any) -> dict[str, Any]:
    if not isinstance(email, str):  # `userEmail: null`: the non-null field's `full_clean()`
        raise OrderUpdateRefused("This field cannot be null.")
    if email and not _EMAIL.match(email):
        raise OrderUpdateRefused("Enter a valid email address.")
    changes: dict[str, Any] = {}
    if email != order.user_email:
        changes["user_email"] = email
    if not email:  # `if email := cleaned_input.get("user_email", None):` picks no user
        return changes
    user = next((c for c in store.customers.values() if c.email == email and c.is_active), None)
    if user is not None and user.id != order.user_id:
        changes["user_id"] = user.id
    elif user is None and order.user_id is not None:
        changes["user_id"] = None
    return changes


def _address_change(
    store: SaleorStore, order: Order, field: str, given: Address, version: str
) -> dict[str, Any]:
    """A whole address (`AddressInput` as `validate_address` takes it: what a field left out
    becomes is not modelled)."""
    if not isinstance(given, Address):
        raise TypeError(f"{field}: an Address (`SaleorSandbox.address`), not {given!r}")
    values = {f: getattr(given, f) for f in _ADDRESS_FIELDS}
    current: Address | None = getattr(order, field)
    if order_addresses_tracked(version) and current is not None:
        if all(getattr(current, k) == v for k, v in values.items()):
            return {}
        return {field: current.model_copy(update=values)}  # the same address, its fields saved
    return {field: store.new_address(**values)}
