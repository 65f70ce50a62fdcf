"""Two-way sync never writes a customer's private metadata (but the app's own copy of the
contact's groups, `mailchimp.groups.<list>`), nor the app's own keys from a mapping.

A merge field mapped from a private metadata key (to segment on it) is the subscriber's to edit
on Mailchimp's update-profile page; Saleor lets only staff and apps write private metadata, and
a storefront may trust it (a loyalty tier). Mailchimp's webhook does not say who made a change,
so no change of Mailchimp's reaches private metadata. Keys starting with "mailchimp." are the
app's own (consent, statuses, engagement): a mapping may not name them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from addon.audiences.models import FieldMapping, FieldSource, MappingTarget
from addon.engagement.metadata import SUMMARY_KEY
from addon.jobs.models import Job
from addon.subscriptions.metadata import CONSENT_AUDIENCES
from addon.subscriptions.profile_writeback import WRITE_PROFILE_JOB
from tests.audiences.conftest import _create_field, _customer, _map
from tests.conftest import RecordingTransport
from tests.subscriptions.conftest import Shop


async def _edited(shop: Shop, email: str, fields: dict[str, str], source: str, at: str) -> None:
    news = shop.ids["news"]
    await shop.mc("PATCH", f"/lists/{news}/members/{email}", {"merge_fields": fields})
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "profile", {"email": email}, source=source, fired_at=at
    )
    assert responses and all(r.status_code == 200 for r in responses)
    await shop.work()


async def test_a_subscribers_edit_never_reaches_private_metadata(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _create_field(shop, news, name="Loyalty tier", tag="TIER", type="text")
    await _create_field(shop, news, name="Team", tag="TEAM", type="text")
    mapped = await _map(
        shop,
        news,
        [
            {"merge_tag": "TIER", "source": "private_metadata", "key": "loyalty_tier"},
            {"merge_tag": "TEAM", "source": "metadata", "key": "team"},
        ],
    )
    assert mapped.status_code == 200, mapped.text
    customer = await _customer(shop, "eve@example.com", team="Red")
    await shop.saleor.update_customer_metadata(customer, {"loyalty_tier": "bronze"}, private=True)
    await shop.work()
    assert shop.member(news, "eve@example.com").merge_fields["TIER"] == "bronze"

    # The subscriber on the update-profile page; then an admin in Mailchimp (whose delivery
    # Mailchimp's form cannot tell apart).
    for source, at in (("user", "2026-12-05 10:00:00"), ("admin", "2026-12-05 10:00:01")):
        team = f"Blue {source}"
        fields = {"TIER": f"platinum {source}", "TEAM": team}
        await _edited(shop, "eve@example.com", fields, source, at)
        saved = shop.saleor.store.get_customer(customer.id)
        assert saved.private_metadata["loyalty_tier"] == "bronze"
        assert saved.metadata["team"] == team  # a public key is still written back
    # The only private key the app writes is its own copy of the contact's groups
    # (`metadata.status_keys`), never a mapped one.
    private_writes = [r.content for r in outbound.requests if b"updatePrivateMetadata" in r.content]
    assert not [c for c in private_writes if b"loyalty_tier" in c or b"TIER" in c]
    async with shop.services.db.session() as session:
        jobs = list(await session.scalars(select(Job).where(Job.kind == WRITE_PROFILE_JOB)))
    assert jobs and all("TIER" not in j.payload["merge_fields"] for j in jobs)


@pytest.mark.parametrize("key", [SUMMARY_KEY, "mailchimp.tags.vip", " Mailchimp.consent.subscribe"])
@pytest.mark.parametrize("source", ["metadata", "private_metadata"])
async def test_a_mapping_naming_one_of_the_apps_keys_is_refused(
    newsletter: Shop, key: str, source: str
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _create_field(shop, news, name="Engagement", tag="ENGAGE", type="text")
    response = await _map(shop, news, [{"merge_tag": "ENGAGE", "source": source, "key": key}])
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_MAPPING"
    assert f"“{key.strip()}” is one of the app's own metadata keys" in error["message"]
    read = await shop.client.get(f"/api/audiences/{news}/mapping", headers=shop.headers)
    assert read.json()["fields"] == []


async def test_an_apps_key_mapped_before_is_not_written_back(newsletter: Shop) -> None:
    """A mapping saved before the keys were refused: Mailchimp's value of the field does not
    overwrite the app's key (here the audiences the customer consented to)."""
    shop = newsletter
    news = shop.ids["news"]
    await _create_field(shop, news, name="Audiences", tag="AUDS", type="text")
    mapped = await _map(shop, news, [{"merge_tag": "FNAME", "source": "first_name"}])
    assert mapped.status_code == 200, mapped.text
    async with shop.services.db.transaction() as session:
        first = (await session.scalars(select(FieldMapping))).one()
        session.add(
            FieldMapping(
                installation_id=first.installation_id,
                list_id=news,
                target=MappingTarget.MERGE_FIELD,
                merge_tag="AUDS",
                source=FieldSource.METADATA,
                key=CONSENT_AUDIENCES,
            )
        )
    customer = await _customer(shop, "kai@example.com", **{CONSENT_AUDIENCES: news})
    await shop.work()

    fields = {"AUDS": "x", "FNAME": "Kai"}
    await _edited(shop, "kai@example.com", fields, "user", "2026-12-05 10:00:00")
    saved = shop.saleor.store.get_customer(customer.id)
    assert saved.first_name == "Kai"
    assert saved.metadata[CONSENT_AUDIENCES] == news
