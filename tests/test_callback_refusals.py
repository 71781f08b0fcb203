import json

from odoo.tests import HttpCase, tagged

from .imsklad_common import ImskladMixin


@tagged("post_install", "-at_install")
class TestCallbackRefusals(ImskladMixin, HttpCase):
    """A call with a wrong key is refused before anything is read, and only counted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_imsklad()

    def post(self, key, token=None):
        token = token or self.backend.imsklad_callback_token
        body = {"key": key, "type": "good", "action": "get_good", "data": {"id": "SHOP-0"}}
        response = self.url_open(
            self.base_url() + f"/supplier_connector/imsklad/{token}", data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        return response.status_code, response.json()

    def test_wrong_key_is_counted_on_the_connection_and_nothing_stored(self):
        self.assertEqual(self.backend.callback_refused_count, 0)
        for _attempt in range(2):
            self.assertEqual(self.post("an-old-key"), (403, {"error": "Invalid key", "code": 4}))
        self.assertEqual(self.backend.callback_refused_count, 2)
        self.assertTrue(self.backend.callback_refused_at)
        self.assertFalse(self.env["supplier.event"].search([("backend_id", "=", self.backend.id)]))
        # An unknown address names no connection: nothing is counted anywhere.
        self.assertEqual(self.post("an-old-key", token="unknown-token")[0], 403)
        self.assertEqual(self.backend.callback_refused_count, 2)
        # The right key is answered and does not count.
        status, answer = self.post(self.backend.imsklad_callback_key)
        self.assertEqual(status, 200)
        self.assertEqual(answer["id"], "SHOP-0")
        self.assertEqual(self.backend.callback_refused_count, 2)
