"""A list's merge fields (the audience's fields, ``FNAME`` and the like)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from .bodies import BodyIn, given, refuse_null
from .errors import field_invalid, invalid_resource, not_found
from .lists import list_data
from .merge_values import DEFAULT_OPTIONS
from .models import MergeField
from .routing import ApiRequest, Router, paginate
from .state import ListData

router = Router()

# The spec's enum of merge field types (`Merge_Field_1.type`).
MergeFieldType = Literal[
    "text",
    "number",
    "address",
    "phone",
    "date",
    "url",
    "imageurl",
    "radio",
    "dropdown",
    "birthday",
    "zip",
]


class MergeOptionsIn(BodyIn):
    """`Merge_Field_1.options`: what some types take (a phone's format, a list's choices...)."""

    default_country: int = 0
    phone_format: str = ""
    date_format: str = ""
    choices: list[str] = Field(default_factory=list)
    size: int = 0


class MergeFieldIn(BodyIn):
    tag: str | None = None
    name: str
    type: MergeFieldType
    required: bool = False
    default_value: str = ""
    public: bool = True
    display_order: int | None = None
    options: MergeOptionsIn = Field(default_factory=MergeOptionsIn)
    help_text: str = ""
    _null = refuse_null("tag", "display_order")


class MergeOptionsPatchIn(BodyIn):
    """`Merge_Field_Options_2`: a PATCH's options (no `size`)."""

    default_country: int = 0
    phone_format: str = ""
    date_format: str = ""
    choices: list[str] = Field(default_factory=list)


class MergeFieldPatchIn(BodyIn):
    """`Merge_Field_2`: what a PATCH may change, typed as the spec types it (no `type`)."""

    tag: str | None = None
    name: str
    required: bool | None = None
    default_value: str | None = None
    public: bool | None = None
    display_order: int | None = None
    options: MergeOptionsPatchIn | None = None
    help_text: str | None = None
    _null = refuse_null(
        "tag", "required", "default_value", "public", "display_order", "options", "help_text"
    )


def _merge_field(request: ApiRequest) -> tuple[ListData, MergeField]:
    data = list_data(request.account, request.params["list_id"])
    try:
        merge_id = int(request.params["merge_id"])
    except ValueError:
        raise not_found() from None
    found = data.merge_fields.get(merge_id)
    if found is None:
        raise not_found()
    return data, found


@router.route("GET", "/lists/{list_id}/merge-fields")
def get_merge_fields(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    items = [f.model_dump(mode="json") for f in data.merge_fields.values()]
    if request.query.get("type"):
        items = [f for f in items if f["type"] == request.query["type"]]
    if request.query.get("required"):
        items = [f for f in items if f["required"] == request.flag("required")]
    return {**paginate(request, "merge_fields", items), "list_id": data.info.id}


# An audience holds 30 fields, the e-mail address among them, which the API does not list
# (mailchimp/mc-magento#957 quotes Mailchimp's "you cannot create more merge fields than 30";
# mc-magento#1062 caps them so; chimpmatic.com/mailchimp-audience-fields-and-merge-tags: 30
# in all, 5 of them default).
MAX_FIELDS = 30
# The formats Mailchimp offers a date and a birthday field (the Add-a-field form; birthdays
# carry no year: ibericode/mailchimp-for-wordpress#170, craft-freeform#2615).
DATE_FORMATS = {"date": ("MM/DD/YYYY", "DD/MM/YYYY"), "birthday": ("MM/DD", "DD/MM")}


# A merge tag is capital letters, digits and underscores ("merge tags only use uppercase
# letters, numbers, or underscores. No special characters or symbols are allowed",
# chimpmatic.com/mailchimp-audience-fields-and-merge-tags). Mailchimp's answer to another
# character is not published: refused here (the stricter side), in the sandbox's words.
_TAG = re.compile(r"^[A-Z0-9_]+$")
# The e-mail address's own field (merge_id 0, which the API does not list): no other takes it.
EMAIL_TAG = "EMAIL"


def _tag(data: ListData, given_tag: str | None, merge_id: int) -> str:
    """The tag a field gets, checked: one given is cut to Mailchimp's 10 characters, not refused
    (mailchimp/mc-magento#1070: "brand_preference" became "brand_prefe" in Mailchimp); none
    given, Mailchimp numbers it `MMERGE<n>` (beaufort12.com/mc4faqs on address fields:
    "MMERGE5, MMERGE6"). Taken by another field of the list, or by the address's: refused."""
    tag = given_tag.upper().replace(" ", "")[:10] if given_tag else f"MMERGE{merge_id}"
    if not _TAG.match(tag):
        raise field_invalid("tag", "A merge tag takes capital letters, digits and underscores.")
    taken = tag == EMAIL_TAG or any(
        f.tag == tag and f.merge_id != merge_id for f in data.merge_fields.values()
    )
    if taken:
        raise invalid_resource(f'A Merge Field with the tag "{tag}" already exists for this list.')
    return tag


def _check_date_format(kind: str, date_format: str | None) -> None:
    allowed = DATE_FORMATS.get(kind)
    if allowed is not None and date_format and date_format not in allowed:
        raise field_invalid(
            "options.date_format", f"A {kind} field takes the format {' or '.join(allowed)}."
        )


@router.route("POST", "/lists/{list_id}/merge-fields")
def post_merge_field(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    payload = request.parse(MergeFieldIn)
    _check_date_format(payload.type, payload.options.date_format)
    if len(data.merge_fields) + 1 >= MAX_FIELDS:  # + the e-mail address
        raise invalid_resource(f"You cannot create more merge fields than {MAX_FIELDS}.")
    merge_id = data.next_merge_id
    tag = _tag(data, payload.tag, merge_id)
    data.next_merge_id += 1
    field = MergeField(
        merge_id=merge_id,
        list_id=data.info.id,
        **{
            **payload.model_dump(exclude={"tag", "display_order"}),
            "tag": tag,
            "display_order": payload.display_order or merge_id + 1,
            # Mailchimp fills in the options a type has (date formats, phone format...).
            "options": {
                **DEFAULT_OPTIONS.get(payload.type, {}),
                **given(payload.options),
            },
        },
    )
    data.merge_fields[merge_id] = field
    return field.model_dump(mode="json")


@router.route("GET", "/lists/{list_id}/merge-fields/{merge_id}")
def get_merge_field(request: ApiRequest) -> dict[str, Any]:
    return _merge_field(request)[1].model_dump(mode="json")


@router.route("PATCH", "/lists/{list_id}/merge-fields/{merge_id}")
def patch_merge_field(request: ApiRequest) -> dict[str, Any]:
    data, found = _merge_field(request)
    if "name" not in request.json_object():
        raise field_invalid("name", "This value should not be blank.")
    # Typed as the spec types a PATCH (`Merge_Field_2`); the tag held to a new field's rules.
    payload = request.parse(MergeFieldPatchIn)
    changes = given(payload)
    if payload.tag is not None:
        if not payload.tag.strip():  # no number is given in its place, as on a new field
            raise field_invalid("tag", "This value should not be blank.")
        changes["tag"] = _tag(data, payload.tag, found.merge_id)
    updated = MergeField.model_validate({**found.model_dump(), **changes})
    _check_date_format(updated.type, (updated.options or {}).get("date_format"))
    data.merge_fields[found.merge_id] = updated
    return updated.model_dump(mode="json")


@router.route("DELETE", "/lists/{list_id}/merge-fields/{merge_id}")
def delete_merge_field(request: ApiRequest) -> None:
    data, found = _merge_field(request)
    del data.merge_fields[found.merge_id]
