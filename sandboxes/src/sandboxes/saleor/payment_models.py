"""Payment models of the Saleor sandbox store (pydantic): what pays an order, as Saleor keeps it
(saleor/payment/models.py, saleor/order/models.py `OrderGrantedRefund`): payment apps'
transactions and their events, legacy payments and their operations, refunds granted before money
moves, and the statuses Saleor derives from them (`payments.py`). Amounts are
:class:`~decimal.Decimal`."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .ids import to_global_id
from .models import Node, WithMetadata, utcnow


class PaymentChargeStatus(StrEnum):
    NOT_CHARGED = "NOT_CHARGED"
    PENDING = "PENDING"
    PARTIALLY_CHARGED = "PARTIALLY_CHARGED"
    FULLY_CHARGED = "FULLY_CHARGED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    FULLY_REFUNDED = "FULLY_REFUNDED"
    REFUSED = "REFUSED"
    CANCELLED = "CANCELLED"


class OrderChargeStatus(StrEnum):
    NONE = "NONE"
    PARTIAL = "PARTIAL"
    FULL = "FULL"
    OVERCHARGED = "OVERCHARGED"


class OrderAuthorizeStatus(StrEnum):
    NONE = "NONE"
    PARTIAL = "PARTIAL"
    FULL = "FULL"


class TransactionEventType(StrEnum):
    """Saleor's `TransactionEventTypeEnum` (the subset payment apps report amounts with)."""

    AUTHORIZATION_SUCCESS = "AUTHORIZATION_SUCCESS"
    AUTHORIZATION_FAILURE = "AUTHORIZATION_FAILURE"
    AUTHORIZATION_REQUEST = "AUTHORIZATION_REQUEST"
    CHARGE_SUCCESS = "CHARGE_SUCCESS"
    CHARGE_FAILURE = "CHARGE_FAILURE"
    CHARGE_BACK = "CHARGE_BACK"
    CHARGE_REQUEST = "CHARGE_REQUEST"
    REFUND_SUCCESS = "REFUND_SUCCESS"
    REFUND_FAILURE = "REFUND_FAILURE"
    REFUND_REVERSE = "REFUND_REVERSE"
    REFUND_REQUEST = "REFUND_REQUEST"
    CANCEL_SUCCESS = "CANCEL_SUCCESS"
    CANCEL_FAILURE = "CANCEL_FAILURE"
    CANCEL_REQUEST = "CANCEL_REQUEST"


class TransactionEvent(Node):
    graphql_type: ClassVar[str] = "TransactionEvent"
    type: TransactionEventType
    amount: Decimal
    psp_reference: str
    message: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class TransactionItem(WithMetadata):
    """A payment app's transaction (Saleor's `TransactionItem`); amounts come from its events."""

    graphql_type: ClassVar[str] = "TransactionItem"
    token: uuid.UUID = Field(default_factory=uuid.uuid4)
    name: str = ""
    psp_reference: str = ""
    currency: str
    events: list[TransactionEvent] = Field(default_factory=list)
    authorized_value: Decimal = Decimal("0")
    charged_value: Decimal = Decimal("0")
    refunded_value: Decimal = Decimal("0")
    canceled_value: Decimal = Decimal("0")
    authorize_pending_value: Decimal = Decimal("0")
    charge_pending_value: Decimal = Decimal("0")
    refund_pending_value: Decimal = Decimal("0")
    cancel_pending_value: Decimal = Decimal("0")
    created_at: datetime = Field(default_factory=utcnow)
    modified_at: datetime = Field(default_factory=utcnow)

    @property
    def global_id(self) -> str:
        # Saleor's TransactionItem is keyed by its token.
        return to_global_id("TransactionItem", str(self.token))


class PaymentTransactionKind(StrEnum):
    """Saleor's legacy `TransactionKind` (the kinds the sandbox's gateway records)."""

    AUTH = "AUTH"
    CAPTURE = "CAPTURE"
    REFUND = "REFUND"
    VOID = "VOID"


class PaymentTransaction(Node):
    """One operation of a legacy payment (Saleor's `Transaction`)."""

    graphql_type: ClassVar[str] = "Transaction"
    kind: PaymentTransactionKind
    amount: Decimal
    is_success: bool = True
    created: datetime = Field(default_factory=utcnow)


class Payment(WithMetadata):
    """A legacy payment (Saleor's `Payment`), for orders paid through the payment plugins."""

    graphql_type: ClassVar[str] = "Payment"
    gateway: str = "mirumee.payments.dummy"
    total: Decimal
    captured_amount: Decimal = Decimal("0")
    currency: str
    charge_status: PaymentChargeStatus = PaymentChargeStatus.NOT_CHARGED
    is_active: bool = True
    transactions: list[PaymentTransaction] = Field(default_factory=list)
    token: str = Field(default_factory=lambda: uuid.uuid4().hex)
    created: datetime = Field(default_factory=utcnow)
    modified: datetime = Field(default_factory=utcnow)


class GrantedRefund(Node):
    """A refund granted on an order (`orderGrantRefundCreate`), before money moves."""

    graphql_type: ClassVar[str] = "OrderGrantedRefund"
    amount: Decimal
    reason: str = ""
    transaction_token: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)
