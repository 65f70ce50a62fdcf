"""A customer's new e-mail address, through the sandboxes: the audience member moves to it (or is
merged into the contact the new address already was, keeping the stronger consent), and the
e-commerce customer, which Mailchimp will not let change address, is deleted and created again
so later orders land on it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind
from addon.ecommerce.sync import PUSH_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, Member
from addon.services import Services
from addon.subscriptions.email_change import MERGED_NOTE, REFUSED_NOTE
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from sandboxes.mailchimp import MailchimpSandbox
from sandboxes.mailchimp.state import subscriber_hash
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.ecommerce.conftest import CHANNEL, Shop, track_channel
from tests.initial_sync.conftest import finish, start
from tests.subscriptions.conftest import Shop as NewsletterShop
from tests.subscriptions.test_two_way import _fire as fire

OLD, NEW = "ann@example.com", "ann.lee@example.com"


@pytest.fixture
async def store(
    app_client: httpx.AsyncClient,
    services: Services,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    mailchimp: MailchimpSandbox,
) -> Shop:
    """The e-commerce tests' shop (tests/ecommerce/conftest.py): a tracked channel."""
    await saleor.add_channel(CHANNEL, "Default Channel", "USD")
    account = mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")
    shop = Shop(app_client, services, saleor, installed_app, mailchimp, account)
    await track_channel(shop)
    return shop


async def _newsletter_on(shop: Shop) -> None:
    """The store's audience is also the newsletter's (active, default, no confirmation)."""
    response = await shop.api(
        "PUT",
        "/api/audiences/settings",
        {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id},
    )
    assert response.status_code == 200, response.text
    await shop.drain()


async def _subscribed(shop: Shop, email: str) -> Any:
    customer = await shop.saleor.create_customer(
        email, "Ann", "Lee", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, email).status == "subscribed"
    return customer


async def _mc(shop: Shop, method: str, path: str, body: Any = None) -> dict[str, Any]:
    result = await shop.mailchimp.call(shop.account, method, path, body=body)
    assert result.status < 300, result.body
    return result.body or {}


def _calls(shop: Shop, since: int) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in shop.mailchimp.requests[since:]]


async def _contacts(shop: Shop) -> dict[str, str]:
    async with shop.services.db.session() as session:
        rows = await session.scalars(select(ContactState))
        return {row.email: row.status for row in rows}


First = Literal["move", "customer"]


async def _due(shop: Shop, kind: str, days: int) -> None:
    """The pending jobs of `kind` due in `days` (0: now)."""
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.status == JobStatus.PENDING, Job.kind == kind)
            .values(run_after=utcnow() + timedelta(days=days))
        )


async def _changed(shop: Shop, first: First) -> None:
    """The jobs of an e-mail change run, the audience move or the e-commerce push first. The
    change's deliveries queue both, in two lanes: they run in either order (at once in one
    claim, or on two workers), as the machine's load has it. The push re-creates the
    customer under the new address, which adds it to the audience (transactional): a move
    that looks after that merges into it rather than moving the member by PATCH."""
    worker = Worker(shop.services)
    await worker.run_once()  # the deliveries, which queue the push and the move
    later = PUSH_JOB if first == "move" else EMAIL_CHANGE_JOB
    await _due(shop, later, days=1)
    await worker.run_until_idle()
    await _due(shop, later, days=0)
    await shop.drain()


async def test_the_member_moves_and_the_customer_is_created_again(store: Shop) -> None:
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await _mc(
        shop,
        "POST",
        f"/lists/{shop.list_id}/members/{subscriber_hash(OLD)}/tags",
        {"tags": [{"name": "vip", "status": "active"}]},
    )
    product = await shop.product("Plum", "4.00")
    before = len(shop.mailchimp.requests)

    await shop.saleor.confirm_email_change(customer, NEW)
    await _changed(shop, "move")  # by PATCH (the push first merges: the change-back test)

    calls = _calls(shop, before)
    members = f"/lists/{shop.list_id}/members/"
    # The member moved by PATCH, with its status and tags.
    assert ("PATCH", members + subscriber_hash(OLD), 200) in calls
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD) is None
    moved = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert moved.status == "subscribed"
    assert {t.name for t in moved.tags} >= {"vip"}
    # Mailchimp refused the customer's new address (as the real API does); the app deleted the
    # customer and created it again under the new one.
    customer_path = f"/ecommerce/stores/{shop.store_id}/customers/{customer.id}"
    customers = [(m, s) for m, p, s in calls if p.startswith(customer_path.rsplit("/", 1)[0])]
    assert ("PUT", 400) in customers
    assert customers.index(("DELETE", 204)) < customers.index(("POST", 200))
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (held.id, held.email_address) == (str(customer.id), NEW)
    assert await _contacts(shop) == {NEW: "subscribed"}

    # An order after the change lands on the customer under the new address.
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    await shop.drain()
    pushed = shop.orders()[str(order.id)]
    assert (pushed.customer.id, pushed.customer.email_address) == (str(customer.id), NEW)
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert held.email_address == NEW


