"""Saleor values converted and checked against a Mailchimp merge field's type, before sending.

Mailchimp validates merge values by the field's type and options
(https://mailchimp.com/developer/marketing/docs/merge-fields/#add-merge-data-to-contacts; the
options are `Merge_Field_Options` in the Marketing API: `date_format`, `phone_format`,
`choices`, `size`, `default_country`). A value Mailchimp would refuse fails the whole member
request ("Your merge fields were invalid."), so a value that cannot be converted is left out and
reported instead: the rest of the member update still goes through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pycountry
from pydantic import BaseModel, ConfigDict, Field

# Mailchimp stores at most 255 bytes in a text field (and in url/imageurl): "Some alphabets or
# symbolic characters, like emoji, use more than one byte"
# (https://mailchimp.com/help/format-guidelines-for-your-import-file/), so 200 Cyrillic letters
# (400 bytes in UTF-8) are too long.
TEXT_LIMIT = 255
_DATE_PARTS = {"MM": "%m", "DD": "%d", "YYYY": "%Y"}
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
# A zip field takes five digits only ("International post codes aren't supported by this field
# type", the same page): a ZIP+4 goes as its five-digit ZIP code.
_US_ZIP = re.compile(r"^(\d{5})(-\d{4})?$")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
# What an international phone may hold (Mailchimp's "International" phone format is free text
# of digits and the usual separators).
_PHONE = re.compile(r"^\+?[\d\s().-]{6,30}$")
# An address's country as Mailchimp reads it: ISO 3166-1's two letters (its own SDK sends these:
# mailchimp/Mailchimp-SDK-iOS, SDK/Models/MergeField.swift `Address.country: CountryCode`).
# One it does not know it stores as the USA (mailchimp/mc-magento2#1863, #1329), so Saleor's
# codes outside ISO 3166-1 ("XK" for Kosovo, "EU": saleor/settings.py `COUNTRIES_OVERRIDE`)
# would move the customer there: such an address is reported, not sent.
COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)


class MergeFieldOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    date_format: str | None = None
    phone_format: str | None = None
    default_country: int | None = None
    choices: list[str] | None = None
    size: int | None = None


class MergeFieldSpec(BaseModel):
    """A merge field as imported: what a value must look like."""

    model_config = ConfigDict(extra="ignore")

    tag: str
    name: str = ""
    type: str
    required: bool = False
    options: MergeFieldOptions = Field(default_factory=MergeFieldOptions)


# Mailchimp stores an address only with all four of these filled, whatever its country: the
# Marketing API's definition requires addr1, city, state and zip (its generated SDK,
# mailchimp/mailchimp-marketing-typescript-sdk `CreateMemberListsRequestMergeFieldsValueAddr1`:
# only addr2 and country optional); Mailchimp's support: "you can not pass null or blank data"
# (quoted in corporatecontacts.freshdesk.com "Contacts not subscribing - address fields"); its
# import guide asks for "street, city, state or province, zip or postal code, and country"
# (mailchimp.com/help/import-mailing-addresses-postcards/). A state sent empty for a country
# without one (mailchimp/mc-magento2#593's fix) only passes the request schema: not shown to be
# stored, so nothing is made up and such an address is reported (a text field takes it whole).
_ADDRESS_PARTS = (
    ("addr1", "street"),
    ("city", "city"),
    ("state", "state/region (Saleor's country area)"),
    ("zip", "postal code"),
)
_INCOMPLETE_ADDRESS = (
    "Mailchimp's address field takes an address only with its street, city, state/region and "
    "postal code; a text field takes any address as one line"
)


def _or_list(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


class AddressValue(BaseModel):
    """A Saleor address in Mailchimp's `address` shape."""

    addr1: str = ""
    addr2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""

    def one_line(self) -> str:
        parts = [self.addr1, self.addr2, self.city, self.state, self.zip, self.country]
        return ", ".join(p for p in parts if p)

    def missing(self) -> list[str]:
        """What Mailchimp's address field needs and this address lacks, in Saleor's words."""
        return [label for attr, label in _ADDRESS_PARTS if not getattr(self, attr).strip()]


SourceValue = str | datetime | date | AddressValue | None


