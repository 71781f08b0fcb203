"""MoySklad webhooks (DESIGN §4.3, issue 8): authenticate first, store the call, answer 204.

MoySklad waits 1.5 s for 200/204 and otherwise sends the same ``requestId`` again (3 times):
the call is only authenticated, read and stored here; the products it names are pulled by the
event cron, triggered at once (models/moysklad_events.py says why). Answers: 204 stored or a
repeat, 403 unknown URL or wrong secret (counted on the connection when the URL names one),
400 a body that is not a MoySklad webhook or no ``requestId`` (nothing stored).
"""

import hmac
import json
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..api.moysklad_events import parse_delivery

_logger = logging.getLogger(__name__)


class MoySkladWebhookController(http.Controller):
    @http.route(
        "/supplier_connector/moysklad/<string:token>",
        type="http", auth="public", methods=["POST"], csrf=False, save_session=False,
    )
    def moysklad_webhook(self, token, **_kwargs):
        backend, named = self._moysklad_backend(token)
        if not backend:
            _logger.warning("MoySklad webhook refused: unknown URL or wrong secret")
            if named:
                named._count_refused_call()
            return request.make_response("", status=403)
        request_id = request.httprequest.args.get("requestId", "")
        try:
            if not request_id or len(request_id) > 100:
                raise ValueError("The webhook call has no requestId")
            body = request.httprequest.get_data()
            delivery = parse_delivery(body, request_id)
        except ValueError as exc:
            _logger.warning("MoySklad webhook not understood: %s", exc)
            return request.make_response(str(exc), status=400,
                                         headers=[("Content-Type", "text/plain; charset=utf-8")])
        Event = request.env["supplier.event"].with_user(SUPERUSER_ID).sudo()
        Event._moysklad_receive(backend, delivery, json.loads(body))
        return request.make_response("", status=204)

    @staticmethod
    def _moysklad_backend(token):
        """``(connection, named)``: the active MoySklad connection whose URL token is ``token``
        (``<id>.<secret>``, the secret compared in constant time), else ``(None, the connection
        the id names or None)``."""
        backend_id, _dot, secret = (token or "").partition(".")
        if not backend_id.isdigit() or not secret or len(backend_id) > 12:
            return None, None
        backend = request.env["supplier.backend"].sudo().search([
            ("id", "=", int(backend_id)), ("service", "=", "moysklad"), ("active", "=", True),
        ], limit=1)
        if not backend:
            return None, None
        expected = backend.moysklad_webhook_secret or ""
        if expected and hmac.compare_digest(expected.encode(), secret.encode()):
            return backend, None
        return None, backend

