"""Customer operations of ``SaleorSandbox`` that emit events: customers and their addresses,
accounts and metadata changed in the store (``store_customers.py``) with the webhook events
Saleor sends for each."""

from __future__ import annotations

from typing import Any

from .metadata_schema import metadata_events
from .models import Address, Customer
from .sandbox_webhooks import SandboxWebhooks
from .store_customers import EmailTaken
from .versions import customer_update_only_changes


class SandboxCustomerEvents(SandboxWebhooks):
    """Customer operations that emit the webhook events Saleor emits for them."""

    async def create_customer(
        self, email: str, first_name: str = "", last_name: str = "", **fields: Any
    ) -> Customer:
        """`accountRegister`, or staff's `customerCreate`: the user is unconfirmed (until
        `confirmAccount`, or a password set), and CUSTOMER_CREATED is sent at once
        (saleor/graphql/account/mutations/account/account_register.py `save`;
        mutations/base.py `BaseCustomerCreate.clean_input`: "Always set the user as
        unconfirmed during account creation"). `is_confirmed=True`: one who confirmed."""
        fields.setdefault("is_confirmed", False)
        customer = self.store.create_customer(email, first_name, last_name, **fields)
        await self.emit("CUSTOMER_CREATED", customer)
        return customer

    async def confirm_account(self, customer: Customer) -> Customer:
        """`confirmAccount`: ACCOUNT_CONFIRMED alone (saleor/graphql/account/mutations/
        account/confirm_account.py `post_save_action`)."""
        confirmed = self.store.update_customer(customer, is_confirmed=True)
        self.store.match_orders_with_new_user(confirmed)  # (`ConfirmAccount.perform_mutation`)
        await self.emit("ACCOUNT_CONFIRMED", confirmed)
        return confirmed

    async def update_customer(self, customer: Customer, **changes: Any) -> Customer:
        """``customerUpdate`` by staff: CUSTOMER_UPDATED on every call before 3.22.18 / 3.23.0,
        on a change only since (the GraphQL resolver's rule, `account_schema.py`). An address
        another user has is refused (`EmailTaken`, nothing sent); a new address, or the account
        confirmed, takes the guest orders placed with it (`match_orders_with_new_user`,
        saleor/graphql/account/mutations/staff/customer_update.py `generate_events`)."""
        if customer_update_only_changes(self.version):
            changes = self.store.customer_changes(customer, **changes)
            if not changes:
                return self.store.get_customer(customer.id)
        before = self.store.get_customer(customer.id)
        was = (before.email, before.is_confirmed)
        updated = self.store.update_customer(customer, **changes)
        if updated.email != was[0] or (updated.is_confirmed and not was[1]):
            self.store.match_orders_with_new_user(updated)
        await self.emit("CUSTOMER_UPDATED", updated)
        return updated

    async def update_address(self, customer: Customer, address_id: int, **changes: Any) -> Address:
        """`addressUpdate` / `accountAddressUpdate`: ADDRESS_UPDATED only, no CUSTOMER_UPDATED
        (saleor/graphql/account/mutations/base.py, `BaseAddressUpdate`); the event's
        `address` has no user."""
        address = self.store.update_address(customer, address_id, **changes)
        await self.emit("ADDRESS_UPDATED", address)
        return address

    async def delete_address(self, customer: Customer, address_id: int) -> Address:
        """`addressDelete` / `accountAddressDelete`: ADDRESS_DELETED only
        (`BaseAddressDelete`)."""
        address = self.store.delete_address(customer, address_id)
        await self.emit("ADDRESS_DELETED", address)
        return address

    async def delete_customer(self, customer: Customer) -> Customer:
        """Staff's `customerDelete`: CUSTOMER_DELETED. A staff member is refused, nothing sent
        (saleor/graphql/account/mutations/base.py `CustomerDeleteMixin.clean_instance`, 3.20.119
        as HEAD)."""
        _refuse_staff(self.store.get_customer(customer.id))
        removed = self.store.delete_customer(customer)
        await self.emit("CUSTOMER_DELETED", removed)
        return removed

    async def make_staff(self, customer: Customer) -> Customer:
        """`staffCreate` with an existing customer's address: Saleor makes that user staff
        rather than creating one (saleor/graphql/account/mutations/staff/staff_create.py
        `get_instance`: `User.objects.filter(email=email, is_staff=False)`), and sends
        STAFF_CREATED (`post_save_action`), not CUSTOMER_UPDATED."""
        promoted = self.store.update_customer(customer, is_staff=True)
        await self.emit("STAFF_CREATED", promoted)
        return promoted

    async def confirm_email_change(self, customer: Customer, new_email: str) -> Customer:
        """The customer confirmed a new address (``confirmEmailChange``): CUSTOMER_UPDATED, then
        ACCOUNT_EMAIL_CHANGED (saleor/graphql/account/mutations/account/confirm_email_change.py,
        ``post_save_action``; the address is lower-cased there). A staff user's
        ``customerUpdate`` sends CUSTOMER_UPDATED only: :meth:`update_customer`.

        ``newEmail`` of ACCOUNT_EMAIL_CHANGED stays null, as in Saleor: the event's data holds
        only the user (saleor/plugins/webhook/plugin.py ``_trigger_account_event``) and
        ``AccountEmailChanged`` resolves no ``new_email`` from it; ``user.email`` is the new one.

        An address another user has is refused, nothing saved or sent: "Email is used by other
        user." (``perform_mutation``, 3.20.119 as HEAD), and so is the customer's own address:
        the check (`User.objects.filter(email=new_email).exists()`) does not leave them out.
        The guest orders placed with the new address become the customer's
        (``post_save_action``: ``match_orders_with_new_user``).
        """
        new_email = new_email.lower()
        current = self.store.get_customer(customer.id)
        # `User.objects.filter(email=new_email).exists()`: the user's own address too.
        if current.email == new_email or self.store.email_taken(current, new_email):
            raise EmailTaken("Email is used by other user.")
        updated = self.store.update_customer(customer, email=new_email)
        self.store.match_orders_with_new_user(updated)
        await self.emit("CUSTOMER_UPDATED", updated)
        await self.emit("ACCOUNT_EMAIL_CHANGED", updated)
        return updated

    async def delete_account(self, customer: Customer) -> Customer:
        """The customer deleted their own account (``accountDelete``): ACCOUNT_DELETED, whose
        ``user`` still carries the id and e-mail (saleor/graphql/account/mutations/account/
        account_delete.py restores the id after ``user.delete()``). A staff member is refused,
        nothing sent (its `clean_instance`, 3.20.119 as HEAD)."""
        _refuse_staff(self.store.get_customer(customer.id))
        removed = self.store.delete_customer(customer)
        await self.emit("ACCOUNT_DELETED", removed)
        return removed

    async def update_customer_metadata(
        self, customer: Customer, metadata: dict[str, str], private: bool = False
    ) -> Customer:
        current = self.store.get_customer(customer.id)
        before = (current.metadata, current.private_metadata)
        if private:
            current.private_metadata = {**current.private_metadata, **metadata}
        else:
            current.metadata = {**current.metadata, **metadata}
        if (current.metadata, current.private_metadata) != before:  # as a metadata mutation
            for event in metadata_events(current, self.store, self.version):
                await self.emit(event, current)
        return current


class DeleteStaffAccount(ValueError):
    """`customerDelete` / `accountDelete` of a staff member, refused."""

    code = "DELETE_STAFF_ACCOUNT"


def _refuse_staff(customer: Customer) -> None:
    if customer.is_staff:
        raise DeleteStaffAccount("Cannot delete a staff account.")
