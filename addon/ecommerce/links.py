"""Whether a link is one Mailchimp takes: it refuses an order whose `order_url` is not a full
URL ("order_url: That is not a valid URL: /view-order/5374/", mailchimp/mc-woocommerce#217), so
Mailchimp for WooCommerce checks the link before sending it (`setOrderURL`:
`wp_http_validate_url`). Checked as PHP's FILTER_VALIDATE_URL checks the essentials, the
stricter reading where Mailchimp publishes none: http or https, a host, a valid port, printable
ASCII without white space (anything else percent-encoded)."""

from __future__ import annotations

from urllib.parse import urlsplit


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
