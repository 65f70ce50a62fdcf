"""Failures in words: why a job or ledger record failed, and the one action that fixes it.
Below every capability (it imports only the Mailchimp client's errors), so each may use it.

Errors are stored as the text of the exception that ended an attempt (``MailchimpError``
renders ``<summary> (<status> <title>): <detail>. Problems: …. Request: <method> <path>.
Mailchimp error id: ….``). The classes' summaries and the status in that text identify the
failure, so no second error model is needed: the reason is derived here, the full text stays
the row's technical details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from addon.mailchimp import (
    Forbidden,
    ForgottenEmailNotSubscribed,
    InvalidCredentials,
    MemberExists,
    MemberInComplianceState,
    NotFound,
    RateLimited,
    TransientError,
    ValidationFailed,
)


class Action(BaseModel):
    """The one thing that fixes a row, as a code the page maps to a button."""

    code: str = Field(
        description="retry | resync_all | recreate_store | reconnect | connect | fix_in_saleor "
        "| wait"
    )
    label: str
    channel: str | None = Field(None, description="The channel a channel action applies to.")


RETRY = "retry"
RESYNC_ALL = "resync_all"
RECREATE_STORE = "recreate_store"
RECONNECT = "reconnect"
FIX_IN_SALEOR = "fix_in_saleor"
WAIT = "wait"

_LABELS = {
    RETRY: "Retry",
    RESYNC_ALL: "Resync everything",
    RECREATE_STORE: "Re-create the store",
    RECONNECT: "Reconnect Mailchimp",
    FIX_IN_SALEOR: "Fix it in Saleor, then Retry",
    WAIT: "Nothing to do: it is retried automatically",
}


def action(code: str, channel: str | None = None) -> Action:
    return Action(code=code, label=_LABELS[code], channel=channel)


@dataclass(frozen=True)
class Explanation:
    reason: str
    action: Action | None


@dataclass(frozen=True)
class Where:
    """What the explanation may name: the record's channel and its store's state."""

    channel: str | None = None
    channel_name: str | None = None
    store_missing: bool = False

    @property
    def store_words(self) -> str:
        name = self.channel_name or self.channel
        return f"The Mailchimp store for {name}" if name else "The channel's Mailchimp store"


_STATUS = re.compile(r"\((\d{3})\b[^)]*\)")
_REQUEST = re.compile(r"Request: ([A-Z]+) (\S+?)\.(?:\s|$)")
_PROBLEMS = re.compile(r"Problems: (.+?)\.(?:\s+Request:|\s+Mailchimp error id:|$)")
_STORE_ITSELF = re.compile(r"/ecommerce/stores/[^/]+/?$")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)")


def _status(text: str) -> int | None:
    found = _STATUS.search(text)
    return int(found.group(1)) if found else None


def request_of(text: str) -> tuple[str, str] | None:
    found = _REQUEST.search(text)
    return (found.group(1), found.group(2)) if found else None


def _has(text: str, error: type[Exception]) -> bool:
    summary = getattr(error, "summary", "")
    return bool(summary) and summary in text


def _store_path(path: str) -> bool:
    return "/ecommerce/stores/" in path


def _first_sentence(text: str, limit: int = 200) -> str:
    found = _FIRST_SENTENCE.match(text.strip())
    sentence = found.group(1) if found else text.strip()
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


# Fixes that stay right when the failure was a dependency's.
_OWN_FIX = (RECREATE_STORE, RECONNECT, WAIT)


def _because(inner: Explanation | None) -> str:
    if inner is None:
        return "."
    return f": {inner.reason[0].lower()}{inner.reason[1:]}"


def explain(error: str | None, where: Where | None = None) -> Explanation | None:
    """One plain sentence and the fix for an error text; None when there is no error."""
    where = where or Where()
    if where.store_missing:
        return Explanation(
            f"{where.store_words} no longer exists in Mailchimp (it was deleted there).",
            action(RECREATE_STORE, where.channel),
        )
    if not error:
        return None
    text = error.strip()
    status = _status(text)
    request = request_of(text)
    # Failures of what a record depends on wrap the dependency's error: explain that one.
    if "could not be created or updated" in text and "Mailchimp store" in text:
        inner = explain(text.split(": ", 1)[1] if ": " in text else "", where)
        keep = inner is not None and inner.action is not None and inner.action.code in _OWN_FIX
        return Explanation(
            f"{where.store_words} could not be created or updated{_because(inner)}",
            inner.action if keep and inner else action(RESYNC_ALL, where.channel),
        )
    if "could not be sent to Mailchimp first" in text:
        inner = explain(text.split(": ", 1)[1] if ": " in text else "", where)
        return Explanation(
            f"A product it contains could not be sent to Mailchimp first{_because(inner)}",
            inner.action if inner and inner.action else action(RETRY),
        )
    if "is not connected" in text or "MAILCHIMP_NOT_CONNECTED" in text:
        return Explanation("Mailchimp is not connected.", action(RECONNECT))
    if _has(text, InvalidCredentials) or status == 401:
        return Explanation(
            "Mailchimp no longer accepts the app's access (the API key was deleted or access "
            "was revoked).",
            action(RECONNECT),
        )
    if _has(text, RateLimited) or status == 429:
        return Explanation(
            "Mailchimp asked the app to slow down; it is tried again shortly.", action(WAIT)
        )
    if _has(text, TransientError) or (status is not None and status >= 500):
        return Explanation(
            "Mailchimp was not reachable or had an error; it is tried again shortly.",
            action(WAIT),
        )
    if _has(text, MemberInComplianceState):
        return Explanation(
            "The contact unsubscribed or was cleaned in Mailchimp, so the app may not "
            "subscribe them again; they can sign up again through a form.",
            None,
        )
    if _has(text, ForgottenEmailNotSubscribed):
        return Explanation(
            "The contact was permanently deleted in Mailchimp and can only come back by "
            "signing up through a form.",
            None,
        )
    if _has(text, MemberExists):
        return Explanation("The contact is already in the Mailchimp audience.", action(RETRY))
    if _has(text, Forbidden) or status == 403:
        return Explanation(
            "Mailchimp refused this for the connected user's role or the account's plan.",
            action(RECONNECT),
        )
    if status == 404 and request and _store_path(request[1]):
        if _STORE_ITSELF.search(request[1]):
            return Explanation(
                f"{where.store_words} no longer exists in Mailchimp.",
                action(RECREATE_STORE, where.channel),
            )
        return Explanation(
            "Mailchimp could not find this record in the store; sending it again creates it.",
            action(RETRY),
        )
    if _has(text, NotFound) or status == 404:
        return Explanation("Mailchimp could not find what the app asked for.", action(RETRY))
    if "signed up to a lot of lists very recently" in text:
        return Explanation(
            "Mailchimp refused the e-mail address for now: it signed up to many audiences very "
            "recently (Mailchimp's guard against signup abuse).",
            action(RETRY),
        )
    if "is not a valid ISO 4217 currency code" in text:
        # No store's currency can change in Mailchimp, nor a channel's in Saleor: nothing to
        # retry (`addon/ecommerce/currencies.py`).
        return Explanation(
            "Mailchimp accepts only current ISO 4217 currency codes, and this channel's is not "
            "one: its sales cannot go to Mailchimp.",
            None,
        )
    if "email" in text.lower() and (
        "looks fake or invalid" in text or "valid email" in text.lower() or "email_address" in text
    ):
        return Explanation(
            "Mailchimp does not accept the e-mail address as valid.", action(FIX_IN_SALEOR)
        )
    if _has(text, ValidationFailed) or status == 400:
        problems = _PROBLEMS.search(text)
        detail = problems.group(1) if problems else _first_sentence(text.split(": ", 1)[-1])
        detail = detail.strip().rstrip(".")
        return Explanation(f"Mailchimp rejected the data ({detail}).", action(FIX_IN_SALEOR))
    if text.startswith("Saleor has no channel"):
        # `channel_presence.gone_message`: the record waits for its channel. The fix is the
        # channel card's (follow it to its new slug, or stop tracking it), which knows which.
        return Explanation(
            f"{_first_sentence(text, 300)} The channel's card on the E-commerce page says what "
            "to do.",
            None,
        )
    if "no longer exists in Saleor" in text:  # an earlier version's words
        return Explanation("The channel no longer exists in Saleor.", None)
    if text.startswith("SaleorError") or "Saleor" in text.split(":", 1)[0]:
        return Explanation("Saleor could not be read; it is tried again.", action(RETRY))
    if text.startswith("no handler for job kind"):
        return Explanation("This version of the app no longer handles this kind of work.", None)
    return Explanation(_first_sentence(text), action(RETRY))
