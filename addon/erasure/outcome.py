"""What an erasure did in Mailchimp (`Erased`, its runs added up) and the Activity note
that says so without the address (`summary`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from addon.erasure.schemas import ErasedCounts, ErasureSource


@dataclass
class Erased:
    """What Mailchimp erased."""

    members: int = 0
    customers: int = 0
    carts: int = 0
    orders: int = 0
    audiences: int = 0
    stores: int = 0
    connected: bool = True

    def plus(self, earlier: ErasedCounts) -> Erased:
        """These deletions and those of the erasure's earlier runs."""
        return replace(
            self,
            members=earlier.members + self.members,
            customers=earlier.customers + self.customers,
            carts=earlier.carts + self.carts,
            orders=earlier.orders + self.orders,
        )

    def counts(self) -> ErasedCounts:
        return ErasedCounts(
            members=self.members, customers=self.customers, carts=self.carts, orders=self.orders
        )


def summary(erased_: Erased, source: ErasureSource, delete_orders: bool, forgotten: int) -> str:
    why = {
        ErasureSource.CUSTOMER_DELETED: "The customer was deleted in Saleor",
        ErasureSource.ACCOUNT_DELETED: "The customer deleted their account in Saleor",
        ErasureSource.PANEL: "A staff user erased the customer from the customer panel",
        ErasureSource.ADDRESS: "A staff user erased an e-mail address",
    }[source]
    if not erased_.connected:
        done = (
            "Mailchimp was not connected (or not connected again within 30 days), so nothing "
            "could be erased there"
        )
    else:
        orders = (
            f"{erased_.orders} order(s) deleted"
            if delete_orders
            else "their orders kept (the erasure setting keeps revenue history)"
        )
        done = (
            f"In Mailchimp: {erased_.members} contact(s) permanently deleted across "
            f"{erased_.audiences} audience(s) (Mailchimp will not let the address be added "
            f"again through the app); in {erased_.stores} store(s) {erased_.customers} "
            f"customer record(s) and {erased_.carts} cart(s) deleted, {orders}"
        )
    return (
        f"{why}: erased. {done}. The app forgot the address in its own records "
        f"({forgotten} kept as a hash only)."
    )
