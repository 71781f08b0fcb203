"""Webhooks of the MoySklad emulator: ``entity/webhook`` and ``entity/webhookstock`` rules and the
delivery of notifications.

* Creating or updating a webhook on a free plan (``paid_plan=False``) → 403 code 30006 (listing
  and reading still work, as documented). Validation: ``action`` CREATE|UPDATE|DELETE (30002),
  ``method`` POST (30001), ``url`` http(s) (30005) of at most 255 characters (30010),
  ``entityType`` one the emulator keeps (30000), ``diffType`` NONE|FIELDS and only with UPDATE
  (30009), the same (url, action, entityType) twice (30003). A stock webhook takes
  ``reportType`` all|bystore and ``stockType`` stock.
* Delivery: every API request that creates, updates or deletes entities sends, per enabled
  matching webhook, one ``POST url?requestId=<uuid>`` with ``{"auditContext": {"meta": {type
  audit, href}, "moment", "uid"}, "events": [{"meta": {type, href}, "action", "accountId",
  "updatedFields"?}]}`` (all that request's events for that webhook; ``updatedFields`` with
  ``diffType`` FIELDS). A stock change sends ``{"accountId", "stockType": "stock",
  "reportType", "reportUrl": …/report/stock/<all|bystore>/current?changedSince=…}`` to the stock
  webhooks at once (the service batches them every 1–5 minutes). ``POST
  /_emulator/moysklad/webhook/fire`` sends one for any entity on demand.
* An answer other than 200/204 within ``webhook_timeout`` (1.5 s) is retried ``webhook_retries``
  (3) more times at once with the same ``requestId``. Deliveries run in one background thread in
  order; :meth:`flush_webhooks` waits for them; each one is logged in ``deliveries`` (the last
  1,000: ``GET /_emulator/moysklad/deliveries``) with every attempt's status or error.
* Hrefs in the bodies use ``public_url`` (default the emulator's own base URL).
"""

from __future__ import annotations

import json
import queue
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque

from .moysklad_protocol import MsError
from .moysklad_store import ACCOUNT_ID, DOCUMENT_TYPES, FIELDS, ROOT, meta

WEBHOOK_ACTIONS = ("CREATE", "UPDATE", "DELETE")
WEBHOOK_TYPES = frozenset(FIELDS) - {"webhook", "webhookstock", "state"}


