"""Mailchimp → store: what a metadata key should hold for a merge value Mailchimp sends back.

The app sends a metadata value converted to its field's type (`merge_values.convert`): an ISO
birthday `1990-12-03` goes out as `12/03`, a number `1.234,5` as `1234.5`, a drop-down choice in
Mailchimp's case. A profile change in Mailchimp carries every merge field, changed or not, so
writing each back as it came would replace the customer's metadata with Mailchimp's rendering
of it, a birthday's year lost for good. So a value that is just the app's rendering of what the
key holds is left alone, and a changed date is written in the shape the key holds (ISO stays
ISO, a full date in the field's own order stays so, and a birthday keeps the year Mailchimp
never had).

Nor is a value that is just what the app last sent the contact (`merge_digest`, kept per field
in `ContactState.sent_merge_digests`): the customer may have changed it in Saleor since, and
that newer value is on its way to Mailchimp.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from addon.audiences.merge_values import MergeFieldSpec, as_date, convert, full_date_pattern


def text_of(value: Any) -> str | None:
    """A merge value as text (None: an address or list, which no metadata key or name takes)."""
    if isinstance(value, dict | list) or value is None:
        return None
    return str(value).strip()


def merge_digest(value: Any, spec: MergeFieldSpec | None) -> str | None:
    """A digest of a merge value as sent or as Mailchimp gives it back, the same for both
    (None: an address, which is never written back). Read by the field's type: a number as a
    number, a date as the day it is (whichever way it is written), anything else as text."""
    text = text_of(value)
    if text is None:
        return None
    kind = spec.type if spec is not None else ""
    if kind == "number" and text:
        with contextlib.suppress(InvalidOperation):  # not a number: as text
            text = str(Decimal(text).normalize())
    elif kind in ("date", "birthday") and text and spec is not None:
        day = as_date(text, spec.options.date_format)
        if day is not None:
            text = day.strftime("%m-%d" if kind == "birthday" else "%Y-%m-%d")
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def metadata_value(incoming: Any, current: str | None, spec: MergeFieldSpec | None) -> str | None:
    """The value to write for Mailchimp's `incoming`, or None to leave the key as it is."""
    text = text_of(incoming)
    if text is None or text == (current or "").strip():
        return None
    if spec is not None and current:
        made = convert(current, spec)
        if made.problem is None and made.value is not None and _same(made.value, text):
            return None  # Mailchimp holds what the app made of the key's value
        if text and spec.type in ("date", "birthday"):
            return _date_like(text, current, spec)
    return text


def _same(made: Any, text: str) -> bool:
    if isinstance(made, int | float) and not isinstance(made, bool):
        try:
            return float(text) == float(made)
        except ValueError:
            return False
    return str(made) == text


def _date_like(text: str, current: str, spec: MergeFieldSpec) -> str:
    """Mailchimp's date in the shape the key holds, ISO or a full date in the field's own order
    (`12/03/1990` for a birthday's MM/DD, which `convert` takes too), a birthday keeping the
    key's year; else (a key without a year, say) as Mailchimp wrote it."""
    new = as_date(text, spec.options.date_format)
    held = _held_date(current, spec)
    if new is None or held is None:
        return text
    old, pattern = held
    if spec.type == "birthday":
        try:
            new = new.replace(year=old.year)
        except ValueError:  # 29 February in a year without one
            return text
    return new.strftime(pattern) if pattern else new.isoformat()


def _held_date(value: str, spec: MergeFieldSpec) -> tuple[date, str | None] | None:
    """The key's full date and the strftime pattern it is written in (None: ISO)."""
    try:
        return date.fromisoformat(value.strip()[:10]), None
    except ValueError:
        pass
    pattern = full_date_pattern(spec)
    try:
        return datetime.strptime(value.strip(), pattern).date(), pattern
    except ValueError:
        return None
