"""Importing audiences and groups; the audience settings API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from addon.db.types import utcnow
from addon.jobs.models import HOUSEKEEPING_KINDS, Job, JobStatus
from tests.subscriptions.conftest import Shop


async def _read(shop: Shop) -> dict:  # type: ignore[type-arg]
    response = await shop.client.get("/api/audiences", headers=shop.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_connect_imports_audiences_with_every_group_type(shop: Shop) -> None:
    news = await shop.new_list("News", double_optin=True, marketing_permissions=True)
    for kind in ("checkboxes", "dropdown", "radio", "hidden"):
        await shop.new_category(news, f"{kind} group", kind, f"{kind} A", f"{kind} B")
    await shop.mc(
        "PUT",
        f"/lists/{news}/members/ann@example.com",
        {"email_address": "ann@example.com", "status_if_new": "subscribed"},
    )

    await shop.connect()
    await shop.work()

    body = await _read(shop)
    [audience] = body["audiences"]
    assert audience["list_id"] == news and audience["name"] == "News"
    assert audience["double_optin"] is True and audience["member_count"] == 1
    assert audience["marketing_permissions_enabled"] is True
    assert [p["text"] for p in audience["marketing_permissions"]] == [
        "Email",
        "Direct Mail",
        "Customized Online Advertising",
    ]
    assert {"FNAME", "LNAME"} <= {f["tag"] for f in audience["merge_fields"]}
    groups = {g["type"]: g for g in audience["groups"]}
    assert set(groups) == {"checkboxes", "dropdown", "radio", "hidden"}
    assert [i["name"] for i in groups["radio"]["interests"]] == ["radio A", "radio B"]
    assert body["last_import_at"] is not None and body["warnings"] == []
    assert audience["active"] is False  # nothing is offered until the admin chooses


async def test_refresh_follows_changes_in_mailchimp_and_warns_about_vanished_choices(
    shop: Shop,
) -> None:
    news = await shop.new_list("News")
    old = await shop.new_list("Old")
    topics = await shop.new_category(news, "Topics", "checkboxes", "Fruit")
    await shop.connect()
    await shop.work()
    await shop.configure(
        active_list_ids=[news, old], default_list_id=old, offered_category_ids=[topics]
    )

    await shop.mc("DELETE", f"/lists/{old}")
    await shop.mc("DELETE", f"/lists/{news}/interest-categories/{topics}")
    await shop.mc("PATCH", f"/lists/{news}", {"name": "Newsletter"})
    await shop.new_category(news, "Diet", "radio", "Vegan")
    response = await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    assert response.status_code == 202
    await shop.work()

    body = await _read(shop)
    by_id = {a["list_id"]: a for a in body["audiences"]}
    assert by_id[news]["name"] == "Newsletter"
    assert by_id[old]["removed"] is True
    news_groups = {g["title"]: g for g in by_id[news]["groups"]}
    assert news_groups["Topics"]["removed"] is True and news_groups["Diet"]["removed"] is False
    assert any("“Old” was removed" in w for w in body["warnings"])
    assert any("“Topics”" in w for w in body["warnings"])
    assert any("default audience is gone" in w for w in body["warnings"])

    offer = await shop.client.get(
        "/api/storefront/newsletter", params={"saleor_api_url": shop.saleor.api_url}
    )
    assert [a["list_id"] for a in offer.json()["audiences"]] == [news]
    assert offer.json()["audiences"][0]["groups"] == []


async def test_audiences_react_to_a_connection_through_its_job(shop: Shop) -> None:
    """Connection imports no audiences code: it queues `connection.connected`, whose handler
    (registered by the audiences capability) queues the imports."""
    await shop.new_list("News")
    await shop.connect()
    async with shop.services.db.session() as session:
        kinds = [j.kind for j in (await session.execute(select(Job))).scalars()]
    assert [k for k in kinds if k not in HOUSEKEEPING_KINDS] == ["connection.connected"]
    await shop.work()
    assert [a["name"] for a in (await _read(shop))["audiences"]] == ["News"]
    async with shop.services.db.session() as session:
        done = (await session.execute(select(Job).where(Job.status == JobStatus.DONE))).scalars()
        assert {"connection.connected", "audiences.import"} <= {j.kind for j in done}


async def test_scheduled_import_requeues_itself(shop: Shop) -> None:
    await shop.new_list("News")
    await shop.connect()
    await shop.work()
    async with shop.services.db.session() as session:
        jobs = (
            (await session.execute(select(Job).where(Job.kind == "audiences.import")))
            .scalars()
            .all()
        )
    pending = [j for j in jobs if j.status is JobStatus.PENDING]
    assert len(pending) == 1 and pending[0].payload == {"scheduled": True}
    due_in = pending[0].run_after - utcnow()
    assert timedelta(hours=5, minutes=59) < due_in <= timedelta(hours=6)
    assert [j.status for j in jobs].count(JobStatus.DONE) == 1

    # When it comes due it imports (a new audience appears) and schedules the next run.
    await shop.new_list("Later")
    async with shop.services.db.transaction() as session:
        job = await session.get(Job, pending[0].id)
        assert job is not None
        job.run_after = utcnow()
    await shop.work()
    assert {a["name"] for a in (await _read(shop))["audiences"]} == {"News", "Later"}
    async with shop.services.db.session() as session:
        rows = (await session.execute(select(Job).where(Job.kind == "audiences.import"))).scalars()
        statuses = [j.status for j in rows]
    assert statuses.count(JobStatus.DONE) == 2 and statuses.count(JobStatus.PENDING) == 1


async def test_settings_validation(shop: Shop) -> None:
    news = await shop.new_list("News")
    await shop.connect()
    await shop.work()
    put = shop.client.put
    bad_default = await put(
        "/api/audiences/settings",
        json={"active_list_ids": [news], "default_list_id": "nope"},
        headers=shop.headers,
    )
    assert bad_default.status_code == 400
    assert bad_default.json()["error"]["code"] == "INVALID_DEFAULT_AUDIENCE"
    unknown = await put(
        "/api/audiences/settings", json={"active_list_ids": ["zzz"]}, headers=shop.headers
    )
    assert unknown.json()["error"]["code"] == "UNKNOWN_AUDIENCE"
    bad_origin = await put(
        "/api/audiences/settings",
        json={"active_list_ids": [news], "allowed_origins": ["shop.example.com/path"]},
        headers=shop.headers,
    )
    assert bad_origin.status_code == 422
    body = await shop.configure(active_list_ids=[news], tags=[" vip ", "vip"])
    assert body["settings"]["default_list_id"] == news  # the only active one
    assert body["settings"]["tags"] == ["vip"]


async def test_settings_need_manage_apps(shop: Shop) -> None:
    from tests.conftest import dashboard_headers

    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    response = await shop.client.get("/api/audiences", headers=headers)
    assert response.status_code == 403
