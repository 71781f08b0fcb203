"""Benchmark: one full ETM pull of N mapped products against the local emulator.

    python -m bench.etm_pull --db sc_bench --sizes 1000,10000,100000 [--batch-sizes 50,25]

For every (N, batch size) the parent starts an emulator process (no latency, no rate limit) and
two children: ``--phase setup`` creates a connection with N bindings (and the products still
missing; not measured), ``--phase pull`` runs ``_run_offers`` once and measures it. A fresh pull
process per run makes its peak RSS that run's own, untouched by the setup's bulk creates.
See bench/README.md.
"""

import argparse
import datetime
import math
import os
import re
import sys
import time
from collections import Counter
from contextlib import contextmanager

from bench import harness

BACKEND_NAME = "Benchmark ETM pull"
CATEGORY_NAME = "Supplier connector benchmark"
VENDOR_NAME = "Benchmark ETM vendor"

# Pass/fail thresholds of the targets (bench/README.md explains each).
SQL_PER_BATCH_SPREAD = 1.25  # largest / smallest median SQL per batch, over all runs
LINEAR_EXPONENT = 1.15  # cost ~ N^k between consecutive sizes; 1 is linear
MAX_DRIFT = 1.5  # median batch time, last quarter of a run / first quarter
MIN_CPU = 2.0  # seconds: shorter runs are not judged on their CPU exponent
RSS_BYTES_PER_PRODUCT = 1024  # RSS growth slope between the two largest sizes


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.etm_pull",
                                     description=__doc__.split("\n")[0])
    harness.add_common_args(parser, db="sc_bench")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N values")
    parser.add_argument("--batch-sizes", default="50,25",
                        help="the first is used for every size; all are compared at --compare-at")
    parser.add_argument("--compare-at", type=int, default=10000,
                        help="N of the batch-size comparison")
    parser.add_argument("--trigger", choices=("cron", "manual"), default="cron",
                        help="cron commits after every batch, as scheduled runs do (default)")
    parser.add_argument("--no-stock", dest="stock", action="store_false",
                        help="prices only (pull_stock off: no per-product remains request)")
    return parser.parse_args(argv)


# -- child processes: Odoo inside ------------------------------------------------------------
def child(args):
    harness.child_step(args, run)


def run(odoo, env, args):
    """The child's work for ``args.phase``: its result dict."""
    if args.phase == "pull":
        return pull(odoo, env, args)
    if args.phase == "setup":
        return {"backend_id": setup(env, args)}
    harness.remove_products(env, BACKEND_NAME, VENDOR_NAME, CATEGORY_NAME)
    return {}


def setup(env, args):
    """A fresh connection with N bindings; products are kept from run to run (their creation,
    about 3 ms each, is the slow part of the setup) and only created when missing."""
    harness.remove_run(env, BACKEND_NAME, VENDOR_NAME)
    vendor = harness.find_or_create(env, "res.partner", VENDOR_NAME, is_company=True)
    category = harness.find_or_create(env, "product.category", CATEGORY_NAME)
    backend = env["supplier.backend"].create({
        "name": BACKEND_NAME,
        "service": "etm",
        "api_url": args.api_url,
        "login": "demo",
        "password": "demo",
        "etm_code_type": "etm",
        "rate_limit": 0,
        "max_retries": 1,
        "batch_size": args.batch,
        "pull_stock": args.stock,
        "partner_id": vendor.id,
    })
    # The emulator's synthetic catalogue has ETM codes str(1_000_000 + i).
    harness.bind_products(env, backend, category, args.n,
                          lambda i: {"external_code": str(1_000_000 + i)})
    return backend.id


