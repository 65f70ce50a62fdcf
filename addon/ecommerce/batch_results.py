"""What one operation's result in a finished Mailchimp batch means for its ledger record,
shared by the initial sync (`addon.initial_sync.applier`) and live sync's bursts (`burst.py`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from addon.ecommerce.email_change import REFUSAL
from addon.ecommerce.email_holder import taken_in
from addon.ecommerce.push_ledger import PARENT_MISSING
from addon.mailchimp.models import BatchOperationResult

Outcome = Literal["confirmed", "exists", "transient", "live", "quarantined"]

# Mailchimp's refusal of an order's or a cart's `campaign_id` (unknown, or a campaign of another
# audience): 400 with "A campaign with the provided ID does not exist in the account for this
# list." in its `detail` (mailchimp/mc-magento#879, mailchimp/mc-woocommerce#348; ibericode's
# MC4WP retries without the campaign when the detail says so), not as a field error.
CAMPAIGN_REFUSAL = "campaign with the provided id does not exist"


# Mailchimp's refusal of a customer's `opt_in_status: true` (a customer's, or an order's or
# cart's `customer`) at an address it forgot (permanently deleted its member): 400 titled
# "Forgotten Email Not Subscribed", as it refuses the member
# (`addon.mailchimp.ForgottenEmailNotSubscribed`).
FORGOTTEN = "forgotten email not subscribed"


def campaign_refused(text: str, fields: Collection[str | None]) -> bool:
    """Whether a 400's title and detail (`text`) or its field errors refuse the campaign."""
    return CAMPAIGN_REFUSAL in text.lower() or "campaign_id" in fields


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
    if result.status_code == 404 or (result.status_code == 400 and PARENT_MISSING in text):
        # Mailchimp lost what the ledger says it holds (deleted there): Mailchimp's state, not
        # the record's data. The live push creates it again (`CatalogPusher.push_product`,
        # `SaleSender._send`), or finds the store itself gone.
        # ("must already exists" says "already exists" too.)
        return "live"
    if result.status_code == 400 and taken_in(text):
        return "live"  # another customer holds the address: its live push names that one
    if result.status_code == 400 and "already exists" in text:
        return "exists"
    if result.status_code == 400 and REFUSAL in text:
        return "live"  # a customer's new e-mail: its live push re-creates the customer
    if result.status_code == 400 and FORGOTTEN in text:
        # Its live push sends it again without the opt-in, which Mailchimp takes
        # (`cart_pusher.opted_out_if_forgotten`), rather than the record wait in quarantine
        # with the address in Mailchimp's text.
        return "live"
    fields = {e.get("field") for e in body.get("errors") or [] if isinstance(e, dict)}
    if result.status_code == 400 and campaign_refused(text, fields):
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
