"""ShateClient's cart and orders (byPriceItems, byCartItems, the order list, status history).

- Orders (byPriceItems, byCartItems) are sent once, never retried automatically: a timeout, a lost
  connection, a 5xx or a garbled 2xx raises OutcomeUnknown, and the caller must reconcile with
  ``get_orders`` (by date, article, agreement) before sending again. The answer does not echo
  ``priceId`` (notes): lines are matched back by article. A refusal (HTTP 400/409/422) is returned
  as a ShateOrderResult with ``created`` False and every error kept; other failures raise.
  ``expectedDateTimeOfArrivalAllItems`` is sent at the top level (the table does not say where);
  ``deliveryType`` is ``ManyDelivery``/``OneDelivery`` (the document writes "Many Delivery");
  without a delivery address the order is a pickup (no ``deliveryInfo``), as the document says.
  ``fio`` and ``phone`` (10.2, 10.3: required for agreement groups НАЛ, ЭКВАИР, МАГ) go at the top
  level, beside ``agreementCode``, as the table lists them; empty ones are not sent.
- Adding to the cart is not retried either (a retry could add the line twice); PATCH and DELETE
  are idempotent and keep the normal retries.
"""

import logging

from .errors import BadResponse, NotFound, OutcomeUnknown, RequestRejected
from .etm_data import text
from .shate_convert import API, MALFORMED, as_list, format_datetime, quantity_param, rows_of
from .shate_order_data import (
    DELIVERY_MANY,
    ShateOrderLine,
    parse_cart_item,
    parse_order,
    parse_order_result,
    parse_status_change,
)

_logger = logging.getLogger(__name__)

ORDER_REFUSAL_HTTP = (400, 409, 422)


def _order_lines(lines):
    parsed = []
    for line in lines or ():
        if isinstance(line, dict):
            line = ShateOrderLine(line.get("price_id"), line.get("quantity"), line.get("comment"))
        elif not isinstance(line, ShateOrderLine):
            line = ShateOrderLine(*line)
        if not text(line.price_id) or not line.quantity or float(line.quantity) <= 0:
            raise ValueError("Every order line needs a price id and a quantity > 0")
        parsed.append(line)
    if not parsed:
        raise ValueError("An order needs at least one line")
    return parsed


