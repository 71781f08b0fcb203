"""Incoming calls (DESIGN §4.3): authenticate first, hand over to the model, answer fast."""

import hmac
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..api.imsklad_callback_data import encode_answer
from ..api.imsklad_callbacks import CallbackAuthError, CallbackError, parse_callback

_logger = logging.getLogger(__name__)


class SupplierCallbackController(http.Controller):
    @http.route(
        "/supplier_connector/imsklad/<string:token>",
        type="http", auth="public", methods=["POST"], csrf=False, save_session=False,
    )
    def imsklad_callback(self, token, **_kwargs):
        backend = self._imsklad_backend(token)
        try:
            if not backend:
                raise CallbackAuthError()
            callback = parse_callback(request.httprequest.get_data(), backend.imsklad_callback_key)
        except CallbackError as exc:
            if isinstance(exc, CallbackAuthError):
                _logger.warning("IMSKLAD callback refused: unknown URL or wrong key")
                if backend:
                    backend._count_refused_call()
            return self._answer(exc.answer(), exc.http_status)
        # As the superuser, not the public user: notes the call posts are signed by OdooBot.
        Event = request.env["supplier.event"].with_user(SUPERUSER_ID).sudo()
        answer = Event._imsklad_receive(backend, callback)
        return self._answer(answer)

    @staticmethod
    def _imsklad_backend(token):
        """The active IMSKLAD connection whose callback token is ``token`` (constant time)."""
        if not token:
            return None
        credentials = request.env["supplier.backend.credential"].sudo().search([
            ("imsklad_callback_token", "!=", False),
            ("backend_id.service", "=", "imsklad"),
            ("backend_id.active", "=", True),
        ])
        found = None
        for credential in credentials:
            if hmac.compare_digest(credential.imsklad_callback_token.encode(), token.encode()):
                found = credential.backend_id
        return found

    @staticmethod
    def _answer(answer, status=200):
        return request.make_response(
            encode_answer(answer), status=status,
            headers=[("Content-Type", "application/json; charset=utf-8")],
        )
