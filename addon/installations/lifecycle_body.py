"""Reading an APP_DELETED or APP_STATUS_CHANGED body as the event it was made for.

Saleor signs the body alone, not the `Saleor-Event` header nor the URL it posts to
(saleor/webhook/transport/__init__.py `signature_for_payload`), and a deactivated app's token is
refused as a deleted one's (`AppByTokenLoader` reads active apps only), so neither the signature
nor asking Saleor tells a deactivation's body re-posted to the app-deleted endpoint from a
deletion. The body does: the documents select `event { __typename }`, which Saleor puts in the
payload (it is the subscription's execution result: saleor/graphql/webhook/subscription_payload.py
`generate_payload_from_subscription`).

A body without `__typename` was signed for a webhook still holding an older document: one in
flight at the upgrade, or an installation whose webhooks the app could not update yet
(`webhook_upkeep`: a deactivated app's token is refused, so its reactivation comes with the old
document). It keeps the checks it had, but one naming `app.isActive`, which only
APP_STATUS_CHANGED selects, is never an APP_DELETED.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, Field, ValidationError, field_validator

from addon.errors import BadRequest, ErrorCode
from addon.saleor.schemas import AppLifecycleEvent

# The GraphQL type of each event's `event` (saleor/graphql/webhook/subscription_types.py).
EVENT_TYPES = {"APP_DELETED": "AppDeleted", "APP_STATUS_CHANGED": "AppStatusChanged"}


class LifecycleBody(AppLifecycleEvent):
    # Saleor's is the time it made the payload, `timezone.now()`: aware, in UTC
    # (saleor/graphql/webhook/subscription_payload.py `initialize_request`, read by
    # `resolve_issued_at` in subscription_types.py). One without an offset, or whose offset
    # takes it past the years a datetime holds, was not made by Saleor, and could be neither
    # compared with the installation's nor stored.
    issued_at: AwareDatetime | None = Field(default=None, alias="issuedAt")
    typename: str | None = Field(default=None, alias="__typename")

    @field_validator("issued_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        try:
            return None if value is None else value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("the time is out of range in UTC") from exc


def lifecycle_body(event: str, payload: dict[str, Any]) -> AppLifecycleEvent:
    """The body of a lifecycle delivery posted as `event`, refused if it was made for another
    event or names no app or time."""
    try:
        body = LifecycleBody.model_validate(payload)
    except ValidationError as exc:
        raise BadRequest(f"Unexpected {event} payload: {exc}", code=ErrorCode.INVALID_BODY) from exc
    if body.app is None or body.issued_at is None:
        # Our documents select `issuedAt` and `app { id }`, which Saleor resolves (it
        # soft-deletes an app before APP_DELETED: saleor/app/actions.py `delete_app`). A
        # body without them is another delivery's, signed for it (Saleor signs every app's
        # deliveries with one key, over the body alone).
        raise BadRequest(f"The {event} payload names no app or time.", code=ErrorCode.INVALID_BODY)
    if body.typename is not None:
        made_for = body.typename
    elif "is_active" in body.app.model_fields_set:
        made_for = EVENT_TYPES["APP_STATUS_CHANGED"]
    else:
        made_for = EVENT_TYPES.get(event, "")  # an older document's: today's checks decide
    if made_for != EVENT_TYPES.get(event):
        raise BadRequest(
            f"The body was signed for {made_for}, not {event}.", code=ErrorCode.WRONG_EVENT
        )
    return body
