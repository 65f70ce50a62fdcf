"""Lists (audiences), each made with the default merge fields (and, when asked for, the
default marketing permissions).

A list's merge fields, interests and webhooks are in `merge_fields.py`, `interests.py` and
`list_webhooks.py`.
"""

from __future__ import annotations

from typing import Any

from .bodies import BodyIn
from .errors import not_found
from .merge_values import DEFAULT_OPTIONS
from .models import AudienceList, MarketingPermission, MemberMarketingPermission, MergeField
from .routing import ApiRequest, Router, paginate
from .state import AccountData, ListData

router = Router()

DEFAULT_MERGE_FIELDS = (
    ("FNAME", "First Name", "text"),
    ("LNAME", "Last Name", "text"),
    ("ADDRESS", "Address", "address"),
    ("PHONE", "Phone Number", "phone"),
    ("BIRTHDAY", "Birthday", "birthday"),
)
DEFAULT_PERMISSIONS = ("Email", "Direct Mail", "Customized Online Advertising")


class ContactIn(BodyIn):
    company: str
    address1: str
    address2: str = ""
    city: str
    state: str = ""
    zip: str = ""
    country: str
    phone: str = ""


class CampaignDefaultsIn(BodyIn):
    from_name: str
    from_email: str
    subject: str
    language: str


class ListIn(BodyIn):
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


class ListPatch(BodyIn):
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
        # Mailchimp lists every permission of the audience on every member, those who joined
        # before too (integrations read them off any one member: mc-woocommerce's
        # `lists/{id}/members?fields=members.marketing_permissions&count=1`).
        for member in data.members.values():
            member.marketing_permissions = [
                MemberMarketingPermission(
                    marketing_permission_id=p.marketing_permission_id, text=p.text
                )
                for p in data.permissions
            ]
    return render_list(data)


@router.route("DELETE", "/lists/{list_id}")
def delete_list(request: ApiRequest) -> None:
    list_data(request.account, request.params["list_id"])
    del request.account.lists[request.params["list_id"]]
