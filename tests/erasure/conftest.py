"""The e-commerce tests' shop: a tracked channel in a connected account."""

from tests.ecommerce.conftest import shop  # noqa: F401