@pytest.mark.parametrize("first", ["move", "customer"])
async def test_a_change_back_to_an_earlier_address_moves_the_member_back(
    store: Shop, first: First
) -> None:
    """Staff change A to B, then back to A: the second CUSTOMER_UPDATED names the user and A
    as an earlier one did, and is a new change (its `issuedAt` tells), not a redelivery.
    Whichever of each change's jobs runs first, the contact ends at A, subscribed, and B is no
    contact: none (the member moved by PATCH), or archived (the re-created customer added B
    first: the member was merged into it, and the one it left archived)."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await shop.saleor.update_customer(customer, email=NEW)
    await _changed(shop, first)
    assert await _contacts(shop) == {NEW: "subscribed"}

    await shop.saleor.update_customer(customer, email=OLD)
    await _changed(shop, first)
    assert await _contacts(shop) == {OLD: "subscribed"}
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD).status == "subscribed"
    left = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert (left.status if left else None) == (None if first == "move" else "archived")


async def test_an_order_pushed_before_the_customer_recreates_it_first(store: Shop) -> None:
    shop = store
    """The order's push meets the refusal first (its customer carries the new address): the
    customer is re-created, then the order is sent again and lands on it."""
    customer = await shop.saleor.create_customer(OLD, "Ann", "Lee")
    product = await shop.product("Fig", "3.00")
    await shop.drain()
    shop.saleor.store.update_customer(customer, email=NEW)  # no webhook: the order comes first
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    await shop.drain()
    pushed = shop.orders()[str(order.id)]
    assert pushed.customer.email_address == NEW
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (held.id, held.email_address) == (str(customer.id), NEW)


async def test_an_unsubscribed_address_is_not_subscribed_again_by_a_change(store: Shop) -> None:
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)  # its registration consent stays in its metadata
    await _mc(
        shop,
        "PATCH",
        f"/lists/{shop.list_id}/members/{subscriber_hash(OLD)}",
        {"status": "unsubscribed"},
    )
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    # Mailchimp changes a subscribed member's address only: the new address joins as the old
    # one stands, which Mailchimp keeps (unsubscribed).
    moved = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert moved is not None and moved.status == "unsubscribed"
    kept = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert kept is not None and kept.status == "unsubscribed"


@pytest.mark.parametrize(
    ("status", "at_new"), [("pending", "pending"), ("cleaned", "transactional")]
)
async def test_a_contact_not_subscribed_joins_at_the_new_address_as_it_stood(
    store: Shop, status: str, at_new: str
) -> None:
    """A pending contact confirms at the new address; the old one stays pending, as Mailchimp
    archives no pending member (405). A cleaned address bounced, so nothing of it goes to
    another (the new address is only the e-commerce customer's, created again:
    transactional)."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    with shop.mailchimp.state.lock:  # as Mailchimp sets it (a bounce, or no confirmation yet)
        member = (
            shop.mailchimp._data(shop.account).lists[shop.list_id].members[subscriber_hash(OLD)]
        )
        member.status = status
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    moved = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert moved is not None and moved.status == at_new
    old = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert old is not None and old.status == status
    # The app's record follows the new address's member.
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(ContactState).where(ContactState.list_id == shop.list_id)
        )
        held = {row.email: row.status for row in rows}
    assert held == {NEW: at_new}


