"""The Saleor versions the sandbox can play, and what differs between them.

The sandbox plays the current Saleor by default and, on request, the oldest one the app's
manifest accepts (``requiredSaleorVersion: ">=3.20"``), so tests run against both. What differs,
as read in Saleor's source:

* ``orders(where: OrderWhereInput, search: String)`` were added in Saleor 3.22 (the current
  schema says "Added in Saleor 3.22."); 3.20 filters orders with ``filter: OrderFilterInput``
  only, whose ``created: DateRangeInput`` compares whole days (saleor/graphql/order/filters.py at
  3.20.119: ``filter_created_range`` filters ``created_at__date``, in UTC: ``TIME_ZONE = "UTC"``).
* How ``customers``, ``orders`` and ``products`` are ordered, and so what their cursors hold
  (orderings.py): ``OrderSortField.CREATED_AT`` ends with the pk before 3.22, with ``number``
  since; a default ordering ends with the pk since 3.22.64 / 3.23.23 (see the constants below).
* Lifecycle events about an app reach the app itself only since Saleor 3.23.5
  (saleor/saleor#19160, commit ae5c2af, first tagged 3.23.5). Before it, APP_STATUS_CHANGED and
  APP_DELETED go through ``get_webhooks_for_event`` like every event: to active apps holding
  MANAGE_APPS (saleor/webhook/utils.py at 3.20.119, ``get_filter_for_single_webhook_event``),
  and ``appDeactivate`` / ``appDelete`` save ``is_active=False`` *before* firing the event
  (saleor/graphql/app/mutations/app_deactivate.py, app_delete.py), so the app concerned never
  receives it. Since #19160 ``get_webhooks_for_app_lifecycle_event`` sends an app's lifecycle
  events to that app's own webhooks only, whatever its permissions or state, and to no other app.
* ``shop { version }`` is the full version (``saleor.__version__``, e.g. "3.20.119") and needs
  AUTHENTICATED_STAFF_USER or AUTHENTICATED_APP (saleor/graphql/shop/types.py, ``Shop.version``);
  the ``Saleor-Schema-Version`` header Saleor sends with the app token at installation is
  major.minor only (saleor/__init__.py ``schema_version``, saleor/app/installation_utils.py
  ``send_app_token``).
"""

from __future__ import annotations

import re

CURRENT_VERSION = "3.24.0-a.0"
"""The current Saleor (the schema in ``shared/contracts/saleor-schema.graphql``, commit 723cd4e)."""

OLDEST_VERSION = "3.20.119"
"""The oldest Saleor the manifest accepts (``shared/contracts/saleor-schema-3.20.graphql``)."""

PLAYABLE_VERSIONS: tuple[str, ...] = (OLDEST_VERSION, CURRENT_VERSION)

ORDER_WHERE_SINCE = (3, 22, 0)
ORDER_LINE_DISCOUNTS_SINCE = (3, 21, 0)
OWN_LIFECYCLE_EVENTS_SINCE = (3, 23, 5)
# Metadata mutations set the object's modification time (User, Order, Product, ProductVariant,
# Category `updated_at`; Checkout `last_change`; TransactionItem, Payment `modified_at`):
# saleor/saleor#18601, commit a9c86cf, `TYPE_UPDATED_FIELD` in
# saleor/graphql/meta/mutations/utils.py, first tagged 3.23.0 and backported to 3.21.37 and
# 3.22.19 (the tags hold it; 3.21.36, 3.22.18 and 3.20.119 do not). Before it they leave it alone.
METADATA_BUMPS_UPDATED_SINCE = (3, 23, 0)
METADATA_BUMPS_UPDATED_BACKPORTS = ((3, 21, 37), (3, 22, 19))


def _since(
    version: tuple[int, ...],
    since: tuple[int, int, int],
    backports: tuple[tuple[int, int, int], ...],
) -> bool:
    """Whether `version` has a change first tagged `since` and backported to each of
    `backports` within its own minor release."""
    return version >= since or any(
        version >= backport and version[:2] == backport[:2] for backport in backports
    )


def metadata_bumps_updated(version: tuple[int, ...]) -> bool:
    """Whether a Saleor of `version` sets the modification time on a metadata write."""
    return _since(version, METADATA_BUMPS_UPDATED_SINCE, METADATA_BUMPS_UPDATED_BACKPORTS)


# `customerUpdate` saves the user and sends CUSTOMER_UPDATED only when a field changed
# (saleor/graphql/account/mutations/staff/customer_update.py, `InstanceTracker`: saleor/saleor
# #18570 and #18597, commits 1270e99 and 8ec5811, first tagged 3.22.18 and 3.23.0; not on 3.21,
# 3.21.69 is without it). Before it every call saves the user (`updated_at`) and sends the event
# (saleor/graphql/account/mutations/base.py `BaseCustomerCreate.save` at 3.20.119).
CUSTOMER_UPDATE_ONLY_CHANGES_SINCE = (3, 23, 0)
CUSTOMER_UPDATE_ONLY_CHANGES_BACKPORT = (3, 22, 18)


