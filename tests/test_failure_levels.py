"""How a run fails (DESIGN §4.1), for ETM and Shate-M through their emulators.

A request that fails is split until the product at fault is alone; only credentials, a rate
limit or a service that fails several requests in a row stop a run; a product that failed is
asked again after a growing delay, so it never blocks the others.
"""

import re
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.supplier_connector.api import errors, moysklad_errors
from odoo.addons.supplier_connector.emulators.shate_demo import DEMO_UNKNOWN_KEY
from odoo.addons.supplier_connector.services.etm import EtmAdapter

from .common import EtmCase, ShateCase

ENGINE_LOGGER = "odoo.addons.supplier_connector.models.sync_engine"


def etm_code(code):
    """Matches the ETM price requests that ask for ``code`` (codes are joined by %2C)."""
    return rf"(/|%2C){re.escape(code)}(%2C|/)"


def shate_article(article_id):
    """Matches the Shate-M price requests that ask for ``article_id`` (JSON body)."""
    return rf'"articleId":\s*{int(article_id)}\b'


class FailureAssertions:
    def assertRetryIn(self, binding, hours):
        """``binding`` failed: asked again ``hours`` after its last attempt (just now)."""
        now = fields.Datetime.now()
        self.assertTrue(binding.last_attempt)
        self.assertLessEqual(abs((binding.last_attempt - now).total_seconds()), 60)
        self.assertEqual(binding.retry_after - binding.last_attempt, timedelta(hours=hours))

    def assertReset(self, binding):
        self.assertEqual(binding.sync_state, "ok", binding.sync_message)
        self.assertEqual(binding.failure_count, 0)
        self.assertFalse(binding.retry_after)
        self.assertTrue(binding.last_sync)

    def run_cron(self):
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "sync_offers")
        schedule.next_call = False
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.env.invalidate_all()
        return schedule.last_log_id


