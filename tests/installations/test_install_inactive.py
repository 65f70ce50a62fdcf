"""Installing with Saleor's "activate after installation" off (`appInstall`'s
`activateAfterInstallation: false`): Saleor creates the app inactive, posts its token, and
refuses that token to the app's proof `{ app { id } }`; the app answered "did not accept the app
token" and Saleor deleted the app, leaving the admin nothing to go on. The token stays
unaccepted (it is unproven), but the admin is told to install with activation on; a wrong token
is still told it is invalid."""

from __future__ import annotations

import httpx
import pytest

from addon.services import Services
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.manifest_errors import InstallationFailed
from tests.conftest import APP_URL, SALEOR_API_URL
from tests.factories import installation


async def test_an_install_left_inactive_tells_the_admin_to_activate(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, services: Services
) -> None:
    with pytest.raises(InstallationFailed) as failed:
        await saleor.install_app(f"{APP_URL}/api/manifest", activate=False)
    assert "activation after installation on" in str(failed.value)
    assert await installation(services) is None
    assert saleor.store.apps == {}  # Saleor deletes the app the app refused


async def test_a_refused_token_of_another_shape_is_invalid(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox
) -> None:
    response = await app_client.post(
        "/api/register",
        json={"auth_token": "wrong-token-" + "x" * 18},
        headers={"Saleor-Api-Url": SALEOR_API_URL},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (401, "INVALID_APP_TOKEN")
