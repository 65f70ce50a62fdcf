"""Saleor values converted and checked against a merge field's type (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from addon.audiences.merge_values import (
    AddressValue,
    MergeFieldOptions,
    MergeFieldSpec,
    convert,
    mailchimp_language,
)
from addon.audiences.models import FieldMapping, FieldSource, MappingTarget
from addon.subscriptions.member_fields import MemberData, member_data
from addon.subscriptions.profile import CustomerProfile


def spec(kind: str, **options: object) -> MergeFieldSpec:
    return MergeFieldSpec(
        tag="F", name="Field", type=kind, options=MergeFieldOptions.model_validate(options)
    )


FULL = AddressValue(addr1="1 Main St", city="Springfield", state="IL", zip="62701", country="US")


@pytest.mark.parametrize(
    ("kind", "options", "value", "expected"),
    [
        ("text", {}, "  Ann ", "Ann"),
        ("text", {}, FULL, "1 Main St, Springfield, IL, 62701, US"),
        ("text", {}, datetime(2024, 5, 17, 9, tzinfo=UTC), "2024-05-17"),
        ("number", {}, "42", 42),
        ("number", {}, "4,5", 4.5),
        ("number", {}, "1,234,567", 1234567),
        ("number", {}, "1,234.5", 1234.5),
        ("number", {}, "1.234,5", 1234.5),
        ("number", {}, "1.234.567", 1234567),
        ("number", {}, "1 234", 1234),
        ("number", {}, "0,125", 0.125),
        ("number", {}, "1.2345", 1.2345),
        ("number", {}, "0.125", 0.125),
        ("number", {}, "1234.500", 1234.5),
        ("number", {}, "12.50", 12.5),
        ("number", {}, "12345678901234567890", 12345678901234567890),  # every digit kept
        ("number", {}, "-.5", -0.5),
        ("phone", {"phone_format": "US"}, "+1 (415) 555-2671", "415-555-2671"),
        ("phone", {"phone_format": "none"}, "+44 20 7946 0958", "+44 20 7946 0958"),
        ("date", {"date_format": "DD/MM/YYYY"}, datetime(2024, 5, 17, tzinfo=UTC), "17/05/2024"),
        ("date", {"date_format": "MM/DD/YYYY"}, "2024-05-17", "05/17/2024"),
        ("date", {"date_format": "DD/MM/YYYY"}, "17/05/2024", "17/05/2024"),
        ("birthday", {"date_format": "DD/MM"}, "1990-12-03", "03/12"),
        ("birthday", {}, date(1990, 12, 3), "12/03"),
        # A full date in the field's own order: the year dropped.
        ("birthday", {"date_format": "MM/DD"}, "12/03/1990", "12/03"),
        ("birthday", {"date_format": "DD/MM"}, "03/12/1990", "03/12"),
        ("birthday", {"date_format": "MM/DD"}, "02/29/1992", "02/29"),
        ("birthday", {"date_format": "MM/DD"}, "12/03", "12/03"),
        ("zip", {}, "62701", "62701"),
        ("zip", {}, "62701-1234", "62701"),  # Mailchimp's zip takes five digits
        ("text", {}, "é" * 127, "é" * 127),  # 254 bytes
        ("url", {}, "https://shop.example/ann", "https://shop.example/ann"),
        ("dropdown", {"choices": ["Gold", "Silver"]}, "gold", "Gold"),
        ("address", {}, FULL, FULL.model_dump()),
    ],
)
def test_values_convert_to_the_fields_type(
    kind: str, options: dict[str, object], value: object, expected: object
) -> None:
    result = convert(value, spec(kind, **options))  # type: ignore[arg-type]
    assert result.problem is None
    assert result.value == expected


@pytest.mark.parametrize(
    ("kind", "options", "value", "problem"),
    [
        ("text", {}, "x" * 256, "longer than Mailchimp's 255 bytes"),
        ("text", {}, "Ж" * 128, "longer than Mailchimp's 255 bytes"),  # 128 letters, 256 bytes
        ("number", {}, "lots", "not a number"),
        # Once 1.234, a thousandth of what "1,234" most likely says.
        ("number", {}, "1,234", "could be a thousand or a decimal"),
        # Its mirror, where dots group thousands: once read as 1.234, 100 and 12.5.
        ("number", {}, "1.234", "could be a thousand or a decimal"),
        ("number", {}, "100.000", "could be a thousand or a decimal"),
        ("number", {}, "-12.500", "could be a thousand or a decimal"),
        ("number", {}, "1,2,3", "not a number"),
        ("number", {}, "1_000", "not a number"),
        ("number", {}, "١٢٣", "not a number"),  # Arabic-Indic digits
        ("number", {}, "inf", "not a number"),
        ("number", {}, "1e5", "not a number"),
        ("phone", {"phone_format": "US"}, "+44 20 7946 0958", "not a US phone number"),
        ("phone", {}, "call me", "not a phone number"),
        ("date", {"date_format": "MM/DD/YYYY"}, "31/31/1990", "not a date"),
        ("birthday", {}, "someday", "not a date"),
        # The other order, with or without a year.
        ("birthday", {"date_format": "MM/DD"}, "31/12/1990", "not a date"),
        ("birthday", {"date_format": "DD/MM"}, "12/31/1990", "not a date"),
        ("birthday", {"date_format": "DD/MM"}, "12/31", "not a date"),
        ("birthday", {"date_format": "MM/DD"}, "02/29/1991", "not a date"),
        ("zip", {}, "SW1A 1AA", "not a US zip code"),
        ("url", {}, "shop.example", "not a web address"),
        ("radio", {"choices": ["A"]}, "B", "not one of the field's choices"),
        ("address", {}, FULL.model_copy(update={"state": ""}), "has no state"),
        ("address", {}, "1 Main St", "only a customer address"),
    ],
)
def test_values_that_cannot_be_converted_say_why(
    kind: str, options: dict[str, object], value: object, problem: str
) -> None:
    result = convert(value, spec(kind, **options))  # type: ignore[arg-type]
    assert result.value is None
    assert result.problem is not None and problem in result.problem


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_blank_value_is_nothing_to_send_not_a_problem(value: str | None) -> None:
    assert convert(value, spec("number")) == convert(None, spec("text"))
    assert convert(value, spec("number")).problem is None


@pytest.mark.parametrize(
    ("saleor", "mailchimp"),
    [
        ("EN", "en"),
        ("EN_US", "en"),
        ("PT_BR", "pt"),
        ("PT_PT", "pt_PT"),
        ("FR_CA", "fr_CA"),
        ("ES_MX", "es"),
        ("ES_ES", "es_ES"),
        ("NB", "no"),
        ("ZH_HANS", "zh"),
        ("XX", None),
        (None, None),
    ],
)
def test_saleor_language_codes_map_to_mailchimps(saleor: str | None, mailchimp: str | None) -> None:
    assert mailchimp_language(saleor) == mailchimp


def test_only_fields_the_app_filled_before_are_cleared() -> None:
    data = MemberData(merge_fields={"FNAME": "Ann", "CITY": "Oslo"}, blank={"PHONE", "ZIP"})
    data.given_names.add("FNAME")
    assert data.merge_fields_clearing(["PHONE", "CITY"]) == {
        "PHONE": "",
        "FNAME": "Ann",
        "CITY": "Oslo",
    }
    assert data.mapped_sent() == ["CITY"]


def test_a_name_too_long_for_a_tag_is_reported_not_dropped_silently() -> None:
    profile = CustomerProfile.model_validate(
        {
            "id": "VXNlcjox",
            "email": "ann@example.com",
            "metadata": [{"key": "segments", "value": f"vip, {'x' * 101}"}],
        }
    )
    tags = FieldMapping(
        target=MappingTarget.TAGS, source=FieldSource.METADATA, key="segments", merge_tag=""
    )
    data = member_data(profile, [tags], [])
    assert data.tags == ["vip"]
    [problem] = data.problems
    assert "longer than Mailchimp's 100 characters for a tag" in problem


@pytest.mark.parametrize("tag", ["FNAME", "LNAME"])
def test_given_names_are_checked_as_mapped_values_are(tag: str) -> None:
    """Names a registration or checkout gives (no mapping of FNAME/LNAME): Saleor takes 256
    characters, Mailchimp's text field 255, and a refused value fails the whole member write."""
    specs = [
        MergeFieldSpec(tag="FNAME", name="First Name", type="text"),
        MergeFieldSpec(tag="LNAME", name="Last Name", type="text"),
    ]
    long = "A" * 256
    names = (long, "Apple") if tag == "FNAME" else ("Ann", long)
    data = member_data(None, [], specs, names=names)
    assert tag not in data.merge_fields and tag not in data.given_names
    [problem] = data.problems
    label = "First Name" if tag == "FNAME" else "Last Name"
    assert problem.startswith(f"{label} ({tag}): the text is longer than Mailchimp's 255 bytes")
    other = "LNAME" if tag == "FNAME" else "FNAME"
    assert other in data.merge_fields and data.given_names == {other}
    # A name that fits goes as before, trimmed as a mapped one.
    fine = member_data(None, [], specs, names=(" Ann ", "A" * 255))
    assert fine.merge_fields == {"FNAME": "Ann", "LNAME": "A" * 255} and fine.problems == []