# `user(email:)` matches the address whatever its case (`email__iexact`): saleor/saleor#17874,
# commit b97d1d9, first tagged 3.22.0 (3.21.69 is without it). Before it, `filter_kwargs["email"]`
# matches it exactly (saleor/graphql/account/resolvers.py `resolve_user` at 3.20.119): Saleor
# stores the addresses its mutations take in lower case (`account_register.py`, `base.py`), so
# an address asked for in another case finds nobody.
USER_EMAIL_ANY_CASE_SINCE = (3, 22, 0)


def user_email_any_case(version: str) -> bool:
    return version_tuple(version) >= USER_EMAIL_ANY_CASE_SINCE


def customer_update_only_changes(version: str) -> bool:
    return _since(
        version_tuple(version),
        CUSTOMER_UPDATE_ONLY_CHANGES_SINCE,
        (CUSTOMER_UPDATE_ONLY_CHANGES_BACKPORT,),
    )


# The `CustomerDeleted` subscription type ("Added in Saleor 3.23", saleor/saleor#19173, commit
# 06b063a, first tagged 3.23.5): before it a subscription cannot name CUSTOMER_DELETED.
CUSTOMER_DELETED_TYPE_SINCE = (3, 23, 5)
# The `ProductVariantDiscountedPriceUpdated` type and its event, sent by the discounted-price
# recalculation (saleor/product/tasks.py at 3.23.0; absent from every 3.22 tag).
DISCOUNTED_PRICE_UPDATED_SINCE = (3, 23, 0)
# `orders(sortBy: {field: CREATED_AT})` sorts by ["created_at", "status", "pk"] before 3.22 and by
# ["created_at", "status", "number"] since (saleor/graphql/order/sorters.py `OrderSortField`;
# saleor/saleor#17842, commit 5a6f954, first tagged 3.22.0): a cursor of one is refused by the other
# (an order's pk is a UUID, `number` an integer).
ORDER_CREATED_AT_BY_NUMBER_SINCE = (3, 22, 0)
# A default ordering without `pk` or `id` gets `pk` as its last field, so cursors tell apart rows
# that tie (saleor/graphql/utils/sorting.py `sort_queryset_by_default`; saleor/saleor#19560, commit
# aed78a2, on main for 3.24; backported as #19562 and #19561, first tagged 3.22.64 and 3.23.23:
# 3.23.0 ... 3.23.22 are without it).
DEFAULT_ORDER_PK_SINCE = ((3, 22, 64), (3, 23, 23))

# Before 3.21.3 a signed-in shopper's checkout and order name the account's current e-mail
# address: `Checkout.resolve_email` returns `get_customer_email()` (`self.user.email if self.user
# else self.email`, saleor/checkout/models.py at 3.20.119), and `Order.resolve_user_email`
# `user.email if user else root.user_email` (saleor/graphql/order/types.py at 3.20.119), so an
# order shows the address its buyer has now, not the one it was placed under. Since saleor/saleor
# #17753 (commit ecab66d, "Use checkout/order email instead of user.email", first tagged 3.21.3)
# both answer the address stored on the checkout or order.
OWN_EMAIL_SINCE = (3, 21, 3)


def shows_own_email(version: str) -> bool:
    """Whether a checkout's `email` and an order's `userEmail` are their own (not the user's)."""
    return version_tuple(version) >= OWN_EMAIL_SINCE


# An order placed from a checkout records a line-level voucher (SPECIFIC_PRODUCT, or ENTIRE_ORDER
# applied once per order) as OrderLineDiscounts since saleor/saleor#17580 (commit 1d45fabbf6,
# first tagged 3.21.0; saleor/checkout/complete_checkout.py `_create_order_discount`
# `is_order_level_voucher_discount`, `_create_order_line_discount_object_for_voucher`). At
# 3.20.119 every voucher is one OrderDiscount, FIXED, of the amount taken off
# (`_create_order_discount`, complete_checkout.py:1149-1183).
CHECKOUT_LINE_VOUCHER_ON_LINES_SINCE = (3, 21, 0)
# `draftOrderComplete` deactivates the draft's single-use voucher code
# (saleor/graphql/order/mutations/draft_order_complete.py
# `deactivate_single_use_voucher_codes`, called from `perform_mutation`): saleor/saleor#18698
# (commit d8ed4bedae), first tagged 3.23.0, backported as #18690 / #18697 (first tagged 3.21.44
# and 3.22.28; 3.20.119 is without it).
DRAFT_COMPLETE_DEACTIVATES_CODE_SINCE = (3, 23, 0)
DRAFT_COMPLETE_DEACTIVATES_CODE_BACKPORTS = ((3, 21, 44), (3, 22, 28))


def checkout_line_voucher_on_lines(version: str) -> bool:
    return version_tuple(version) >= CHECKOUT_LINE_VOUCHER_ON_LINES_SINCE


