"""What the erasure endpoints and job take and answer."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from addon.subscriptions.schemas import Email


class ErasureSource(StrEnum):
    CUSTOMER_DELETED = "customer_deleted"  # staff deleted the customer in Saleor
    ACCOUNT_DELETED = "account_deleted"  # the customer deleted their own account
    PANEL = "panel"  # a staff user pressed "Erase from Mailchimp" in the customer panel
    # A staff user erased an address: a guest shopper's, a customer's already deleted in
    # Saleor, or one a deletion request forwarded by Mailchimp names.
    ADDRESS = "address"


class ErasedCounts(BaseModel):
    """What an erasure's earlier runs deleted in Mailchimp (one that must erase again after a
    push sent meanwhile reports them all)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    members: int = 0
    customers: int = 0
    carts: int = 0
    orders: int = 0


class EraseRequest(BaseModel):
    """The `erasure.erase` job. The address is needed until Mailchimp has erased it; the job's
    last transaction replaces it (here too) by its hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str
    saleor_user_id: str | None = None
    source: ErasureSource
    erased: ErasedCounts = ErasedCounts()


class ErasedAudience(BaseModel):
    list_id: str
    name: str
    member: bool = Field(description="The app knows the address as a contact of this audience.")


class ErasedStore(BaseModel):
    channel: str
    name: str
    customer: bool
    carts: int
    orders: int


class ErasurePreview(BaseModel):
    """What erasing the customer would do, for the confirmation dialog."""

    customer_id: str
    email: str
    audiences: list[ErasedAudience]
    stores: list[ErasedStore]
    delete_orders: bool = Field(
        description="Orders are deleted too (the erasure setting); otherwise they stay."
    )
    connected: bool


class ErasureAccepted(BaseModel):
    message: str


class ErasureSettingsRead(BaseModel):
    delete_orders: bool


class ErasureSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delete_orders: bool


class EraseAddress(BaseModel):
    """An e-mail address to erase, whoever it belongs to."""

    model_config = ConfigDict(extra="forbid")

    email: Email