class ShateOrdersMixin:
    """Cart and orders; mixed into ShateClient (its ``_call``/``_checked_json``/``_body``)."""

    # -- cart ---------------------------------------------------------------------------------
    @staticmethod
    def _codes(agreement_code, delivery_address_code):
        params = {}
        if agreement_code:
            params["agreementCode"] = agreement_code
        if delivery_address_code:
            params["deliveryAddressCode"] = delivery_address_code
        return params

    def get_cart_items(self, *, agreement_code=None, delivery_address_code=None):
        params = self._codes(agreement_code, delivery_address_code)
        document = self._get(f"{API}/cartitems", endpoint="cart", params=params)
        return [parse_cart_item(row) for row in rows_of(document, "cart")]

    def get_cart_item(self, cart_item_id, *, agreement_code=None, delivery_address_code=None):
        params = self._codes(agreement_code, delivery_address_code)
        path = f"{API}/cartitems/{int(cart_item_id)}"
        return self._one_cart_item(self._get(path, endpoint="cart", params=params))

    def add_cart_item(self, price_id, quantity, comment=None):
        """Put an offer in the cart. Sent once (a retry could add the line twice)."""
        body = {"quantity": quantity_param(quantity), "priceId": text(price_id)}
        if comment:
            body["comment"] = comment
        response = self._call("POST", f"{API}/cartitems", endpoint="cart", json=body, once=True)
        self._raise_for_status(response, "cart")
        return self._one_cart_item(self.json_or_raise(response, "a JSON cart answer"))

    def patch_cart_item(self, cart_item_id, *, quantity=None, price=None, comment=None):
        """Change only the given fields of a cart line."""
        body = {}
        if quantity is not None:
            body["quantity"] = quantity_param(quantity)
        if price is not None:
            body["price"] = float(price)
        if comment is not None:
            body["comment"] = comment
        if not body:
            raise ValueError("Nothing to change in the cart line")
        path = f"{API}/cartitems/{int(cart_item_id)}"
        return self._one_cart_item(self._checked_json("PATCH", path, endpoint="cart", json=body))

    def delete_cart_item(self, cart_item_id):
        self._checked_json("DELETE", f"{API}/cartitems/{int(cart_item_id)}", endpoint="cart")

    def delete_all_cart_items(self):
        self._checked_json("DELETE", f"{API}/cartitems", endpoint="cart")

    @staticmethod
    def _one_cart_item(document):
        rows = rows_of(document, "cart")
        if not rows:
            raise BadResponse("The Shate-M cart answer has no cart line")
        return parse_cart_item(rows[0])

    # -- orders -------------------------------------------------------------------------------
    def order_by_price_items(
        self,
        *,
        agreement_code,
        lines,
        agree_with_terms_of_delivery,
        agree_with_personal_data_policy,
        delivery_address_code=None,
        delivery_type=DELIVERY_MANY,
        delivery_date=None,
        expected_arrival=None,
        comment=None,
        note=None,
        fio=None,
        phone=None,
    ):
        """Order offers straight from a price search (POST /api/v1/orders/byPriceItems).

        ``lines``: ShateOrderLine(price_id, quantity, comment) items (tuples and dicts too); all
        from one location. Without ``delivery_address_code`` the order is a pickup. ``fio`` and
        ``phone`` (the buyer's name and phone) are required by the service for agreement groups
        НАЛ, ЭКВАИР and МАГ (``ShateAgreement.needs_contact``); the service refuses the order
        without them.

        Sent exactly once, never retried: when the answer is lost (timeout, connection dropped,
        5xx, garbled body) OutcomeUnknown is raised and the order may exist: reconcile with
        ``get_orders`` before sending it again. A refusal is returned, not raised:
        ``result.created`` False with ``errors``/``price_item_errors``.
        """
        body = self._order_body(
            agreement_code, agree_with_terms_of_delivery, agree_with_personal_data_policy,
            delivery_address_code, delivery_type, delivery_date, expected_arrival,
            comment, note, fio, phone,
        )  # fmt: skip
        items = []
        for line in _order_lines(lines):
            item = {"priceId": text(line.price_id), "quantity": quantity_param(line.quantity)}
            if line.comment:
                item["comment"] = line.comment
            items.append(item)
        body["priceItems"] = items
        return self._send_order(f"{API}/orders/byPriceItems", body)

    def order_by_cart_items(
        self,
        *,
        agreement_code,
        cart_item_ids,
        agree_with_terms_of_delivery,
        agree_with_personal_data_policy,
        delivery_address_code=None,
        delivery_type=DELIVERY_MANY,
        delivery_date=None,
        expected_arrival=None,
        comment=None,
        note=None,
        fio=None,
        phone=None,
    ):
        """Order cart lines (POST /api/v1/orders/byCartItems). Same rules as
        ``order_by_price_items``: sent once, OutcomeUnknown when the answer is lost."""
        ids = [int(value) for value in cart_item_ids or ()]
        if not ids:
            raise ValueError("An order needs at least one cart line")
        body = self._order_body(
            agreement_code, agree_with_terms_of_delivery, agree_with_personal_data_policy,
            delivery_address_code, delivery_type, delivery_date, expected_arrival,
            comment, note, fio, phone,
        )  # fmt: skip
        body["cartItems"] = [{"id": value} for value in ids]
        return self._send_order(f"{API}/orders/byCartItems", body)

    def _order_body(
        self, agreement_code, agree_terms, agree_policy, delivery_address_code, delivery_type,
        delivery_date, expected_arrival, comment, note, fio, phone,
    ):  # fmt: skip
        if not text(agreement_code):
            raise ValueError("An order needs an agreement code")
        if not (agree_terms and agree_policy):
            # The service refuses an order without both consents: no point sending it.
            raise RequestRejected(
                "Shate-M orders need the consent to the terms of delivery and to the personal "
                "data policy; enable both on the connection"
            )
        body = {
            "agreementCode": text(agreement_code),
            "agreeWithTermsOfDelivery": True,
            "agreeWithPersonalDataProcessingPolicyAndUserAgreement": True,
        }
        for key, value in (("comment", comment), ("note", note), ("fio", fio), ("phone", phone)):
            if value:
                body[key] = value
        if delivery_address_code:
            body["deliveryInfo"] = {
                "deliveryType": delivery_type or DELIVERY_MANY,
                "deliveryAddressCode": delivery_address_code,
            }
            if delivery_date:
                body["deliveryInfo"]["deliveryDateTime"] = format_datetime(delivery_date)
        if expected_arrival:
            body["expectedDateTimeOfArrivalAllItems"] = format_datetime(expected_arrival)
        return body

    def _send_order(self, path, body):
        response = self._call("POST", path, endpoint="orders", json=body, once=True)
        status = response.status_code
        if 200 <= status < 300 or status in ORDER_REFUSAL_HTTP:
            document = self._body(response)
            if document is MALFORMED:
                document = None
            result = parse_order_result(document, status)
            if 200 <= status < 300:
                if not (result.created or result.errors or result.price_item_errors):
                    raise OutcomeUnknown(
                        f"Shate-M answered the order with HTTP {status} but no readable order; "
                        "it may have been created: look it up before sending it again",
                        status=status,
                    )
                if result.created:
                    _logger.info(
                        "Shate-M order(s) %s created",
                        ", ".join(str(order.id) for order in result.orders),
                    )
            elif not (result.errors or result.price_item_errors):
                result.errors = [f"HTTP {status}"]
            result.errors = [self.redact(message) for message in result.errors]
            return result
        self._raise_for_status(response, "orders")
        raise BadResponse(f"Unexpected HTTP {status} in the Shate-M order answer", status=status)

    def get_orders(
        self,
        *,
        page=1,
        page_size=25,
        start=None,
        end=None,
        order_ids=(),
        trade_mark_name=None,
        article_code=None,
        status_codes=(),
    ):
        """One page of orders (with their items), newest filters as the document lists them:
        dates (date, naive-UTC datetime or ISO text), order ids, brand, article, status codes."""
        params = {"page": int(page), "pageSize": int(page_size)}
        if start:
            params["startDateTime"] = format_datetime(start)
        if end:
            params["endDateTime"] = format_datetime(end)
        ids = [int(value) for value in as_list(order_ids)]
        if ids:
            params["ids"] = ids
        if trade_mark_name:
            params["tradeMarkName"] = trade_mark_name
        if article_code:
            params["articleCode"] = article_code
        statuses = [int(value) for value in as_list(status_codes)]
        if statuses:
            params["statusCode"] = statuses
        try:
            document = self._get(f"{API}/orders", endpoint="orders", params=params)
        except NotFound:
            return []
        return [parse_order(row) for row in rows_of(document, "orders")]

    def iter_orders(self, *, page_size=100, max_pages=1000, **filters):
        """All orders matching ``filters`` (see get_orders), page after page until a short one."""
        seen_first = None
        for page in range(1, max_pages + 1):
            orders = self.get_orders(page=page, page_size=page_size, **filters)
            if not orders:
                return
            first = (orders[0].id, len(orders))
            if first == seen_first:
                return  # the service ignores paging: the same page again
            seen_first = first
            yield from orders
            if len(orders) < page_size:
                return

    def get_order_item_history(self, order_item_id):
        """Status changes of one order item, oldest first."""
        path = f"{API}/orderitems/{int(order_item_id)}/statuseshistory"
        document = self._get(path, endpoint="orders")
        changes = [parse_status_change(row) for row in rows_of(document, "status history")]
        changes.sort(key=lambda change: (change.changed_at is None, change.changed_at or 0))
        return changes
