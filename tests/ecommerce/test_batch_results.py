"""What one operation's result in a finished batch means (`addon.ecommerce.batch_results`),
shared by bursts, the initial sync and promo code batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from addon.ecommerce.batch_results import Outcome, classify
from addon.ecommerce.burst_apply import apply_one
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.mailchimp.models import BatchOperationResult

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def result(status: int, **body: Any) -> BatchOperationResult:
    return BatchOperationResult(status_code=status, operation_id="op", body=json.dumps(body))


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (result(200, id="p1"), "confirmed"),
        (result(400, title="Invalid Resource", detail="A product with the provided ID already exists in the account."), "exists"),  # noqa: E501
        # Another customer holds the address (mailchimp/mc-magento#58): not this record's
        # "already exists"; its live push names that customer (`email_holder.py`).
        (result(400, title="Invalid Resource", detail="This customer email already exists"), "live"),  # noqa: E501
        (result(400, title="Invalid Resource", errors=[{"field": "email_address", "message": "bad"}]), "quarantined"),  # noqa: E501
        (result(400, title="Invalid Resource", errors=[{"field": "campaign_id", "message": "x"}]), "live"),  # noqa: E501
        # Mailchimp's refusal of a campaign says so in its detail alone (mailchimp/mc-magento#879).
        (result(400, title="Bad Request", detail="A campaign with the provided ID does not exist in the account for this list."), "live"),  # noqa: E501
        # The account's state, not the record's data (Mailchimp's error glossary).
        (result(401, title="API Key Invalid", detail="Your API key may be invalid"), "live"),
        (result(403, title="User Disabled", detail="This account has been disabled."), "live"),
        (result(403, title="Forbidden", detail="You don't have permission"), "live"),
        # Lost in Mailchimp (deleted there): its live push creates it again.
        (result(404, title="Resource Not Found", detail="The requested resource could not be found."), "live"),  # noqa: E501
        (result(400, title="Bad Request", detail="The parent product must already exists in order to use PUT on the variants endpoint"), "live"),  # noqa: E501
        (result(429, title="Too Many Requests"), "transient"),
        (result(503, title="Service Unavailable"), "transient"),
        (None, "transient"),  # missing from the results
    ],
)  # fmt: skip
def test_each_result_has_one_meaning(answer: BatchOperationResult | None, outcome: Outcome) -> None:
    assert classify(answer) == outcome


def test_a_burst_record_mailchimp_refused_for_the_account_is_pushed_not_quarantined() -> None:
    """Before, a 401 or 403 counted as a data error: up to a batch of records quarantined,
    each waiting for a change or a Retry, for what was the connection's problem."""
    record = SyncRecord(
        installation_id=1,
        channel_slug="c",
        kind=EntityKind.PRODUCT,
        saleor_id="UHJvZHVjdDox",
        status=SyncStatus.PENDING,
        children={},
        updated_at=NOW,
    )
    meta = {
        "operations": ["op"],
        "mailchimp_id": "1",
        "children": {},
        "creates": False,
        "hash": "h",
    }
    refused = {"op": result(403, title="User Disabled", detail="This account has been disabled.")}
    assert apply_one(record, meta, refused, NOW, NOW) is False  # a push of its own
    assert record.status is not SyncStatus.QUARANTINED and record.last_error is None
