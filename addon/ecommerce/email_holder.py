"""One Mailchimp customer per e-mail address in a store: the first to hold it keeps it.

Mailchimp refuses a new customer whose address another customer of the store holds ("This
customer email already exists", mailchimp/mc-magento#58); both official integrations therefore
name every customer by the MD5 of its address (mailchimp/mc-magento2#782, mc-woocommerce's
`mailchimp_hash_trim_lower`). The app names a registered customer by the Saleor user's id and a
guest by the address (`payloads.guest_customer_id`), and one shopper is often both: orders
placed as a guest before the account was opened (Saleor's `accountRegister` does not run
`match_orders_with_new_user`), or a checkout started signed out with the account's address
(Saleor assigns the user only when it completes, `assign_checkout_user`). Whatever names the
second id is sent to the customer holding the address instead: the shopper stays one customer,
with all their orders and carts, in Mailchimp's segments and revenue.
"""

from __future__ import annotations

from addon.mailchimp import BadRequest, Customer, MailchimpClient
from addon.mailchimp.errors import MailchimpError

EMAIL_TAKEN = "customer email already exists"


def email_taken(exc: MailchimpError) -> bool:
    """Mailchimp's answer to a new customer with an address another customer holds."""
    return isinstance(exc, BadRequest) and taken_in(f"{exc.title} {exc.detail}")


def taken_in(text: str) -> bool:
    """Whether an error's title and detail (`text`) say the address is another's."""
    return EMAIL_TAKEN in text.lower()


async def holder_of(client: MailchimpClient, store_id: str, email: str) -> Customer | None:
    """The store's customer holding `email` (None if none does any more)."""
    wanted = email.strip().lower()
    found = await client.customers_with_email(store_id, email)
    return next((c for c in found if c.email_address.strip().lower() == wanted), None)
