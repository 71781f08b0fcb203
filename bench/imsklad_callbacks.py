"""IMSKLAD callbacks benchmark: 1,000 order.set_status calls in a row through Odoo's real HTTP
server (a child of :mod:`bench.imsklad`).

* ``setup --step orders`` (Odoo child, not measured): a connection that operates the company's
  warehouse (send on confirmation, validate deliveries when shipped, a known callback token and
  key), five storable products with plenty of stock, and ⌈calls / 10⌉ sale orders of two lines,
  confirmed, so each is sent to the emulator (add_order; the goods first by add_good).
* :func:`odoo_server`: ``odoo-bin`` with HTTP on a free port against the benchmark database
  (threaded server, no cron), ready when ``/web/health`` answers.
* :func:`send_calls` (the parent): the emulator walks every order 1 → 2 → … → 9 → 11 with its
  own ``callback_set_status`` (the document's body, POSTed to the callback URL), one call at a
  time, each timed from the request to the answer. Status 9 validates the order's delivery.
  Three ``good.get_good`` calls first load the registry and warm the caches (not counted).
* ``pull --step verify`` (Odoo child): what the calls left: orders at status 11, events done,
  deliveries validated.
"""

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

from bench import harness

BACKEND_NAME = "Benchmark IMSKLAD callbacks"
VENDOR_NAME = "Benchmark IMSKLAD callbacks vendor"  # none is made; harness.remove_run asks one
CATEGORY_NAME = "Supplier connector IMSKLAD callbacks benchmark"
CUSTOMER_NAME = "Benchmark IMSKLAD customer"
TOKEN = "bench-callback-token"  # the benchmark's own: set on its connection, sent by the parent
KEY = "bench-callback-key"
WALK = (1, 2, 3, 4, 5, 6, 7, 8, 9, 11)  # statuses each order is walked through
PRODUCTS = 5


def orders_for(calls):
    return math.ceil(calls / len(WALK))


# -- Odoo children ---------------------------------------------------------------------------
def run(odoo, env, args):
    if args.phase == "cleanup":
        remove_orders(env)
        harness.remove_products(env, BACKEND_NAME, VENDOR_NAME, CATEGORY_NAME)
        return {}
    if args.phase == "setup":
        return setup_orders(env, args)
    return verify(env, args)


def remove_orders(env):
    """The previous run's sale orders and their deliveries (through SQL: validated moves cannot
    be unlinked through the ORM), so the products can go."""
    partner = env["res.partner"].search([("name", "=", CUSTOMER_NAME)])
    if partner:
        cr = env.cr
        cr.execute("SELECT id FROM sale_order WHERE partner_id = ANY(%s)", [partner.ids])
        orders = [row[0] for row in cr.fetchall()]
        cr.execute("SELECT id FROM stock_picking WHERE partner_id = ANY(%s)", [partner.ids])
        pickings = [row[0] for row in cr.fetchall()]
        cr.execute("DELETE FROM stock_move_line WHERE picking_id = ANY(%s)", [pickings])
        cr.execute("DELETE FROM stock_move WHERE picking_id = ANY(%s)", [pickings])
        cr.execute("DELETE FROM stock_picking WHERE id = ANY(%s)", [pickings])
        cr.execute("DELETE FROM sale_order WHERE id = ANY(%s)", [orders])
        env.invalidate_all()
    category = env["product.category"].search([("name", "=", CATEGORY_NAME)])
    if category:
        products = ("SELECT p.id FROM product_product p JOIN product_template t "
                    "ON t.id = p.product_tmpl_id WHERE t.categ_id = ANY(%s)")
        for table in ("stock_valuation_layer", "stock_move_line", "stock_move", "stock_quant"):
            env.cr.execute(f"DELETE FROM {table} WHERE product_id IN ({products})",  # noqa: S608
                           [category.ids])
    env.cr.commit()


