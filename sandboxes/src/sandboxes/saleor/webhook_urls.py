"""A webhook's `targetUrl` as Saleor's model checks it when `webhookCreate` / `webhookUpdate`
run `full_clean` (ModelMutation.clean_instance, saleor/graphql/core/mutations.py).

`Webhook.target_url` is a `WebhookURLField(max_length=255)` (saleor/webhook/models.py) whose
validator is `AppURLValidator(schemes=["http", "https", "awssqs", "gcpubsub"])`
(saleor/app/validators.py): Django's URLValidator with its own pattern, which takes a host
without a dot (any `hostname_re + domain_re`, or `localhost`) and a port of 2 to 5 digits. A
ValidationError of Django's codes becomes `INVALID`, of `blank` `REQUIRED`
(saleor/graphql/core/utils/error_codes.py)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SCHEMES = ("http", "https", "awssqs", "gcpubsub")
MAX_LENGTH = 255
URL_MAX_LENGTH = 2048  # URLValidator.max_length
UNSAFE_CHARS = frozenset("\t\r\n")  # URLValidator.unsafe_chars

# django/core/validators.py (URLValidator), as AppURLValidator combines them.
_UL = "\u00a1-\uffff"
_IPV4 = (
    r"(?:0|25[0-5]|2[0-4][0-9]|1[0-9]?[0-9]?|[1-9][0-9]?)"
    r"(?:\.(?:0|25[0-5]|2[0-4][0-9]|1[0-9]?[0-9]?|[1-9][0-9]?)){3}"
)
_IPV6 = r"\[[0-9a-f:.]+\]"
_HOSTNAME = r"[a-z" + _UL + r"0-9](?:[a-z" + _UL + r"0-9-]{0,61}[a-z" + _UL + r"0-9])?"
_DOMAIN = r"(?:\.(?!-)[a-z" + _UL + r"0-9-]{1,63}(?<!-))*"
URL_PATTERN = re.compile(
    r"^(?:[a-z0-9.+-]*)://"
    r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
    r"(?:" + _IPV4 + "|" + _IPV6 + "|(" + _HOSTNAME + _DOMAIN + "|localhost))"
    r"(?::\d{2,5})?"
    r"(?:[/?#][^\s]*)?"
    r"\Z",
    re.IGNORECASE,
)

INVALID = "Enter a valid URL."


def _valid(url: str) -> bool:
    if len(url) > URL_MAX_LENGTH or UNSAFE_CHARS.intersection(url):
        return False
    if url.split("://")[0].lower() not in SCHEMES:
        return False
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not URL_PATTERN.search(url):
        return False
    return host is not None and len(host) <= 253  # RFC 1034, as URLValidator checks


def target_url_problems(url: str) -> list[tuple[str, str]]:
    """The (message, code) of each error `full_clean` gives the URL, in Saleor's order: the
    blank check alone, else the URL validator's, then the length's."""
    if not url:
        return [("This field cannot be blank.", "REQUIRED")]
    problems = [] if _valid(url) else [(INVALID, "INVALID")]
    if len(url) > MAX_LENGTH:
        problems.append(
            (
                f"Ensure this value has at most {MAX_LENGTH} characters (it has {len(url)}).",
                "INVALID",
            )
        )
    return problems