class MsWebhooksMixin:
    def _init_webhooks(self, paid_plan: bool, timeout: float, retries: int,
                       public_url: str | None):
        self.paid_plan = paid_plan
        self.webhook_timeout = timeout
        self.webhook_retries = retries
        self.public_url = public_url
        self._deliveries: deque[dict] = deque(maxlen=1000)
        self._outbox: queue.Queue = queue.Queue()
        self._sender: threading.Thread | None = None

    @property
    def deliveries(self) -> list[dict]:
        with self.lock:
            return list(self._deliveries)

    def clear_deliveries(self):
        with self.lock:
            self._deliveries.clear()

    @property
    def public_root(self) -> str:
        base = self.public_url or (self.base_url if self.running else
                                   f"http://{self.host}:{self.port}")
        return f"{base.rstrip('/')}/api/remap/1.2"

    # -- validation --------------------------------------------------------------------------
    def check_webhook(self, type_: str, body: dict, record: dict | None):
        if not self.paid_plan:
            raise MsError(403, 30006, "Ваш тарифный план не позволяет создавать или обновлять "
                                      "веб-хуки")
        merged = {**(record or {}), **{k: v for k, v in body.items() if v is not None}}
        url = merged.get("url")
        if isinstance(url, str):
            if len(url) > 255:
                raise MsError(400, 30010, "Ошибка сохранения webhook: длина url адреса больше "
                                          "255 символов", "url")
            if not url.startswith(("http://", "https://")) or len(url.split("/")) < 3 or not (
                    url.split("/")[2]):
                raise MsError(400, 30005, "Ошибка сохранения webhook: значение поля url не "
                                          "является корректным адресом запроса", "url")
        if type_ == "webhookstock":
            if merged.get("reportType") not in (None, "all", "bystore"):
                raise MsError(400, 2029, "Ошибка формата: неверное значение поля 'reportType'. "
                                         "Допустимые значения: all, bystore", "reportType")
            if merged.get("stockType") not in (None, "stock"):
                raise MsError(400, 2029, "Ошибка формата: неверное значение поля 'stockType'. "
                                         "Допустимые значения: stock", "stockType")
            return
        action = merged.get("action")
        if action is not None and action not in WEBHOOK_ACTIONS:
            raise MsError(400, 30002, f"Ошибка сохранения webhook: неизвестное действие "
                                      f"'{action}'. Допустимые: CREATE, UPDATE, DELETE",
                          "action")
        if merged.get("method") not in (None, "POST"):
            raise MsError(400, 30001, f"Ошибка сохранения webhook: неизвестный HTTP-метод "
                                      f"'{merged['method']}'. Допустимый: POST", "method")
        entity_type = merged.get("entityType")
        if entity_type is not None and entity_type not in WEBHOOK_TYPES:
            raise MsError(400, 30000, f"Ошибка сохранения webhook: неподдерживаемый тип "
                                      f"сущности '{entity_type}'", "entityType")
        diff = merged.get("diffType")
        if diff is not None and (diff not in ("NONE", "FIELDS") or (
                diff == "FIELDS" and action != "UPDATE")):
            raise MsError(400, 30009, "Ошибка сохранения webhook: указание значения поля "
                                      f"'diffType' не поддерживается для действия '{action}'. "
                                      "Допустимые: UPDATE", "diffType")
        for other in self.db["webhook"].values():
            if record is not None and other["id"] == record["id"]:
                continue
            if (other.get("url"), other.get("action"), other.get("entityType")) == (
                    url, action, entity_type):
                raise MsError(400, 30003, "Ошибка сохранения webhook: webhook с данным набором "
                                          "параметров уже существует")

    # -- sending -------------------------------------------------------------------------------
    def notify(self, events: list, login: str, quiet_prefix: str = ""):
        """Queue the notifications of one request's changes (caller need not hold the lock);
        webhooks whose URL starts with ``quiet_prefix`` are left out."""
        if not events:
            return
        with self.lock:
            hooks = [dict(h) for h in self.db["webhook"].values() if h.get("enabled", True)
                     and not (quiet_prefix and h.get("url", "").startswith(quiet_prefix))]
        if not hooks:
            return
        moment = self.now_moment()[:19]
        for hook in hooks:
            rows = []
            for event in events:
                type_, id_, action = event[:3]
                if hook.get("entityType") != type_ or hook.get("action") != action:
                    continue
                row = {"meta": {"type": type_, "href": meta(type_, id_)["href"]},
                       "action": action, "accountId": ACCOUNT_ID}
                if action == "UPDATE" and hook.get("diffType") == "FIELDS" and len(event) > 3:
                    row["updatedFields"] = list(event[3])
                rows.append(row)
            if rows:
                body = {"auditContext": {"meta": {"type": "audit",
                                                  "href": f"{ROOT}/audit/{uuid.uuid4()}"},
                                         "moment": moment, "uid": login},
                        "events": rows}
                self._queue_delivery(hook["url"], body)

    def stock_changed(self, assortment_id: str, store_id: str):
        with self.lock:
            hooks = [dict(h) for h in self.db["webhookstock"].values() if h.get("enabled", True)]
        if not hooks:
            return
        since = self.now_moment()[:19]
        for hook in hooks:
            report = hook.get("reportType", "all")
            self._queue_delivery(hook["url"], {
                "accountId": ACCOUNT_ID, "stockType": hook.get("stockType", "stock"),
                "reportType": report,
                "reportUrl": f"{ROOT}/report/stock/{report}/current?changedSince={since}"})

    def fire(self, entity_type: str, id_: str, action: str = "UPDATE", url: str | None = None,
             login: str = "admin@demo", wait: bool = True) -> list[dict]:
        """Send a notification for one entity to ``url`` or the matching webhooks."""
        if action not in WEBHOOK_ACTIONS:
            raise ValueError(f"action must be one of {WEBHOOK_ACTIONS}")
        if url:
            body = {"auditContext": {"meta": {"type": "audit",
                                              "href": f"{ROOT}/audit/{uuid.uuid4()}"},
                                     "moment": self.now_moment()[:19], "uid": login},
                    "events": [{"meta": {"type": entity_type,
                                         "href": meta(entity_type, id_)["href"]},
                                "action": action, "accountId": ACCOUNT_ID}]}
            self._queue_delivery(url, body)
        else:
            self.notify([(entity_type, id_, action)], login)
        if wait:
            self.flush_webhooks()
        return self.deliveries

    def _queue_delivery(self, url: str, body: dict):
        text = json.dumps(body, ensure_ascii=False).replace(ROOT, self.public_root)
        self._outbox.put((url, text))
        with self.lock:
            if self._sender is None or not self._sender.is_alive():
                self._sender = threading.Thread(target=self._send_loop, daemon=True,
                                                name="moysklad-webhooks")
                self._sender.start()

    def flush_webhooks(self, timeout: float = 30.0) -> bool:
        """Wait until every queued notification has been sent (or given up)."""
        done = threading.Event()

        def waiter():
            self._outbox.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def _send_loop(self):
        while True:
            try:
                url, text = self._outbox.get(timeout=5)
            except queue.Empty:
                with self.lock:
                    if self._outbox.empty():
                        self._sender = None
                        return
                continue
            try:
                self._deliver(url, text)
            finally:
                self._outbox.task_done()

    def _deliver(self, url: str, text: str):
        request_id = str(uuid.uuid4())
        target = f"{url}{'&' if '?' in url else '?'}requestId={request_id}"
        record = {"requestId": request_id, "url": target, "body": json.loads(text),
                  "attempts": [], "delivered": False}
        for _attempt in range(1 + max(0, int(self.webhook_retries))):
            if self.stopping:
                break
            status, error = None, ""
            request = urllib.request.Request(
                target, data=text.encode(), method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "MoySklad-Webhook"})
            try:
                with urllib.request.urlopen(request, timeout=self.webhook_timeout) as answer:
                    status = answer.status
                    answer.read()
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            record["attempts"].append({"status": status, "error": error})
            if status in (200, 204):
                record["delivered"] = True
                break
        with self.lock:
            self._deliveries.append(record)


__all__ = ["DOCUMENT_TYPES", "MsWebhooksMixin", "WEBHOOK_ACTIONS"]
