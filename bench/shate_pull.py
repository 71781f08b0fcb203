"""Benchmark: one full Shate-M Plus pull of N mapped products against the local emulator.

    python -m bench.shate_pull --db sc_bench_shate --sizes 1000,10000 [--batch-sizes 20,10]

Every run has its own emulator process (``python -m emulators shate --catalogue N``, no latency)
and two children: ``--phase setup`` creates a fresh connection with N bindings (not measured),
``--phase pull`` runs ``_run_offers(backend, trigger="cron")`` once, measured in a fresh process
so its peak RSS is its own. The runs:

1. steady: every size in ``--sizes`` at the first batch size, price limits off (client and
   server), bindings already resolved (``external_id`` = the Shate articleId, so no article
   search); one price request per batch brings prices and stock (the offers) at once;
2. steady at ``--compare-at`` N with the other ``--batch-sizes`` (SQL per batch must not
   depend on the batch size);
3. second pull at ``--repull-at`` N: the measured pull follows an unmeasured one, so vendor
   prices and offers exist (offers are replaced, prices unchanged): a scheduled run's usual work;
4. first resolution at ``--unresolved-at`` N: bindings with code + brand only, so each price
   batch first resolves its articleIds with ``articles/search``;
5. client budget at ``--limit-at`` N: the connection's default limits (2,000 per 15 min, 120,000
   per day, one unit per article), emulator limits off: the pull must stop cleanly at 2,000;
6. server limit at ``--limit-at`` N: the emulator's 2,000 per 15 min, client budget off, so the
   run meets HTTP 429 and must stop cleanly too. The emulator counts in fixed 15-minute windows:
   the run waits for a fresh one when less than 2 minutes are left.

The Odoo bootstrap pattern, the measurement of a pull (SQL counter, batch checkpoints, peak RSS)
and the VACUUM between runs come from :mod:`bench.etm_pull`. See bench/README.md.
"""

import argparse
import datetime
import math
import os
import sys
import time

from bench import harness
from bench.etm_pull import pull

BACKEND_NAME = "Benchmark Shate pull"
CATEGORY_NAME = "Supplier connector Shate benchmark"
VENDOR_NAME = "Benchmark Shate vendor"
PRICE_ARTICLES_MAX = 20  # the client's cap of articles per price request
ARTICLE_KEYS_MAX = 50  # the client's keys per articles/search request
LIMIT_15MIN, LIMIT_DAY = 2000, 120_000  # Shate-M's documented limits for API accounts
SQL_PER_BATCH_SPREAD = 1.25  # largest / smallest median SQL per batch of the resolved runs


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.shate_pull",
                                     description=__doc__.split("\n")[0])
    harness.add_common_args(parser, db="sc_bench_shate")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N values")
    parser.add_argument("--batch-sizes", default="20,10",
                        help="the first is used for every run; the others are compared at "
                             "--compare-at (the client sends at most 20 articles per request)")
    parser.add_argument("--compare-at", type=int, default=10000,
                        help="N of the batch-size comparison")
    parser.add_argument("--unresolved-at", type=int, default=10000,
                        help="N of the first-resolution run (0 = skip)")
    parser.add_argument("--repull-at", type=int, default=10000,
                        help="N of the second-pull run: vendor prices exist, prices unchanged "
                             "(0 = skip)")
    parser.add_argument("--limit-at", type=int, default=10000,
                        help="N of the two rate-limit runs (0 = skip)")
    # Internal: what a child process does (besides the harness's flags).
    parser.add_argument("--unresolved", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client-limits", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.trigger = "cron"  # what bench.etm_pull.pull reads: scheduled runs commit per batch
    return args


# -- child processes: Odoo inside ------------------------------------------------------------
def child(args):
    harness.child_step(args, run)


def run(odoo, env, args):
    """The child's work for ``args.phase``: its result dict."""
    if args.phase == "pull":
        if args.warm:  # the first pull, not measured: the measured one is the second
            backend = env["supplier.backend"].browse(args.backend_id)
            env["supplier.sync.engine"]._run_offers(backend, trigger=args.trigger)
            env.invalidate_all()
        return {**pull(odoo, env, args), **outcome(env, args.backend_id)}
    if args.phase == "setup":
        return {"backend_id": setup(env, args)}
    harness.remove_products(env, BACKEND_NAME, VENDOR_NAME, CATEGORY_NAME)
    return {}


def outcome(env, backend_id):
    """What the pull left behind, besides bench.etm_pull.pull's figures: its log's remaining
    and message, the offers written, the bindings resolved, the schedule of the operation."""
    backend = env["supplier.backend"].browse(backend_id)
    log = env["supplier.sync.log"].search([("backend_id", "=", backend_id)], order="id desc",
                                          limit=1)
    env.cr.execute(
        "SELECT count(*) FROM supplier_offer o JOIN supplier_product b ON b.id = o.binding_id "
        "WHERE b.backend_id = %s", [backend_id])
    offers = env.cr.fetchone()[0]
    env.cr.execute(
        "SELECT count(*) FROM supplier_product WHERE backend_id = %s AND external_id IS NOT NULL",
        [backend_id])
    resolved = env.cr.fetchone()[0]
    schedule = backend.schedule_ids.filtered(lambda s: s.operation == "sync_offers")[:1]
    minutes = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}
    return {
        "remaining": log.remaining, "message": log.message or "", "offers": offers,
        "resolved": resolved,
        # A run stopped by a limit says when the limit frees; the schedule comes back then.
        "resume_after": ((log.resume_at - log.end).total_seconds()
                         if log.resume_at and log.end else None),
        "schedule_minutes": (schedule.interval_number * minutes.get(schedule.interval_type, 0)
                             if schedule.enabled else 0),
    }


