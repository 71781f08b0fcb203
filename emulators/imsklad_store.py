"""The IMSKLAD emulator's warehouse: goods with stock and reserve, orders with statuses, supplier
pre-orders, stock documents and billing, and the handlers of every action on them.

* Ids: ours (``id`` in requests) key every object; IMSKLAD's (``system_id``) are numbered from
  counters. A second add of the same id of ours is refused with code 4 "… already exists" and the
  existing IMSKLAD id in the answer (the document is silent: a client reads the words and may use
  the id). update_* of an id it does not know: code 2 "… not found".
* Goods lines must name goods added before (by our id, compared as text): an unknown one is code 3
  naming the line (the data is wrong; code 2 stays "the order/document itself is unknown").
* Storage: ``storages`` (default ``{1}``, "На данный момент равен 1"); another id is code 2.
* Orders: status 0 on creation (10 when sent with ``is_canceled`` 1); statuses 0..8 hold a
  reserve of their goods; reaching 9 (or 11 directly) takes the goods off the stock and charges
  the assembly fee (billing type 0) and, with a delivery type, the delivery fee (type 2); 10
  releases the reserve (or, after shipping, returns the goods). update_order: status 0 saves
  everything; 1..8 (in assembly) saves everything but the goods and answers the document's
  warning "The order in the assembly process(goods not saved)"; 9, 10, 11: code 4, nothing saved.
  ``is_canceled`` 1 cancels it (status 10) up to status 8.
* Pre-orders and documents: status 0 new, 1 posted, 2 cancelled (our numbers for the document's
  "Новый, Проведен, Отменен"). Receiving one (control route, or the receipt of the callback walk)
  posts it: type 0 adds its goods to the stock, type 1 takes them off. A posted or cancelled one
  cannot be updated (code 4). add_preorder and update_preorder accept both ``owner_date`` and
  ``date`` (add's table names the first, update's the second). A pre-order with ``need_pickup``
  1 is charged the pickup fee (type 9 "Забор товара", with its ``doc_request_id``, as in the
  document's example).
* get_stock answers the asked ids in order; an id it does not know is left out
  (``unknown_stock_ids="omit"``, default) or makes the whole request code 2 (``"error"``). More
  than ``max_stock_ids`` ids (default 1000; the document has no limit) is code 3.
* get_billing: the operations dated from ``from`` to ``to`` inclusive, ``change_of_balance`` their
  sum, ``current_balance`` the balance now; ``from`` after ``to`` is code 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .imsklad_fields import (
    ADD_DOC,
    ADD_ORDER,
    ADD_PREORDER,
    BILLING,
    ERROR_INCORRECT_DATA,
    ERROR_NOT_FOUND,
    ERROR_NOT_PERFORMED,
    GOOD,
    INT,
    STOCK,
    UPDATE_DOC,
    UPDATE_ORDER,
    UPDATE_PREORDER,
    Reject,
    read,
    read_ids,
)

ASSEMBLY_WARNING = "The order in the assembly process(goods not saved)"
RESERVING = frozenset(range(0, 9))
SHIPPED = frozenset({9, 11})
DOC_NEW, DOC_POSTED, DOC_CANCELLED = 0, 1, 2


@dataclass
class Good:
    system_id: int
    partner_id: str
    fields: dict
    stock: int = 0
    reserved: int = 0

    def stock_row(self) -> dict:
        return {"id": self.system_id, "stock": self.stock, "reserved": self.reserved}


@dataclass
class Order:
    system_id: int
    partner_id: str
    fields: dict
    goods: list  # [{"id": our good id (str), "quantity": int, "price": float}]
    status: int = 0
    track: str = ""
    history: list = field(default_factory=list)  # [(old, new)]

    @property
    def guid(self):
        return self.fields.get("guid")

    def to_dict(self) -> dict:
        return {"system_id": self.system_id, "id": self.partner_id, "status": self.status,
                "track": self.track, "goods": self.goods, "fields": self.fields,
                "history": self.history}  # fmt: skip


@dataclass
class Document:
    system_id: int
    partner_id: str
    kind: str  # "preorder" or "doc"
    type: int  # 0 incoming, 1 outgoing
    fields: dict
    goods: list
    status: int = DOC_NEW

    def to_dict(self) -> dict:
        return {"system_id": self.system_id, "id": self.partner_id, "kind": self.kind,
                "type": self.type, "status": self.status, "goods": self.goods,
                "fields": self.fields}  # fmt: skip


@dataclass
class BillingOperation:
    id: int
    date: int
    amount: float
    type: int
    comment: str = ""
    order_id: int | None = None
    foreign_order_id: str | None = None
    doc_request_id: int | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "order_id": self.order_id,
                "foreign_order_id": self.foreign_order_id, "doc_request_id": self.doc_request_id,
                "type": self.type, "date": self.date, "amount": self.amount,
                "comment": self.comment}  # fmt: skip


def _ok(system_id: int) -> dict:
    return {"result": "ok", "id": system_id}


class ImskladStoreMixin:
    """The warehouse of :class:`~.imsklad.ImskladEmulator` (its ``lock``, ``clock``, settings)."""

    def _init_store(self, goods, billing, balance):
        self.goods: dict[str, Good] = {}
        self._goods_by_system: dict[int, Good] = {}
        self.orders: dict[str, Order] = {}
        self.documents: dict[tuple[str, str], Document] = {}
        self.billing: list[BillingOperation] = []
        self.balance = float(balance)
        self._seq = {"good": 500_000, "order": 153_400, "document": 1_200, "billing": 33_000}
        for good in goods:
            self._store_good(Good(good.system_id, good.partner_id, good.fields(), good.stock,
                                  good.reserved))  # fmt: skip
        for row in billing:
            self.billing.append(BillingOperation(**row))

    def _next(self, kind: str) -> int:
        self._seq[kind] += 1
        return self._seq[kind]

    def _store_good(self, good: Good):
        self.goods[good.partner_id] = good
        self._goods_by_system[good.system_id] = good

    def _check_storage(self, storage):
        if str(storage) not in {str(s) for s in self.storages}:
            raise Reject(ERROR_NOT_FOUND, f"Storage {storage} not found")

    def _lines(self, lines: list) -> list:
        for index, line in enumerate(lines):
            if line["id"] not in self.goods:
                raise Reject(ERROR_INCORRECT_DATA, f"Incorrect data: goods[{index}].id: good "
                                                   f"{line['id']} not found")  # fmt: skip
        return [{"id": line["id"], "quantity": line["quantity"], "price": line["price"]}
                for line in lines]  # fmt: skip

    # -- goods ------------------------------------------------------------------------------
    def _add_good(self, data):
        values = read(data, GOOD)
        with self.lock:
            existing = self.goods.get(values["id"])
            if existing is not None:
                raise Reject(ERROR_NOT_PERFORMED, f"Good {values['id']} already exists",
                             id=existing.system_id)  # fmt: skip
            good = Good(self._next("good"), values["id"], values)
            self._store_good(good)
        return _ok(good.system_id)

    def _update_good(self, data):
        values = read(data, GOOD)
        with self.lock:
            good = self.goods.get(values["id"])
            if good is None:
                raise Reject(ERROR_NOT_FOUND, f"Good {values['id']} not found")
            good.fields = values
        return _ok(good.system_id)

    def _get_stock(self, data):
        values = read(data, STOCK)
        self._check_storage(values["storage_id"])
        ids = read_ids(values["ids"])
        if self.max_stock_ids and len(ids) > self.max_stock_ids:
            raise Reject(ERROR_INCORRECT_DATA,
                         f"Incorrect data: at most {self.max_stock_ids} ids per request")
        rows = []
        with self.lock:
            for good_id in ids:
                good = self._goods_by_system.get(good_id)
                if good is not None:
                    rows.append(good.stock_row())
                elif self.unknown_stock_ids == "error":
                    raise Reject(ERROR_NOT_FOUND, f"Good {good_id} not found")
        return rows

    def set_stock(self, good_id, stock=None, reserved=None) -> Good:
        """Set a good's stock and/or reserve; ``good_id`` ours (str) or IMSKLAD's (int)."""
        with self.lock:
            good = self._good(good_id)
            if stock is not None:
                good.stock = int(stock)
            if reserved is not None:
                good.reserved = int(reserved)
            return good

    def _good(self, good_id) -> Good:
        good = self.goods.get(str(good_id))
        if good is None and str(good_id).isdigit():
            good = self._goods_by_system.get(int(good_id))
        if good is None:
            raise KeyError(f"unknown good {good_id}")
        return good

    # -- orders -----------------------------------------------------------------------------
    def _add_order(self, data):
        values = read(data, ADD_ORDER)
        self._check_storage(values["storage_id"])
        goods = self._lines(values.pop("goods"))
        with self.lock:
            existing = self.orders.get(values["id"])
            if existing is not None:
                raise Reject(ERROR_NOT_PERFORMED, f"Order {values['id']} already exists",
                             id=existing.system_id)  # fmt: skip
            order = Order(self._next("order"), values["id"], values, goods, status=10)
            self.orders[order.partner_id] = order
            self.apply_order_status(order, 10 if values.get("is_canceled") == 1 else 0)
            order.history.clear()
        return _ok(order.system_id)

    def _update_order(self, data):
        values = read(data, UPDATE_ORDER)
        goods = self._lines(values.pop("goods"))
        with self.lock:
            order = self.orders.get(values["id"])
            if order is None:
                raise Reject(ERROR_NOT_FOUND, f"Order {values['id']} not found")
            if order.status in SHIPPED:
                raise Reject(ERROR_NOT_PERFORMED,
                             f"Order {order.partner_id} has left the warehouse: not updated")
            if order.status == 10:
                raise Reject(ERROR_NOT_PERFORMED, f"Order {order.partner_id} is cancelled")
            order.fields.update(values)
            in_assembly = order.status != 0
            if not in_assembly:
                self._reserve(order, -1)
                order.goods = goods
                self._reserve(order, 1)
            if values.get("is_canceled") == 1:
                self.apply_order_status(order, 10)
        if in_assembly:
            return {"result": "warning", "warning": ASSEMBLY_WARNING, "id": order.system_id}
        return _ok(order.system_id)

    def _reserve(self, order: Order, sign: int):
        for line in order.goods:
            good = self.goods.get(line["id"])
            if good is not None:
                good.reserved = max(0, good.reserved + sign * line["quantity"])

    def _take(self, goods: list, sign: int):
        for line in goods:
            good = self.goods.get(line["id"])
            if good is not None:
                good.stock = max(0, good.stock + sign * line["quantity"])

    def apply_order_status(self, order: Order, status: int) -> int:
        """Move ``order`` to ``status`` with its effect on stock, reserve and billing; the old
        status is returned. The caller holds the lock (or is single-threaded)."""
        old = order.status
        if old == status:
            return old
        if old in RESERVING and status not in RESERVING:
            self._reserve(order, -1)
        if old not in RESERVING and status in RESERVING:
            self._reserve(order, 1)
        if old not in SHIPPED and status in SHIPPED:
            self._take(order.goods, -1)
            self._charge(order, 0, -self.assembly_fee, "Сборка заказа")
            if order.fields.get("delivery_type") is not None:
                self._charge(order, 2, -self.delivery_fee, "Доставка")
        if old in SHIPPED and status not in SHIPPED:
            self._take(order.goods, 1)
        order.status = status
        order.history.append((old, status))
        return old

    def set_order_status(self, order_id: str, status: int) -> tuple[int, Order]:
        """(old status, order) after moving our order ``order_id`` to ``status``."""
        if status not in range(0, 12):
            raise ValueError(f"unknown order status {status}")
        with self.lock:
            order = self.orders.get(str(order_id))
            if order is None:
                raise KeyError(f"unknown order {order_id}")
            return self.apply_order_status(order, status), order

    # -- pre-orders and documents -----------------------------------------------------------
    def _add_document(self, kind: str, table, data):
        values = read(data, table)
        self._check_storage(values["storage_id"])
        goods = self._lines(values.pop("goods"))
        _date_alias(values, data, "owner_date")
        with self.lock:
            existing = self.documents.get((kind, values["id"]))
            if existing is not None:
                noun = "Preorder" if kind == "preorder" else "Document"
                raise Reject(ERROR_NOT_PERFORMED, f"{noun} {values['id']} already exists",
                             id=existing.system_id)  # fmt: skip
            document = Document(self._next("document"), values["id"], kind, values["type"],
                                values, goods)  # fmt: skip
            self.documents[(kind, document.partner_id)] = document
            if kind == "preorder" and values.get("need_pickup") == 1:
                self._charge(document, 9, -self.pickup_fee, "Забор товара")
        return _ok(document.system_id)

    def _update_document(self, kind: str, table, data):
        values = read(data, table)
        goods = self._lines(values.pop("goods"))
        _date_alias(values, data, "owner_date")
        with self.lock:
            document = self.documents.get((kind, values["id"]))
            if document is None:
                noun = "Preorder" if kind == "preorder" else "Document"
                raise Reject(ERROR_NOT_FOUND, f"{noun} {values['id']} not found")
            if document.status != DOC_NEW:
                raise Reject(ERROR_NOT_PERFORMED,
                             f"Document {document.partner_id} is posted or cancelled")
            document.fields.update(values)
            document.type = values["type"]
            document.goods = goods
        return _ok(document.system_id)

    def _add_preorder(self, data):
        return self._add_document("preorder", ADD_PREORDER, data)

    def _update_preorder(self, data):
        return self._update_document("preorder", UPDATE_PREORDER, data)

    def _add_doc(self, data):
        return self._add_document("doc", ADD_DOC, data)

    def _update_doc(self, data):
        return self._update_document("doc", UPDATE_DOC, data)

    def document(self, doc_id: str, kind: str | None = None) -> Document:
        """Our pre-order or document ``doc_id`` (a pre-order first when ``kind`` is None)."""
        for each in (kind,) if kind else ("preorder", "doc"):
            found = self.documents.get((each, str(doc_id)))
            if found is not None:
                return found
        raise KeyError(f"unknown pre-order or document {doc_id}")

    def receive_document(self, doc_id: str, kind: str | None = None,
                         quantities: dict | None = None) -> Document:
        """Post a pre-order/document: its goods come in (type 0) or go out (type 1).

        ``quantities`` ({our good id: quantity}) are what the warehouse actually counted: the
        document's lines take them (a good left out keeps its quantity, 0 drops the line) before
        the stock moves, as a real receipt of fewer goods than announced would."""
        with self.lock:
            document = self.document(doc_id, kind)
            if document.status == DOC_NEW:
                if quantities:
                    counted = {str(good): int(qty) for good, qty in quantities.items()}
                    document.goods = [
                        {**line, "quantity": counted.get(str(line["id"]), line["quantity"])}
                        for line in document.goods
                        if counted.get(str(line["id"]), line["quantity"]) > 0
                    ]
                self._take(document.goods, 1 if document.type == 0 else -1)
                document.status = DOC_POSTED
            return document

    def set_document_status(self, doc_id: str, status: int, kind: str | None = None,
                            quantities: dict | None = None) -> tuple[int, Document]:
        """Move a pre-order/document to ``status`` (1 posts it as :meth:`receive_document`,
        2 cancels a new one; a posted one cannot be cancelled: ValueError); the old status is
        returned with it."""
        if status not in (DOC_NEW, DOC_POSTED, DOC_CANCELLED):
            raise ValueError(f"unknown document status {status}")
        with self.lock:
            document = self.document(doc_id, kind)
            old = document.status
            if status != old and old != DOC_NEW:
                raise ValueError(f"document {doc_id} is posted or cancelled already")
            if status == DOC_POSTED:
                self.receive_document(doc_id, document.kind, quantities)
            else:
                document.status = status
            return old, document

    # -- billing ------------------------------------------------------------------------------
    def _charge(self, source, kind: int, amount: float, comment: str) -> BillingOperation:
        operation = BillingOperation(self._next("billing"), int(self.clock()), float(amount),
                                     kind, comment)  # fmt: skip
        if isinstance(source, Order):
            operation.order_id = source.system_id
            operation.foreign_order_id = source.partner_id
        elif isinstance(source, Document):
            operation.doc_request_id = source.system_id
        self.billing.append(operation)
        self.balance += operation.amount
        return operation

    def add_billing(self, amount: float, kind: int = 1, comment: str = "",
                    order_id: str | None = None) -> BillingOperation:
        """A balance operation now (default: a top-up); ``order_id`` ours."""
        with self.lock:
            source = self.orders.get(str(order_id)) if order_id is not None else None
            return self._charge(source, int(kind), float(amount), comment)

    def _get_billing(self, data):
        values = read(data, BILLING)
        self._check_storage(values["storage_id"])
        start, end = values["from"], values["to"]
        if start > end:
            raise Reject(ERROR_INCORRECT_DATA, "Incorrect data: 'from' is after 'to'")
        with self.lock:
            rows = [op.to_dict() for op in self.billing if start <= op.date <= end]
            balance = self.balance
        change = sum(row["amount"] for row in rows)
        return {"current_balance": _number(balance), "change_of_balance": _number(change),
                "from": start, "to": end, "billing": rows}  # fmt: skip


def _date_alias(values: dict, data: dict, alias: str):
    """One ``date`` from ``date`` or ``owner_date``, whichever the request names (both Int)."""
    either = read(data, (("date", INT, False, None), (alias, INT, False, None)))
    date = values.pop(alias, None) or values.get("date") or either.get("date") or either.get(alias)
    if date is not None:
        values["date"] = date


def _number(value: float):
    return int(value) if float(value).is_integer() else round(value, 2)