async def test_a_new_address_that_is_a_contact_already_keeps_the_stronger_consent(
    store: Shop,
) -> None:
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    # The new address is already a contact: pending (it never confirmed).
    await _mc(
        shop,
        "POST",
        f"/lists/{shop.list_id}/members",
        {"email_address": NEW, "status": "pending", "tags": ["newsletter-form"]},
    )
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    kept = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert kept.status == "subscribed"  # the old address's consent is the stronger one
    assert {t.name for t in kept.tags} >= {"newsletter-form"}
    old = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert old is not None and old.status == "archived"  # not mailed twice
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == MERGED_NOTE))
    assert note.last_error is not None and "already a contact" in note.last_error
    assert "stays subscribed" in note.last_error
    response = await shop.api("GET", "/api/activity?limit=50")
    assert response.status_code == 200
    items = response.json()["items"]
    assert any("already a contact" in (item.get("details") or "") for item in items)
    assert f"E-mail change of {OLD} to {NEW}" in [item["subject"] for item in items]


async def test_an_unsubscribed_new_address_is_never_subscribed_by_a_change(store: Shop) -> None:
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await _mc(
        shop,
        "POST",
        f"/lists/{shop.list_id}/members",
        {"email_address": NEW, "status": "unsubscribed"},
    )
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "unsubscribed"
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == MERGED_NOTE))
    assert note.last_error is not None and "never subscribes" in note.last_error


async def test_the_initial_sync_recreates_a_customer_whose_address_changed(store: Shop) -> None:
    """The initial sync sends the customer with its new address: Mailchimp refuses it there too
    (in a batch, the customer's live push takes over), the customer is re-created and its
    audience member follows."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    shop.saleor.store.update_customer(customer, email=NEW)  # no webhook: only a sync sees it
    before = len(shop.mailchimp.requests)
    await start(shop)
    await finish(shop)
    path = f"/ecommerce/stores/{shop.store_id}/customers"
    calls = [(r.method, r.path, r.status) for r in shop.mailchimp.requests[before:]]
    assert (
        calls.index(("PUT", f"{path}/{customer.id}", 400))
        < calls.index(("DELETE", f"{path}/{customer.id}", 204))
        < calls.index(("POST", path, 200))
    )
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (held.id, held.email_address) == (str(customer.id), NEW)
    moved = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert moved is not None and moved.status == "subscribed"
    # No delivery told of the change: the push queued the member's move and waited for it,
    # so the member moved by PATCH (its campaign history with it) before the customer was
    # re-created; never merged into a contact the re-creation would have added, nor archived.
    assert ("PATCH", f"/lists/{shop.list_id}/members/{subscriber_hash(OLD)}", 200) in calls
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD) is None
    async with shop.services.db.session() as session:
        assert list(await session.scalars(select(Job).where(Job.kind == MERGED_NOTE))) == []


async def test_a_mailchimp_side_change_is_not_undone_by_later_customer_updates(
    newsletter: NewsletterShop,
) -> None:
    """Two-way sync follows an address changed in Mailchimp (upemail) while the customer keeps
    their Saleor address: later CUSTOMER_UPDATED deliveries must not move the contact back."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await shop.saleor.create_customer(
        "ola@example.com", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()
    await shop.mc(
        "PATCH", f"/lists/{news}/members/ola@example.com", {"email_address": "ola@new.example"}
    )
    await fire(
        shop,
        "upemail",
        {"old_email": "ola@example.com", "new_email": "ola@new.example", "new_id": "x"},
    )
    await shop.work()
    for name in ("Ola", "Olga"):  # the first one before, the second after the app saw her
        await shop.saleor.update_customer(customer, first_name=name)
        await shop.work()
        assert shop.member(news, "ola@new.example").status == "subscribed"
        assert shop.member(news, "ola@example.com") is None
    async with shop.services.db.session() as session:
        assert [j.kind for j in await session.scalars(select(Job))].count(EMAIL_CHANGE_JOB) == 0