def setup(env, args):
    """A fresh connection with N bindings to the emulator's synthetic articles: code and trade
    mark always, the articleId too unless --unresolved. Products are kept from run to run."""
    from emulators.shate_catalogue import generate_catalogue  # noqa: PLC0415
    from emulators.shate_demo import DEMO_API_KEY  # noqa: PLC0415

    harness.remove_run(env, BACKEND_NAME, VENDOR_NAME)
    vendor = harness.find_or_create(env, "res.partner", VENDOR_NAME, is_company=True)
    category = harness.find_or_create(env, "product.category", CATEGORY_NAME)
    limits = (LIMIT_15MIN, LIMIT_DAY) if args.client_limits else (0, 0)
    backend = env["supplier.backend"].create({
        "name": BACKEND_NAME,
        "service": "shate",
        "api_url": args.api_url,
        "api_key": DEMO_API_KEY,
        "rate_limit": 0,
        "max_retries": 1,
        "batch_size": args.batch,
        "partner_id": vendor.id,
        "price_limit_15min": limits[0],
        "price_limit_day": limits[1],
    })
    # The limits are computed fields (2,000 / 120,000 when empty): make sure 0 stayed 0.
    backend.write({"price_limit_15min": limits[0], "price_limit_day": limits[1]})
    if (backend.price_limit_15min, backend.price_limit_day) != limits:
        raise SystemExit(f"price limits {limits} not kept by the connection")
    articles = list(generate_catalogue(args.n).values())  # the emulator's catalogue, same seed
    harness.bind_products(env, backend, category, args.n, lambda i: {
        "external_code": articles[i].code,
        "external_brand": articles[i].trademark,
        "external_id": False if args.unresolved else str(articles[i].id),
    })
    return backend.id


# -- parent: emulators, children, report -----------------------------------------------------
def emulator(n, server_limit):
    """A Shate emulator with N synthetic articles; its price limits only with server_limit."""
    limits = (LIMIT_15MIN, LIMIT_DAY) if server_limit else (0, 0)
    return harness.emulator_process(
        "shate", n, "--price-limit-15min", str(limits[0]), "--price-limit-day", str(limits[1])
    )


def run_child(args, phase, *extra):
    return harness.run_child(args, "bench.shate_pull", phase, *extra)


def wait_for_fresh_window(margin=120):
    """The emulator counts in fixed 15-minute windows of the epoch: a 429 within 30 s of a
    window's end is waited out by the client (Retry-After ≤ 30 s), and the run would go on in
    the next window. Start the server-limit run well inside a window."""
    left = 900 - time.time() % 900
    if left < margin:
        print(f"  waiting {left:.0f} s for the next 15-minute window", file=sys.stderr)
        time.sleep(left + 2)


