"""E-commerce customers, and the ``customer`` an order or cart names.

Customers created through the e-commerce API join the store's audience as ``transactional``
(or ``subscribed`` with ``opt_in_status``) unless the address is already there. A customer's
``email_address`` never changes once created (400, by PUT, PATCH or an order's or cart's
``customer``): a new address needs the customer deleted and created again. An address belongs
to one customer of a store: a new customer with another's address is refused.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .bodies import AddressIn, BodyIn, given
from .ecommerce import STORE, already_exists, now, store_data
from .errors import bad_request, field_invalid, forgotten_email, invalid_resource, not_found
from .member_rules import check_address_accepted, new_member, set_status, valid_email
from .models import Customer, MemberStatus
from .routing import ApiRequest, Router, paginate
from .state import StoreData, subscriber_hash

router = Router()


class CustomerIn(BodyIn):
    """A customer to create or put (`E_commerce_Customer_3`, `_4`)."""

    # "A unique identifier for the customer. Limited to 50 characters." (maxLength 50, since
    # mailchimp/mailchimp-client-lib-codegen#132; Mailchimp answered an order's longer
    # `customer.id` with a 404, codegen#128: refused here with the 400 of a broken schema).
    id: str = Field(max_length=50)
    email_address: str
    opt_in_status: bool
    company: str = ""
    first_name: str = ""
    last_name: str = ""
    address: AddressIn = Field(default_factory=AddressIn)


class CustomerRef(BodyIn):
    """The ``customer`` of an order or cart: an id plus, for a new customer, the details (only
    those it gives are taken: `customer_fields`)."""

    id: str = Field(max_length=50)  # as a customer's (`E_commerce_Order_1.customer.id`)
    email_address: str = ""
    opt_in_status: bool = False
    company: str = ""
    first_name: str = ""
    last_name: str = ""
    address: AddressIn = Field(default_factory=AddressIn)


def customer_fields(payload: CustomerIn | CustomerRef) -> dict[str, Any]:
    """A customer's fields from a body: all of a `CustomerIn`'s (a PUT replaces the customer),
    those a `CustomerRef` gives; of an address, the parts it gives."""
    if isinstance(payload, CustomerIn):
        fields = dict(payload.__dict__)  # as validated (`save_customer` validates anew)
    else:
        fields = {name: getattr(payload, name) for name in payload.model_fields_set}
    if "address" in fields:
        fields["address"] = given(payload.address)
    return fields


def render_customer(data: StoreData, customer: Customer) -> dict[str, Any]:
    orders = data.orders_of(customer.id)
    doc = customer.model_dump(mode="json")
    doc["orders_count"] = len(orders)
    doc["total_spent"] = round(sum(o.order_total for o in orders), 2)
    doc["_links"] = []
    return doc


# The `source` of a member the e-commerce API added.
ECOMMERCE_SOURCE = "API - Ecommerce"
# What a cart refused for a shopper not in the audience says (`carts.py` cites the source). Its
# exact wording is not published: this detail holds the words Mailchimp for WooCommerce looks
# for, and the address (the stricter reading: an integration must keep it out of its logs).
NOT_IN_AUDIENCE = "{email} not found in audience."


def check_in_audience(request: ApiRequest, data: StoreData, ref: CustomerRef) -> None:
    """A cart's shopper must be a contact of the store's list (`carts.py`): a member of any
    status but `archived`. An archived contact is out of the audience: "When you archive a
    contact, you remove the contact from your marketing audience" (Mailchimp's help, "Archive
    or Unarchive Contacts"); a permanently deleted (forgotten) one has no member at all. The
    address is the body's, else the customer's the store holds; none at all is left to
    `orders._order_customer` to refuse."""
    held = data.customers.get(ref.id)
    email = ref.email_address or (held.email_address if held is not None else "")
    lst = request.account.lists.get(data.info.list_id)
    if not email or lst is None:
        return
    member = lst.members.get(subscriber_hash(email))
    if member is None or member.status == "archived":
        raise bad_request(NOT_IN_AUDIENCE.format(email=email))


def _check_joinable(request: ApiRequest, data: StoreData, email: str) -> None:
    """A customer new to the store's list joins it as a contact: Mailchimp refuses an address
    it finds fake there as for any new contact (`member_rules.check_address_accepted`), before
    anything is stored. mailchimp/mc-magento2#578 reports an order with a fake customer
    address refused, without quoting the body: the member's refusal body is used. An archived
    contact counts as present, as `_join_audience` leaves it archived (no new contact)."""
    lst = request.account.lists.get(data.info.list_id)
    key = subscriber_hash(email)
    if lst is not None and key not in lst.members and key not in lst.forgotten:
        check_address_accepted(request, email)


def _join_audience(request: ApiRequest, data: StoreData, customer: Customer) -> None:
    """Add the customer's address to the store's list unless it is already there."""
    lst = request.account.lists.get(data.info.list_id)
    if lst is None:
        return
    key = subscriber_hash(customer.email_address)
    if (existing := lst.members.get(key)) is not None:
        # "Updating the customer's opt_in_status from false to true will update the member's
        # subscription status to subscribed", yet "it will not overwrite the status of a
        # pre-existing contact" (https://mailchimp.com/developer/marketing/docs/e-commerce/);
        # the spec's `opt_in_status`: it "will never overwrite the opt-in status of a
        # pre-existing Mailchimp list member, but will apply to list members that are added
        # through the e-commerce API endpoints". So only a contact the e-commerce API added
        # (its `source`, still transactional) is subscribed by an opt-in; any other, one the
        # lists API added as transactional included, keeps its status.
        added_here = existing.source == ECOMMERCE_SOURCE
        if customer.opt_in_status and existing.status == "transactional" and added_here:
            set_status(request, lst, existing, "subscribed", new=False)
        return
    if key in lst.forgotten:
        if customer.opt_in_status:
            raise forgotten_email(customer.email_address)
        return
    member = new_member(request, lst, customer.email_address, ECOMMERCE_SOURCE)
    member.merge_fields.update(FNAME=customer.first_name, LNAME=customer.last_name)
    member.full_name = f"{customer.first_name} {customer.last_name}".strip()
    status: MemberStatus = "subscribed" if customer.opt_in_status else "transactional"
    set_status(request, lst, member, status, new=True)
    lst.members[key] = member


# The real API refuses to change a customer's address once created, whether by PUT or PATCH of
# the customer or through the `customer` of an order or cart ("An email address may not be
# changed once a customer is created.": mailchimp/mc-magento#17, still open; liveSite met it on
# order pushes and moved to e-mail-hash customer ids). The detail is quoted from there; the
# status and title of the body were not found published, so they are those of Mailchimp's other
# resource-rule refusals (400 "Invalid Resource", e.g. a store's list_id change).
CUSTOMER_EMAIL_IMMUTABLE = "An email address may not be changed once a customer is created."

# One customer per address in a store: a new customer whose address another customer of the
# store holds is refused with "This customer email already exists" (quoted from Mailchimp's
# answer in mailchimp/mc-magento#58, two Magento customers sharing an address). Both official
# integrations give every customer the MD5 of its lower-cased address as id for this reason
# (mailchimp/mc-magento2#782, Model/Api/Customer.php; mc-woocommerce's
# `mailchimp_hash_trim_lower`). Compared without case, as Mailchimp's member hash is: stricter
# than unknown. Status and title as CUSTOMER_EMAIL_IMMUTABLE's.
CUSTOMER_EMAIL_TAKEN = "This customer email already exists"


def save_customer(request: ApiRequest, data: StoreData, fields: dict[str, Any]) -> Customer:
    email = fields.get("email_address")
    if email is not None and not valid_email(email):
        raise field_invalid("email_address", "Please provide a valid email address.")
    existing = data.customers.get(fields["id"])
    if existing is not None and email is not None and email != existing.email_address:
        # Compared as written (a change of case only is refused too): stricter than unknown.
        raise invalid_resource(CUSTOMER_EMAIL_IMMUTABLE)
    if existing is None and email is not None and data.email_holder(email) is not None:
        raise invalid_resource(CUSTOMER_EMAIL_TAKEN)
    # Fields read as they are (`__dict__`), not dumped: the customer below is validated anew.
    base = dict(existing.__dict__) if existing else {"created_at": now(request)}
    customer = Customer.model_validate({**base, **fields, "updated_at": now(request)})
    _check_joinable(request, data, customer.email_address)
    data.put_customer(customer)
    _join_audience(request, data, customer)
    return customer


def _customer(request: ApiRequest) -> tuple[StoreData, Customer]:
    data = store_data(request)
    found = data.customers.get(request.params["customer_id"])
    if found is None:
        raise not_found()
    return data, found


@router.route("POST", f"{STORE}/customers")
def post_customer(request: ApiRequest) -> dict[str, Any]:
    data = store_data(request)
    payload = request.parse(CustomerIn)
    if payload.id in data.customers:
        raise already_exists("customer")
    return render_customer(data, save_customer(request, data, customer_fields(payload)))


@router.route("GET", f"{STORE}/customers")
def get_customers(request: ApiRequest) -> dict[str, Any]:
    data = store_data(request)
    customers = list(data.customers.values())
    if request.query.get("email_address"):
        wanted = request.query["email_address"].lower()
        customers = [c for c in customers if c.email_address.lower() == wanted]
    items = [render_customer(data, c) for c in customers]
    return {**paginate(request, "customers", items), "store_id": data.info.id}


@router.route("GET", f"{STORE}/customers/{{customer_id}}")
def get_customer(request: ApiRequest) -> dict[str, Any]:
    return render_customer(*_customer(request))


@router.route("PUT", f"{STORE}/customers/{{customer_id}}")
def put_customer(request: ApiRequest) -> dict[str, Any]:
    data = store_data(request)
    payload = request.parse(CustomerIn)
    fields = {**customer_fields(payload), "id": request.params["customer_id"]}
    return render_customer(data, save_customer(request, data, fields))


@router.route("PATCH", f"{STORE}/customers/{{customer_id}}")
def patch_customer(request: ApiRequest) -> dict[str, Any]:
    data, found = _customer(request)
    body = {k: v for k, v in request.json_object().items() if k in CustomerIn.model_fields}
    payload = request.parse(CustomerIn, {**found.model_dump(), **body, "id": found.id})
    return render_customer(data, save_customer(request, data, customer_fields(payload)))


@router.route("DELETE", f"{STORE}/customers/{{customer_id}}")
def delete_customer(request: ApiRequest) -> None:
    data, found = _customer(request)
    data.delete_customer(found.id)