def pull(odoo, env, args):
    """One measured ``_run_offers`` (``harness.measured``, from the first batch's checkpoint)."""
    statements = Counter()
    if args.sql_profile:
        import threading  # noqa: PLC0415

        threading.current_thread().query_hooks = [
            lambda cr, query, params, start, delay: statements.update([_normalize(query)])
        ]
    backend = env["supplier.backend"].browse(args.backend_id)
    log, figures = harness.measured(
        odoo, lambda: env["supplier.sync.engine"]._run_offers(backend, trigger=args.trigger),
        mark_start=False)
    checkpoints = figures["batches"] + 1
    return {
        "n": args.n, "batch": args.batch, **figures,
        # request_details is "login: 1, price: 20, remains: 1000" (the HTTP client's counters).
        "requests": harness.request_counts(log),
        **{name: log[name] for name in ("state", "processed", "updated", "unchanged", "failed",
                                        "not_found")},
        "sql_profile": [(q, c / checkpoints) for q, c in statements.most_common(25)],
    }


def _normalize(query):
    """SQL text without the per-row parts, so statements of different batch sizes compare."""
    text = re.sub(r"\s+", " ", str(query))
    text = re.sub(r'SAVEPOINT "[^"]+"', 'SAVEPOINT "…"', text)  # one name per savepoint
    text = re.sub(r"\([^()]*%s[^()]*\)(\s*,\s*\([^()]*%s[^()]*\))+", "(…)", text)
    return re.sub(r"%s(\s*,\s*%s)+", "%s…", text)[:200]


# -- parent: emulators, children, report -----------------------------------------------------
@contextmanager
def emulator(n):
    with harness.emulator_process("etm", n) as base:
        yield base + "/api/v1"


def run_child(args, phase, *extra):
    stock = () if args.stock else ("--no-stock",)
    return harness.run_child(args, "bench.etm_pull", phase, "--trigger", args.trigger, *stock,
                             *extra)


def measure(args, n, batch):
    with emulator(n) as api_url:
        t0 = time.perf_counter()
        created = run_child(args, "setup", "--n", str(n), "--batch", str(batch),
                            "--api-url", api_url)
        print(f"  N={n} batch={batch}: setup {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        row = run_child(args, "pull", "--n", str(n), "--batch", str(batch),
                        "--backend-id", str(created["backend_id"]))
    print(f"  N={n} batch={batch}: pull {row['wall']:.1f} s", file=sys.stderr)
    wrong = {k: row[k] for k in ("processed", "updated") if row[k] != n}
    if wrong or row["failed"] or row["state"] != "done":
        raise SystemExit(f"N={n} batch={batch}: expected {n} processed and updated, none failed, "
                         f"got {row}")
    return row


def report(args, rows, compare, load):
    lines = [
        f"# ETM pull benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Trigger {args.trigger}, stock {'on' if args.stock else 'off'}, emulator without latency "
        f"or rate limit, database {args.db}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end.",
        "",
        "| N | batch | wall s | products/s | Odoo CPU s | HTTP login/price/remains | SQL total "
        "| SQL/batch median, max | peak RSS MB | RSS growth MB |",
        "|---:|---:|---:|---:|---:|---|---:|---|---:|---:|",
    ]
    for r in rows + compare:
        req = r["requests"]
        lines.append(
            f"| {r['n']:,} | {r['batch']} | {r['wall']:.1f} | {r['n'] / r['wall']:,.0f} | "
            f"{r['cpu']:.1f} | {req.get('login', 0)} / {req.get('price', 0):,} / "
            f"{req.get('remains', 0):,} | {r['queries']:,} | {r['sql_batch_median']}, "
            f"{r['sql_batch_max']} | {r['peak_rss']:.0f} | {r['peak_rss'] - r['rss_before']:.1f} |"
        )
    lines += ["", *targets(args, rows, compare)]
    for r in rows + compare:
        if r["sql_profile"]:
            lines += ["", f"Most frequent SQL per batch, N={r['n']:,} batch {r['batch']}:", ""]
            lines += [f"    {count:7.2f}  {query}" for query, count in r["sql_profile"]]
    return "\n".join(lines) + "\n"