@dataclass(frozen=True)
class Converted:
    """The value to send, or why there is none (`problem`); both None: nothing to send."""

    value: Any = None
    problem: str | None = None


def _strftime(format_name: str | None, default: str) -> str:
    fmt = (format_name or default).upper()
    pattern = re.split(r"([/.-])", fmt)
    return "".join(_DATE_PARTS.get(part, part) for part in pattern)


def _with_year(pattern: str) -> str:
    """A birthday's day and month (`%m/%d`) with a year after them, as a full date in the
    field's own order is written (`12/03/1990` for MM/DD); a date's pattern as it is."""
    return pattern if "%Y" in pattern else f"{pattern}/%Y"


def full_date_pattern(field: MergeFieldSpec) -> str:
    """The strftime pattern of a full date in a date or birthday field's own order."""
    default = "MM/DD" if field.type == "birthday" else "MM/DD/YYYY"
    return _with_year(_strftime(field.options.date_format, default))


def _parse_date(value: str, own_format: str | None) -> date | None:
    """ISO dates (as Saleor and most metadata hold them) or the field's own format."""
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for fmt in filter(None, (own_format, "MM/DD/YYYY" if own_format is None else None)):
        pattern = _strftime(fmt, fmt)
        attempts = [(pattern, text)]
        if "%Y" not in pattern:
            # A birthday's MM/DD has no year: read in a leap year (strptime's default, 1900, is
            # none, so 02/29 would not be a date); or a full date in the field's own order,
            # whose year the birthday drops (12/03/1990 for MM/DD).
            attempts = [(_with_year(pattern), f"{text}/2000"), (_with_year(pattern), text)]
        for read_as, read in attempts:
            try:
                return datetime.strptime(read, read_as).date()
            except ValueError:
                continue
    return None