def setup_orders(env, args):
    remove_orders(env)
    harness.remove_run(env, BACKEND_NAME, VENDOR_NAME)
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    # One IMSKLAD connection per warehouse: archive any other one that operates this one.
    env["supplier.backend"].search([("service", "=", "imsklad")]).filtered(
        lambda b: b.imsklad_warehouse_id == warehouse).action_archive()
    backend = env["supplier.backend"].create({
        "name": BACKEND_NAME, "service": "imsklad", "api_url": args.api_url,
        "api_key": _demo_key(), "rate_limit": 0, "max_retries": 1,
        "imsklad_warehouse_id": warehouse.id, "imsklad_send_on_confirm": True,
        "imsklad_validate_on_ship": True,
        "imsklad_callback_token": TOKEN, "imsklad_callback_key": KEY,
    })
    category = harness.find_or_create(env, "product.category", CATEGORY_NAME)
    products = env["product.product"].create([{
        "name": f"Bench callback good {n}", "default_code": f"CB-{n}", "categ_id": category.id,
        "type": "consu", "is_storable": True, "list_price": 100 * n, "weight": 0.5,
    } for n in range(1, PRODUCTS + 1)])
    for product in products:
        env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 1_000_000)
    customer = harness.find_or_create(
        env, "res.partner", CUSTOMER_NAME, city="Москва", street="ул. Минская, д. 18",
        zip="123321", phone="79990000000", email="bench@example.com")
    orders = env["sale.order"].with_context(tracking_disable=True).create([{
        "partner_id": customer.id, "warehouse_id": warehouse.id,
        "order_line": [
            (0, 0, {"product_id": products[i % PRODUCTS].id, "product_uom_qty": 1 + i % 3}),
            (0, 0, {"product_id": products[(i + 1) % PRODUCTS].id, "product_uom_qty": 1}),
        ],
    } for i in range(orders_for(args.n))])
    orders.action_confirm()  # sends each (the connection's "send on confirmation")
    sent = orders.supplier_order_ids.filtered(lambda o: o.state == "sent")
    env.cr.commit()
    return {"backend_id": backend.id, "orders": orders.mapped("name"), "sent": len(sent)}


def _demo_key():
    from emulators.imsklad_demo import DEMO_KEY  # noqa: PLC0415

    return DEMO_KEY


def verify(env, args):
    backend = env["supplier.backend"].browse(args.backend_id)
    orders = env["supplier.order"].search([("backend_id", "=", backend.id)]).sale_id
    env.cr.execute(
        "SELECT kind, state, count(*) FROM supplier_event WHERE backend_id = %s "
        "GROUP BY kind, state", [backend.id])
    events = {f"{kind} {state}": count for kind, state, count in env.cr.fetchall()}
    deliveries = orders.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
    return {
        "orders": len(orders),
        "at_11": len(orders.filtered(lambda o: o.supplier_status_code == 11)),
        "events": events,
        "deliveries": len(deliveries),
        "deliveries_done": len(deliveries.filtered(lambda p: p.state == "done")),
    }


# -- the parent: Odoo's HTTP server and the calls ----------------------------------------------
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def odoo_server(args, log_path):
    """``odoo-bin`` serving HTTP on a free port against ``args.db``; yields its base URL."""
    port = free_port()
    cmd = [sys.executable, f"{args.odoo_src}/odoo-bin", "--addons-path", args.addons_path,
           "-d", args.db, "--db-filter", f"^{args.db}$", "--http-interface", "127.0.0.1",
           "--http-port", str(port), "--workers", "0", "--max-cron-threads", "0",
           "--log-level", "warn"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=harness.REPO, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/web/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"Odoo's HTTP server did not start (log {log_path})") \
                        from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def send_calls(emulator, url, orders, calls):
    """``calls`` set_status callbacks (the orders walked in turn); per call: seconds, status
    sent, and whether Odoo answered ``{"result": "ok"}`` with HTTP 200."""
    for _ in range(3):  # warm-up: the first request loads the registry
        emulator.send_callback("good", "get_good", {"id": "CB-1"}, url, KEY)
    timings = []
    for name in orders:
        for status in WALK:
            if len(timings) == calls:
                return timings
            start = time.perf_counter()
            call = emulator.callback_set_status(name, status, url, KEY)
            seconds = time.perf_counter() - start
            ok = call.status == 200 and call.answer == {"result": "ok"}
            timings.append((seconds, status, ok, "" if ok else json.dumps(
                {"status": call.status, "answer": call.answer, "error": call.error})[:300]))
    return timings


def summary(timings):
    """The figures of a series of calls (milliseconds)."""
    ms = [t * 1000 for t, _s, _ok, _e in timings]
    ordered = sorted(ms)

    def pct(values, q):
        return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]

    window = min(100, len(ms))
    first, last = sorted(ms[:window]), sorted(ms[-window:])
    shipped = sorted(t * 1000 for t, status, _ok, _e in timings if status == 9)
    others = sorted(t * 1000 for t, status, _ok, _e in timings if status != 9)
    return {
        "calls": len(ms), "failed": sum(1 for *_x, ok, _e in timings if not ok),
        "errors": [e for *_x, ok, e in timings if not ok][:3],
        "median": pct(ordered, 0.5), "p95": pct(ordered, 0.95), "max": ordered[-1],
        "mean": sum(ms) / len(ms), "total": sum(ms) / 1000, "window": window,
        "first_median": pct(first, 0.5), "last_median": pct(last, 0.5),
        "first_p95": pct(first, 0.95), "last_p95": pct(last, 0.95),
        "shipped_median": pct(shipped, 0.5) if shipped else 0,
        "others_median": pct(others, 0.5) if others else 0,
        "shipped_calls": len(shipped),
        "window_medians": [pct(sorted(ms[i:i + 100]), 0.5) for i in range(0, len(ms), 100)],
    }


def log_path(db):
    return os.path.join(harness.RESULTS, f"imsklad-odoo-http-{db}.log")
