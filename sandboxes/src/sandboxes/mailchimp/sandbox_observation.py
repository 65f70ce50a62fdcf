"""What tests observe of ``MailchimpSandbox`` (sandbox.py): how many requests an account has in
flight and had at most (a peak a test may reset), every Marketing API request seen, the
confirmation e-mails "sent", and copies of what an account holds (its audiences with their
members and webhooks, its stores with their customers, products, orders, carts and
notifications, its batches)."""

from __future__ import annotations

from .batch_models import Batch
from .models import (
    AudienceList,
    Cart,
    Customer,
    ListWebhook,
    LoggedRequest,
    Member,
    Order,
    Product,
    Store,
)
from .sandbox_accounts import AccountRef, SandboxAccounts
from .state import ConfirmationEmail, ListData, StoreData, subscriber_hash


class SandboxObservation(SandboxAccounts):
    """What tests read of the sandbox's state (copies, taken under its lock), and the reset of
    an account's peak concurrency."""

    # --- observation ---------------------------------------------------------------------

    def peak_concurrency(self, account: AccountRef) -> int:
        """Most simultaneous requests the account ever had in flight (rejected ones excluded)."""
        return self._data(account).peak_concurrency

    def in_flight(self, account: AccountRef) -> int:
        return self._data(account).in_flight

    def reset_peak_concurrency(self, account: AccountRef) -> None:
        data = self._data(account)
        with self.state.lock:
            data.peak_concurrency = data.in_flight

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every Marketing API request seen so far (HTTP and batch operations)."""
        with self.state.lock:
            return list(self.state.request_log)

    @property
    def confirmations(self) -> list[ConfirmationEmail]:
        """Double opt-in confirmation e-mails "sent" (member set to ``pending``)."""
        with self.state.lock:
            return list(self.state.confirmations)

    def _list(self, account: AccountRef, list_id: str) -> ListData:
        return self._data(account).lists[list_id]

    def _store(self, account: AccountRef, store_id: str) -> StoreData:
        return self._data(account).stores[store_id]

    def lists(self, account: AccountRef) -> list[AudienceList]:
        with self.state.lock:
            return [d.info.model_copy(deep=True) for d in self._data(account).lists.values()]

    def members(self, account: AccountRef, list_id: str) -> list[Member]:
        with self.state.lock:
            return [m.model_copy(deep=True) for m in self._list(account, list_id).members.values()]

    def member(self, account: AccountRef, list_id: str, email: str) -> Member | None:
        with self.state.lock:
            found = self._list(account, list_id).members.get(subscriber_hash(email))
            return found.model_copy(deep=True) if found else None

    def webhooks(self, account: AccountRef, list_id: str) -> list[ListWebhook]:
        with self.state.lock:
            return [w.model_copy() for w in self._list(account, list_id).webhooks.values()]

    def stores(self, account: AccountRef) -> list[Store]:
        with self.state.lock:
            return [d.info.model_copy(deep=True) for d in self._data(account).stores.values()]

    def customers(self, account: AccountRef, store_id: str) -> list[Customer]:
        with self.state.lock:
            return [
                c.model_copy(deep=True) for c in self._store(account, store_id).customers.values()
            ]

    def products(self, account: AccountRef, store_id: str) -> list[Product]:
        with self.state.lock:
            return [
                p.model_copy(deep=True) for p in self._store(account, store_id).products.values()
            ]

    def orders(self, account: AccountRef, store_id: str) -> list[Order]:
        with self.state.lock:
            return [o.model_copy(deep=True) for o in self._store(account, store_id).orders.values()]

    def notifications(self, account: AccountRef, store_id: str) -> list[tuple[str, str]]:
        """The order notifications the store sent, as (order id, e-mail) (`orders.notify`)."""
        with self.state.lock:
            return list(self._store(account, store_id).notifications)

    def carts(self, account: AccountRef, store_id: str) -> list[Cart]:
        with self.state.lock:
            return [c.model_copy(deep=True) for c in self._store(account, store_id).carts.values()]

    def batches(self, account: AccountRef) -> list[Batch]:
        with self.state.lock:
            return [b.model_copy(deep=True) for b in self._data(account).batches.values()]
