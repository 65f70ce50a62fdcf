"""Names given at registration or checkout (no mapping of FNAME/LNAME) are checked as mapped
values are: a 256-character first name (Saleor's limit, account/models.py `max_length=256`)
does not fit Mailchimp's text field (255), which refuses the whole member write. The name is
left out and reported; the contact is subscribed."""

from __future__ import annotations

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.audiences.conftest import _not_sent
from tests.subscriptions.conftest import Shop


async def test_a_first_name_too_long_for_mailchimp_does_not_block_the_subscription(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await shop.saleor.create_customer(
        "long@example.com", "A" * 256, "Apple", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()

    member = shop.member(news, "long@example.com")
    assert member is not None and member.status == "subscribed"
    assert member.merge_fields["LNAME"] == "Apple"
    assert member.merge_fields.get("FNAME", "") == ""
    [reported] = await _not_sent(shop)
    assert (
        "for long@example.com: First Name (FNAME): the text is longer than Mailchimp's 255 bytes"
        in reported
    )