def measure(args, case):
    """One run: emulator, setup, pull. ``case``: label, n, batch, unresolved, client, server."""
    n, batch = case["n"], case["batch"]
    flags = ["--n", str(n), "--batch", str(batch)]
    if case["unresolved"]:
        flags.append("--unresolved")
    if case["client"]:
        flags.append("--client-limits")
    pull_flags = ["--warm"] if case["warm"] else []
    with emulator(n, case["server"]) as api_url:
        t0 = time.perf_counter()
        created = run_child(args, "setup", *flags, "--api-url", api_url)
        print(f"  {case['label']} N={n} batch={batch}: setup {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
        if case["server"]:
            wait_for_fresh_window()
        row = run_child(args, "pull", *flags, *pull_flags,
                        "--backend-id", str(created["backend_id"]))
    row.update(case)
    print(f"  {case['label']} N={n} batch={batch}: pull {row['wall']:.1f} s, {row['state']}, "
          f"{row['processed']} processed", file=sys.stderr)
    if case["client"] or case["server"]:
        expected = min(n, LIMIT_15MIN)
        ok = (row["processed"] == expected and not row["failed"]
              and row["remaining"] == n - expected
              and row["state"] == ("done" if expected == n else "partial"))
    else:  # a second pull finds the same prices: unchanged rather than updated
        ok = (row["processed"] == n and not row["failed"] and row["state"] == "done"
              and (case["warm"] or row["updated"] == n))
    if not ok:
        raise SystemExit(f"{case['label']} N={n} batch={batch}: unexpected outcome {row}")
    return row


def plan(args):
    sizes = sorted({int(n) for n in args.sizes.split(",")})
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    first = batch_sizes[0]

    def case(label, n, batch=first, unresolved=False, client=False, server=False, warm=False):
        return {"label": label, "n": n, "batch": batch, "unresolved": unresolved,
                "client": client, "server": server, "warm": warm}

    cases = [case("steady", n) for n in sizes]
    if len(batch_sizes) > 1 and args.compare_at not in sizes:
        cases.append(case("steady", args.compare_at))
    cases += [case("steady", args.compare_at, b) for b in batch_sizes[1:]]
    if args.repull_at:
        cases.append(case("second pull", args.repull_at, warm=True))
    if args.unresolved_at:
        cases.append(case("first resolution", args.unresolved_at, unresolved=True))
    if args.limit_at:
        cases.append(case("client budget", args.limit_at, client=True))
        cases.append(case("server 429", args.limit_at, server=True))
    return cases


def expected_requests(r):
    """(login, articles, prices) the run should send: the client's batching, exactly."""
    done = r["processed"]
    per_request = min(r["batch"], PRICE_ARTICLES_MAX)
    # The adapter resolves the articleIds of each price batch: one articles/search per batch,
    # with as many keys as the batch has bindings (the client would take 50).
    articles = math.ceil(done / r["batch"]) if r["unresolved"] else 0
    prices = sum(math.ceil(len(chunk) / per_request) for chunk in _chunks(done, r["batch"]))
    if r["server"] and done < r["n"]:
        prices += 1  # the request answered 429
    return (0 if r["warm"] else 1), articles, prices  # a second pull reuses the token


def _chunks(total, size):
    return [range(start, min(start + size, total)) for start in range(0, total, size)]


def report(args, rows, load):
    lines = [
        f"# Shate-M Plus pull benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Trigger cron (a commit per batch), prices and offers (Shate has no separate stock "
        f"call), emulator without latency, database {args.db}, {os.cpu_count()} CPUs, load "
        f"average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end.",
        "",
        "| run | N | batch | processed | wall s | products/s | Odoo CPU s | offers written | offers/s "
        "| HTTP login/articles/prices | requests/product | SQL total | SQL/batch median, max "
        "| peak RSS MB | RSS growth MB | state |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---|",
    ]
    for r in rows:
        req = r["requests"]
        total = sum(req.values())
        done = max(r["processed"], 1)
        lines.append(
            f"| {r['label']} | {r['n']:,} | {r['batch']} | {r['processed']:,} | {r['wall']:.1f} "
            f"| {r['processed'] / r['wall']:,.0f} | {r['cpu']:.1f} | {r['offers']:,} "
            f"| {r['offers'] / r['wall']:,.0f} "
            f"| {req.get('login', 0)} / {req.get('articles', 0):,} / {req.get('prices', 0):,} "
            f"| {total / done:.3f} | {r['queries']:,} | {r['sql_batch_median']}, "
            f"{r['sql_batch_max']} | {r['peak_rss']:.0f} | {r['peak_rss'] - r['rss_before']:.1f} "
            f"| {r['state']} |"
        )
    lines += ["", *checks(rows), *limiter_lines(rows)]
    for r in rows:
        if r["sql_profile"]:
            lines += ["", f"Most frequent SQL per batch, {r['label']} N={r['n']:,} "
                          f"batch {r['batch']}:", ""]
            lines += [f"    {count:7.2f}  {query}" for query, count in r["sql_profile"]]
    return "\n".join(lines) + "\n"


def checks(rows):
    verdict = harness.verdict

    def name(r):
        return f"{r['label']} N={r['n']:,}/{r['batch']}"

    out = []
    got = {name(r): tuple(r["requests"].get(k, 0) for k in ("login", "articles", "prices"))
           for r in rows}
    want = {name(r): expected_requests(r) for r in rows}
    out.append(
        f"- HTTP requests = 1 login + ⌈N/batch⌉ prices (≤ {PRICE_ARTICLES_MAX} articles each), "
        f"+ one articles/search per batch when unresolved: {verdict(got == want)} "
        "(login/articles/prices, measured vs expected: "
        + "; ".join(f"{key} {got[key]} vs {want[key]}" for key in want) + ")"
    )
    for r in rows:
        if r["unresolved"]:
            ideal = math.ceil(r["processed"] / ARTICLE_KEYS_MAX)
            articles = r["requests"].get("articles", 0)
            out.append(
                f"- First resolution, N={r['n']:,}: {articles:,} articles/search requests for "
                f"{r['processed']:,} bindings ({r['processed'] / max(articles, 1):.0f} keys each); "
                f"{ideal:,} would do at {ARTICLE_KEYS_MAX} keys per request. "
                f"{r['resolved']:,} articleIds stored, so later runs search none"
            )
    steady = [r for r in rows if r["label"] == "steady"]
    for r in rows:
        if r["warm"]:
            out.append(
                f"- Second pull, N={r['n']:,} (vendor prices exist, same prices): "
                f"{r['processed'] / r['wall']:,.0f} products/s, {r['updated']:,} updated, "
                f"{r['unchanged']:,} unchanged, SQL per batch median {r['sql_batch_median']}"
            )
    if steady:
        medians = [r["sql_batch_median"] for r in steady]
        out.append(
            f"- SQL per batch bounded, not growing with N or batch size: "
            f"{verdict(max(medians) <= SQL_PER_BATCH_SPREAD * min(medians))} (median per batch: "
            + ", ".join(f"{r['sql_batch_median']} at {name(r)}" for r in steady)
            + f"; allowed spread ×{SQL_PER_BATCH_SPREAD})"
        )
    by_size = sorted((r for r in steady if r["batch"] == steady[0]["batch"]),
                     key=lambda r: r["n"])
    if len(by_size) >= 2:
        a, b = by_size[-2], by_size[-1]
        k = {key: math.log(b[key] / a[key]) / math.log(b["n"] / a["n"])
             for key in ("queries", "cpu", "wall")}
        grow_a, grow_b = (r["peak_rss"] - r["rss_before"] for r in (a, b))
        slope = (grow_b - grow_a) * 2**20 / (b["n"] - a["n"])
        drift = ", ".join(f"{r['drift']:.2f}" for r in by_size)
        out.append(
            f"- Cost ~ N^k from N={a['n']:,} to N={b['n']:,}: SQL k = {k['queries']:.2f}, "
            f"Odoo CPU k = {k['cpu']:.2f}, wall k = {k['wall']:.2f}; batch time late/early in "
            f"the run {drift}; RSS growth "
            f"{grow_a:.1f} → {grow_b:.1f} MB ({slope:,.0f} bytes per extra product)"
        )
    return out


def limiter_lines(rows):
    out = []
    for r in rows:
        if not (r["client"] or r["server"]):
            continue
        which = ("client budget 2,000/15 min + 120,000/day, emulator limits off" if r["client"]
                 else "emulator limit 2,000/15 min (HTTP 429), client budget off")
        message = " / ".join(line for line in r["message"].splitlines() if line)
        resume = r["resume_after"]
        out.append(
            f"- Limiter, {which}, N={r['n']:,}: processed {r['processed']:,} in "
            f"{r['wall']:.1f} s, state {r['state']}, remaining {r['remaining']:,}, "
            f"{r['requests'].get('prices', 0)} price requests; resume at "
            + (f"+{resume:.0f} s" if resume is not None else "none")
            + f"; message: {message}"
        )
        if not r["client"]:
            continue
        windows = math.ceil(r["n"] / LIMIT_15MIN)
        out.append(
            f"- Throughput the client budget lets through: {LIMIT_15MIN:,} products per 15 min, "
            f"{LIMIT_DAY:,} per day (the day cap binds after {LIMIT_DAY // LIMIT_15MIN} full "
            f"windows, {LIMIT_DAY // LIMIT_15MIN * 15 / 60:.0f} h). A full refresh of "
            f"{r['n']:,} needs {windows} windows of 15 min: about {windows * 15} min"
        )
        if resume is not None:
            every = r["schedule_minutes"]
            last = (windows - 1) * min(resume, every * 60 or resume)
            out.append(
                f"- Scheduled: sync_offers every {every} min, a run stopped by the budget comes "
                f"back at its resume time (+{resume:.0f} s: the sliding window counts in 1-minute "
                f"buckets): at least {windows} runs (one may stop early when only the oldest bucket "
                f"has left), the last starting {last / 60:.0f} min after the first "
                f"and done about {(last + r['wall']) / 60:.0f} min after it"
            )
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.phase:
        return child(args)
    harness.prepare(args)
    load = os.getloadavg()
    measured, failure = harness.measure_all(
        plan(args), lambda case: measure(args, case), lambda: run_child(args, "cleanup")
    )
    rows = [row for _case, row in measured]
    return harness.publish("shate_pull", report(args, rows, load) if rows else "", failure)


if __name__ == "__main__":
    sys.exit(main())
