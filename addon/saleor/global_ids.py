"""Saleor's global ids: base64 of "<Type>:<pk>" (graphene's `to_global_id`)."""

from __future__ import annotations

import base64
import binascii


def global_id_type(global_id: str) -> str | None:
    """The type a global id names ("User", "ProductVariant"…); None if it is not one."""
    try:
        decoded = base64.b64decode(global_id, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, separator, pk = decoded.partition(":")
    return kind if separator and kind and pk else None
