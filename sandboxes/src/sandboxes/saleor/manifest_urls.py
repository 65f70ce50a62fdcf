"""The URLs of an app's manifest as Saleor checks them at installation (``manifest_rules``):
``AppURLValidator`` (saleor/app/validators.py@3.20.119), Django's ``URLValidator`` with Saleor's
pattern, for the app's ``tokenTargetUrl``, its brand logo and its extensions' URLs (Django's
default schemes) and its webhooks' ``targetUrl`` (Saleor's webhook schemes); and the PNG type
its brand logo must have."""

from __future__ import annotations

import ipaddress
import mimetypes
import re
from urllib.parse import urlsplit

# Saleor's URL pattern, as webhook_urls.py reads it for `webhookCreate`.
from .webhook_urls import UNSAFE_CHARS, URL_MAX_LENGTH, URL_PATTERN

APP_URL_SCHEMES = ("http", "https", "ftp", "ftps")  # AppURLValidator(): URLValidator's defaults
WEBHOOK_URL_SCHEMES = ("http", "https", "awssqs", "gcpubsub")


def app_url_valid(url: object, schemes: tuple[str, ...] = APP_URL_SCHEMES) -> bool:
    """``AppURLValidator(schemes=...)(url)`` passes (saleor/app/validators.py@3.20.119): Django's
    ``URLValidator.__call__`` with Saleor's pattern, as webhook_urls.py reads it, and the IPv6
    check of a bracketed host."""
    if not isinstance(url, str) or len(url) > URL_MAX_LENGTH or UNSAFE_CHARS.intersection(url):
        return False
    if url.split("://")[0].lower() not in schemes:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not URL_PATTERN.search(url) or host is None or len(host) > 253:
        return False
    bracketed = re.search(r"^\[(.+)\](?::[0-9]{1,5})?$", parts.netloc)
    if bracketed:
        try:
            ipaddress.IPv6Address(bracketed[1])
        except ValueError:
            return False
    return True


def is_png(url: str) -> bool:
    """``mimetypes.guess_type(url)[0] in ICON_MIME_TYPES`` (["image/png"]) as on Saleor's Python
    3.12, which reads a URL's type from everything after the scheme, query included."""
    _, _, rest = url.partition(":")
    return mimetypes.guess_type(rest)[0] == "image/png"
