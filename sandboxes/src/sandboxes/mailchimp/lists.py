"""Lists (audiences), merge fields, interest categories, interests and list webhooks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .errors import field_invalid, invalid_resource, not_found
from .merge_values import DEFAULT_OPTIONS
from .models import (
    AudienceList,
    Interest,
    InterestCategory,
    InterestType,
    ListWebhook,
    MarketingPermission,
    MergeField,
    WebhookEvents,
    WebhookSources,
)
from .routing import ApiRequest, Router, paginate
from .state import AccountData, ListData
from .webhooks import verify_url

router = Router()

DEFAULT_MERGE_FIELDS = (
    ("FNAME", "First Name", "text"),
    ("LNAME", "Last Name", "text"),
    ("ADDRESS", "Address", "address"),
    ("PHONE", "Phone Number", "phone"),
    ("BIRTHDAY", "Birthday", "birthday"),
)
MERGE_FIELD_TYPES = frozenset(
    {"text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown"}
    | {"birthday", "zip"}
)
DEFAULT_PERMISSIONS = ("Email", "Direct Mail", "Customized Online Advertising")


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ContactIn(_In):
    company: str
    address1: str
    address2: str = ""
    city: str
    state: str = ""
    zip: str = ""
    country: str
    phone: str = ""


class CampaignDefaultsIn(_In):
    from_name: str
    from_email: str
    subject: str
    language: str


class ListIn(_In):
    name: str
    contact: ContactIn
    permission_reminder: str
    use_archive_bar: bool = False
    campaign_defaults: CampaignDefaultsIn
    notify_on_subscribe: str = ""
    notify_on_unsubscribe: str = ""
    email_type_option: bool
    double_optin: bool = False
    marketing_permissions: bool = False


class ListPatch(_In):
    name: str | None = None
    contact: dict[str, Any] | None = None
    permission_reminder: str | None = None
    use_archive_bar: bool | None = None
    campaign_defaults: dict[str, Any] | None = None
    notify_on_subscribe: str | None = None
    notify_on_unsubscribe: str | None = None
    email_type_option: bool | None = None
    double_optin: bool | None = None
    marketing_permissions: bool | None = None


class MergeFieldIn(_In):
    tag: str | None = None
    name: str
    type: str
    required: bool = False
    default_value: str = ""
    public: bool = True
    display_order: int | None = None
    options: dict[str, Any] = {}
    help_text: str = ""


class CategoryIn(_In):
    title: str
    display_order: int = 0
    type: InterestType


class InterestIn(_In):
    name: str
    display_order: int = 0


class WebhookIn(_In):
    url: str
    events: WebhookEvents = WebhookEvents()
    sources: WebhookSources = WebhookSources()


# --- lists ----------------------------------------------------------------------------------


def create_list(request: ApiRequest, payload: ListIn) -> ListData:
    """Create an audience (also used by the Python helper)."""
    sandbox = request.sandbox
    state = sandbox.state
    list_id = state.new_id(10)
    web_id = state.rng.randint(100_000, 999_999)
    info = AudienceList(
        id=list_id,
        web_id=web_id,
        name=payload.name,
        contact=payload.contact.model_dump(),
        permission_reminder=payload.permission_reminder,
        use_archive_bar=payload.use_archive_bar,
        campaign_defaults=payload.campaign_defaults.model_dump(),
        notify_on_subscribe=payload.notify_on_subscribe,
        notify_on_unsubscribe=payload.notify_on_unsubscribe,
        date_created=sandbox.clock.iso(),
        email_type_option=payload.email_type_option,
        subscribe_url_short=f"http://eepurl.com/{list_id[:6]}",
        subscribe_url_long=(
            f"{sandbox.public_base_url}/subscribe?u={request.account.account.id}&id={list_id}"
        ),
        beamer_address=f"us21-{list_id}@inbound.mailchimp.com",
        double_optin=payload.double_optin,
        marketing_permissions=payload.marketing_permissions,
    )
    data = ListData(info=info)
    for order, (tag, name, kind) in enumerate(DEFAULT_MERGE_FIELDS, start=1):
        data.merge_fields[order] = MergeField(
            merge_id=order,
            tag=tag,
            name=name,
            type=kind,
            display_order=order + 1,
            list_id=list_id,
            options=dict(DEFAULT_OPTIONS.get(kind, {})),
        )
    data.next_merge_id = len(DEFAULT_MERGE_FIELDS) + 1
    if payload.marketing_permissions:
        data.permissions = [
            MarketingPermission(marketing_permission_id=state.new_id(10), text=text)
            for text in DEFAULT_PERMISSIONS
        ]
    request.account.lists[list_id] = data
    return data


def list_data(account: AccountData, list_id: str) -> ListData:
    data = account.lists.get(list_id)
    if data is None:
        raise not_found()
    return data


def render_list(data: ListData) -> dict[str, Any]:
    members = list(data.members.values())

    def count(status: str) -> int:
        return sum(1 for m in members if m.status == status)

    doc = data.info.model_dump(mode="json")
    doc["stats"] = {
        "member_count": count("subscribed"),
        "total_contacts": len(members),
        "unsubscribe_count": count("unsubscribed"),
        "cleaned_count": count("cleaned"),
        "member_count_since_send": count("subscribed"),
        "unsubscribe_count_since_send": count("unsubscribed"),
        "cleaned_count_since_send": count("cleaned"),
        "campaign_count": 0,
        "merge_field_count": len(data.merge_fields),
        "avg_sub_rate": 0,
        "avg_unsub_rate": 0,
        "target_sub_rate": 0,
        "open_rate": 0,
        "click_rate": 0,
    }
    doc["_links"] = []
    return doc


@router.route("POST", "/lists")
def post_list(request: ApiRequest) -> dict[str, Any]:
    return render_list(create_list(request, request.parse(ListIn)))


@router.route("GET", "/lists")
def get_lists(request: ApiRequest) -> dict[str, Any]:
    items = [render_list(d) for d in request.account.lists.values()]
    return paginate(request, "lists", items)


@router.route("GET", "/lists/{list_id}")
def get_list(request: ApiRequest) -> dict[str, Any]:
    return render_list(list_data(request.account, request.params["list_id"]))


@router.route("PATCH", "/lists/{list_id}")
def patch_list(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    patch = request.parse(ListPatch).model_dump(exclude_none=True)
    info = data.info.model_dump()
    for key in ("contact", "campaign_defaults"):
        if key in patch:
            patch[key] = {**info[key], **patch[key]}
    data.info = AudienceList.model_validate({**info, **patch})
    if data.info.marketing_permissions and not data.permissions:
        data.permissions = [
            MarketingPermission(marketing_permission_id=request.sandbox.state.new_id(10), text=t)
            for t in DEFAULT_PERMISSIONS
        ]
    return render_list(data)


@router.route("DELETE", "/lists/{list_id}")
def delete_list(request: ApiRequest) -> None:
    list_data(request.account, request.params["list_id"])
    del request.account.lists[request.params["list_id"]]


# --- merge fields ---------------------------------------------------------------------------


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


@router.route("POST", "/lists/{list_id}/merge-fields")
def post_merge_field(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    payload = request.parse(MergeFieldIn)
    if payload.type not in MERGE_FIELD_TYPES:  # the API's enum of merge field types
        raise field_invalid("type", f"Value '{payload.type}' is not a valid merge field type.")
    tag = (payload.tag or payload.name).upper().replace(" ", "")[:10]
    if any(f.tag == tag for f in data.merge_fields.values()):
        raise invalid_resource(f'A Merge Field with the tag "{tag}" already exists for this list.')
    merge_id = data.next_merge_id
    data.next_merge_id += 1
    field = MergeField(
        merge_id=merge_id,
        list_id=data.info.id,
        **{
            **payload.model_dump(exclude={"tag", "display_order"}),
            "tag": tag,
            "display_order": payload.display_order or merge_id + 1,
            # Mailchimp fills in the options a type has (date formats, phone format...).
            "options": {**DEFAULT_OPTIONS.get(payload.type, {}), **payload.options},
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
    body = request.json_object()
    if "name" not in body:
        raise field_invalid("name", "This value should not be blank.")
    allowed = set(MergeFieldIn.model_fields) - {"type"}
    updated = MergeField.model_validate(
        {**found.model_dump(), **{k: v for k, v in body.items() if k in allowed}}
    )
    data.merge_fields[found.merge_id] = updated
    return updated.model_dump(mode="json")


@router.route("DELETE", "/lists/{list_id}/merge-fields/{merge_id}")
def delete_merge_field(request: ApiRequest) -> None:
    data, found = _merge_field(request)
    del data.merge_fields[found.merge_id]


# --- interest categories and interests ------------------------------------------------------


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


# --- webhooks -------------------------------------------------------------------------------


def _render_webhook(hook: ListWebhook) -> dict[str, Any]:
    return {**hook.model_dump(mode="json"), "_links": []}


@router.route("POST", "/lists/{list_id}/webhooks")
async def post_webhook(request: ApiRequest) -> dict[str, Any]:
    with request.sandbox.state.lock:
        list_data(request.account, request.params["list_id"])
        payload = request.parse(WebhookIn)
        if not payload.url.startswith(("http://", "https://")):
            raise field_invalid("url", "This value should be a valid URL.")
    if not await verify_url(request.sandbox, payload.url):
        raise field_invalid(
            "url", "We couldn't verify that the URL is working. Please double check and try again."
        )
    with request.sandbox.state.lock:
        data = list_data(request.account, request.params["list_id"])
        if any(h.url == payload.url for h in data.webhooks.values()):
            raise invalid_resource("Sorry, you can't use the same URL for more than one webhook.")
        hook = ListWebhook(
            id=request.sandbox.state.new_id(10),
            url=payload.url,
            events=payload.events,
            sources=payload.sources,
            list_id=data.info.id,
        )
        data.webhooks[hook.id] = hook
        return _render_webhook(hook)


@router.route("GET", "/lists/{list_id}/webhooks")
def get_webhooks(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    items = [_render_webhook(h) for h in data.webhooks.values()]
    return {"webhooks": items, "list_id": data.info.id, "total_items": len(items), "_links": []}


def _webhook(request: ApiRequest) -> tuple[ListData, ListWebhook]:
    data = list_data(request.account, request.params["list_id"])
    found = data.webhooks.get(request.params["webhook_id"])
    if found is None:
        raise not_found()
    return data, found


@router.route("GET", "/lists/{list_id}/webhooks/{webhook_id}")
def get_webhook(request: ApiRequest) -> dict[str, Any]:
    return _render_webhook(_webhook(request)[1])


@router.route("PATCH", "/lists/{list_id}/webhooks/{webhook_id}")
def patch_webhook(request: ApiRequest) -> dict[str, Any]:
    data, found = _webhook(request)
    body = request.json_object()
    merged = found.model_dump()
    for key in ("events", "sources"):
        if isinstance(body.get(key), dict):
            merged[key] = {**merged[key], **body[key]}
    if "url" in body:
        merged["url"] = body["url"]
    updated = ListWebhook.model_validate(merged)
    data.webhooks[found.id] = updated
    return _render_webhook(updated)


@router.route("DELETE", "/lists/{list_id}/webhooks/{webhook_id}")
def delete_webhook(request: ApiRequest) -> None:
    data, found = _webhook(request)
    del data.webhooks[found.id]