@tagged("post_install", "-at_install")
class TestEtmFailureLevels(FailureAssertions, EtmCase):
    product_count = 12

    def setUp(self):
        super().setUp()
        # Prices only, so that the emulator's requests are the price requests (and the login).
        self.backend.write({"batch_size": 4, "max_retries": 0, "timeout": 2, "pull_stock": False})
        # Never synced: asked by id, so batches are codes 0-3, 4-7 and 8-11.
        self.poisoned = self.codes[5]

    def price_requests(self):
        return [r.raw_path for r in self.emulator.requests if r.label == "price"]

    def sizes(self, paths):
        return [path.split("/goods/")[1].split("/")[0].count("%2C") + 1 for path in paths]

    def test_garbled_answer_for_one_product_fails_that_product_only(self):
        self.emulator.set_fault("malformed_json", count=None, match=etm_code(self.poisoned))
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial", log.message)
        bad = self.binding_of(self.poisoned)
        for binding in self.bindings - bad:
            self.assertReset(binding)
            self.assertAlmostEqual(
                binding.price, self.catalogue[binding.external_code].price, places=2
            )
        # The batch 4-7 failed, batch 8-11 went first, then halves until the code was alone.
        self.assertEqual(self.sizes(self.price_requests()), [4, 4, 4, 2, 2, 1, 1])
        self.assertEqual((log.processed, log.updated, log.failed, log.remaining), (12, 11, 1, 0))
        self.assertEqual(bad.sync_state, "error")
        self.assertIn("could not be read", bad.sync_message)
        self.assertFalse(bad.last_sync, "last_sync stays the last success")
        self.assertEqual(bad.failure_count, 1)
        self.assertRetryIn(bad, 1)
        self.assertEqual(log.line_ids.binding_id, bad)
        self.assertEqual(log.line_ids.error_code, "bad_response")
        self.assertIn("could not be read", log.line_ids.message)
        self.assertIn("Failed requests: 3.", log.message)

        # The next scheduled run does not ask it (its retry time is ahead) and asks the others.
        self.emulator.reset()
        cron_log = self.run_cron()
        self.assertEqual(cron_log.state, "done", cron_log.message)
        self.assertEqual(cron_log.processed, 11)
        self.assertFalse([p for p in self.price_requests() if re.search(etm_code(bad.external_code), p)])
        self.assertEqual(bad.failure_count, 1)

        # A Sync of the product itself asks it now: one more failure, a longer delay.
        self.emulator.reset()
        action = bad.product_id.action_supplier_sync()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("could not be read", action["params"]["message"])
        self.assertEqual(self.sizes(self.price_requests()), [1])
        self.assertEqual(bad.failure_count, 2)
        self.assertRetryIn(bad, 2)

        # Once its time has come and the supplier answers again, it is refreshed and forgiven.
        self.emulator.clear_faults()
        bad.retry_after = fields.Datetime.now() - timedelta(minutes=1)
        self.run_cron()
        self.assertReset(bad)
        self.assertAlmostEqual(bad.price, self.catalogue[self.poisoned].price, places=2)

    def test_server_error_for_one_product_is_isolated_too(self):
        self.emulator.set_fault("http_5xx", count=None, match=etm_code(self.poisoned))
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial", log.message)
        bad = self.binding_of(self.poisoned)
        self.assertEqual(self.bindings.filtered(lambda b: b.sync_state == "ok"), self.bindings - bad)
        self.assertEqual(log.line_ids.error_code, "unavailable")
        self.assertIn("did not answer", bad.sync_message)
        self.assertEqual(self.sizes(self.price_requests()), [4, 4, 4, 2, 2, 1, 1])

    def test_adapter_that_cannot_split_fails_the_batch_with_the_reason(self):
        self.emulator.set_fault("malformed_json", count=None, match=etm_code(self.poisoned))
        with patch.object(EtmAdapter, "splits_batches", False):
            self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial")
        failed = self.bindings.filtered(lambda b: b.sync_state == "error")
        self.assertEqual(failed.mapped("external_code"), self.codes[4:8])
        self.assertEqual(self.sizes(self.price_requests()), [4, 4, 4])
        self.assertEqual(log.line_ids.binding_id, failed)
        self.assertEqual(set(log.line_ids.mapped("error_code")), {"bad_response"})
        self.assertEqual(set(failed.mapped("failure_count")), {1})
        self.assertIn("their products are listed below", log.message)

    @mute_logger(ENGINE_LOGGER)
    def test_unexpected_error_in_the_adapter_fails_its_batch_not_the_run(self):
        pull_offers = EtmAdapter.pull_offers

        def broken_for_one_code(adapter, items):
            if any(item.code == self.poisoned for item in items):
                raise KeyError("price_without_vat")
            return pull_offers(adapter, items)

        with patch.object(EtmAdapter, "pull_offers", broken_for_one_code):
            self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial")
        bad = self.binding_of(self.poisoned)
        self.assertEqual(self.bindings.filtered(lambda b: b.sync_state == "ok"), self.bindings - bad)
        self.assertEqual(log.line_ids.binding_id, bad)
        self.assertEqual(log.line_ids.error_code, "internal")
        self.assertIn("KeyError", bad.sync_message)

    def test_service_down_stops_after_failed_requests_in_a_row(self):
        self.backend.batch_size = 2
        # The first batch answers (after the login), then every request is a 5xx.
        self.emulator.set_fault("http_5xx", count=None, after=2)
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial")
        limit = self.env["supplier.sync.engine"].MAX_FAILED_BATCHES_IN_A_ROW
        self.assertEqual(len(self.price_requests()), 1 + limit)
        self.assertIn(f"{limit} failed requests in a row", log.message)
        self.assertIn("seems to be down", log.message)
        self.assertEqual((log.failed, log.remaining), (2 * limit, 12 - 2 - 2 * limit))

    def test_rejected_credentials_stop_the_run_and_fail_no_product(self):
        self.backend.sudo().password = "wrong"
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "failed")
        self.assertIn("rejected the login", log.message)
        self.assertEqual(log.remaining, 12)
        self.assertFalse(log.line_ids)
        self.assertEqual(set(self.bindings.mapped("failure_count")), {0})
        self.assertFalse(any(self.bindings.mapped("retry_after")))
        self.assertFalse(self.price_requests())

    def test_scheduled_runs_ask_failed_products_after_the_others(self):
        self.backend.write({"max_items_per_run": 10, "batch_size": 5})
        self.backend.action_sync_offers()
        failed_before = self.bindings[:2]
        failed_before.write({
            "failure_count": 1,
            "retry_after": fields.Datetime.now() - timedelta(minutes=5),
        })
        # The failed ones are the stalest of all, yet they come last.
        (self.bindings - failed_before).write({"last_sync": fields.Datetime.now()})
        failed_before.write({"last_sync": fields.Datetime.now() - timedelta(days=3)})
        self.emulator.reset()
        log = self.run_cron()
        self.assertEqual((log.processed, log.remaining), (10, 2))
        asked = "".join(self.price_requests())
        for binding in failed_before:
            self.assertNotRegex(asked, etm_code(binding.external_code))
        self.assertEqual(set(failed_before.mapped("failure_count")), {1})

    def test_a_changed_mapping_is_asked_at_the_next_run(self):
        binding = self.binding_of(self.poisoned)
        binding.write({"failure_count": 3, "retry_after": fields.Datetime.now() + timedelta(hours=4)})
        binding.external_code = self.codes[5]
        self.assertEqual((binding.failure_count, binding.retry_after), (0, False))

    def test_classification_of_batch_errors(self):
        engine = self.env["supplier.sync.engine"]
        run_level = [errors.AuthError("x"), errors.LoginBlocked("x"), errors.SessionExpired("x"),
                     errors.RateLimited("x")]
        batch_level = [errors.RequestRejected("x"), errors.BadResponse("x"),
                       errors.ServiceUnavailable("x"), errors.NotFound("x"), errors.ApiError("x"),
                       errors.UnsafeUrl("x"), errors.TooLarge("x"), KeyError("x")]
        self.assertEqual([engine._stops_the_run(exc) for exc in run_level], [True] * 4)
        self.assertEqual([engine._stops_the_run(exc) for exc in batch_level], [False] * 8)
        # Errors a client marks run-level themselves (MoySklad), and those it does not.
        self.assertEqual(
            [engine._stops_the_run(exc) for exc in (
                moysklad_errors.NoApiAccess("x"), moysklad_errors.PlanRequired("x"),
                moysklad_errors.CircuitOpen("x"), moysklad_errors.BadFilter("x"),
                moysklad_errors.MoySkladUnavailable("x"),
            )],
            [True, True, True, False, False],
        )


