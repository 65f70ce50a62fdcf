"""A list's interest categories and the interests (groups) in each."""

from __future__ import annotations

from typing import Any

from .bodies import BodyIn
from .errors import invalid_resource, not_found
from .lists import list_data
from .models import Interest, InterestCategory, InterestType
from .routing import ApiRequest, Router, paginate
from .state import ListData

router = Router()

MAX_INTERESTS = 60  # group names (interests) per audience, all categories together


class CategoryIn(BodyIn):
    title: str
    display_order: int = 0
    type: InterestType


class InterestIn(BodyIn):
    name: str
    display_order: int = 0


def _category(request: ApiRequest) -> tuple[ListData, InterestCategory]:
    data = list_data(request.account, request.params["list_id"])
    found = data.categories.get(request.params["interest_category_id"])
    if found is None:
        raise not_found()
    return data, found


@router.route("GET", "/lists/{list_id}/interest-categories")
def get_categories(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    items = [c.model_dump(mode="json") for c in data.categories.values()]
    if request.query.get("type"):
        items = [c for c in items if c["type"] == request.query["type"]]
    return {**paginate(request, "categories", items), "list_id": data.info.id}


@router.route("POST", "/lists/{list_id}/interest-categories")
def post_category(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    payload = request.parse(CategoryIn)
    if any(c.title == payload.title for c in data.categories.values()):
        raise invalid_resource(
            f'Cannot add "{payload.title}" because it already exists on the list.'
        )
    category = InterestCategory(
        list_id=data.info.id, id=request.sandbox.state.new_id(10), **payload.model_dump()
    )
    data.categories[category.id] = category
    return category.model_dump(mode="json")


@router.route("GET", "/lists/{list_id}/interest-categories/{interest_category_id}")
def get_category(request: ApiRequest) -> dict[str, Any]:
    return _category(request)[1].model_dump(mode="json")


@router.route("PATCH", "/lists/{list_id}/interest-categories/{interest_category_id}")
def patch_category(request: ApiRequest) -> dict[str, Any]:
    data, found = _category(request)
    payload = request.parse(CategoryIn, {**found.model_dump(), **request.json_object()})
    updated = InterestCategory(list_id=found.list_id, id=found.id, **payload.model_dump())
    data.categories[found.id] = updated
    return updated.model_dump(mode="json")


@router.route("DELETE", "/lists/{list_id}/interest-categories/{interest_category_id}")
def delete_category(request: ApiRequest) -> None:
    data, found = _category(request)
    del data.categories[found.id]
    for interest_id in [i.id for i in data.interests.values() if i.category_id == found.id]:
        del data.interests[interest_id]
        for member in data.members.values():
            member.interests.pop(interest_id, None)


def _render_interest(data: ListData, interest: Interest) -> dict[str, Any]:
    count = sum(
        1
        for m in data.members.values()
        if m.status == "subscribed" and m.interests.get(interest.id)
    )
    return {**interest.model_dump(mode="json"), "subscriber_count": str(count)}


@router.route("GET", "/lists/{list_id}/interest-categories/{interest_category_id}/interests")
def get_interests(request: ApiRequest) -> dict[str, Any]:
    data, category = _category(request)
    items = [
        _render_interest(data, i) for i in data.interests.values() if i.category_id == category.id
    ]
    return {
        **paginate(request, "interests", items),
        "list_id": data.info.id,
        "category_id": category.id,
    }


@router.route("POST", "/lists/{list_id}/interest-categories/{interest_category_id}/interests")
def post_interest(request: ApiRequest) -> dict[str, Any]:
    data, category = _category(request)
    payload = request.parse(InterestIn)
    if len(data.interests) >= MAX_INTERESTS:
        # "Each audience can have up to 60 group names in total" (u/MailchimpSupport on
        # r/MailChimp, "Tags, Groups, and Segments, Oh my!", 2024-02-01): across all its
        # categories. Mailchimp's wording of the refusal is not published.
        raise invalid_resource(
            f"An audience can have up to {MAX_INTERESTS} group names in total; "
            f'"{payload.name}" cannot be added.'
        )
    siblings = [i for i in data.interests.values() if i.category_id == category.id]
    if any(i.name == payload.name for i in siblings):
        raise invalid_resource(
            f'Cannot add "{payload.name}" because it already exists on the list.'
        )
    interest = Interest(
        category_id=category.id,
        list_id=data.info.id,
        id=request.sandbox.state.new_id(10),
        **payload.model_dump(),
    )
    data.interests[interest.id] = interest
    return _render_interest(data, interest)


def _interest(request: ApiRequest) -> tuple[ListData, Interest]:
    data, category = _category(request)
    found = data.interests.get(request.params["interest_id"])
    if found is None or found.category_id != category.id:
        raise not_found()
    return data, found


INTEREST_PATH = (
    "/lists/{list_id}/interest-categories/{interest_category_id}/interests/{interest_id}"
)


@router.route("GET", INTEREST_PATH)
def get_interest(request: ApiRequest) -> dict[str, Any]:
    data, found = _interest(request)
    return _render_interest(data, found)


@router.route("PATCH", INTEREST_PATH)
def patch_interest(request: ApiRequest) -> dict[str, Any]:
    data, found = _interest(request)
    payload = request.parse(InterestIn, {**found.model_dump(), **request.json_object()})
    updated = found.model_copy(update=payload.model_dump())
    data.interests[found.id] = updated
    return _render_interest(data, updated)


@router.route("DELETE", INTEREST_PATH)
def delete_interest(request: ApiRequest) -> None:
    data, found = _interest(request)
    del data.interests[found.id]
    for member in data.members.values():
        member.interests.pop(found.id, None)