def draft_complete_deactivates_code(version: str) -> bool:
    return _since(
        version_tuple(version),
        DRAFT_COMPLETE_DEACTIVATES_CODE_SINCE,
        DRAFT_COMPLETE_DEACTIVATES_CODE_BACKPORTS,
    )


_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def version_tuple(version: str) -> tuple[int, int, int]:
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"not a Saleor version: {version!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def schema_version(version: str) -> str:
    """``3.20.119`` -> ``3.20`` (what the ``Saleor-Schema-Version`` header carries)."""
    major, minor, _ = version_tuple(version)
    return f"{major}.{minor}"


def has_order_line_discounts(version: str) -> bool:
    """`OrderLine.discounts` and its `OrderLineDiscount` type: in 3.21.0
    (saleor/graphql/order/types.py at tag 3.21.0), absent from 3.20.119."""
    return version_tuple(version) >= ORDER_LINE_DISCOUNTS_SINCE


def has_order_where(version: str) -> bool:
    return version_tuple(version) >= ORDER_WHERE_SINCE


def sends_own_lifecycle_events(version: str) -> bool:
    return version_tuple(version) >= OWN_LIFECYCLE_EVENTS_SINCE


def has_customer_deleted_type(version: str) -> bool:
    return version_tuple(version) >= CUSTOMER_DELETED_TYPE_SINCE


def has_discounted_price_updated(version: str) -> bool:
    return version_tuple(version) >= DISCOUNTED_PRICE_UPDATED_SINCE


def orders_created_at_by_number(version: str) -> bool:
    return version_tuple(version) >= ORDER_CREATED_AT_BY_NUMBER_SINCE


def default_order_ends_with_pk(version: str) -> bool:
    found = version_tuple(version)
    in_322, since_323 = DEFAULT_ORDER_PK_SINCE
    return in_322 <= found < (3, 23, 0) or found >= since_323


# `orderUpdate` (saleor/graphql/order/mutations/order_update.py): an update that changes nothing
# is neither saved nor announced since saleor/saleor#17507 (commit d7b84876a5, first tagged
# 3.21.0). 3.20.119 saves a change only (`updated_at` with it) but sends ORDER_UPDATED on every
# call ("the webhhok is always called in 3.20 to not introduce a breaking change": #17537,
# commit 6e2e54f919, 3.20.80; 3.20.77 ... 3.20.79 sent it on a change only, 3.20.0 ... 3.20.76
# saved every call).
ORDER_UPDATE_ONLY_CHANGES_SINCE = (3, 21, 0)
# Its `languageCode` (with `metadata`) since 3.21.0: the 3.20.119 input has none.
ORDER_UPDATE_LANGUAGE_SINCE = (3, 21, 0)
# Its addresses compared field by field (`InstanceTracker`, `foreign_fields_to_track`) since
# 3.22.0; before, an address given is saved as a new `Address`, a change whatever it holds
# (`validate_address` without `instance`, `save_addresses` in mutations/utils.py at 3.21.69).
ORDER_ADDRESSES_TRACKED_SINCE = (3, 22, 0)
# `orderNoteAdd` saves the order (`update_order_search_vector(order)`: `updated_at`) since
# saleor/saleor#17840 (commit 4815c54985, first tagged 3.22.0); at 3.20.119 it does not save it.
ORDER_NOTE_SAVES_ORDER_SINCE = (3, 22, 0)
# `orderLineUpdate` saves `updated_at` since saleor/saleor#18641 / #18615 (first tagged 3.23.0
# and 3.22.23); before, `save(update_fields=["should_refresh_prices", "weight"])` leaves it.
ORDER_LINE_UPDATE_SAVES_UPDATED = ((3, 22, 23), (3, 23, 0))
# An unconfirmed order's line lowered or deleted gives back whatever allocation it holds since
# saleor/saleor#17657 (commit 0696ec30, first tagged 3.21.0: `get_order_lines_to_deallocate`);
# at 3.20.119 only a tracked variant's not on preorder (`decrease_allocations`).
ORDER_LINE_RELEASES_ANY_ALLOCATION_SINCE = (3, 21, 0)


def order_update_only_changes(version: str) -> bool:
    return version_tuple(version) >= ORDER_UPDATE_ONLY_CHANGES_SINCE


def order_update_takes_language(version: str) -> bool:
    return version_tuple(version) >= ORDER_UPDATE_LANGUAGE_SINCE


def order_addresses_tracked(version: str) -> bool:
    return version_tuple(version) >= ORDER_ADDRESSES_TRACKED_SINCE


def order_note_saves_order(version: str) -> bool:
    return version_tuple(version) >= ORDER_NOTE_SAVES_ORDER_SINCE


def order_line_update_saves_updated(version: str) -> bool:
    backport, since = ORDER_LINE_UPDATE_SAVES_UPDATED
    return _since(version_tuple(version), since, (backport,))


def order_line_release_any_allocation(version: str) -> bool:
    return version_tuple(version) >= ORDER_LINE_RELEASES_ANY_ALLOCATION_SINCE