async def test_a_contact_added_at_the_new_address_meanwhile_is_merged(
    store: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new address was not a member when looked at, then the e-commerce customer's
    re-creation added it (transactional) before the pending contact joined there: the two are
    merged, the pending consent kept, as for a contact there already."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    with shop.mailchimp.state.lock:  # it never confirmed
        lists = shop.mailchimp._data(shop.account).lists
        lists[shop.list_id].members[subscriber_hash(OLD)].status = "pending"
    get_member = MailchimpClient.get_member
    added: list[bool] = []

    async def looked_first(self: MailchimpClient, list_id: str, email: str) -> Member:
        try:
            return await get_member(self, list_id, email)
        finally:
            if email == NEW and not added:  # right after the look found nothing there
                added.append(True)
                await _mc(
                    shop,
                    "PUT",
                    f"/lists/{shop.list_id}/members/{subscriber_hash(NEW)}",
                    {"email_address": NEW, "status_if_new": "transactional"},
                )

    monkeypatch.setattr(MailchimpClient, "get_member", looked_first)
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()

    assert added
    merged = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert merged is not None and merged.status == "pending"


@pytest.mark.parametrize("why", ["fake", "signups"])
async def test_a_new_address_mailchimp_refuses_leaves_the_contact_where_it_was(
    newsletter: NewsletterShop, why: Literal["fake", "signups"]
) -> None:
    """Mailchimp refuses a move to an address it finds fake, or "for now" (verbb/formie#2276):
    in that audience the contact keeps its old address and says why, Activity too; the other
    audiences move; the change is not retried."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await shop.saleor.create_customer(OLD, metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    # Deals knows both addresses already: there the move merges them, whatever Mailchimp
    # thinks of a new contact at the new address.
    for email in (OLD, NEW):
        body = {"email_address": email, "status_if_new": "subscribed"}
        await shop.mc("PUT", f"/lists/{deals}/members/{email}", body)
    shop.mailchimp.refuse_address(shop.account, NEW, why)

    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()

    assert shop.member(news, OLD).status == "subscribed"
    assert shop.member(news, NEW) is None
    assert shop.member(deals, NEW).status == "subscribed"
    assert shop.member(deals, OLD).status == "archived"
    async with shop.services.db.session() as session:
        [move] = await session.scalars(select(Job).where(Job.kind == EMAIL_CHANGE_JOB))
        [row] = await session.scalars(select(ContactState).where(ContactState.list_id == news))
        [note] = await session.scalars(select(Job).where(Job.kind == REFUSED_NOTE))
    assert move.status.value == "done" and move.attempts == 1
    assert row.email == OLD and row.status == "subscribed"
    assert row.last_problem is not None and "News" in row.last_problem
    assert note.last_error == row.last_problem
    activity = (await shop.client.get("/api/activity", headers=shop.headers)).json()["items"]
    assert any(i["subject"] == f"E-mail change to {NEW}, refused by Mailchimp" for i in activity)


async def test_a_new_address_mailchimp_refuses_leaves_the_store_customer_as_it_was(
    store: Shop,
) -> None:
    """The e-commerce customer is deleted and created again under a new address: when Mailchimp
    refuses that address (mailchimp/mc-magento2#578), it is put back under the one it had
    (its orders keep their customer) and its push fails with Mailchimp's reason."""
    shop = store
    await _newsletter_on(shop)
    address = shop.saleor.store.new_address(
        street_address_1="1 Main St", city="Springfield", country="US", company_name="Plums Ltd"
    )
    customer = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", addresses=[address], metadata={CONSENT_SUBSCRIBE: "true"}
    )
    product = await shop.product("Plum", "4.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    await shop.drain()
    assert str(order.id) in shop.orders()
    shop.mailchimp.refuse_address(shop.account, NEW)

    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()

    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (held.id, held.email_address) == (str(customer.id), OLD)
    # As it was: its company and postal address too.
    assert (held.company, held.address["city"]) == ("Plums Ltd", "Springfield")
    assert shop.orders()[str(order.id)].customer.id == str(customer.id)
    record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
    assert record is not None and record.last_error and "looks fake" in record.last_error


@pytest.mark.parametrize("at_old", ["cleaned", "archived", "deleted"])
async def test_a_contact_that_could_not_move_leaves_the_new_address_no_contact(
    newsletter: NewsletterShop, at_old: str
) -> None:
    """Mailchimp changed the old address's contact unseen by the app (a bounce cleaned it, an
    admin archived or deleted it): nothing moves, and the customer's record at the new address
    says it is no contact, not the old address's stale status (the panel would refuse staff
    subscribing a "cleaned" address, say)."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()
    with shop.mailchimp.state.lock:
        members = shop.mailchimp._data(shop.account).lists[news].members
        if at_old == "deleted":
            del members[subscriber_hash(OLD)]
        else:
            members[subscriber_hash(OLD)].status = at_old
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()

    assert shop.member(news, NEW) is None
    async with shop.services.db.session() as session:
        rows = await session.scalars(select(ContactState).where(ContactState.list_id == news))
        kept = {r.email: (r.status, r.interests, r.saleor_user_id) for r in rows}
    assert kept[NEW] == ("none", [], customer.global_id) and OLD not in kept
    panel = await shop.client.get(
        f"/api/subscriptions/customers/{customer.global_id}", headers=shop.headers
    )
    [mine] = [a for a in panel.json()["audiences"] if a["list_id"] == news]
    assert mine["status"] == "none"


async def test_a_cleaned_new_address_is_left_as_it_is(store: Shop) -> None:
    """The new address bounced before (cleaned): Mailchimp lets no one edit it, so neither the
    old address's consent nor its groups, tags or permissions are sent to it, and the note
    says so (not that Mailchimp refused to subscribe it)."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await _mc(
        shop,
        "POST",
        f"/lists/{shop.list_id}/members/{subscriber_hash(OLD)}/tags",
        {"tags": [{"name": "vip", "status": "active"}]},
    )
    await _mc(
        shop,
        "POST",
        f"/lists/{shop.list_id}/members",
        {"email_address": NEW, "status": "subscribed"},
    )
    shop.mailchimp.set_member_status(shop.account, shop.list_id, NEW, "cleaned")
    before = len(shop.mailchimp.requests)
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "cleaned"
    new_member = f"/lists/{shop.list_id}/members/{subscriber_hash(NEW)}"
    edits = [c for c in _calls(shop, before) if c[0] != "GET" and c[1].startswith(new_member)]
    assert edits == [], "a cleaned contact was edited"
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == MERGED_NOTE))
    assert note.last_error is not None and "bounced" in note.last_error
    assert "refused" not in note.last_error