@tagged("post_install", "-at_install")
class TestShateFailureLevels(FailureAssertions, ShateCase):

    def setUp(self):
        super().setUp()
        self.backend.write({"batch_size": 4, "max_retries": 0, "timeout": 2})
        self.poisoned = self.bindings[5]
        self.poisoned_id = self.articles[5].id

    def price_bodies(self):
        return [r.json() for r in self.emulator.requests if r.label == "prices"]

    def asked_ids(self):
        return [[key["articleId"] for key in body] for body in self.price_bodies()]

    def test_garbled_answer_for_one_article_fails_that_product_only(self):
        self.emulator.set_fault("malformed_json", count=None, match=shate_article(self.poisoned_id))
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial", log.message)
        bad = self.poisoned
        for binding in self.bindings - bad:
            self.assertReset(binding)
            self.assertTrue(binding.offer_ids)
        self.assertEqual([len(ids) for ids in self.asked_ids()], [4, 4, 2, 2, 1, 1])
        self.assertEqual(bad.sync_state, "error")
        self.assertIn("could not be read", bad.sync_message)
        self.assertEqual(bad.failure_count, 1)
        self.assertRetryIn(bad, 1)
        self.assertEqual(log.line_ids.binding_id, bad)
        self.assertEqual(log.line_ids.error_code, "bad_response")
        self.assertIn("Price requests used", log.message)

        # Scheduled: not asked while its retry time is ahead; the others are.
        self.emulator.reset()
        cron_log = self.run_cron()
        self.assertEqual(cron_log.state, "done", cron_log.message)
        self.assertEqual(cron_log.processed, 7)
        self.assertNotIn(self.poisoned_id, sum(self.asked_ids(), []))
        # The product's own Sync asks it at once.
        self.emulator.reset()
        bad.product_id.action_supplier_sync()
        self.assertEqual(self.asked_ids(), [[self.poisoned_id]])
        self.assertEqual(bad.failure_count, 2)
        self.assertRetryIn(bad, 2)

    def test_service_down_stops_after_failed_requests_in_a_row(self):
        self.backend.batch_size = 2
        self.backend.action_sync_offers()  # article ids resolved: then one request per batch
        self.emulator.reset()
        self.emulator.set_fault("http_5xx", count=None, after=1)
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial")
        limit = self.env["supplier.sync.engine"].MAX_FAILED_BATCHES_IN_A_ROW
        self.assertEqual(len(self.price_bodies()), 1 + limit)
        self.assertIn("seems to be down", log.message)
        self.assertIn("did not answer", log.message)
        failed = self.bindings.filtered(lambda b: b.sync_state == "error")
        self.assertEqual(len(failed), 2 * limit)
        self.assertEqual(log.line_ids.binding_id, failed)
        self.assertEqual((log.failed, log.remaining), (2 * limit, 8 - 2 - 2 * limit))

    def test_rejected_credentials_stop_the_run_and_fail_no_product(self):
        self.backend.sudo().api_key = "wrong-key"
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "failed")
        self.assertIn("rejected the login", log.message)
        self.assertEqual(log.remaining, 8)
        self.assertEqual(set(self.bindings.mapped("failure_count")), {0})
        self.assertNotIn("Price requests used", log.message or "")

    def test_budget_is_reported_by_runs_that_asked_for_prices_only(self):
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertIn(
            "Price requests used: 8 of 2,000 per 15 minutes, 8 of 120,000 per day.", log.message
        )
        # A product whose article Shate-M does not know: an article search, no price request.
        unknown = self.env["supplier.product"].create({
            "backend_id": self.backend.id, "external_code": DEMO_UNKNOWN_KEY[0],
            "external_brand": DEMO_UNKNOWN_KEY[1],
            "product_id": self.env["product.product"].create({"name": "Unknown"}).id,
        })
        self.emulator.reset()
        unknown.product_id.action_supplier_sync()
        self.assertFalse(self.price_bodies())
        self.assertEqual(unknown.sync_state, "not_found")
        self.assertNotIn("Price requests used", self.last_log().message or "")
