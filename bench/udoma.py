"""Benchmark: UDOMA catalogue and per-shop prices and stock pushed, marketplace orders pulled.

    python -m bench.udoma --db sc_bench [--install] --products 10000 --orders 1000 [--chunk 500]

1. catalogue (N = ``--products``, v1, one group): a first full push (requests = ⌈N/chunk⌉), the
   same push again (0 requests: the fingerprints work). Odoo time per product (CPU of the
   process / N), SQL per chunk (median and max, constant), peak memory.
2. prices and stock for 3 shops (every product has stock in the shop's warehouse): a first push
   (requests = 3 × ⌈N/chunk⌉; one quant read and one price computation per chunk), then again
   (0 requests).
3. orders (``--orders``): the emulator holds that many orders over the last hours, on the three
   shops, buying the benchmark products; one scheduled pull creates them all (and a second pull
   creates none).

The emulator runs in this (parent) process, in a thread; Odoo work happens in child processes
(``--phase setup|pull|cleanup --step …``) as in :mod:`bench.imsklad`.
"""

import argparse
import math
import sys
import time
from datetime import datetime, timedelta, timezone

from bench import harness
from bench.harness import sku

BACKEND_NAME = "Benchmark UDOMA"
VENDOR_NAME = "Benchmark UDOMA marketplace"
CATEGORY_NAME = "Supplier connector UDOMA benchmark"
SHOPS = ("s001", "s002", "s003")
GROUP = "g-clothes"
PRODUCT_MS_TARGET = 0.5


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.udoma",
                                     description=__doc__.split("\n")[0])
    harness.add_common_args(parser, db="sc_bench")
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=500, help="items per request")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- children ----------------------------------------------------------------------------------
def child(args):
    steps = {"setup": setup, "catalogue": measure_catalogue, "assortment": measure_assortment,
             "orders": measure_orders, "cleanup": cleanup_child}
    harness.child_step(args, steps[args.step])


def setup(odoo, env, args):
    harness.remove_run(env, BACKEND_NAME, VENDOR_NAME)
    env.cr.execute("DELETE FROM sale_order WHERE udoma_order_id LIKE '00000000-%%'")
    category = harness.find_or_create(env, "product.category", CATEGORY_NAME)
    partner = harness.find_or_create(env, "res.partner", VENDOR_NAME, is_company=True)
    backend = env["supplier.backend"].create({
        "name": BACKEND_NAME, "service": "udoma", "api_url": args.api_url,
        "api_key": _demo_key(), "udoma_api_version": "v1", "partner_id": partner.id,
        "rate_limit": 0, "max_retries": 1, "batch_size": args.batch,
    })
    env["supplier.udoma.group"].create({"backend_id": backend.id, "category_id": category.id,
                                        "code": GROUP})
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    pricelist = harness.find_or_create(env, "product.pricelist", "UDOMA bench")
    env["supplier.location"].create([
        {"backend_id": backend.id, "code": code, "name": code, "sequence": i,
         "warehouse_id": warehouse.id, "pricelist_id": pricelist.id}
        for i, code in enumerate(SHOPS)
    ])
    existing = harness.bind_skus(env, backend, category, args.n, lambda n: {
        "name": f"Bench market good {n}", "list_price": 100 + n % 900,
        "barcode": f"2{n:012d}", "description_sale": f"Benchmark good number {n}",
    })
    # Stock in the shops' warehouse (SQL: the ORM's quant update is not what is measured).
    env.cr.execute("DELETE FROM stock_quant WHERE product_id = ANY(%s)", [list(existing.values())])
    env.cr.execute(
        """INSERT INTO stock_quant (product_id, location_id, company_id, quantity,
                  reserved_quantity, in_date, create_date, write_date, create_uid, write_uid)
           SELECT p.id, %s, %s, 1 + p.id %% 50, p.id %% 3, now(), now(), now(), 1, 1
             FROM product_product p WHERE p.id = ANY(%s)""",
        [warehouse.lot_stock_id.id, env.company.id, list(existing.values())])
    env.cr.commit()
    return {"backend_id": backend.id}


def _demo_key():
    from emulators.udoma_demo import DEMO_KEY  # noqa: PLC0415

    return DEMO_KEY


def _measured(odoo, function):
    """``function()`` measured (``harness.measured``), with what its sync log says."""
    log, figures = harness.measured(odoo, function)
    return {
        **figures, "requests": log.request_count, "state": log.state, "processed": log.processed,
        "created": log.created, "updated": log.updated, "unchanged": log.unchanged,
        "failed": log.failed, "message": log.message or "",
    }


def _twice(odoo, env, work, between=None):
    """``work()`` measured twice, a commit after each (``between()`` runs between them): the
    first run does the work, the second finds nothing to do."""
    first = _measured(odoo, work)
    env.cr.commit()
    if between:
        between()
    again = _measured(odoo, work)
    env.cr.commit()
    return {"first": first, "again": again}


def measure_catalogue(odoo, env, args):
    backend = env["supplier.backend"].browse(args.backend_id)
    return _twice(odoo, env, lambda: env["supplier.udoma.push"]._push(backend, "cron"))


def measure_assortment(odoo, env, args):
    backend = env["supplier.backend"].browse(args.backend_id)
    return _twice(odoo, env, lambda: env["supplier.udoma.assortment.push"]._push(backend, "cron"))


