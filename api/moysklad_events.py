"""What MoySklad posts to our webhook URL, read into plain data for the controller.

Two shapes (``dictionaries/_webhook.md``, ``_webhookstock.md``), both sent as
``POST <url>?requestId=<uuid>``, answered 200/204 within 1.5 s, repeated up to 3 times with the
same ``requestId`` when not:

- entity webhooks: ``{"auditContext": {"meta", "uid", "moment"}, "events": [{"meta": {"type",
  "href"}, "action", "accountId", "updatedFields"?}, ...]}``;
- stock webhooks: ``{"accountId", "stockType", "reportType", "reportUrl"}`` (fetch the report
  with ``client.stock_report_from_url``, which refuses a URL off the API).

``parse_delivery`` never trusts the body: anything that is not one of the two shapes raises
ValueError with a plain reason (the controller answers 400 and stores nothing). Events whose
meta has no href, or an action MoySklad does not document, are dropped and counted in
``ignored``. The id of an event's object is the last part of its href.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from .moysklad_meta import _dict, id_from_href, text
from .moysklad_query import parse_moscow

__all__ = ["MsDelivery", "MsEvent", "MsStockEvent", "parse_delivery"]

ACTIONS = ("CREATE", "UPDATE", "DELETE", "PROCESSED")
MAX_BODY = 5 * 1024 * 1024


@dataclass
class MsEvent:
    entity_type: str
    id: str
    href: str
    action: str
    account_id: str = ""
    updated_fields: list = field(default_factory=list)


@dataclass
class MsStockEvent:
    account_id: str
    stock_type: str
    report_type: str
    report_url: str


@dataclass
class MsDelivery:
    """One delivery: ``events`` (entity webhook) or ``stock`` (stock webhook)."""

    request_id: str = ""
    events: list = field(default_factory=list)
    stock: MsStockEvent | None = None
    audit_uid: str = ""
    audit_moment: datetime | None = None
    ignored: int = 0

    @property
    def account_ids(self):
        ids = {event.account_id for event in self.events if event.account_id}
        if self.stock and self.stock.account_id:
            ids.add(self.stock.account_id)
        return ids


def parse_delivery(body, request_id=""):
    """MsDelivery for a webhook body (bytes, text or parsed JSON); ValueError when it is none."""
    if isinstance(body, (bytes, bytearray)):
        if len(body) > MAX_BODY:
            raise ValueError("The webhook body is too large")
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("The webhook body is not UTF-8") from None
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            raise ValueError("The webhook body is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("The webhook body is not a JSON object")
    delivery = MsDelivery(request_id=text(request_id))
    if "events" in body:
        events = body.get("events")
        if not isinstance(events, list):
            raise ValueError("The webhook's events are not a list")
        audit = _dict(body.get("auditContext"))
        delivery.audit_uid = text(audit.get("uid"))
        delivery.audit_moment = parse_moscow(audit.get("moment"))
        for item in events:
            event = _event(item)
            if event is None:
                delivery.ignored += 1
            else:
                delivery.events.append(event)
        return delivery
    if "reportUrl" in body:
        report_url = text(body.get("reportUrl"))
        if not report_url:
            raise ValueError("The stock webhook has no report URL")
        delivery.stock = MsStockEvent(
            account_id=text(body.get("accountId")),
            stock_type=text(body.get("stockType")) or "stock",
            report_type=text(body.get("reportType")),
            report_url=report_url,
        )
        return delivery
    raise ValueError("The webhook body has neither events nor a stock report URL")


def _event(item):
    item = _dict(item)
    meta = _dict(item.get("meta"))
    href = text(meta.get("href"))
    action = text(item.get("action")).upper()
    if not href or action not in ACTIONS:
        return None
    fields = item.get("updatedFields")
    return MsEvent(
        entity_type=text(meta.get("type")),
        id=id_from_href(href),
        href=href,
        action=action,
        account_id=text(item.get("accountId")),
        updated_fields=[text(name) for name in fields if text(name)]
        if isinstance(fields, list)
        else [],
    )
