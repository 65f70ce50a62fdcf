"""The Saleor sandbox refuses an app's webhook subscription as Saleor's `SubscriptionQuery` does
(saleor/graphql/webhook/subscription_query.py `validate_query`): at installation, where
`clean_webhooks` (saleor/app/manifest_validations.py, 3.20.119 and main) refuses the app with
"Subscription query is not valid: ...", as `webhookCreate` does with the error's code."""

from __future__ import annotations

import pytest

from sandboxes.saleor import InstallationFailed, SaleorSandbox
from tests.sandbox_saleor.conftest import (  # noqa: F401 (the fixtures)
    APP_HOST,
    FakeApp,
    fake_app,
    sandbox,
    signing_key,
)

MANIFEST_URL = f"http://{APP_HOST}/api/manifest"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("subscription { event { issuedAt } }", "Can't find a single event."),
        ("query { shop { version } }", "Subscription operation can't be found."),
    ],
)
async def test_a_subscription_saleor_finds_no_event_in_fails_the_installation(
    sandbox: SaleorSandbox,  # noqa: F811
    fake_app: FakeApp,  # noqa: F811
    query: str,
    message: str,
) -> None:
    fake_app.manifest["webhooks"] = [
        {"name": "Nothing", "query": query, "targetUrl": f"http://{APP_HOST}/api/webhooks/x"}
    ]
    with pytest.raises(InstallationFailed) as failed:
        await sandbox.install_app(MANIFEST_URL)
    assert str(failed.value) == f"Subscription query is not valid: {message}"
    assert failed.value.code == "INVALID"
    assert sandbox.store.apps == {} and fake_app.registrations == []