def measure_orders(odoo, env, args):
    backend = env["supplier.backend"].browse(args.backend_id)
    result = _twice(odoo, env, lambda: env["supplier.udoma.orders"]._pull(backend, "cron"),
                    # the same window again
                    between=lambda: backend.location_ids.write({"udoma_orders_until": False}))
    result["sale_orders"] = env["sale.order"].search_count([("udoma_backend_id", "=", backend.id)])
    return result


def cleanup_child(odoo, env, args):
    env.cr.execute("DELETE FROM sale_order WHERE udoma_order_id LIKE '00000000-%%'")
    env.cr.execute(
        "DELETE FROM stock_quant WHERE product_id IN (SELECT p.id FROM product_product p "
        "JOIN product_template t ON t.id = p.product_tmpl_id JOIN product_category c "
        "ON c.id = t.categ_id WHERE c.name = %s)", [CATEGORY_NAME])
    harness.remove_products(env, BACKEND_NAME, VENDOR_NAME, CATEGORY_NAME)
    return {}



# -- the parent --------------------------------------------------------------------------------
def run_child(args, step, *extra):
    phase = {"setup": "setup", "cleanup": "cleanup"}.get(step, "pull")
    return harness.run_step(args, "bench.udoma", phase, step, *extra)


def run(args, out):
    from emulators.udoma import UdomaEmulator  # noqa: PLC0415

    emulator = UdomaEmulator(demo=False, record_limit=100).start()
    emulator.bind_shop("s003", "Third shop")
    try:
        n, chunk = args.products, args.chunk
        t0 = time.perf_counter()
        backend_id = run_child(args, "setup", "--n", str(n), "--batch", str(chunk),
                               "--api-url", emulator.api_url)["backend_id"]
        print(f"  setup of {n:,} products {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        out["catalogue"] = run_child(args, "catalogue", "--backend-id", str(backend_id))
        out["assortment"] = run_child(args, "assortment", "--backend-id", str(backend_id))
        start = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=10)  # noqa: UP017
        for data in emulator.generate_orders(args.orders, start, shops=SHOPS,
                                             products=tuple(sku(i) for i in range(1, min(n, 500) + 1)),
                                             step_seconds=30000 / max(args.orders, 1)):
            emulator.add_order(data)
        out["orders"] = run_child(args, "orders", "--backend-id", str(backend_id))
    finally:
        emulator.stop()


def main(argv=None):
    args = parse_args(argv)
    if args.phase:
        return child(args)
    return harness.run_course("udoma", args, lambda out: run(args, out),
                              lambda: run_child(args, "cleanup"),
                              lambda out, load: report(args, out, load))


def report(args, out, load):
    n, chunk = args.products, args.chunk
    lines = ["| run | wall s | CPU s | requests | SQL | SQL/chunk median / max | peak RSS MB | result |",
             "|---|---|---|---|---|---|---|---|"]
    checks = []

    def row(label, r, result):
        lines.append(
            f"| {label} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['requests']} | {r['queries']} | "
            f"{r['sql_batch_median']} / {r['sql_batch_max']} | {r['peak_rss']:.0f} | {result} |")

    if "catalogue" in out:
        first, again = out["catalogue"]["first"], out["catalogue"]["again"]
        row("catalogue, first", first, f"{first['created']} created, {first['failed']} failed")
        row("catalogue, again", again, f"{again['unchanged']} unchanged")
        per_product = first["cpu"] * 1000 / max(n, 1)
        checks += [
            (first["requests"] == math.ceil(n / chunk),
             f"catalogue requests {first['requests']} = ⌈N/chunk⌉ {math.ceil(n / chunk)}"),
            (again["requests"] == 0, f"unchanged catalogue: {again['requests']} requests"),
            (per_product <= PRODUCT_MS_TARGET,
             f"Odoo CPU per product {per_product:.3f} ms (target ≤ {PRODUCT_MS_TARGET} ms)"),
        ]
    if "assortment" in out:
        first, again = out["assortment"]["first"], out["assortment"]["again"]
        row("prices and stock, first", first, f"{first['created']} rows, {first['failed']} failed")
        row("prices and stock, again", again, f"{again['unchanged']} unchanged")
        expected = len(SHOPS) * math.ceil(n / chunk)
        checks += [
            (first["requests"] == expected,
             f"assortment requests {first['requests']} = 3 × ⌈N/chunk⌉ {expected}"),
            (again["requests"] == 0, f"unchanged assortment: {again['requests']} requests"),
        ]
    if "orders" in out:
        first, again = out["orders"]["first"], out["orders"]["again"]
        row("orders, pull", first, f"{first['created']} sale orders")
        row("orders, same window again", again, f"{again['created']} created")
        checks += [
            (out["orders"]["sale_orders"] == args.orders,
             f"sale orders {out['orders']['sale_orders']} = orders {args.orders}"),
            (again["created"] == 0, "the same window again created nothing"),
        ]
    intro = (f"{n:,} products, chunk {chunk}, 3 shops, {args.orders:,} orders; "
             f"{harness.machine(args, load)}.")
    checks = [(ok, f"{harness.verdict(ok)}: {text}") for ok, text in checks]
    return harness.compose_report("UDOMA benchmark", intro, [(lines, checks)])


if __name__ == "__main__":
    sys.exit(main())