def targets(args, rows, compare):
    verdict = harness.verdict

    def name(r):
        return f"N={r['n']:,}/{r['batch']}"

    runs = rows + compare
    want = {name(r): (1, math.ceil(r["n"] / r["batch"]), r["n"] if args.stock else 0) for r in runs}
    got = {name(r): tuple(r["requests"].get(k, 0) for k in ("login", "price", "remains"))
           for r in runs}
    remains = ", 1 remains per product" if args.stock else ""
    out = [
        f"- Price requests = ⌈N/batch⌉ + 1 login{remains}: {verdict(want == got)} "
        "(login/price/remains, measured vs expected: "
        + "; ".join(f"{key} {got[key]} vs {want[key]}" for key in want) + ")"
    ]
    medians = [r["sql_batch_median"] for r in runs]
    out.append(
        f"- SQL per batch bounded, not growing with batch size or N: "
        f"{verdict(max(medians) <= SQL_PER_BATCH_SPREAD * min(medians))} (median per batch: "
        + ", ".join(f"{r['sql_batch_median']} at {name(r)}" for r in runs)
        + f"; allowed spread ×{SQL_PER_BATCH_SPREAD})"
    )
    if len(rows) < 2:
        out.append("- Linear cost and flat memory: need two sizes or more")
        return out

    def exponents(key):
        return [math.log(b[key] / a[key]) / math.log(b["n"] / a["n"])
                for a, b in zip(rows, rows[1:], strict=False)]

    def show(values):
        return ", ".join(f"{v:.2f}" for v in values)

    sql_k, cpu_k, wall_k = exponents("queries"), exponents("cpu"), exponents("wall")
    # A run of under MIN_CPU seconds mostly measures warm-up (first queries, caches).
    cpu_judged = [k for k, a in zip(cpu_k, rows, strict=False) if a["cpu"] >= MIN_CPU]
    drift = [r["drift"] for r in rows]
    linear = max(sql_k + cpu_judged) <= LINEAR_EXPONENT and max(drift) <= MAX_DRIFT
    out.append(
        f"- Cost linear in N: {verdict(linear)} (cost ~ N^k between consecutive sizes: "
        f"SQL k = {show(sql_k)}, Odoo CPU k = {show(cpu_k)} (judged from runs of {MIN_CPU} s "
        f"CPU up), allowed k ≤ {LINEAR_EXPONENT}; "
        f"batch time late/early in the run {show(drift)}, allowed ≤ {MAX_DRIFT}; "
        f"wall k = {show(wall_k)}, not judged: it moves with the machine's load)"
    )
    a, b = rows[-2], rows[-1]
    grow_a, grow_b = (r["peak_rss"] - r["rss_before"] for r in (a, b))
    slope = (grow_b - grow_a) * 2**20 / (b["n"] - a["n"])
    out.append(
        f"- Peak memory not growing with N beyond the records: "
        f"{verdict(slope <= RSS_BYTES_PER_PRODUCT)} (RSS growth during the pull {grow_a:.1f} MB "
        f"at N={a['n']:,}, {grow_b:.1f} MB at N={b['n']:,}: {slope:,.0f} bytes per extra product, "
        f"allowed {RSS_BYTES_PER_PRODUCT})"
    )
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.phase:
        return child(args)
    harness.prepare(args)
    load = os.getloadavg()  # other work on the machine slows the wall clock, not the counts
    sizes = sorted({int(n) for n in args.sizes.split(",")})  # ascending: k compares neighbours
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    plan = [(n, batch_sizes[0]) for n in sizes]
    # The batch-size comparison reuses the size run at --compare-at when there is one.
    if len(batch_sizes) > 1 and args.compare_at not in sizes:
        plan.append((args.compare_at, batch_sizes[0]))
    plan += [(args.compare_at, b) for b in batch_sizes[1:]]
    measured, failure = harness.measure_all(
        plan, lambda case: measure(args, *case), lambda: run_child(args, "cleanup")
    )
    rows = [row for (n, batch), row in measured if n in sizes and batch == batch_sizes[0]]
    compare = [row for (n, batch), row in measured if not (n in sizes and batch == batch_sizes[0])]
    text = report(args, rows, compare, load) if measured else ""
    return harness.publish("etm_pull", text, failure)


if __name__ == "__main__":
    sys.exit(main())
