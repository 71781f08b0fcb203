"""The IMSKLAD emulator calling the shop back ("Обработка вызовов складской системы"): the
document's callback bodies POSTed as JSON to a callback URL with the endpoint key, every answer
recorded.

* Bodies are ``{"key", "type", "action", "data"}`` as in the document's examples:
  order.set_status ``{id, old_status, new_status, system_id, guid}``; order.update_tracks an array
  of ``{id, guid, track}`` (``err`` instead of ``track`` for a refused one); order.update_order the
  order with the callback's names (``delivery_type_id``, ``delivery_courier_id``); doc.add_doc with
  type ``doc`` (the document's example copies order.set_status: its heading is followed) and
  ``{id, system_id, code, type, date, goods, old_status, new_status}`` (document statuses 0 → 1,
  posted); doc.set_status ``{id, system_id, old_status, new_status}`` (:meth:`callback_doc_status`:
  1 posted, 2 cancelled); a receipt may report fewer goods than announced (``quantities``); any
  other body through :meth:`send_callback`. Goods line ids go out as numbers when
  they are plain integers, as the tables' Int says.
* :meth:`callback_walk` ``(order_id, url, key, statuses=(9, 11), track=True, receipt_id=None)``:
  every status in turn (old → new) as set_status, the order's stock, reserve and billing moving
  with it (see :mod:`.imsklad_store`); the tracking number (update_tracks) right after the first
  shipped status (9 or 11), or at the end when none is; then, with ``receipt_id``, that
  pre-order/document is received (posted, stock in) and reported by doc.add_doc.
* URL and key default to ``callback_url``/``callback_key`` (constructor or ``POST
  /_emulator/config``). Each answer (HTTP status, JSON or text, or the error: refused, timeout
  after ``callback_timeout`` s) is a :class:`CallbackCall` in ``callbacks`` (the last 1,000;
  ``GET /_emulator/callbacks``), the key recorded as "***". A failed call does not stop a walk.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass

from .imsklad_store import SHIPPED

_PLAIN_INT = re.compile(r"0|[1-9][0-9]{0,17}")


@dataclass
class CallbackCall:
    type: str
    action: str
    url: str
    body: dict  # as sent, the key masked
    status: int | None = None
    answer: object = None  # parsed JSON, else the text
    error: str = ""
    at: float = 0.0

    def to_dict(self) -> dict:
        return {"type": self.type, "action": self.action, "url": self.url, "body": self.body,
                "status": self.status, "answer": self.answer, "error": self.error,
                "at": self.at}  # fmt: skip


def _line_id(value: str):
    return int(value) if _PLAIN_INT.fullmatch(str(value)) else value


def _lines(goods: list) -> list:
    return [{"id": _line_id(line["id"]), "quantity": line["quantity"], "price": line["price"]}
            for line in goods]  # fmt: skip


class ImskladCallbacksMixin:
    """Callbacks of :class:`~.imsklad.ImskladEmulator` (its store, ``lock`` and settings)."""

    def _init_callbacks(self, url, key, timeout):
        self.callback_url = url
        self.callback_key = key
        self.callback_timeout = timeout
        self._callbacks: deque[CallbackCall] = deque(maxlen=1000)

    @property
    def callbacks(self) -> list[CallbackCall]:
        with self.lock:
            return list(self._callbacks)

    def send_callback(self, type_: str, action: str, data, url: str | None = None,
                      key: str | None = None) -> CallbackCall:
        """POST one callback body; the answer is recorded and returned (never raised)."""
        url = url or self.callback_url
        key = self.callback_key if key is None else key
        if not url:
            raise ValueError("no callback URL: pass url or configure callback_url")
        body = {"key": key or "", "type": type_, "action": action, "data": data}
        call = CallbackCall(type_, action, url, {**body, "key": "***"}, at=time.time())
        request = urllib.request.Request(
            url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "IMSKLAD-emulator"})
        raw = b""
        try:
            with urllib.request.urlopen(request, timeout=self.callback_timeout) as response:
                call.status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            call.status, raw = exc.code, exc.read()
        except (OSError, ValueError) as exc:
            call.error = f"{type(exc).__name__}: {exc}"
        if raw:
            try:
                call.answer = json.loads(raw)
            except ValueError:
                call.answer = raw.decode("utf-8", "replace")
        with self.lock:
            self._callbacks.append(call)
        return call

    def clear_callbacks(self):
        with self.lock:
            self._callbacks.clear()

    # -- the document's callbacks ---------------------------------------------------------------
    def callback_set_status(self, order_id: str, status: int, url=None, key=None) -> CallbackCall:
        """Move our order to ``status`` and report it by order.set_status."""
        old, order = self.set_order_status(order_id, int(status))
        data = {"id": order.partner_id, "old_status": old, "new_status": order.status,
                "system_id": order.system_id, "guid": order.guid}  # fmt: skip
        return self.send_callback("order", "set_status", data, url, key)

    def callback_update_tracks(self, order_ids, url=None, key=None, errors=None) -> CallbackCall:
        """order.update_tracks for our orders: a track each (made up when none), or the error
        given in ``errors`` ({order id: text}, the document's ``err``)."""
        rows = []
        with self.lock:
            for order_id in order_ids:
                order = self.orders.get(str(order_id))
                if order is None:
                    raise KeyError(f"unknown order {order_id}")
                row = {"id": order.partner_id, "guid": order.guid}
                if errors and str(order_id) in errors:
                    row["err"] = errors[str(order_id)]
                else:
                    order.track = order.track or f"80{order.system_id:012d}"
                    row["track"] = order.track
                rows.append(row)
        return self.send_callback("order", "update_tracks", rows, url, key)

    def callback_update_order(self, order_id: str, url=None, key=None, **changes) -> CallbackCall:
        """order.update_order: the order as the warehouse holds it, after ``changes`` (fields of
        the add_order table, e.g. ``address``) are applied to it."""
        with self.lock:
            order = self.orders.get(str(order_id))
            if order is None:
                raise KeyError(f"unknown order {order_id}")
            order.fields.update(changes)
            data = {key_: value for key_, value in order.fields.items() if key_ != "storage_id"}
        data["guid"] = order.guid
        for ours, theirs in (("delivery_type", "delivery_type_id"),
                             ("courier", "delivery_courier_id")):
            if ours in data:
                data[theirs] = data.pop(ours)
        data["goods"] = _lines(order.goods)
        return self.send_callback("order", "update_order", data, url, key)

    def callback_document(self, doc_id: str, url=None, key=None, kind=None, quantities=None,
                          action="add_doc") -> CallbackCall:
        """Receive our pre-order/document ``doc_id`` (``quantities``: what was counted, see
        ``receive_document``) and report it by doc.add_doc (or ``action`` "update_doc")."""
        if action not in ("add_doc", "update_doc"):
            raise ValueError("action is add_doc or update_doc")
        old = self.document(doc_id, kind).status
        document = self.receive_document(doc_id, kind, quantities)
        return self.send_callback("doc", action, self._document_data(document, old), url, key)

    def callback_doc_status(self, doc_id: str, status: int, url=None, key=None, kind=None,
                            quantities=None) -> CallbackCall:
        """Move our pre-order/document to ``status`` (0 new, 1 posted, 2 cancelled) and report
        it by doc.set_status ``{id, system_id, old_status, new_status}``."""
        old, document = self.set_document_status(doc_id, int(status), kind, quantities)
        data = {"id": document.partner_id, "system_id": document.system_id,
                "old_status": old, "new_status": document.status}  # fmt: skip
        return self.send_callback("doc", "set_status", data, url, key)

    def _document_data(self, document, old_status) -> dict:
        return {"id": document.partner_id, "system_id": document.system_id,
                "code": document.fields.get("code", ""), "type": document.type,
                "date": int(document.fields.get("date") or self.clock()),
                "goods": _lines(document.goods), "old_status": old_status,
                "new_status": document.status}  # fmt: skip

    def callback_walk(self, order_id: str, url=None, key=None, statuses=(9, 11), track=True,
                      receipt_id=None) -> list[CallbackCall]:
        """The order's status walk, its track and a receipt: see the module docstring. A status
        the order already has is not sent again."""
        statuses = self.check_walk(order_id, statuses, receipt_id)
        calls = []
        track_sent = not track
        for status in statuses:
            if self.orders[str(order_id)].status == status:
                continue
            calls.append(self.callback_set_status(order_id, status, url, key))
            if not track_sent and status in SHIPPED:
                calls.append(self.callback_update_tracks([order_id], url, key))
                track_sent = True
        if not track_sent:
            calls.append(self.callback_update_tracks([order_id], url, key))
        if receipt_id is not None:
            calls.append(self.callback_document(receipt_id, url, key))
        return calls

    def check_walk(self, order_id, statuses=(9, 11), receipt_id=None) -> list[int]:
        """The walk's statuses as ints; ValueError/KeyError before anything is sent."""
        statuses = [int(status) for status in statuses]
        if any(status not in range(0, 12) for status in statuses):
            raise ValueError("statuses are 0..11")
        if str(order_id) not in self.orders:
            raise KeyError(f"unknown order {order_id}")
        if receipt_id is not None:
            self.document(receipt_id)
        return statuses

    def callback_walk_in_background(self, order_id, url=None, key=None, statuses=(9, 11),
                                    track=True, receipt_id=None) -> threading.Thread:
        """The same walk in a thread (for a caller that must go on serving the callbacks);
        checked before the thread starts."""
        self.check_walk(order_id, statuses, receipt_id)
        thread = threading.Thread(target=self.callback_walk, args=(order_id, url, key),
                                  kwargs={"statuses": statuses, "track": track,
                                          "receipt_id": receipt_id},
                                  name="imsklad-callback-walk", daemon=True)  # fmt: skip
        thread.start()
        return thread
