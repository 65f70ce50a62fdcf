"""Who may read what: the sandbox's `Viewer` grants a permission held, and the two
authorization filters Saleor derives from who calls (saleor/permission/auth_filters.py:
`AUTHENTICATED_APP` when the request has an app, `is_app`; `AUTHENTICATED_STAFF_USER` for a
staff user, `is_staff_user`)."""

from __future__ import annotations

import pytest

from sandboxes.saleor.models import SandboxApp
from sandboxes.saleor.permissions import (
    AUTHENTICATED_APP,
    AUTHENTICATED_STAFF_USER,
    PermissionDenied,
    Viewer,
)

APP = SandboxApp(id=1, name="app", permissions=["MANAGE_PRODUCTS"])


@pytest.mark.parametrize(
    ("viewer", "asked", "granted"),
    [
        (Viewer.for_app(APP), ["MANAGE_PRODUCTS"], True),
        (Viewer.for_app(APP), ["MANAGE_ORDERS"], False),
        (Viewer.for_app(APP), ["MANAGE_ORDERS", "MANAGE_PRODUCTS"], True),
        (Viewer.for_app(APP), [AUTHENTICATED_APP], True),
        (Viewer.for_app(APP), [AUTHENTICATED_STAFF_USER], False),
        (Viewer(is_staff=True), [AUTHENTICATED_STAFF_USER], True),
        (Viewer(is_staff=True), [AUTHENTICATED_APP], False),
        (Viewer(is_staff=True), ["MANAGE_PRODUCTS"], False),
        (Viewer(), [AUTHENTICATED_APP, AUTHENTICATED_STAFF_USER], False),
        (Viewer(), [], False),
    ],
)
def test_a_viewer_is_granted_what_it_holds_and_what_its_caller_implies(
    viewer: Viewer, asked: list[str], granted: bool
) -> None:
    assert viewer.has_any(asked) is granted
    if granted:
        viewer.require(*asked)
    else:
        with pytest.raises(PermissionDenied):
            viewer.require(*asked)
