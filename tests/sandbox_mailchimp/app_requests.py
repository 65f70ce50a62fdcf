"""The writes the app makes to Mailchimp, each as its typed client (`addon/mailchimp/`) sends it.

Every method of `MailchimpClient` and `PromoClient` that sends a body is a :class:`Case`: it
calls the method with an example model (`app_examples.py`), and :func:`capture` records the
request instead of sending it. A case the app also sends as an operation of `POST /batches`
names the builder of that operation (`addon.mailchimp.batches`, `addon.mailchimp.promos`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from addon.mailchimp import batches, promos
from addon.mailchimp.client import MailchimpClient
from addon.mailchimp.credentials import MailchimpCredentials
from addon.mailchimp.http import MailchimpHttp
from addon.mailchimp.models import BatchOperation, MemberUpsert, TagUpdate
from sandboxes.mailchimp import subscriber_hash
from tests.contracts.mailchimp import api_path, match_template

from . import app_examples as ex
from .app_examples import MEMBER, STORE, World

Send = Callable[[MailchimpClient, World], Awaitable[object]]
Builder = Callable[..., BatchOperation]
Arguments = Callable[[World], tuple[object, ...]]
OP = "op-1"


@dataclass(frozen=True)
class Case:
    """One write of the app's client; ``batch``: the app's builder of the same write as a
    batch operation, and the arguments it is called with (before ``operation_id``)."""

    name: str  # the client's method
    send: Send
    batch: tuple[Builder, Arguments] | None = None

    def operation(self, world: World) -> BatchOperation:
        assert self.batch is not None
        builder, arguments = self.batch
        return builder(*arguments(world), operation_id=OP)


@dataclass(frozen=True)
class AppRequest:
    """A request as the client sent it."""

    method: str
    path: str  # relative to the API root
    template: str  # the spec's path template
    query: dict[str, str]
    body: dict[str, Any]


def _promos(client: MailchimpClient) -> promos.PromoClient:
    return promos.PromoClient(client)


CASES: tuple[Case, ...] = (
    Case(
        "create_merge_field",
        lambda c, w: c.create_merge_field(
            w.list_id,
            "Source",
            "text",
            tag="SOURCE",
            required=False,
            default_value="web",
            public=True,
            display_order=5,
            options={"size": 25, "default_country": 164, "phone_format": "US"}
            | {"date_format": "MM/DD/YYYY", "choices": ["web", "shop"]},
            help_text="Where the contact came from",
        ),
    ),
    Case(
        "create_interest_category",
        lambda c, w: c.create_interest_category(w.list_id, "Colours", display_order=2),
    ),
    Case(
        "create_interest",
        lambda c, w: c.create_interest(w.list_id, w.category_id, "Blue", display_order=1),
    ),
    Case("upsert_member", lambda c, w: c.upsert_member(w.list_id, ex.member_upsert(w))),
    Case("update_member", lambda c, w: c.update_member(w.list_id, MEMBER, ex.member_patch(w))),
    Case(
        "update_member_tags",
        lambda c, w: c.update_member_tags(w.list_id, MEMBER, [TagUpdate(name="vip")]),
    ),
    Case("create_webhook", lambda c, w: c.create_webhook(w.list_id, ex.webhook())),
    Case("update_webhook", lambda c, w: c.update_webhook(w.list_id, w.webhook_id, ex.webhook())),
    Case("create_store", lambda c, w: c.create_store(ex.store_input(w))),
    Case("update_store", lambda c, w: c.update_store(STORE, ex.store_patch())),
    Case(
        "create_customer",
        lambda c, w: c.create_customer(STORE, ex.customer_input("c2", "new@acme.test")),
    ),
    Case(
        "upsert_customer",
        lambda c, w: c.upsert_customer(STORE, ex.customer_input("c1", ex.CUSTOMER_EMAIL)),
        (
            batches.upsert_customer,
            lambda w: (STORE, ex.customer_input("c1", ex.CUSTOMER_EMAIL)),
        ),
    ),
    Case("update_customer", lambda c, w: c.update_customer(STORE, "c1", ex.customer_patch())),
    Case(
        "create_product",
        lambda c, w: c.create_product(STORE, ex.product_input()),
        (
            batches.create_product,
            lambda w: (STORE, ex.product_input()),
        ),
    ),
    Case(
        "update_product",
        lambda c, w: c.update_product(STORE, "p1", ex.product_patch()),
        (
            batches.update_product,
            lambda w: (STORE, "p1", ex.product_patch()),
        ),
    ),
    Case(
        "upsert_product_variant",
        lambda c, w: c.upsert_product_variant(STORE, "p1", ex.variant_input("v1")),
        (
            batches.upsert_product_variant,
            lambda w: (STORE, "p1", ex.variant_input("v1")),
        ),
    ),
    Case(
        "update_product_variant",
        lambda c, w: c.update_product_variant(STORE, "p1", "v1", ex.variant_patch()),
    ),
    Case(
        "create_order",
        lambda c, w: c.create_order(STORE, ex.order_input(w)),
        (
            batches.create_order,
            lambda w: (STORE, ex.order_input(w)),
        ),
    ),
    Case(
        "update_order",
        lambda c, w: c.update_order(STORE, "o1", ex.order_patch(w)),
        (
            batches.update_order,
            lambda w: (STORE, "o1", ex.order_patch(w)),
        ),
    ),
    Case("create_cart", lambda c, w: c.create_cart(STORE, ex.cart_input(w))),
    Case("update_cart", lambda c, w: c.update_cart(STORE, "cart1", ex.cart_patch(w))),
    Case(
        "create_batch",
        lambda c, w: c.create_batch(
            [
                BatchOperation.of(
                    "PUT",
                    f"/lists/{w.list_id}/members/{subscriber_hash(MEMBER)}",
                    MemberUpsert(email_address=MEMBER, status_if_new="subscribed"),
                    operation_id=OP,
                ),
                BatchOperation.of("GET", f"/lists/{w.list_id}", params={"fields": "id"}),
            ]
        ),
    ),
    Case(
        "PromoClient.create_rule",
        lambda c, w: _promos(c).create_rule(STORE, ex.rule_input()),
        (
            promos.create_rule_op,
            lambda w: (STORE, ex.rule_input()),
        ),
    ),
    Case(
        "PromoClient.update_rule",
        lambda c, w: _promos(c).update_rule(STORE, "r1", ex.rule_patch()),
    ),
    Case(
        "PromoClient.create_code",
        lambda c, w: _promos(c).create_code(STORE, "r1", ex.code_input()),
        (
            promos.create_code_op,
            lambda w: (STORE, "r1", ex.code_input()),
        ),
    ),
    Case(
        "PromoClient.update_code",
        lambda c, w: _promos(c).update_code(STORE, "r1", "d1", ex.code_patch()),
        (
            promos.update_code_op,
            lambda w: (STORE, "r1", "d1", ex.code_patch()),
        ),
    ),
)

# What the capturing transport answers: enough for every response model the client parses.
_ANSWER = {"id": "x", "merge_id": 1, "tag": "T", "email_address": MEMBER, "status": "pending"}


async def capture(case: Case, world: World) -> AppRequest:
    """The one request ``case`` makes, recorded (and answered) without reaching any server."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_ANSWER)

    key = MailchimpCredentials.from_api_key("0" * 32 + "-us21")
    async with MailchimpHttp(transport=httpx.MockTransport(answer)) as http:
        await case.send(MailchimpClient(http, key), world)
    [request] = seen
    path = api_path(request.url.path)
    template, problems = match_template(request.method, path)
    assert template is not None, problems
    return AppRequest(
        method=request.method,
        path=path,
        template=template,
        query=dict(request.url.params),
        body=json.loads(request.content),
    )


def as_operation(request: AppRequest, body: object, operation_id: str) -> dict[str, Any]:
    """``request`` with ``body`` as an operation of ``POST /batches`` (its body a JSON string)."""
    operation: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "operation_id": operation_id,
        "body": json.dumps(body),
    }
    if request.query:
        operation["params"] = request.query
    return operation
