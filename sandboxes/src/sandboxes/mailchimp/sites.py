"""Connected sites, their site script, and a store's abandoned-cart automation.

What the real API does, and where it is written down:

- A store created through the API gets a connected site whose id is the store's id:
  mc-woocommerce checks and verifies it as ``connected-sites/{store_id}``
  (``MailChimp_WooCommerce_MailChimpApi::checkConnectedSite`` / ``connectSite``), and a store
  reports it as ``connected_site.site_foreign_id`` with its ``site_script`` ``{url, fragment}``
  (the spec's ``Connected_Site_2``; mailchimp/mc-magento#225). Deleting the store removes it
  (not documented; the store's own sub-resources are what the reference lists as deleted).
- ``POST /connected-sites`` needs ``foreign_id`` and ``domain`` (``Connected_Site_1``);
  an existing ``foreign_id`` is refused like any other duplicate resource.
- ``DELETE /connected-sites/{id}`` "Remove a connected site from your Mailchimp account": the
  spec lists 204 and nothing that refuses, and a store's site can be disconnected while the
  store stays ("disconnecting your site from your Mailchimp account is not enough. You must also
  delete [...] the store": faq.businesstech.fr/faq/308). So a store's site is deleted too, and
  the store then reports no ``connected_site`` (an app must cope with a store without one).
- ``POST /connected-sites/{id}/actions/verify-script-installation`` answers 204 once Mailchimp
  found the script on the site ("Verify that the connected sites script has been installed").
  What it answers otherwise is not documented: the spec (3.0.81) lists only 204 and the
  ``default`` problem document, with no status. The sandbox refuses with 400 "Invalid Resource"
  (a refusal rather than a 204, so an app can never take an unverified script for verified),
  and the site stays unverified.
- ``automations.abandoned_cart`` (``is_supported``, ``id``, ``status`` in save/sending/paused)
  is built in Mailchimp's Automation Builder ("You can only have one abandoned cart series per
  connected store": mailchimp.com/help/create-an-abandoned-cart-series/); the API cannot
  create it, so tests set it with :func:`set_abandoned_cart`. Before one exists only
  ``is_supported`` is reported (an empty ``status`` would not be in the spec's enum).

The script's URL can change in Mailchimp (:func:`change_site_script`): an app must read it
again rather than keep the first one forever.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import invalid_resource, not_found
from .routing import ApiRequest, ApiResult, Router, paginate
from .state import AccountData, ConnectedSiteData, StoreData

if TYPE_CHECKING:
    from .sandbox import MailchimpSandbox
    from .state import SandboxState

router = Router()

SITE = "/connected-sites/{site_id}"
SCRIPT_HOST = "https://chimpstatic.com/mcjs-connected/js/users"
AutomationStatus = Literal["save", "sending", "paused"]


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    foreign_id: str = Field(min_length=1)
    domain: str = Field(min_length=1)


def fragment(url: str) -> str:
    """The copy-and-paste snippet, as the spec's example of ``site_script.fragment`` reads."""
    return (
        '<script id="mcjs">!function(c,h,i,m,p){m=c.createElement(h),'
        "p=c.getElementsByTagName(h)[0],m.async=1,m.src=i,p.parentNode.insertBefore(m,p)}"
        f'(document,"script","{url}");</script>'
    )


def _script_url(state: SandboxState, data: AccountData) -> str:
    user = hashlib.md5(data.account.id.encode(), usedforsecurity=False).hexdigest()[:25]
    return f"{SCRIPT_HOST}/{user}/{state.new_id(25)}.js"


def new_site(
    state: SandboxState, data: AccountData, foreign_id: str, domain: str, store_id: str = ""
) -> ConnectedSiteData:
    now = state.clock.iso()
    platform = ""
    if store_id:
        platform = data.stores[store_id].info.platform
    site = ConnectedSiteData(
        foreign_id=foreign_id,
        store_id=store_id,
        platform=platform,
        domain=domain,
        script_url=_script_url(state, data),
        created_at=now,
        updated_at=now,
    )
    data.sites[foreign_id] = site
    return site


def render_script(site: ConnectedSiteData) -> dict[str, str]:
    return {"url": site.script_url, "fragment": fragment(site.script_url)}


def render_site(site: ConnectedSiteData) -> dict[str, Any]:
    return {
        "foreign_id": site.foreign_id,
        "store_id": site.store_id,
        "platform": site.platform,
        "domain": site.domain,
        "site_script": render_script(site),
        "created_at": site.created_at,
        "updated_at": site.updated_at,
        "_links": [],
    }


