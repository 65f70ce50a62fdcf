"""Why Saleor refused the token it posted to `/api/register`, in words the installer sees.

Saleor's `appInstall(activateAfterInstallation: false)` creates the app inactive, then posts its
token (saleor/app/installation_utils.py `install_app`, `send_app_token`); Saleor authenticates
an active app's token only (saleor/graphql/app/dataloaders/app.py `AppByTokenLoader`), so the
app's proof `{ app { id } }` is refused, the app answers an error and Saleor deletes the app,
showing the answer's `error.message` (`validate_app_install_response`). The app cannot accept a
token it cannot prove. The refusal looks exactly like a wrong token's (both anonymous:
PermissionDenied), so the install token's shape tells them apart: Saleor makes it with
oauthlib's `generate_token()`, 30 letters and digits (saleor/app/models.py
`AppTokenManager.create`). A wrong token of that shape is told the same, which only its sender
reads.
"""

from __future__ import annotations

import re

from addon.errors import ErrorCode, Unauthorized
from addon.saleor.client import SaleorPermissionDenied

_SALEOR_INSTALL_TOKEN = re.compile(r"[A-Za-z0-9]{30}")


def refused_token(auth_token: str, refusal: SaleorPermissionDenied) -> Unauthorized:
    """The answer to a registration whose token Saleor refused."""
    if _SALEOR_INSTALL_TOKEN.fullmatch(auth_token):
        return Unauthorized(
            "Saleor refused the token it sent, as it does for an app installed inactive. "
            "Install the app again with activation after installation on (deactivated "
            "afterwards, it keeps its data and resumes when activated again).",
            code=ErrorCode.INSTALLED_INACTIVE,
        )
    return Unauthorized(
        f"Saleor did not accept the app token: {refusal}", code=ErrorCode.INVALID_APP_TOKEN
    )
