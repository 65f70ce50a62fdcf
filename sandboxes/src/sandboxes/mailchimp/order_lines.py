"""An order's lines one at a time: the spec's `/ecommerce/stores/{store_id}/orders/{order_id}/lines`
(GET a page of them, POST one: `E_commerce_Order_Line_Item_1`, its `id`, `product_id`,
`product_variant_id`, `quantity` and `price` required) and `…/lines/{line_id}` (GET, PATCH:
`E_commerce_Order_Line_Item_2`, nothing required and no `id`; DELETE: 204).

A line references a product and variant the store holds, as an order's (`orders._lines`). A
change of lines sends no notification and leaves the order's totals as they are: the order's
own PATCH carries those. The last line of an order cannot be deleted: Mailchimp answers 400 "In
order to delete this line item, delete the parent resource." (mailchimp/APIv3-examples#48, a
cart's line). The spec says nothing of it; an order without lines is never taken (its POST is
answered 404, `orders.post_order`), so the sandbox refuses it, the stricter side.
"""

from __future__ import annotations

from typing import Any

from .bodies import BodyIn
from .ecommerce import STORE, already_exists
from .errors import bad_request, not_found
from .models import Line, Order
from .orders import LineIn, _lines, _order
from .routing import ApiRequest, Router, paginate
from .state import StoreData

router = Router()

LINES = f"{STORE}/orders/{{order_id}}/lines"
LINE = f"{LINES}/{{line_id}}"
LAST_LINE = "In order to delete this line item, delete the parent resource."


class LineEditIn(BodyIn):
    """`E_commerce_Order_Line_Item_2`: what a line's PATCH may change (its id it cannot)."""

    product_id: str = ""
    product_variant_id: str = ""
    quantity: int = 0
    price: float = 0.0
    discount: float = 0.0


def render_line(line: Line) -> dict[str, Any]:
    return {**line.model_dump(mode="json"), "_links": []}


def _line(request: ApiRequest) -> tuple[StoreData, Order, Line]:
    data, order = _order(request)
    for line in order.lines:
        if line.id == request.params["line_id"]:
            return data, order, line
    raise not_found()


def _saved(data: StoreData, order: Order, lines: list[Line]) -> None:
    data.save_order(order.model_copy(update={"lines": lines}))


@router.route("GET", LINES)
def get_lines(request: ApiRequest) -> dict[str, Any]:
    data, order = _order(request)
    items = [render_line(line) for line in order.lines]
    return {**paginate(request, "lines", items), "store_id": data.info.id, "order_id": order.id}


@router.route("POST", LINES)
def post_line(request: ApiRequest) -> dict[str, Any]:
    data, order = _order(request)
    payload = request.parse(LineIn)
    if any(line.id == payload.id for line in order.lines):
        raise already_exists("order line")
    [line] = _lines(data, [payload])
    _saved(data, order, [*order.lines, line])
    return render_line(line)


@router.route("GET", LINE)
def get_line(request: ApiRequest) -> dict[str, Any]:
    return render_line(_line(request)[2])


@router.route("PATCH", LINE)
def patch_line(request: ApiRequest) -> dict[str, Any]:
    data, order, found = _line(request)
    request.parse(LineEditIn)  # the types of what it gives
    given = {k: v for k, v in request.json_object().items() if k in LineEditIn.model_fields}
    fields = {name: getattr(found, name) for name in LineIn.model_fields} | given
    [line] = _lines(data, [request.parse(LineIn, {**fields, "id": found.id})])
    _saved(data, order, [line if held.id == found.id else held for held in order.lines])
    return render_line(line)


@router.route("DELETE", LINE)
def delete_line(request: ApiRequest) -> None:
    data, order, found = _line(request)
    if len(order.lines) == 1:
        raise bad_request(LAST_LINE)
    _saved(data, order, [line for line in order.lines if line.id != found.id])
