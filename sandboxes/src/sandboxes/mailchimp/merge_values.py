"""Merge values checked against their field's type and options, as Mailchimp does.

Mailchimp validates each merge value by its field's type
(https://mailchimp.com/developer/marketing/docs/merge-fields/#add-merge-data-to-contacts):
text up to 255 bytes (`TEXT_BYTES`); numbers (`_NUMBER`); an address as an object of strings
whose ``addr1``, ``city``, ``state`` and ``zip`` are all given and filled, whatever the country
(`ADDRESS_REQUIRED`), its ``country`` a country code
(`COUNTRY_CODES`); a phone in the field's
``phone_format`` (``US``: ten digits); a date or birthday in the field's
``options.date_format`` (``MM/DD/YYYY``, ``DD/MM/YYYY``; birthdays ``MM/DD`` or ``DD/MM``); a
zip code of five digits (`_ZIP`); a web address for ``url`` and ``imageurl``; one of
``options.choices`` for ``radio`` and ``dropdown``. Any invalid value fails the whole request
with "Your merge fields were invalid." and one error per field. The sandbox accepts dates only
in the audience's declared format (at least as strict as the real service, which also takes a
few others).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pycountry

from .errors import FieldError
from .models import MergeField

# "Text fields are limited to a maximum of 255 bytes of information ... Some alphabets or
# symbolic characters, like emoji, use more than one byte of information per character, so it
# isn't always a one-to-one ratio" (mailchimp.com/help/format-guidelines-for-your-import-file/):
# counted in UTF-8 bytes, so 128 "é" (256 bytes) do not fit. An import clips a longer value;
# what the API does with one is not published: refused here, the stricter side (a clipped value
# would differ from what the client sent and believes Mailchimp holds). Counted as sent, spaces
# around it included (whether Mailchimp trims first is not published: the stricter side), and
# for a web address too (the same page keeps "website URLs" in text fields).
TEXT_BYTES = 255
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
# "Zip code fields can only contain five digits. International post codes aren't supported by
# this field type." (kb.mailchimp.com/lists/growth/format-guidelines-for-your-import-file): a
# ZIP+4 (62701-1234) is no zip code there.
_ZIP = re.compile(r"^\d{5}$")
# A number as written in ASCII: an optional sign, digits with an optional decimal point, an
# optional exponent. Python's `float` also reads "nan", "inf", "1_000" and other scripts'
# digits ("١٢"), none of which Mailchimp documents as a number ("numbers without comma
# separators" go in a text field: the same help page); refused, the stricter side.
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_US_PHONE = re.compile(r"^(\+?1[\s.-]?)?(\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{6,30}$")
_DATE_PARTS = {"MM": "%m", "DD": "%d", "YYYY": "%Y"}
# The Marketing API's definition requires these four in an address, addr2 and country optional
# (its generated SDK, mailchimp/mailchimp-marketing-typescript-sdk
# `CreateMemberListsRequestMergeFieldsValueAddr1`): one left out fails the request schema (an
# Omani address sent without `state`, mailchimp/mc-magento2#593: "Data did not match any of the
# schemas described in anyOf."); one sent blank is incomplete, whatever the country (Mailchimp
# support: "you can not pass null or blank data", quoted in corporatecontacts.freshdesk.com
# "Contacts not subscribing - address fields"; a non-US address without a state: "Please enter
# a complete address", EvanHerman/yikes-inc-easy-mailchimp-extender#740). Mailchimp is said to
# drop an incomplete address silently from a field that is not required (amro/gibbon#272,
# mailchimp/mc-woocommerce#500): refused here, the stricter side.
ADDRESS_REQUIRED = ("addr1", "city", "state", "zip")
# An address's country as Mailchimp's own SDK sends it: ISO 3166-1's two capital letters
# (mailchimp/Mailchimp-SDK-iOS, SDK/Models/MergeField.swift `Address.country: CountryCode`;
# CountryCode.swift: "US", "GB", "DE"...). A country Mailchimp does not know is not refused but
# stored as the USA (mailchimp/mc-magento2#1863: "Trinidad & Tobago" became USA; #1329:
# "España"): refused here (the stricter side), in the sandbox's own words, as are the English
# names Mailchimp also reads ("Spain", mc-magento2's `getName('en_US')`) and codes outside ISO
# 3166-1 (Saleor's "XK" for Kosovo and "EU": saleor/settings.py `COUNTRIES_OVERRIDE`). Empty:
# the field's `default_country`.
COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)

# What Mailchimp gives a new field of these types when no options are sent.
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "text": {"size": 25},
    "date": {"date_format": "MM/DD/YYYY"},
    "birthday": {"date_format": "MM/DD"},
    "phone": {"phone_format": "none"},
    "address": {"default_country": 164},
}


def _strptime_format(date_format: str) -> str:
    return "".join(_DATE_PARTS.get(p, p) for p in re.split(r"([/.-])", date_format.upper()))


def _date_ok(value: str, date_format: str) -> bool:
    try:
        datetime.strptime(value, _strptime_format(date_format))
    except ValueError:
        return False
    return True


def _too_long(value: str | int | float) -> bool:
    return len(str(value).encode()) > TEXT_BYTES


ANY_OF = "Data did not match any of the schemas described in anyOf."


def check_value(field: MergeField, value: Any) -> str | None:
    """Why Mailchimp would refuse `value` for `field` (None: it takes it)."""
    if value == "":
        return None  # clears the field
    kind, options = field.type, field.options
    if kind == "address":
        if not isinstance(value, dict):
            return "Please enter a complete address"
        if any(not str(value.get(part) or "").strip() for part in ADDRESS_REQUIRED):
            return "Please enter a complete address"
        country = value.get("country") or ""
        if country and country not in COUNTRY_CODES:
            return "Please enter the country as its two-letter ISO 3166 code"
        return None
    if isinstance(value, dict):
        return "Please enter a valid value"
    text = str(value).strip()
    if kind == "number":
        return None if _NUMBER.match(text) else "Please enter a number"
    if kind == "phone":
        if str(options.get("phone_format", "")).upper() == "US":
            return None if _US_PHONE.match(text) else "Please enter a valid US phone number"
        return None if _PHONE.match(text) else "Please enter a valid phone number"
    if kind in ("date", "birthday"):
        default = "MM/DD" if kind == "birthday" else "MM/DD/YYYY"
        date_format = str(options.get("date_format") or default)
        if kind == "birthday":
            # strptime needs a year for 29 February.
            fmt, text = date_format + "/YYYY", text + "/2000"
        else:
            fmt = date_format
        return None if _date_ok(text, fmt) else f"Please enter the date ({date_format})"
    if kind == "zip":
        return None if _ZIP.match(text) else "Please enter a valid zip code"
    if kind in ("url", "imageurl"):
        ok = _URL.match(text) and not _too_long(value)
        return None if ok else "Please enter a valid URL"
    if kind in ("radio", "dropdown"):
        choices = [str(c) for c in options.get("choices") or []]
        return None if text in choices else "Please choose one of the options"
    if _too_long(value):
        return f"Please enter a value of at most {TEXT_BYTES} bytes"
    return None


def _schema_ok(value: Any) -> bool:
    """Whether a merge value is one of the request schema's: a string, a number, an address."""
    if isinstance(value, dict):
        has_parts = all(part in value for part in ADDRESS_REQUIRED)
        return has_parts and all(isinstance(part, str) for part in value.values())
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def check_merge_fields(
    fields: dict[str, MergeField], values: dict[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """The values for known fields (by tag) and the errors; unknown tags are ignored."""
    accepted: dict[str, Any] = {}
    errors: list[FieldError] = []
    for tag, value in values.items():
        if not _schema_ok(value):
            # The request schema's `merge_fields` values are strings, numbers or addresses:
            # a null and a boolean are refused whatever the tag ("merge_fields.BILLING : Data
            # did not match any of the schemas described in anyOf.", a null in
            # mailchimp/mc-magento#507; a boolean in VingtCinq/python-mailchimp#146), and so
            # are an array and an object whose parts are not all strings (an address's parts
            # are strings, mailchimp/Mailchimp-SDK-iOS `Address`), or that lacks one of
            # `ADDRESS_REQUIRED`.
            errors.append(FieldError(field=f"merge_fields.{tag}", message=ANY_OF))
            continue
        field = fields.get(tag.upper())
        if field is None:
            continue
        problem = check_value(field, value)
        if problem is not None:
            errors.append(FieldError(field=field.tag, message=problem))
        else:
            accepted[field.tag] = value
    return accepted, errors
