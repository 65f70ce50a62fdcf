"""Account-level endpoints: ``GET /ping`` and ``GET /`` (account information)."""

from __future__ import annotations

from typing import Any

from .routing import ApiRequest, Router

router = Router()


@router.route("GET", "/ping")
def ping(request: ApiRequest) -> dict[str, Any]:
    return {"health_status": "Everything's Chimpy!"}


@router.route("GET", "/")
def root(request: ApiRequest) -> dict[str, Any]:
    account = request.account.account
    total = sum(
        1
        for data in request.account.lists.values()
        for member in data.members.values()
        if member.status == "subscribed"
    )
    return {
        "account_id": account.id,
        "login_id": account.login_id,
        "account_name": account.name,
        "email": account.login_email,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "username": account.login_email,
        "avatar_url": "",
        "role": account.role,
        "member_since": account.created_at,
        "pricing_plan_type": "monthly",
        # A date-time in the spec ("Date of first payment for monthly plans"); the plan above
        # is monthly, so the account paid when it was created.
        "first_payment": account.created_at,
        "account_timezone": "UTC",
        "account_industry": "eCommerce",
        "contact": {
            "company": account.name,
            "addr1": "675 Ponce de Leon Ave NE",
            "addr2": "Suite 5000",
            "city": "Atlanta",
            "state": "GA",
            "zip": "30308",
            "country": "US",
        },
        "pro_enabled": False,
        "last_login": account.created_at,
        "total_subscribers": total,
        "industry_stats": {"open_rate": 0.0, "bounce_rate": 0.0, "click_rate": 0.0},
        "_links": [],
    }