async def test_the_customer_is_created_again_only_once_its_member_has_moved(store: Shop) -> None:
    """The move is under way (on another worker) when the push meets Mailchimp's refusal of
    the new address: the push waits for it. Created first, the customer would add the new
    address to the audience, and the move would merge into it, archiving the member it left
    with its campaign history (see the test above)."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await shop.saleor.update_customer(customer, email=NEW)
    worker = Worker(shop.services)
    await worker.run_once()  # the deliveries: the push and the move queued
    async with shop.services.db.transaction() as session:
        taken = await session.execute(
            update(Job)
            .where(Job.kind == EMAIL_CHANGE_JOB, Job.status == JobStatus.PENDING)
            .values(status=JobStatus.RUNNING)  # another worker runs it
        )
        assert taken.rowcount == 1  # type: ignore[attr-defined]
    await worker.run_until_idle()  # the push: refused, it waits
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW) is None
    async with shop.services.db.session() as session:
        [push] = await session.scalars(
            select(Job).where(Job.kind == PUSH_JOB, Job.status == JobStatus.PENDING)
        )
    assert "before the customer is created again" in (push.last_error or "")

    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.kind == EMAIL_CHANGE_JOB)
            .values(status=JobStatus.PENDING, run_after=utcnow())
        )
    await shop.drain()
    assert await _contacts(shop) == {NEW: "subscribed"}
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "subscribed"
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD) is None  # moved, not merged
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (held.id, held.email_address) == (str(customer.id), NEW)


async def test_a_push_before_the_change_is_handled_moves_the_member_first(store: Shop) -> None:
    """The e-commerce push meets Mailchimp's refusal of the new address before the delivery
    that tells the newsletter of the change is handled (its queue is behind, or it comes
    later): the push queues the member's move itself and waits for it, so the member moves by
    PATCH, its campaign history with it, instead of being merged into the contact the
    re-created customer would add at the new address and archived."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await shop.saleor.update_customer(customer, email=NEW)
    await _due(shop, "webhook.subscriptions-email-changed", days=1)
    before = len(shop.mailchimp.requests)
    await shop.drain()  # the push, and the move it queued

    members = f"/lists/{shop.list_id}/members/"
    calls = _calls(shop, before)
    assert ("PATCH", members + subscriber_hash(OLD), 200) in calls
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "subscribed"
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD) is None
    customers = shop.mailchimp.customers(shop.account, shop.store_id)
    assert [c.email_address for c in customers] == [NEW]

    await _due(shop, "webhook.subscriptions-email-changed", days=0)  # the delivery, late
    await shop.drain()
    assert await _contacts(shop) == {NEW: "subscribed"}
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "subscribed"
