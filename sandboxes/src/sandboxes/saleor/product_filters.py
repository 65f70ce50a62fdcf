"""`products(filter: ...)`'s catalogue filters beyond `ids`: `categories`, `productTypes` and
`attributes`, as Saleor applies them (saleor/graphql/product/filters/product_helpers.py
`filter_categories`, `filter_product_types`; product_attributes.py `deprecated_filter_attributes`;
the same at 3.20.119 and 723cd4e)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .arguments import ids_filter
from .models import Product, ProductAttribute
from .store_base import StoreBase
from .store_catalog import slugify


def _with_descendants(store: StoreBase, pks: set[int]) -> set[int]:
    """The categories and all their subcategories (`filter_products_by_categories`:
    `get_queryset_descendants(..., include_self=True)`)."""
    found = set(pks)
    while True:
        more = {c.id for c in store.categories.values() if c.parent_id in found} - found
        if not more:
            return found
        found |= more


def _has_values(product: Product, wanted: dict[str, Any]) -> bool:
    """One `AttributeInput` of slugs: a value of the attribute whose slug is listed (a slug no
    attribute has lists nothing: `_update_queries` raises, the filter answers `none()`). A
    value's slug is made from its name, again when it is renamed (saleor/graphql/attribute/
    mutations/attribute_value_create.py `clean_input`)."""
    slug, values = wanted.get("slug"), set(wanted.get("values") or ())
    attribute: ProductAttribute | None = next(
        (a for a in product.attributes if a.slug == slug), None
    )
    return attribute is not None and any(slugify(v) in values for v in attribute.values)


def catalogue_filter(
    store: StoreBase, filter: dict[str, Any] | None
) -> Callable[[Product], bool] | None:
    """The test a product passes for the filter's catalogue fields; None when none is given (an
    empty list filters nothing: django-filter leaves empty values out)."""
    categories = ids_filter({"ids": (filter or {}).get("categories")}, "Category")
    types = ids_filter({"ids": (filter or {}).get("productTypes")}, "ProductType")
    attributes: list[dict[str, Any]] = list((filter or {}).get("attributes") or ())
    if categories is None and types is None and not attributes:
        return None
    within = _with_descendants(store, categories) if categories is not None else None

    def keep(product: Product) -> bool:
        return (
            (within is None or product.category_id in within)
            and (types is None or product.product_type_id in types)
            and all(_has_values(product, wanted) for wanted in attributes)
        )

    return keep
