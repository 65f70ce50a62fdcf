"""Customers of ``SaleorStore``: created, found by e-mail (an index rebuilt when an e-mail
changes), updated, deleted, and listed for a creation range in an ordering."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .cursors import Ordering
from .models import Address, CreationWrites, Customer, EmailWrites, utcnow
from .order_models import Order, OrderStatus
from .store_base import JOINED_KEY, NotFound, StoreBase


class EmailTaken(ValueError):
    """A customer's new address is another user's: `User.email` is unique
    (saleor/account/models.py `email = models.EmailField(unique=True)`, 3.20.119 as HEAD)."""


# Saleor's `Order.objects.confirmed()` (saleor/order/models.py `OrderQueryset.confirmed`):
# the orders that are neither drafts nor unconfirmed.
NOT_CONFIRMED = (OrderStatus.DRAFT, OrderStatus.UNCONFIRMED)


class StoreCustomers(StoreBase):
    """Customers (Saleor's users), found by e-mail and by date joined."""

    # The site settings of account confirmation, as Saleor defaults them (saleor/site/models.py
    # `SiteSettings`, 3.20.119 as 3.22.0): a new account is sent a confirmation e-mail and
    # cannot sign in before it confirms. A store may turn either off (`shopSettingsUpdate`).
    enable_account_confirmation_by_email: bool = True
    allow_login_without_confirmation: bool = False

    def sign_in_refusal(self, customer: Customer) -> str | None:
        """Why `tokenCreate` refuses the customer, if it does: unconfirmed while the store
        asks for confirmation by e-mail and no login without it, or inactive
        (saleor/graphql/account/mutations/authentication/create_token.py `get_user`, 3.20.119
        as 3.22.0). Whoever registers an address is unconfirmed (`create_customer`), so with
        confirmation off, or login without it allowed, anyone signs in as any address."""
        if (
            not customer.is_confirmed
            and not self.allow_login_without_confirmation
            and self.enable_account_confirmation_by_email
        ):
            return "Account needs to be confirmed via email."
        if not customer.is_active:
            return "Account inactive."
        return None

    # -- customers ----------------------------------------------------------------------------

    def create_customer(
        self,
        email: str,
        first_name: str = "",
        last_name: str = "",
        addresses: Sequence[Address] = (),
        metadata: dict[str, str] | None = None,
        **fields: Any,
    ) -> Customer:
        email = email.strip().lower()
        if self.find_customer_by_email(email) is not None:
            raise ValueError(f"User with this Email already exists: {email}")
        stored = [a.model_copy(update={"id": a.id or self.next_id()}) for a in addresses]
        customer = Customer(
            id=self.next_id(),
            email=email,
            first_name=first_name,
            last_name=last_name,
            addresses=stored,
            metadata=dict(metadata or {}),
            default_billing_address_id=stored[0].id if stored else None,
            default_shipping_address_id=stored[0].id if stored else None,
            **fields,
        )
        self.customers[customer.id] = customer
        self._customer_writes += 1
        self._emails()[email] = customer.id  # after the e-mail's assignment in the model
        return customer

    def new_address(self, **fields: Any) -> Address:
        """An :class:`Address` with a fresh pk (not yet attached to anything)."""
        return Address(id=self.next_id(), **fields)

    def get_customer(self, pk: int) -> Customer:
        try:
            return self.customers[pk]
        except KeyError:
            raise NotFound(f"User {pk} does not exist") from None

    def customer_changes(self, customer: Customer | int, **changes: Any) -> dict[str, Any]:
        """Of `changes`, those that would change the customer (an address as it is stored):
        what Saleor's `customerUpdate` saves since 3.22.18 / 3.23.0 (`InstanceTracker`)."""
        current = self.get_customer(customer if isinstance(customer, int) else customer.id)
        stored = _as_stored(changes)
        return {k: v for k, v in stored.items() if getattr(current, k) != v}

    def update_customer(self, customer: Customer | int, **changes: Any) -> Customer:
        """Save the changes; an address another user has is refused, nothing saved: staff's
        `customerUpdate` runs `full_clean()` (saleor/graphql/core/mutations.py
        `ModelMutation.clean_instance`), whose unique check answers Django's "User with this
        Email already exists." (the message `BaseCustomerCreate.save` mimics on a race,
        saleor/graphql/account/mutations/base.py), 3.20.119 as HEAD."""
        current = self.get_customer(customer if isinstance(customer, int) else customer.id)
        changes = _as_stored(changes)
        if "email" in changes and self.email_taken(current, changes["email"]):
            raise EmailTaken("User with this Email already exists.")
        for key, value in changes.items():
            setattr(current, key, value)
        current.updated_at = utcnow()
        return current

    def email_taken(self, customer: Customer, email: str) -> bool:
        """Whether another user has the (stored) address."""
        holder = self.find_customer_by_email(email)
        return holder is not None and holder.id != customer.id

    def match_orders_with_new_user(self, customer: Customer) -> list[Order]:
        """The guest orders placed with the user's address become theirs: Saleor's
        `match_orders_with_new_user` (saleor/order/utils.py, 3.20.119 as HEAD),
        `Order.objects.confirmed().filter(user_email=user.email, user=None).update(user=user)`,
        run by `confirmEmailChange`, `confirmAccount`, and staff's `customerUpdate` when the
        address changed or the account was confirmed (`CustomerUpdate.generate_events`). A
        queryset update: no webhook is sent, and no order's `updated_at` changes (Django's
        `auto_now` is set by `save()` only). The orders matched."""
        matched = [
            o
            for o in self.orders.values()
            if o.user_id is None
            and o.user_email == customer.email
            and o.status not in NOT_CONFIRMED
        ]
        for order in matched:
            order.user_id = customer.id
        if matched:
            self._order_index = None
        return matched

    def update_address(self, customer: Customer | int, address_id: int, **changes: Any) -> Address:
        """Edit one of the customer's addresses in place, as `addressUpdate` and
        `accountAddressUpdate` do: the owner's `updated_at` is saved with it
        (saleor/graphql/account/mutations/base.py, `BaseAddressUpdate.perform_mutation`:
        `update_fields=[..., "updated_at"]`, in 3.20 as today)."""
        current = self.get_customer(customer if isinstance(customer, int) else customer.id)
        # A copy in the user's book: an order placed with the address holds its own copy
        # (`Address.get_copy()` in Saleor), which the edit leaves alone.
        address = _owned(current, address_id).model_copy(deep=True)
        for key, value in changes.items():
            setattr(address, key, value)  # validated, as every sandbox model's assignment
        current.addresses = [address if a.id == address_id else a for a in current.addresses]
        current.updated_at = utcnow()
        return address

    def delete_address(self, customer: Customer | int, address_id: int) -> Address:
        """Delete one of the customer's addresses (`addressDelete`, `accountAddressDelete`):
        a default it was is cleared (the user's foreign keys are `SET_NULL`,
        saleor/account/models.py) and the owner's `updated_at` saved
        (`BaseAddressDelete.perform_mutation`). The address keeps its id, as Saleor's instance
        does for the event."""
        current = self.get_customer(customer if isinstance(customer, int) else customer.id)
        address = _owned(current, address_id)
        current.addresses = [a for a in current.addresses if a.id != address_id]
        if current.default_billing_address_id == address_id:
            current.default_billing_address_id = None
        if current.default_shipping_address_id == address_id:
            current.default_shipping_address_id = None
        current.updated_at = utcnow()
        return address

    def delete_customer(self, customer: Customer | int) -> Customer:
        pk = customer if isinstance(customer, int) else customer.id
        self._customer_writes += 1
        removed = self.customers.pop(pk)
        self._emails().pop(removed.email, None)
        # Saleor's foreign keys: a checkout's user is CASCADE (saleor/checkout/models.py), an
        # order's SET_NULL (saleor/order/models.py), in 3.20.0 as today. The user's checkouts go
        # with them, with no webhook; their orders stay, as a guest's (the e-mail kept).
        for token in [t for t, c in self.checkouts.items() if c.user_id == pk]:
            del self.checkouts[token]
        for order in self.orders.values():
            if order.user_id == pk:
                order.user_id = None
        self._order_index = None
        return removed

    def customers_listed(
        self, order: Ordering[Customer], low: datetime, high: datetime
    ) -> list[Customer]:
        """The users who joined in `[low, high)`, sorted ascending by `order`'s values: bisected
        from the users sorted by date joined (see `orders_listed`), kept until a user is made,
        deleted, backdated or changes e-mail: the store's own list, not to be changed."""
        views = self._customer_views
        stamp = (
            self._customer_writes,
            len(self.customers),
            CreationWrites.count,
            EmailWrites.count,
        )

        def joined() -> list[Customer]:
            return sorted(self.customers.values(), key=_joined_then_pk)

        def listed() -> list[Customer]:
            dated = views.get(stamp, "joined", joined)
            start = bisect_left(dated, low, key=JOINED_KEY)
            stop = bisect_left(dated, high, lo=start, key=JOINED_KEY)
            return sorted(dated[start:stop], key=order.key)

        return views.get(stamp, (order.name, low, high), listed)


# saleor/settings.py `MAX_USER_ADDRESSES` (100 unless the environment says otherwise).
MAX_USER_ADDRESSES = 100
# The fields `Address.as_data()` compares and copies (saleor/account/models.py, `model_to_dict`
# excluding only id and user; an address is a `ModelWithMetadata`, so both metadata go too).
_ADDRESS_FIELDS = tuple(name for name in Address.model_fields if name != "id")


def keep_in_address_book(
    customer: Customer, address: Address, next_id: Callable[[], int], *, billing: bool
) -> None:
    """An order's address kept in its buyer's address book as `checkoutComplete` keeps it
    (saleor/account/utils.py `store_user_address`, called by `_process_user_data_for_order` for
    the billing address and `_process_shipping_data_for_order` for the shipping one,
    saleor/checkout/complete_checkout.py at 3.20.119 and 723cd4e): nothing once the user holds
    `MAX_USER_ADDRESSES`; an equal address (`as_data()`: every field but the id) reused, else a copy
    added; made the default billing (or shipping) address only where there is none, which
    saves the user's `updated_at` (`set_user_default_billing_address`). No webhook: none of
    these calls the plugin manager. Not modelled: the checkout's `saveBillingAddress` and
    `saveShippingAddress` (3.21+, default true) and collection points, whose address is not
    kept (the sandbox has none)."""
    if len(customer.addresses) >= MAX_USER_ADDRESSES:
        return
    data = {name: getattr(address, name) for name in _ADDRESS_FIELDS}
    kept = next(
        (a for a in customer.addresses if all(getattr(a, n) == v for n, v in data.items())),
        None,
    )
    if kept is None:
        kept = Address(id=next_id(), **data)
        customer.addresses = [*customer.addresses, kept]
    if billing and customer.default_billing_address_id is None:
        customer.default_billing_address_id = kept.id
        customer.updated_at = utcnow()
    elif not billing and customer.default_shipping_address_id is None:
        customer.default_shipping_address_id = kept.id
        customer.updated_at = utcnow()


def _owned(customer: Customer, address_id: int) -> Address:
    found = next((a for a in customer.addresses if a.id == address_id), None)
    if found is None:
        raise NotFound(f"Address {address_id} is not one of user {customer.id}'s")
    return found


def _joined_then_pk(customer: Customer) -> tuple[datetime, int]:
    return customer.date_joined, customer.id


def _as_stored(changes: dict[str, Any]) -> dict[str, Any]:
    """A customer's changes as they are stored: an address lower-cased and trimmed."""
    if "email" not in changes:
        return changes
    return {**changes, "email": str(changes["email"]).strip().lower()}
