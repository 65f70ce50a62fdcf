"""The links the app sends Mailchimp, built and checked in one place.

Whether a link is one Mailchimp takes: it refuses an order whose `order_url` is not a full URL
("order_url: That is not a valid URL: /view-order/5374/", mailchimp/mc-woocommerce#217), so
Mailchimp for WooCommerce checks the link before sending it (`setOrderURL`:
`wp_http_validate_url`). Checked as PHP's FILTER_VALIDATE_URL checks the essentials, the
stricter reading where Mailchimp publishes none: http or https, a host, a valid port, printable
ASCII without white space (anything else percent-encoded). The spec types a product's, a
variant's and a cart's links alike (a string titled URL), so all are held to it.

Links made from an admin's template (`fill_url`) carry Saleor's values percent-encoded: a
product's slug may be Unicode (saleor/product/models.py `Product.slug`, a SlugField with
allow_unicode=True: `productCreate`/`productUpdate` keep a slug given as it is, only one made
from the name goes through unidecode, saleor/core/utils/__init__.py `generate_unique_slug`), and
a global id carries base64's `+`, `/` and `=`, which would split a path or read as a space in a
query. Links Saleor gives (a picture's) go through `given_url`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import quote, urlsplit

# What stays as it is in a link Saleor gives: RFC 3986's reserved and unreserved characters
# and `%`, whose escapes are kept (Python's own `requote_uri` in requests does the same).
_KEPT = "!#$%&'()*+,/:;=?@[]~"
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def full_url(url: str | None) -> str | None:
    """`url` when it is such a link, else None."""
    if not url or not url.isascii() or not url.isprintable() or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # `port` raises for one out of range
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return url


def fill_url(template: str | None, **values: str) -> str | None:
    """`template` with each `{name}` replaced by its value percent-encoded as UTF-8, every
    character but the unreserved ones (RFC 3986 §2.1, §2.3): right in a path segment and in a
    query value alike. None without a template, or where it makes no full link (a template
    saved before the settings checked it: `checked_template`), which is left out
    rather than cost the product, order or cart."""
    if not template:
        return None
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", quote(value, safe=""))
    return full_url(out)


def given_url(url: str | None) -> str | None:
    """A link as Saleor gives it (a picture's, which its storage encodes: Django's
    `FileSystemStorage.url`, `filepath_to_uri`), with what a storage left unencoded (non-ASCII
    letters, spaces) percent-encoded as a browser asks for it; None when it is no full link."""
    return full_url(quote(url, safe=_KEPT)) if url else None


def checked_template(
    value: str | None, allowed: Collection[str], example: str, *, required: str | None = None
) -> str | None:
    """An admin's link template (product, cart, order, tracking, promo code redemption) as
    saved: trimmed, None when empty. Filled as the push fills it (`fill_url`, each placeholder
    with a value), it must make a full link: one that does not would cost every record its link
    at every push, without a word to the admin. Raises ValueError in plain words (the settings'
    validators): a placeholder not in `allowed`, the `required` one missing, no full link."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    unknown = set(_PLACEHOLDER.findall(value)) - set(allowed)
    if unknown:
        raise ValueError(
            "may only use the placeholders "
            + ", ".join("{" + n + "}" for n in sorted(allowed))
            + f"; remove {', '.join('{' + n + '}' for n in sorted(unknown))}"
        )
    if required is not None and "{" + required + "}" not in value:
        raise ValueError(f"must contain {{{required}}}, where the {required} goes")
    if fill_url(value, **dict.fromkeys(allowed, "1")) is None:
        raise ValueError(
            "must make a full link once its placeholders are filled in: an http(s) address "
            "with a host, no spaces, and any character other than plain letters, digits and "
            f"punctuation percent-encoded (a space as %20), e.g. {example}"
        )
    return value
