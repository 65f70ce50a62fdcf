"""The cookies the OAuth pop-up leaves for Mailchimp's callback: the dashboard's theme and the
log-in's browser key (`oauth_flow.py`). Sent only to the callback, for as long as a log-in
lives, and with Mailchimp's top-level redirect back (`SameSite=Lax`)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response

from addon.connection.service import CALLBACK_PATH


def leave_for_callback(
    request: Request, response: Response, name: str, value: str, lives: timedelta
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(lives.total_seconds()),
        path=CALLBACK_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