def as_date(value: SourceValue, own_format: str | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return _parse_date(value, own_format)
    return None


def _as_text(value: SourceValue) -> str:
    if isinstance(value, AddressValue):
        return value.one_line()
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return (value or "").strip()


def _us_digits(value: str) -> str | None:
    """A US number's ten digits, or None when `value` is no US number."""
    if not re.fullmatch(r"[\d\s().+-]+", value):
        return None
    digits = re.sub(r"\D", "", value)
    if value.startswith(("+", "00")):
        # A country code follows (Saleor keeps phones in E.164, `+4532123456`): only 1 and ten
        # digits is a US number; many countries' numbers have ten digits with their code too.
        digits = digits.removeprefix("00")
        return digits[1:] if len(digits) == 11 and digits.startswith("1") else None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def _phone(value: str, phone_format: str | None) -> Converted:
    if (phone_format or "").upper() == "US":
        digits = _us_digits(value)
        if digits is None:
            return Converted(problem=f"“{value}” is not a US phone number (the field's format)")
        return Converted(f"{digits[:3]}-{digits[3:6]}-{digits[6:]}")
    if not _PHONE.match(value):
        return Converted(problem=f"“{value}” is not a phone number")
    return Converted(value)


# Thousands grouped by commas (1,234,567.89) or by dots with a decimal comma (1.234.567,89);
# else a single comma is a decimal one (4,5; 0,125). "1,234" alone could be either a thousand
# or one and a bit: refused, not guessed (a thousandfold error either way); so is its mirror
# "1.234" (100.000, 12.500), a thousand where dots group digits (German, Dutch, ...).
_COMMA_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?")
_DOT_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_EITHER = re.compile(r"[+-]?[1-9]\d{0,2}[,.]\d{3}")


def _number(value: str) -> Converted:
    text = re.sub(r"[\s\u00a0\u202f']", "", value)  # spaces and apostrophes group digits too
    if _EITHER.fullmatch(text):
        return Converted(
            problem=f"“{value}” could be a thousand or a decimal: write it unmistakably"
        )
    if _COMMA_GROUPS.fullmatch(text):
        text = text.replace(",", "")
    elif _DOT_GROUPS.fullmatch(text) and ("," in text or text.count(".") > 1):
        text = text.replace(".", "").replace(",", ".")
    elif _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    # Plain ASCII digits only (`float` would take `1_000`, other scripts' digits, `inf`), read
    # exactly: a whole number keeps every digit (a card or member number).
    if not _PLAIN_NUMBER.fullmatch(text):
        return Converted(problem=f"“{value}” is not a number")
    number = Decimal(text)
    return Converted(int(number) if number == number.to_integral_value() else float(number))


def convert(value: SourceValue, field: MergeFieldSpec) -> Converted:
    """`value` as `field` takes it; a blank value is "nothing to send", never a problem."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Converted()
    kind = field.type
    if kind == "address":
        if not isinstance(value, AddressValue):
            return Converted(problem="only a customer address can fill an address field")
        missing = value.missing()
        if missing:
            return Converted(
                problem=f"the address has no {_or_list(missing)} — {_INCOMPLETE_ADDRESS}"
            )
        if value.country and value.country not in COUNTRY_CODES:
            return Converted(
                problem=f"Mailchimp knows no country “{value.country}” (an ISO 3166 code): "
                "it would record the address in the USA"
            )
        return Converted(value.model_dump())
    if kind in ("date", "birthday"):
        day = as_date(value, field.options.date_format)
        if day is None:
            return Converted(problem=f"“{_as_text(value)}” is not a date")
        default = "MM/DD" if kind == "birthday" else "MM/DD/YYYY"
        return Converted(day.strftime(_strftime(field.options.date_format, default)))
    text = _as_text(value)
    if not text:
        return Converted()
    if kind == "number":
        return _number(text)
    if kind == "phone":
        return _phone(text, field.options.phone_format)
    if kind == "zip":
        zip_code = _US_ZIP.match(text)
        if zip_code is None:
            return Converted(problem=f"“{text}” is not a US zip code (five digits)")
        return Converted(zip_code.group(1))
    if kind in ("url", "imageurl"):
        if not _URL.match(text) or _too_long(text):
            return Converted(problem=f"“{text[:60]}” is not a web address")
        return Converted(text)
    if kind in ("radio", "dropdown"):
        choices = field.options.choices or []
        match = next((c for c in choices if c.casefold() == text.casefold()), None)
        if match is None:
            return Converted(problem=f"“{text}” is not one of the field's choices")
        return Converted(match)
    if _too_long(text):
        return Converted(
            problem=f"the text is longer than Mailchimp's {TEXT_LIMIT} bytes "
            "(a letter outside A to Z takes two or more)"
        )
    return Converted(text)


def _too_long(text: str) -> bool:
    return len(text.encode("utf-8")) > TEXT_LIMIT


# Saleor's LanguageCodeEnum (e.g. EN, EN_US, PT_BR) → Mailchimp's contact languages, as listed
# in https://mailchimp.com/help/view-and-edit-contact-languages/ (two letters, with the regional
# variants fr_CA, pt_PT and es_ES; Mailchimp's `pt` is Brazilian Portuguese).
MAILCHIMP_LANGUAGES = frozenset(
    [
        "en",
        "ar",
        "af",
        "be",
        "bg",
        "ca",
        "zh",
        "hr",
        "cs",
        "da",
        "nl",
        "et",
        "fa",
        "fi",
        "fr",
        "fr_CA",
        "de",
        "el",
        "he",
        "hi",
        "hu",
        "is",
        "id",
        "ga",
        "it",
        "ja",
        "km",
        "ko",
        "lv",
        "lt",
        "mt",
        "ms",
        "mk",
        "no",
        "pl",
        "pt",
        "pt_PT",
        "ro",
        "ru",
        "sr",
        "sk",
        "sl",
        "es",
        "es_ES",
        "sw",
        "sv",
        "ta",
        "th",
        "tr",
        "uk",
        "vi",
    ]
)
_REGIONAL = {"FR_CA": "fr_CA", "PT_PT": "pt_PT", "ES_ES": "es_ES"}
_ALIASES = {"nb": "no", "nn": "no", "iw": "he", "in": "id"}


def mailchimp_language(language_code: str | None) -> str | None:
    """Mailchimp's code for a Saleor language code, or None when Mailchimp has no such one."""
    if not language_code:
        return None
    code = language_code.strip().upper().replace("-", "_")
    if code in _REGIONAL:
        return _REGIONAL[code]
    base = code.split("_", 1)[0].lower()
    base = _ALIASES.get(base, base)
    return base if base in MAILCHIMP_LANGUAGES else None
