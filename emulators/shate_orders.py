"""The Shate-M Plus emulator's orders: byPriceItems and byCartItems validated against today's
offers, the order list, status history and progression.

* priceIds go stale after ``price_ttl`` seconds (default 1800) or when the offer changes
  (:meth:`reprice`, :meth:`set_offer`, :meth:`expire_prices`). Ordering a stale priceId compares
  the issued price with today's: a fall within ``price_tolerance`` (default 10 %) is accepted
  at the new price with the document's warning (``Произошло изменение цены в пределах
  допустимого отклонения. oldPrice : x ; newPrice : y ``) in the item's ``warnings``; a rise or
  a larger fall is a line error ``102``; an unchanged price is ``101`` (re-price). Line errors
  start with a 1xx code (document): 100 offer not found, 101 stale, 102 price changed, 103 bad
  quantity, 104 multiplicity, 105 minimum, 106 maximum, 107 more than available (``Equal``),
  108 priced under another agreement, 109 cannot arrive by expectedDateTimeOfArrivalAllItems,
  110 100 % prepayment agreement and goods not in own stock (the document's example error
  "Товар не оформлен в заказ. По договору 100% предоплата." also goes into ``errors``).
* Orders: every rule of 10.2/10.3 is checked before anything is created and all errors are
  reported at once: agreement given, known, active; both consents true; ``fio`` and ``phone``
  for groups НАЛ, ЭКВАИР, МАГ; delivery (``deliveryInfo``: known address, ``deliveryType``
  ManyDelivery/OneDelivery, spaces allowed) only if the agreement allows delivery, pickup
  (no deliveryInfo) only if it allows pickup; lines from one ``locationCode`` only (lines of a
  supplier's stock ship from the central warehouse, so they mix with its own stock). The
  agreement's ``locationCode`` binds the lines only with ``enforce_agreement_location=True``.
  The order ``id`` is its number. Items come back in request order (no priceId echoed),
  status 0 "Новый"; a pickup order has ``deliveryInfo: null``. OneDelivery gives every item
  the latest date; a later ``deliveryDateTime`` replaces the computed one. Orders do not
  consume stock. byCartItems removes the ordered lines from the cart.
* Statuses: the list of :data:`STATUS_CODES` (60 refused, 140 delivered, 150 handed over, 180
  cancelled as in the field notes). :meth:`advance_status` moves an item on its path (own stock:
  0→30→80→100→110→140 for delivery, …→80→90→150 for pickup; supplier stock adds 40, 50, 70) or
  to any code; ``auto_progress_seconds`` moves every item one step per that many seconds,
  evaluated when read. ``GET /orders`` filters orders by dates (UTC; a bare end date includes
  its day), ``ids``; ``tradeMarkName``, ``articleCode`` and ``statusCode`` filter the lines (an
  order without matching lines is left out); newest first; ``pageSize`` ≤ ``max_page_size``
  (default 100) else 400.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from .base import Response, json_response
from .shate_answers import (
    PREPAYMENT_ERROR,
    Order,
    OrderItem,
    article_row,
    current_info,
    delivery_time,
    delivery_type,
    iso_z,
    order_error_body,
    order_header_errors,
    order_row,
    parse_datetime,
    price_check,
    quantity_errors,
    shipping_time,
)
from .shate_catalogue import STATUS_CODES, normalize_code
from .shate_requests import Reject, as_int, reject, split_values

_PATHS = {  # (own stock?, delivery?) → status path
    (True, True): (0, 30, 80, 100, 110, 140),
    (True, False): (0, 30, 80, 90, 150),
    (False, True): (0, 30, 40, 50, 70, 80, 100, 110, 140),
    (False, False): (0, 30, 40, 50, 70, 80, 90, 150),
}


@dataclass(slots=True)
class _Line:
    price_id: str
    quantity: object
    comment: str
    agreed_price: float | None = None
    cart_item_id: int | None = None


class ShateOrdersMixin:
    """Order and status routes of :class:`~.shate.ShateEmulator` (its ``_orders``,
    ``_order_items``, ``_cart``, ``_prices``, ``_seq``, ``_offer_now``, ``_stale``)."""

    def _order_body(self, request) -> dict:
        try:
            body = self._body(request)
        except Reject:
            body = None
        if not isinstance(body, dict):
            raise Reject(json_response(order_error_body(
                ["Некорректный запрос"], {"Body": "Ожидается JSON-объект заказа"}, []), 400))
        return body

    def _order_by_price_items(self, request, login):
        body = self._order_body(request)
        items = body.get("priceitems")
        lines = [_Line(str(i.get("priceid") or ""), i.get("quantity"), str(i.get("comment") or ""))
                 if isinstance(i, dict) else _Line("", None, "")
                 for i in (items if isinstance(items, list) else [])]
        return self._place_order(login, body, lines)[0]

    def _order_by_cart_items(self, request, login):
        body = self._order_body(request)
        refs = body.get("cartitems")
        lines, missing = [], []
        with self.lock:
            for ref in refs if isinstance(refs, list) else []:
                item_id = as_int(ref.get("id") if isinstance(ref, dict) else ref)
                item = self._cart.get(item_id)
                if item is None or item.login != login:
                    missing.append(str(item_id))
                    continue
                lines.append(_Line(item.record.price_id, item.quantity, item.comment, item.price,
                                   item.id))
            extra = ([f"Строки корзины не найдены: {', '.join(missing)}"] if missing else [])
            response, order = self._place_order(login, body, lines, extra)
            if order is not None:
                for line in lines:
                    self._cart.pop(line.cart_item_id, None)
        return response

    def _place_order(self, login: str, body: dict, lines: list[_Line],
                     extra_errors: list[str] = ()) -> tuple[Response, Order | None]:
        """Validate everything, then create the order (10.2 and 10.3)."""
        now = self.clock()
        agreement_code = body.get("agreementcode")
        agreement = self.agreements.get(str(agreement_code)) if agreement_code else None
        errors, descriptions = order_header_errors(body, agreement, agreement_code,
                                                   self.addresses)
        errors.extend(extra_errors)
        info = body.get("deliveryinfo") if isinstance(body.get("deliveryinfo"), dict) else None
        address = self.addresses.get(str(info.get("deliveryaddresscode"))) if info else None
        expected = None
        with suppress(ValueError):  # an unreadable date is reported by order_header_errors
            if body.get("expecteddatetimeofarrivalallitems") is not None:
                expected = parse_datetime(body["expecteddatetimeofarrivalallitems"])
        if not lines:
            errors.append("Не переданы строки заказа")
            descriptions.setdefault("PriceItems", "Не переданы строки заказа")
        item_errors, resolved = [], []
        with self.lock:
            for line in lines:
                record, line_errors, current, checked = self._check_line(
                    login, line, agreement, address, expected, now)
                if checked is not None:
                    resolved.append(checked)
                if any(e.startswith("110: ") for e in line_errors) \
                        and PREPAYMENT_ERROR not in errors:
                    errors.append(PREPAYMENT_ERROR)
                if line_errors:
                    row = {"priceId": line.price_id or None, "hash": record.hash if record else 0,
                           "current": current, "errors": line_errors}
                    if line.cart_item_id is not None:
                        row["cartItemId"] = line.cart_item_id
                    item_errors.append(row)
            locations = sorted({r[1].location_code for r in resolved})
            if len(locations) > 1:
                message = ("Все строки заказа должны быть из одного склада (locationCode): "
                           + ", ".join(locations))
                errors.append(message)
                descriptions["LocationCode"] = message
            elif (self.enforce_agreement_location and agreement is not None and locations
                  and locations[0] != agreement.location_code):
                message = (f"Код склада договора ({agreement.location_code}) не соответствует "
                           f"коду склада строк заказа ({locations[0]})")
                errors.append(message)
                descriptions["LocationCode"] = message
            if item_errors:
                errors.append("Ошибка валидации строк заказа")
                descriptions["PriceItems"] = "Ошибка валидации строк заказа"
            if errors:
                return json_response(order_error_body(errors, descriptions, item_errors),
                                     400), None
            order = self._create_order(login, body, agreement, info, address, resolved, now)
            return json_response(order_row(order)), order

    def _check_line(self, login, line: _Line, agreement, address, expected, now):
        """One order line against its priceId and today's offer (under the lock): (record,
        errors, ``current`` of the offer, (line, record, article, offer, price, warning,
        delivery time) or None when the offer is unknown or gone)."""
        record = self._prices.get(line.price_id) if line.price_id else None
        if record is None or record.login != login:
            return None, ["100: Ценовое предложение не найдено"], None, None
        errors = []
        if agreement is not None and record.agreement_code != agreement.code:
            errors.append(f"108: Ценовое предложение получено по другому договору "
                          f"({record.agreement_code})")
        article, offer = self._offer_now(record)
        if offer is None:
            return record, errors + ["100: Ценовое предложение больше недоступно"], None, None
        price = self._price_for(offer, self.agreements[record.agreement_code])
        shipped = shipping_time(now, offer.shipping_days, self.utc_offset_hours)
        delivered = delivery_time(shipped, address) if address else shipped
        old = record.price if line.agreed_price is None else line.agreed_price
        warning, error = price_check(old, price, self._stale(record, offer, now),
                                     self.price_tolerance)
        errors += [error] if error else []
        errors += quantity_errors(line.quantity, offer)
        if agreement is not None and agreement.prepayment_stock_only and offer.type != "Internal":
            errors.append("110: " + PREPAYMENT_ERROR)
        if expected is not None and delivered > expected:
            errors.append(f"109: Строка не может прибыть к {iso_z(expected)}; "
                          f"ближайшая дата {iso_z(delivered)}")
        current = current_info(offer, price, self.margin, delivered, shipped)
        return record, errors, current, (line, record, article, offer, price, warning, delivered)

    def _create_order(self, login, body, agreement, info, address, resolved, now) -> Order:
        kind = None
        dates = [r[6] for r in resolved]
        if info:
            kind = delivery_type(info)
            if kind == "OneDelivery":
                dates = [max(dates)] * len(dates)
            if info.get("deliverydatetime") is not None:
                wanted = parse_datetime(info["deliverydatetime"])
                dates = [max(at, wanted) for at in dates]
        self._seq["order"] += 1
        order = Order(self._seq["order"], login, now, agreement.code, agreement.currency,
                      address.code if address else None, kind,
                      str(body.get("comment") or ""), str(body.get("note") or ""),
                      str(body.get("fio") or ""), str(body.get("phone") or ""), [])
        for (line, record, article, offer, price, warning, _), at in zip(resolved, dates,
                                                                           strict=True):
            self._seq["item"] += 1
            item = OrderItem(self._seq["item"], order.id, login, article_row(article),
                             record.location_code, record.location_code_real, line.quantity,
                             price, at, line.comment, [warning] if warning else None,
                             offer.is_return_allowed,
                             _PATHS[(offer.type == "Internal", address is not None)],
                             [(0, now)])
            order.items.append(item)
            self._order_items[item.id] = item
        self._orders[order.id] = order
        return order

    def _orders_list(self, request, login):
        query = self._query(request)
        one = {k: v[-1] for k, v in query.items()}
        page, size = as_int(one.get("page") or 1), as_int(one.get("pagesize") or 25)
        if page is None or page < 1 or size is None or not 1 <= size <= self.max_page_size:
            raise reject(400, "InvalidRequest",
                         f"page ≥ 1, pageSize от 1 до {self.max_page_size}")
        try:
            start = parse_datetime(one["startdatetime"]) if one.get("startdatetime") else None
            end = (parse_datetime(one["enddatetime"], end_of_day=True)
                   if one.get("enddatetime") else None)
        except ValueError:
            raise reject(400, "InvalidRequest", "Некорректная дата") from None
        ids = {as_int(v) for v in split_values(query.get("ids", []) + query.get("id", []))}
        statuses = {as_int(v) for v in
                    split_values(query.get("statuscode", []) + query.get("statuscodes", []))}
        trademark = (one.get("trademarkname") or "").casefold()
        code = normalize_code(one.get("articlecode") or "")
        now = self.clock()
        rows = []
        with self.lock:
            for order in sorted(self._orders.values(), key=lambda o: -o.id):
                if order.login != login or (ids and order.id not in ids) or (
                        start is not None and order.created_at < start) or (
                        end is not None and order.created_at > end):
                    continue
                for item in order.items:
                    self._progress(item, now)
                items = [i for i in order.items
                         if (not trademark or i.article["tradeMarkName"].casefold() == trademark)
                         and (not code or normalize_code(i.article["code"]) == code)
                         and (not statuses or i.status in statuses)]
                if items or not (trademark or code or statuses):
                    rows.append(order_row(order, items))
        return json_response(rows[(page - 1) * size:page * size])

    # -- statuses ---------------------------------------------------------------------------
    def _progress(self, item: OrderItem, now: float):
        """Automatic progression: one step of the item's path per auto_progress_seconds."""
        step = self.auto_progress_seconds
        if not step or item.off_path or item.status not in item.path:
            return
        created = item.history[0][1]
        index = item.path.index(item.status)
        due = min(int((now - created) // step), len(item.path) - 1)
        while index < due:
            index += 1
            at = max(created + index * step, item.history[-1][1])
            item.history.append((item.path[index], at))

    def advance_status(self, order_item_id: int, status_code: int | None = None,
                       at: float | None = None) -> int:
        """Move an order item to ``status_code`` (any code of STATUS_CODES) or, by default, to
        the next status of its path; returns the new code. A code off the path stops the
        automatic progression of that item."""
        with self.lock:
            item = self._order_items.get(int(order_item_id))
            if item is None:
                raise KeyError(f"unknown order item {order_item_id}")
            now = self.clock() if at is None else at
            self._progress(item, now)
            if status_code is None:
                if item.status not in item.path or item.status == item.path[-1]:
                    raise ValueError(f"order item {order_item_id} has no next status")
                status_code = item.path[item.path.index(item.status) + 1]
            if status_code not in STATUS_CODES:
                raise ValueError(f"unknown status code {status_code}")
            if status_code not in item.path:
                item.off_path = True
            item.history.append((int(status_code), now))
            return int(status_code)

    def advance_order(self, order_id: int, status_code: int | None = None) -> list[int]:
        """:meth:`advance_status` for every item of an order."""
        order = self._orders[int(order_id)]
        return [self.advance_status(item.id, status_code) for item in order.items]

    def order_item(self, order_item_id: int) -> OrderItem:
        return self._order_items[int(order_item_id)]

    def placed_orders(self) -> list[dict]:
        """Every order placed so far (all logins), oldest first, as ``GET /orders`` shows it."""
        now = self.clock()
        with self.lock:
            for item in self._order_items.values():
                self._progress(item, now)
            return [order_row(order) for order in self._orders.values()]

    def _history(self, request, login, item_id):
        item = self._order_items.get(as_int(item_id))
        if item is None or item.login != login:
            raise reject(404, "OrderItemNotFound", f"Строка заказа {item_id} не найдена")
        with self.lock:
            self._progress(item, self.clock())
            rows = [{"statusCode": code, "dateTime": iso_z(at)} for code, at in item.history]
        return json_response(rows)
