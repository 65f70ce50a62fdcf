"""The newsletter shop of tests/subscriptions, for the merge-field mapping tests."""

from tests.subscriptions.conftest import newsletter, shop

__all__ = ["newsletter", "shop"]