# --- what stores.py adds to a store ------------------------------------------------------------


def store_created(request: ApiRequest, data: StoreData) -> None:
    """A store made through the API comes with its connected site (id: the store's id)."""
    site = request.account.sites.get(data.info.id)
    if site is None:
        new_site(
            request.sandbox.state, request.account, data.info.id, data.info.domain, data.info.id
        )


def store_deleted(request: ApiRequest, store_id: str) -> None:
    site = request.account.sites.get(store_id)
    if site is not None and site.store_id == store_id:
        del request.account.sites[store_id]


def store_fields(account: AccountData, data: StoreData) -> dict[str, Any]:
    """``connected_site`` and ``automations`` of a store, as the store's GET reports them."""
    fields: dict[str, Any] = {
        "automations": {
            "abandoned_cart": dict(data.abandoned_cart),
            "abandoned_browse": {"is_supported": True},
        }
    }
    site = account.sites.get(data.info.id)
    if site is not None and site.store_id == data.info.id:
        fields["connected_site"] = {
            "site_foreign_id": site.foreign_id,
            "site_script": render_script(site),
        }
    return fields


# --- routes ------------------------------------------------------------------------------------


def _site(request: ApiRequest) -> ConnectedSiteData:
    found = request.account.sites.get(request.params["site_id"])
    if found is None:
        raise not_found()
    return found


@router.route("GET", "/connected-sites")
def get_sites(request: ApiRequest) -> dict[str, Any]:
    return paginate(request, "sites", [render_site(s) for s in request.account.sites.values()])


@router.route("POST", "/connected-sites")
def post_site(request: ApiRequest) -> dict[str, Any]:
    payload = request.parse(SiteIn)
    if payload.foreign_id in request.account.sites:
        raise invalid_resource("A connected site with the provided ID already exists.")
    return render_site(
        new_site(request.sandbox.state, request.account, payload.foreign_id, payload.domain)
    )


@router.route("GET", SITE)
def get_site(request: ApiRequest) -> dict[str, Any]:
    return render_site(_site(request))


@router.route("DELETE", SITE)
def delete_site(request: ApiRequest) -> None:
    # The spec's 204, also for a store's site (see the module's docstring): the store stays.
    del request.account.sites[_site(request).foreign_id]


@router.route("POST", f"{SITE}/actions/verify-script-installation")
def verify_script(request: ApiRequest) -> ApiResult:
    site = _site(request)
    if not site.script_installed:
        raise invalid_resource(
            f"The Mailchimp site script was not found on {site.domain or 'the site'}."
        )
    return ApiResult(204, None)


# --- sandbox controls (what happens in Mailchimp's UI or on the storefront) ----------------------


def set_abandoned_cart(
    sandbox: MailchimpSandbox,
    account_id: str,
    store_id: str,
    *,
    status: AutomationStatus | None,
    is_supported: bool = True,
) -> None:
    """Build (``status``), pause or remove (``None``) the store's abandoned-cart automation."""
    with sandbox.state.lock:
        data = sandbox.state.account_data(account_id).stores[store_id]
        automation: dict[str, object] = {"is_supported": is_supported}
        if status is not None:
            known = data.abandoned_cart.get("id")
            automation.update(id=known or sandbox.state.new_id(10), status=status)
        data.abandoned_cart = automation


def set_script_installed(
    sandbox: MailchimpSandbox, account_id: str, site_id: str, installed: bool = True
) -> None:
    """Whether the site's pages load the script (what the verification looks for)."""
    with sandbox.state.lock:
        sandbox.state.account_data(account_id).sites[site_id].script_installed = installed


def change_site_script(sandbox: MailchimpSandbox, account_id: str, site_id: str) -> str:
    """Mailchimp gives the site a new script URL; returns it."""
    with sandbox.state.lock:
        data = sandbox.state.account_data(account_id)
        site = data.sites[site_id]
        site.script_url = _script_url(sandbox.state, data)
        site.updated_at = sandbox.state.clock.iso()
        site.script_installed = False  # the storefront still loads the old one
        return site.script_url


def site(sandbox: MailchimpSandbox, account_id: str, site_id: str) -> ConnectedSiteData | None:
    with sandbox.state.lock:
        return sandbox.state.account_data(account_id).sites.get(site_id)
