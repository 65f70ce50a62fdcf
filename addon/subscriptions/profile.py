"""A Saleor customer's data as the app reads it for an audience member
(`subscriptions_customer_profile`): names, language, date joined, metadata and default
addresses, each the source of a mapped merge field (`member_fields`).

The customer is read afresh from Saleor when a member is sent, so every upsert carries the
current values whatever started it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from addon.audiences.merge_values import AddressValue, SourceValue, mailchimp_language
from addon.audiences.models import FieldSource
from addon.installations.token_doubt import wait_if_token_in_doubt
from addon.saleor.client import SaleorPermissionDenied
from addon.services import Services

logger = logging.getLogger(__name__)


class _Payload(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class MetadataEntry(_Payload):
    key: str
    value: str


class Country(_Payload):
    code: str = ""


class ProfileAddress(_Payload):
    street_address_1: str = Field("", alias="streetAddress1")
    street_address_2: str = Field("", alias="streetAddress2")
    city: str = ""
    postal_code: str = Field("", alias="postalCode")
    country_area: str = Field("", alias="countryArea")
    country: Country = Field(default_factory=Country)
    phone: str | None = None

    def as_mailchimp(self) -> AddressValue:
        return AddressValue(
            addr1=self.street_address_1,
            addr2=self.street_address_2,
            city=self.city,
            state=self.country_area,
            zip=self.postal_code,
            country=self.country.code,
        )


class BillingAddress(ProfileAddress):
    """The default billing address, with the names Saleor falls back to for a user without
    their own (saleor/account/models.py `User.get_full_name`)."""

    first_name: str = Field("", alias="firstName")
    last_name: str = Field("", alias="lastName")


class CustomerProfile(_Payload):
    """What `subscriptions_customer_profile` reads of a Saleor user."""

    id: str
    email: str
    first_name: str = Field("", alias="firstName")
    last_name: str = Field("", alias="lastName")
    language_code: str | None = Field(None, alias="languageCode")
    date_joined: datetime | None = Field(None, alias="dateJoined")
    # Whether they confirmed the address: an unconfirmed account's data goes to no contact but
    # its own (`profile_sync.handle_update_profile`).
    is_confirmed: bool = Field(True, alias="isConfirmed")
    metadata: list[MetadataEntry] = Field(default_factory=list)
    private_metadata: list[MetadataEntry] | None = Field(None, alias="privateMetadata")
    default_billing_address: BillingAddress | None = Field(None, alias="defaultBillingAddress")
    default_shipping_address: ProfileAddress | None = Field(None, alias="defaultShippingAddress")

    def value(self, source: FieldSource, key: str) -> SourceValue:
        billing, shipping = self.default_billing_address, self.default_shipping_address
        match source:
            case FieldSource.FIRST_NAME:
                return self.first_name
            case FieldSource.LAST_NAME:
                return self.last_name
            case FieldSource.BILLING_PHONE:
                return billing.phone if billing else None
            case FieldSource.SHIPPING_PHONE:
                return shipping.phone if shipping else None
            case FieldSource.BILLING_ADDRESS:
                return billing.as_mailchimp() if billing else None
            case FieldSource.SHIPPING_ADDRESS:
                return shipping.as_mailchimp() if shipping else None
            case FieldSource.LANGUAGE:
                return mailchimp_language(self.language_code)
            case FieldSource.DATE_JOINED:
                return self.date_joined
            case FieldSource.METADATA:
                return next((m.value for m in self.metadata if m.key == key), None)
            case FieldSource.PRIVATE_METADATA:
                items = self.private_metadata or []
                return next((m.value for m in items if m.key == key), None)
        return None

    def billing_name(self, source: FieldSource) -> str:
        """The default billing address's first or last name ("" for another source)."""
        billing = self.default_billing_address or BillingAddress()
        names = {
            FieldSource.FIRST_NAME: billing.first_name,
            FieldSource.LAST_NAME: billing.last_name,
        }
        return names.get(source, "")


async def fetch_profile(
    services: Services,
    api_url: str,
    token: SecretStr,
    *,
    installation_id: int,
    user_id: str | None,
    email: str | None,
    private: bool,
) -> CustomerProfile | None:
    """The customer by id (else by e-mail); None for a guest, or when Saleor refuses the app."""
    if not user_id and not email:
        return None
    variables: dict[str, Any] = {"private": private}
    if user_id:
        variables["id"] = user_id
    else:
        variables["email"] = email
    try:
        data = await services.saleor.execute(
            api_url, token, "subscriptions_customer_profile", variables
        )
    except SaleorPermissionDenied as exc:
        # A deactivation (the token refused): wait for the check, not send without the data.
        await wait_if_token_in_doubt(services, installation_id, exc)
        # e.g. a staff user's private metadata (MANAGE_STAFF): send what the app has.
        logger.warning("Saleor refused the customer's data for the merge fields: %s", exc)
        return None
    found = data.get("user")
    return CustomerProfile.model_validate(found) if found else None
