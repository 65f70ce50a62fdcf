"""Links the app builds from Saleor's values are full URLs, each value percent-encoded as UTF-8
(`links.fill_url`): a product's slug may be Unicode (saleor/product/models.py `Product.slug`,
a SlugField with allow_unicode=True, which `productCreate`/`productUpdate` keep as given), a
global id carries base64's `+`, `/` and `=`. Mailchimp refuses a link that is not a full URL
(`order_url: That is not a valid URL`, mailchimp/mc-woocommerce#217; the sandbox checks every
e-commerce link so)."""

from __future__ import annotations

from urllib.parse import unquote

from addon.ecommerce.links import fill_url, given_url
from addon.ecommerce.payloads import mailchimp_id
from tests.ecommerce.conftest import Shop


def test_each_value_is_percent_encoded_as_utf8() -> None:
    template = "https://shop.example/{channel}/products/{slug}?ref={id}"
    url = fill_url(template, slug="jabłko-świeże", id="T3JkZXI6+/a=", channel="pl")
    assert url == (
        "https://shop.example/pl/products/jab%C5%82ko-%C5%9Bwie%C5%BCe?ref=T3JkZXI6%2B%2Fa%3D"
    )
    assert unquote(url.rsplit("/", 1)[1].split("?")[0]) == "jabłko-świeże"
    # Unreserved characters (RFC 3986 §2.3) stay as they are.
    assert (
        fill_url("https://s.example/p/{slug}", slug="a-b_c.d~e") == "https://s.example/p/a-b_c.d~e"
    )
    assert fill_url(None, slug="x") is None
    # A template saved before the settings checked it makes no full link: left out.
    assert fill_url("/products/{slug}", slug="x") is None


def test_a_given_link_is_encoded_where_it_is_not() -> None:
    """A picture's address as Saleor's storage gives it: encoded already (kept as it is), or,
    from a storage that does not encode, its non-ASCII characters and spaces encoded."""
    kept = "https://cdn.example/media/jab%C5%82ko.png?x=1&y=%2F"
    assert given_url(kept) == kept
    assert given_url("https://cdn.example/media/jabłko 1.png") == (
        "https://cdn.example/media/jab%C5%82ko%201.png"
    )
    assert given_url("/media/apple.png") is None
    assert given_url(None) is None


async def test_a_unicode_slug_makes_an_encoded_product_link(shop: Shop) -> None:
    product = await shop.product("Jabłko", "2.00", slug="jabłko-świeże")
    await shop.drain()
    mc = shop.products()[mailchimp_id(product.global_id)]
    link = "https://shop.grocer.example/products/jab%C5%82ko-%C5%9Bwie%C5%BCe"
    assert mc.url == link
    assert [v.url for v in mc.variants] == [link]
