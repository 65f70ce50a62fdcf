"""What one operation's result in a finished Mailchimp batch means for its ledger record,
shared by the initial sync (`addon.initial_sync.applier`) and live sync's bursts (`burst.py`).
"""

from __future__ import annotations

from typing import Literal

from addon.ecommerce.email_change import REFUSAL
from addon.mailchimp.models import BatchOperationResult

Outcome = Literal["confirmed", "exists", "transient", "live", "quarantined"]


def classify(result: BatchOperationResult | None) -> Outcome:
    if result is None or result.status_code in (0, 408, 429) or result.status_code >= 500:
        return "transient"
    if result.ok:
        return "confirmed"
    if result.status_code in (401, 403):
        # The account's state, not the record's data: Mailchimp's error glossary names 401
        # APIKeyMissing / APIKeyInvalid and 403 Forbidden / UserDisabled / WrongDatacenter
        # (https://mailchimp.com/developer/marketing/docs/errors/). Its own push meets it as
        # the connection's problem, rather than the record waiting for a change or a Retry.
        return "live"
    body = result.response if isinstance(result.response, dict) else {}
    text = f"{body.get('title', '')} {body.get('detail', '')}".lower()
    if result.status_code == 400 and "already exists" in text:
        return "exists"
    if result.status_code == 400 and REFUSAL in text:
        return "live"  # a customer's new e-mail: its live push re-creates the customer
    fields = {e.get("field") for e in body.get("errors") or [] if isinstance(e, dict)}
    if "campaign_id" in fields:
        return "live"  # resent as it was it would fail again: live sync drops the campaign
    return "quarantined"


def error_message(result: BatchOperationResult) -> str:
    body = result.response if isinstance(result.response, dict) else {}
    parts = [str(body.get("title") or f"HTTP {result.status_code}")]
    if body.get("detail"):
        parts.append(str(body["detail"]))
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            parts.append(f"{error.get('field') or 'field'}: {error.get('message') or ''}".strip())
    return ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")
