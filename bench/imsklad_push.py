"""The Odoo side of the IMSKLAD goods push and stock pull benchmarks (child processes of
:mod:`bench.imsklad`).

Steps, each in its own process (``--phase setup|pull --step …``):

* ``setup --step products``: N storable products (``SKU-000001`` …, the ids of the emulator's
  synthetic goods, so the stock pull finds them), a connection without a warehouse (the push and
  the pull need none; the callbacks benchmark has the warehouse), a binding per product with our
  id = the internal reference. Not measured.
* ``pull --step push``: one ``supplier.imsklad.goods._push(backend, trigger="cron")``, a commit
  per batch as a scheduled push does; ``good_of`` and ``payload_hash`` are timed apart from the
  rest (HTTP included), with the SQL they run.
* ``setup --step change``: 1 % of the products get a new sale price (every 100th): their payloads
  change, nothing else does. Answers their ids.
* ``setup --step stock``: the bindings get the IMSKLAD ids of the emulator's synthetic goods
  (1,000,000 + n for SKU-n) and the connection points at that emulator.
* ``pull --step stock``: one ``_run_offers(backend, trigger="cron")`` measured as
  :func:`bench.etm_pull.pull` does, then the offers it wrote are compared with the emulator's
  formula (free stock = stock − reserved, never below 0).
"""

import time

from bench import harness
from bench.etm_pull import pull
from bench.harness import sku

BACKEND_NAME = "Benchmark IMSKLAD goods"
VENDOR_NAME = "Benchmark IMSKLAD vendor"  # no vendor prices are made; harness.remove_run asks one
CATEGORY_NAME = "Supplier connector IMSKLAD benchmark"
CHANGED_EVERY = 100  # 1 % of the products change between the second and third push


def run(odoo, env, args):
    """The child's work for ``args.phase``/``args.step``: its result dict."""
    if args.phase == "cleanup":
        harness.remove_products(env, BACKEND_NAME, VENDOR_NAME, CATEGORY_NAME)
        return {}
    steps = {
        ("setup", "products"): lambda: {"backend_id": setup_products(env, args)},
        ("setup", "change"): lambda: {"changed": change_prices(env, args)},
        ("setup", "stock"): lambda: setup_stock(env, args),
        ("pull", "push"): lambda: measure_push(odoo, env, args),
        ("pull", "stock"): lambda: measure_stock(odoo, env, args),
    }
    return steps[(args.phase, args.step)]()


def setup_products(env, args):
    harness.remove_run(env, BACKEND_NAME, VENDOR_NAME)
    category = harness.find_or_create(env, "product.category", CATEGORY_NAME)
    backend = env["supplier.backend"].create({
        "name": BACKEND_NAME, "service": "imsklad", "api_url": args.api_url,
        "api_key": _demo_key(), "rate_limit": 0, "max_retries": 1, "batch_size": args.batch,
    })
    harness.bind_skus(env, backend, category, args.n, lambda n: {
        "name": f"Bench good {n}", "list_price": 100 + n % 900,
        "standard_price": 50 + n % 450, "weight": (100 + n % 1000) / 1000,
        "description_sale": f"Benchmark good number {n}",
    })
    return backend.id


def _demo_key():
    from emulators.imsklad_demo import DEMO_KEY  # noqa: PLC0415

    return DEMO_KEY


def change_prices(env, args):
    """A new sale price for every CHANGED_EVERY-th product: our ids of those changed."""
    Product = env["product.product"].with_context(tracking_disable=True)
    changed = []
    for n in range(CHANGED_EVERY, args.n + 1, CHANGED_EVERY):
        product = Product.search([("default_code", "=", sku(n))], limit=1)
        product.list_price += 1
        changed.append(sku(n))
    env.cr.commit()
    return changed


def setup_stock(env, args):
    """Point the connection at the stock emulator, whose synthetic goods have IMSKLAD ids
    1,000,000 + n; its batch size is the get_stock chunk."""
    backend = env["supplier.backend"].browse(args.backend_id)
    backend.write({"api_url": args.api_url, "batch_size": args.batch})
    env.cr.execute(
        "UPDATE supplier_product SET external_id = (1000000 + substr(external_code, 5)::int)::text,"
        " last_sync = NULL WHERE backend_id = %s", [backend.id])
    env.cr.commit()
    return {"backend_id": backend.id}


def measure_push(odoo, env, args):
    """One push, timed: wall, CPU, SQL (per batch), and the payload building apart."""
    from odoo.addons.supplier_connector.models import imsklad_goods  # noqa: PLC0415

    sql_db = odoo.sql_db
    # Payload building, timed where the push calls it (the module's globals): wall seconds,
    # calls, SQL queries, CPU seconds of this process. A batch's first good_of also reads the
    # whole batch (prefetch): counted here.
    timers = {name: [0.0, 0, 0, 0.0] for name in ("good_of", "payload_hash")}

    def timed(name, function):
        def wrapper(*a, **kw):
            queries, start, cpu = sql_db.sql_counter, time.perf_counter(), time.process_time()
            try:
                return function(*a, **kw)
            finally:
                slot = timers[name]
                slot[0] += time.perf_counter() - start
                slot[1] += 1
                slot[2] += sql_db.sql_counter - queries
                slot[3] += time.process_time() - cpu
        return wrapper

    for name in timers:
        setattr(imsklad_goods, name, timed(name, getattr(imsklad_goods, name)))
    backend = env["supplier.backend"].browse(args.backend_id)
    log, figures = harness.measured(
        odoo, lambda: env["supplier.imsklad.goods"]._push(backend, trigger="cron"))
    return {
        "n": args.n, "batch": backend.batch_size, **figures,
        "timers": timers, "requests": harness.request_counts(log),
        **{name: log[name] for name in ("state", "processed", "created", "updated", "unchanged",
                                        "failed")},
    }


def measure_stock(odoo, env, args):
    """``bench.etm_pull.pull`` (the engine's ``_run_offers``), then the offers checked."""
    from emulators.imsklad_demo import generate_goods  # noqa: PLC0415

    result = pull(odoo, env, args)
    env.cr.execute(
        "SELECT b.external_code, o.quantity FROM supplier_offer o "
        "JOIN supplier_product b ON b.id = o.binding_id WHERE b.backend_id = %s",
        [args.backend_id])
    offers = dict(env.cr.fetchall())
    expected = {good.partner_id: float(max(0, good.stock - good.reserved))
                for good in generate_goods(args.n)}
    result["offers"] = len(offers)
    result["offers_wrong"] = sum(1 for code, qty in expected.items() if offers.get(code) != qty)
    result["free_total"] = sum(offers.values())
    return result

