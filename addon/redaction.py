"""Credentials cut out of texts that leave the server or the process: Mailchimp's error texts
(which may quote a request) and the errors the Activity page shows.

One list of shapes for both. An ``Authorization`` value counts from 16 characters: every
credential the app handles is longer (Mailchimp's API keys and OAuth tokens have 32 characters
and more, Saleor's app tokens 30, a Basic value of a key 40), and no word that follows "OAuth"
or "Bearer" in a sentence is ("Mailchimp refused the OAuth request" stays readable).
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_SECRET_PATTERNS = (
    re.compile(r"\b[0-9a-f]{32}-[a-z]{2,5}\d{1,3}\b", re.IGNORECASE),  # a Mailchimp API key
    re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*"),  # a JWT
    re.compile(r"(?i)\b(bearer|basic|apikey|oauth)\s+[\w.~+/=-]{16,}"),  # Authorization values
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password in a URL
    re.compile(r"(?i)\b(access_token|client_secret|auth_token|api_key|apikey)=[^&\s]+"),
)


def redact(text: str) -> str:
    """`text` with anything shaped like a credential replaced by `REDACTED`."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text
