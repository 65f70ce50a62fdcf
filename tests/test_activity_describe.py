"""Mailchimp failures in one plain sentence with the fix (issue 13, problem 3): the reasons are
derived from the error texts the worker stores, which MailchimpError renders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from addon.activity.rows import Context, handled_by, subject
from addon.ecommerce.models import EntityKind
from addon.ecommerce.subjects import record_subject, saleor_number
from addon.explain import Where, explain
from addon.jobs.models import Job
from addon.mailchimp import (
    FieldError,
    Forbidden,
    ForgottenEmailNotSubscribed,
    InvalidCredentials,
    MailchimpError,
    MemberInComplianceState,
    NotFound,
    RateLimited,
    TransientError,
    ValidationFailed,
)

FAILED_STORE = "The Mailchimp store of channel 'default-channel' could not be created or updated"
STORE = "/us21/3.0/ecommerce/stores/saleor-0123456789abcdef"
WHERE = Where("default-channel", "Default Channel")


def text(error: MailchimpError) -> str:
    """What the worker stores: the exception's text (method, path, error id included)."""
    return str(error)


@pytest.mark.parametrize(
    ("error", "reason", "action"),
    [
        (
            NotFound(
                "The requested resource could not be found.",
                status=404,
                title="Resource Not Found",
                method="GET",
                path=STORE,
                instance="abc",
            ),
            "The Mailchimp store for Default Channel no longer exists in Mailchimp.",
            "recreate_store",
        ),
        (
            NotFound(
                "x",
                status=404,
                title="Resource Not Found",
                method="PATCH",
                path=f"{STORE}/products/12",
            ),
            "Mailchimp could not find this record in the store; sending it again creates it.",
            "retry",
        ),
        (
            ValidationFailed(
                "The resource submitted could not be validated.",
                status=400,
                title="Invalid Resource",
                method="PUT",
                path=f"{STORE}/customers/1",
                errors=(FieldError("email_address", "Please provide a valid email address."),),
            ),
            "Mailchimp does not accept the e-mail address as valid.",
            "fix_in_saleor",
        ),
        (
            ValidationFailed(
                "The resource submitted could not be validated.",
                status=400,
                title="Invalid Resource",
                method="POST",
                path=f"{STORE}/orders",
                errors=(FieldError("currency_code", "Invalid currency."),),
            ),
            "Mailchimp rejected the data (currency_code: Invalid currency).",
            "fix_in_saleor",
        ),
        (
            ValidationFailed(
                "The resource submitted could not be validated.",
                status=400,
                title="Invalid Resource",
                method="POST",
                path=STORE.rsplit("/", 1)[0],
                errors=(
                    FieldError(
                        "currency_code",
                        "The provided code 'BYR' is not a valid ISO 4217 currency code.",
                    ),
                ),
            ),
            "Mailchimp accepts only current ISO 4217 currency codes, and this channel's is not "
            "one: its sales cannot go to Mailchimp.",
            None,
        ),
        (
            MemberInComplianceState(
                "ann@example.com is in a compliance state",
                status=400,
                title="Member In Compliance State",
                method="PUT",
                path="/us21/3.0/lists/l1/members/h",
            ),
            "The contact unsubscribed or was cleaned in Mailchimp, so the app may not subscribe "
            "them again; they can sign up again through a form.",
            None,
        ),
        (
            ForgottenEmailNotSubscribed(
                "forgotten", status=400, title="Forgotten Email Not Subscribed"
            ),
            "The contact was permanently deleted in Mailchimp and can only come back by signing "
            "up through a form.",
            None,
        ),
        (
            RateLimited("Too many requests", status=429, title="Too Many Requests"),
            "Mailchimp asked the app to slow down; it is tried again shortly.",
            "wait",
        ),
        (
            TransientError("Bad gateway", status=502, title="Bad Gateway"),
            "Mailchimp was not reachable or had an error; it is tried again shortly.",
            "wait",
        ),
        (
            InvalidCredentials("API Key Invalid", status=401, title="API Key Invalid"),
            "Mailchimp no longer accepts the app's access (the API key was deleted or access "
            "was revoked).",
            "reconnect",
        ),
        (
            Forbidden("User does not have access", status=403, title="Forbidden"),
            "Mailchimp refused this for the connected user's role or the account's plan.",
            "reconnect",
        ),
    ],
)
def test_mailchimp_errors_get_a_plain_reason_and_a_fix(
    error: MailchimpError, reason: str, action: str | None
) -> None:
    found = explain(text(error), WHERE)
    assert found is not None
    assert found.reason == reason
    assert (found.action.code if found.action else None) == action
    assert "Request:" not in found.reason and "error id" not in found.reason


def test_a_store_that_could_not_be_created_names_the_store_and_why() -> None:
    inner = TransientError("Bad gateway", status=502, title="Bad Gateway", path=STORE)
    stored = f"{FAILED_STORE}: {inner}"
    found = explain(stored, WHERE)
    assert found is not None and found.action is not None
    assert found.reason == (
        "The Mailchimp store for Default Channel could not be created or updated: mailchimp was "
        "not reachable or had an error; it is tried again shortly."
    )
    assert found.action.code == "wait"  # the store's push retries by itself
    rejected = ValidationFailed("Invalid", status=400, title="Invalid Resource", path=STORE)
    stored = f"{FAILED_STORE}: {rejected}"
    found = explain(stored, WHERE)
    assert found is not None and found.action is not None
    assert found.action.code == "resync_all" and found.action.channel == "default-channel"


def test_a_missing_store_wins_over_the_error_text() -> None:
    found = explain(None, Where("default-channel", "Default Channel", store_missing=True))
    assert found is not None and found.action is not None
    assert found.action.code == "recreate_store"
    assert explain(None, WHERE) is None


def test_anything_else_is_cut_to_its_first_sentence() -> None:
    found = explain("SomethingOdd: the first sentence. A second one with details.")
    assert found is not None and found.reason == "SomethingOdd: the first sentence."


def test_subjects_name_the_record() -> None:
    assert record_subject(EntityKind.ORDER, "#1042 — ann@example.com", "T3JkZXI6MQ==") == (
        "Order #1042 — customer ann@example.com"
    )
    assert record_subject(EntityKind.ORDER, "#7", "T3JkZXI6MQ==") == "Order #7"
    assert record_subject(EntityKind.CUSTOMER, "ann@example.com", "x") == "Customer ann@example.com"
    assert record_subject(EntityKind.PRODUCT, "Blue Hoodie", "x") == "Product Blue Hoodie"
    assert record_subject(EntityKind.CART, "bo@example.com", "x") == "Cart of bo@example.com"
    assert record_subject(EntityKind.STORE, None, "c", "Default Channel") == (
        "Store of Default Channel"
    )
    assert record_subject(EntityKind.PRODUCT, None, "UHJvZHVjdDo3Mg==") == (
        "Product 72 (not read from Saleor yet)"
    )
    assert saleor_number("not base64!") == "not base64!"


def test_engagement_jobs_are_named_in_words() -> None:
    ctx = Context(now=datetime.now(UTC))

    def named(kind: str, payload: dict[str, object]) -> str:
        return subject(Job(installation_id=1, kind=kind, payload=payload), ctx)

    assert named("engagement.collect", {"requested": True}) == (
        "Campaign engagement collection (asked for now)"
    )
    assert named("engagement.collect", {"requested": False}) == (
        "Campaign engagement collection (scheduled)"
    )
    assert named("audiences.imported", {}) == (
        "Campaign engagement started after the audience import"
    )
    assert handled_by("engagement.collect") == "Campaign engagement"
