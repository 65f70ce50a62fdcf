"""Resolvers of users (Saleor's account): ``me``, ``user``, ``customerUpdate``, a user's
orders and default addresses, and which users count as customers."""

from __future__ import annotations

from typing import Any

from .arguments import page_args, pk_or_none
from .connections import paginate, saleor_error
from .context import Info, api_context
from .ids import InvalidGlobalId, from_global_id
from .models import Address, Customer
from .store import SaleorStore
from .versions import customer_update_only_changes, user_email_any_case


def resolve_me(root: Any, info: Info) -> Customer | None:
    return api_context(info).viewer.user


def is_customer(store: SaleorStore, user: Customer) -> bool:
    """Saleor's ``User.objects.customers()``: non-staff users, and staff users who placed an
    order (saleor/account/models.py, ``UserManager.customers``)."""
    return not user.is_staff or store.has_orders(user.id)


def resolve_user(
    root: Any, info: Info, id: str | None = None, email: str | None = None
) -> Customer | None:
    """Which users a requester may look up, as saleor/graphql/account/resolvers.py
    ``resolve_user`` decides: MANAGE_STAFF and MANAGE_USERS see everyone, MANAGE_STAFF alone
    only staff, MANAGE_USERS or MANAGE_ORDERS only customers (staff users with an order
    count as customers); anything else is PermissionDenied."""
    context = api_context(info)
    viewer, store = context.viewer, context.store
    context.viewer.require("MANAGE_STAFF", "MANAGE_USERS", "MANAGE_ORDERS")
    # saleor/graphql/account/schema.py `resolve_user`: `validate_one_of_args_is_in_query`
    # counts the arguments given with a true value (an empty one is not given).
    given = [name for name, value in (("id", id), ("email", email)) if value]
    if len(given) > 1:
        raise saleor_error("Argument 'id' cannot be combined with 'email'")
    if id:
        # Saleor's from_global_id_or_error(id, User) (saleor/graphql/core/utils): a malformed
        # id is an error ("Couldn't resolve id"), another type's id finds nobody.
        try:
            type_name, _ = from_global_id(id)
        except InvalidGlobalId as exc:
            raise saleor_error(str(exc)) from exc
        pk = pk_or_none(id, "User") if type_name == "User" else None
        user = store.customers.get(pk) if pk is not None else None
    elif email:
        # `email__iexact=email.lower()` (resolvers.py `resolve_user`), before 3.22 `email` as
        # given (`user_email_any_case`): no white space is trimmed, and a stored address has
        # none; the sandbox stores addresses in lower case, as Saleor's mutations do.
        exact = email == email.strip() and (
            user_email_any_case(context.saleor_version) or email == email.lower()
        )
        user = store.find_customer_by_email(email) if exact else None
    else:
        raise saleor_error(
            "At least one of arguments is required: 'id', 'email', 'externalReference'."
        )
    if user is None:
        return None
    staff, users = viewer.has_any(["MANAGE_STAFF"]), viewer.has_any(["MANAGE_USERS"])
    if staff and users:
        return user
    if staff:
        return user if user.is_staff else None
    return user if is_customer(store, user) else None


# Customer ---------------------------------------------------------------------------------------


def address_by_id(customer: Customer, pk: int | None) -> Address | None:
    return next((a for a in customer.addresses if a.id == pk), None)


def resolve_user_orders(source: Customer, info: Info, **args: Any) -> Any:
    context = api_context(info)
    if not (context.viewer.user is not None and context.viewer.user.id == source.id):
        context.viewer.require("MANAGE_ORDERS", "MANAGE_USERS")
    orders = context.store.orders_of(source.id)
    return paginate(info, orders, lambda o: o.id, **page_args(args))


def language_enum(code: str) -> str:
    """Saleor's `LanguageCodeEnum[str_to_enum(language_code)]` (account/types.py)."""
    return code.replace("-", "_").upper()


def resolve_customer_update(
    root: Any, info: Info, input: dict[str, Any], id: str | None = None
) -> dict[str, Any]:
    """customerUpdate (saleor/graphql/account/mutations/staff/customer_update.py): MANAGE_USERS;
    an unknown id is an AccountError NOT_FOUND. Names are stored as given (a model field strips
    nothing) and checked by `full_clean`: at most 256 characters (saleor/account/models.py
    `first_name`, `last_name`), else Django's message as an INVALID error of the field, in
    camel case, nothing saved. Saved, with CUSTOMER_UPDATED, on every call before 3.22.18 /
    3.23.0, on a change only since (`versions.customer_update_only_changes`)."""
    context = api_context(info)
    context.viewer.require("MANAGE_USERS")
    pk = pk_or_none(id, "User") if id else None
    customer = context.store.customers.get(pk) if pk is not None else None
    if customer is None:
        return {
            "errors": [
                {"field": "id", "message": f"Couldn't resolve to a node: {id}", "code": "NOT_FOUND"}
            ],
            "user": None,
        }
    names = (("firstName", "first_name"), ("lastName", "last_name"))
    changes = {name: str(input[key]) for key, name in names if input.get(key) is not None}
    too_long = [
        {
            "field": key,
            "message": f"Ensure this value has at most {NAME_LENGTH} characters "
            f"(it has {len(changes[name])}).",
            "code": "INVALID",
        }
        for key, name in names
        if len(changes.get(name, "")) > NAME_LENGTH
    ]
    if too_long:
        return {"errors": too_long, "user": None}
    if customer_update_only_changes(context.saleor_version):
        changes = context.store.customer_changes(customer, **changes)
        if not changes:
            return {"errors": [], "user": customer}
    context.store.update_customer(customer, **changes)
    context.pending_events.append(("CUSTOMER_UPDATED", customer))
    return {"errors": [], "user": customer}


NAME_LENGTH = 256  # saleor/account/models.py User.first_name, last_name: max_length=256
