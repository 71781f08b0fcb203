"""Benchmark: IMSKLAD goods push, stock pull and callbacks against the local emulator.

    python -m bench.imsklad --db sc_bench --goods 10000 --calls 1000 [--parts push,stock,callbacks]

1. push (N = ``--goods``, ``--push-batch`` per checkpoint): a first push (N add_good), the same push again
   with nothing changed (0 requests: the payload hash works), and a push after a new sale price
   on 1 % of the products (exactly those, by update_good). The payload building (``good_of`` and
   ``payload_hash``) is timed apart from HTTP: target ≤ 0.5 ms per product.
2. stock (N goods): one scheduled stock pull, get_stock in chunks of ``--stock-batch`` ids:
   requests = ⌈N/chunk⌉; every offer checked against the emulator's stock.
3. callbacks (``--calls``): order.set_status calls in a row through Odoo's real HTTP server
   (``odoo-bin`` on a free port), the emulator walking ⌈calls/10⌉ sent sale orders 1 → … → 9 → 11:
   per-call time, median, p95, first 100 against last 100 (no growth).

The emulators run in this (parent) process, in a thread: they need no Odoo, the parent only
waits while a child works, and it can read their counters and recorded requests and send the
callbacks itself. Odoo work happens in child processes (``--phase setup|pull|cleanup --step …``)
as in :mod:`bench.etm_pull`; the modules :mod:`bench.imsklad_push` and
:mod:`bench.imsklad_callbacks` hold their code. See bench/README.md.
"""

import argparse
import json
import math
import sys
import time

from bench import harness, imsklad_callbacks, imsklad_push

NO_GROWTH = 1.5  # last 100 calls' median / first 100's
PAYLOAD_MS_TARGET = 0.5  # good_of + payload_hash per product
STEPS = {
    "products": imsklad_push, "change": imsklad_push, "stock": imsklad_push,
    "push": imsklad_push, "goods": imsklad_push,
    "orders": imsklad_callbacks, "verify": imsklad_callbacks, "callbacks": imsklad_callbacks,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.imsklad",
                                     description=__doc__.split("\n")[0])
    harness.add_common_args(parser, db="sc_bench")
    parser.add_argument("--parts", default="push,stock,callbacks",
                        help="which benchmarks: push, stock, callbacks (comma-separated)")
    parser.add_argument("--goods", type=int, default=10000, help="N: goods pushed and pulled")
    parser.add_argument("--push-batch", type=int, default=100,
                        help="bindings per push batch (a commit each)")
    parser.add_argument("--stock-batch", type=int, default=100,
                        help="ids per get_stock request (the connection's batch size)")
    parser.add_argument("--calls", type=int, default=1000, help="callbacks sent in a row")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.trigger = "cron"  # what bench.etm_pull.pull reads: a scheduled run, a commit per batch
    if not args.phase:  # children get --n and --batch (the harness's internal flags)
        args.n, args.batch = args.goods, args.push_batch
    return args


def child(args):
    harness.child_step(args, STEPS[args.step].run)


def run_child(args, phase, step, *extra):
    return harness.run_step(args, "bench.imsklad", phase, step, *extra)


# -- the parent -------------------------------------------------------------------------------
def start_emulator(goods=()):
    from emulators.imsklad import ImskladEmulator  # noqa: PLC0415

    # Every request of a 10,000 push recorded (the 1 % check reads their ids).
    return ImskladEmulator(goods, record_limit=50_000).start()


def bench_push(args, emulator, out):
    n = str(args.n)
    t0 = time.perf_counter()
    backend_id = run_child(args, "setup", "products", "--n", n, "--batch", str(args.batch),
                           "--api-url", emulator.api_url)["backend_id"]
    out["backend_id"] = backend_id
    print(f"  push: setup of {args.n:,} products {time.perf_counter() - t0:.0f} s",
          file=sys.stderr)
    changed = []
    for label in ("first push", "unchanged", "1 % changed"):
        if label == "1 % changed":
            changed = run_child(args, "setup", "change", "--n", n)["changed"]
        emulator.reset()  # counters and recorded requests of this push only
        row = run_child(args, "pull", "push", "--n", n, "--backend-id", str(backend_id))
        row["label"] = label
        row["emulator"] = emulator.counts()
        row["sent_ids"] = sorted(json.loads(r.body)["data"]["id"] for r in emulator.requests)
        row["expected_ids"] = changed
        out.setdefault("push", []).append(row)
        print(f"  push: {label} {row['wall']:.1f} s, {row['emulator']}", file=sys.stderr)


def bench_stock(args, out):
    from emulators.imsklad_demo import generate_goods  # noqa: PLC0415

    if "backend_id" not in out:  # stock alone: the products and the connection first
        with start_emulator() as emulator:
            out["backend_id"] = run_child(
                args, "setup", "products", "--n", str(args.n), "--batch", str(args.batch),
                "--api-url", emulator.api_url)["backend_id"]
    emulator = start_emulator(generate_goods(args.n))
    try:
        backend = str(out["backend_id"])
        run_child(args, "setup", "stock", "--n", str(args.n), "--batch", str(args.stock_batch),
                  "--api-url", emulator.api_url, "--backend-id", backend)
        emulator.reset()
        row = run_child(args, "pull", "stock", "--n", str(args.n),
                        "--batch", str(args.stock_batch), "--backend-id", backend)
        row["emulator"] = emulator.counts()
    finally:
        emulator.stop()
    out["stock"] = row
    print(f"  stock: {row['wall']:.1f} s, {row['emulator']}", file=sys.stderr)


def bench_callbacks(args, emulator, out):
    t0 = time.perf_counter()
    created = run_child(args, "setup", "orders", "--n", str(args.calls),
                        "--api-url", emulator.api_url)
    print(f"  callbacks: {len(created['orders'])} orders confirmed and sent "
          f"({created['sent']} sent) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    harness.RESULTS.mkdir(exist_ok=True)
    with imsklad_callbacks.odoo_server(args, imsklad_callbacks.log_path(args.db)) as base:
        url = f"{base}/supplier_connector/imsklad/{imsklad_callbacks.TOKEN}"
        timings = imsklad_callbacks.send_calls(emulator, url, created["orders"], args.calls)
    row = imsklad_callbacks.summary(timings)
    row.update(orders=len(created["orders"]), sent=created["sent"])
    row["outcome"] = run_child(args, "pull", "verify", "--backend-id",
                               str(created["backend_id"]))
    out["callbacks"] = row
    print(f"  callbacks: {row['calls']} calls, median {row['median']:.1f} ms", file=sys.stderr)


def cleanup(args, parts):
    if "callbacks" in parts:
        run_child(args, "cleanup", "callbacks")
    if parts & {"push", "stock"}:
        run_child(args, "cleanup", "goods")


# -- report -----------------------------------------------------------------------------------
verdict = harness.verdict


def per_product(timer, index):
    """Milliseconds per call of a payload timer's wall (0) or CPU (3) seconds."""
    return 1000 * timer[index] / max(timer[1], 1)


def push_lines(args, rows):
    lines = [
        "## Goods push", "",
        "| push | wall s | goods/s | Odoo CPU s | requests (emulator) | processed / created / "
        "updated / unchanged / failed | good_of ms/product CPU (wall) | hash ms/product CPU "
        "(wall) | payload SQL | SQL total | SQL/batch median, max | peak RSS MB |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        good_of, digest = r["timers"]["good_of"], r["timers"]["payload_hash"]
        requests = ", ".join(f"{k} {v:,}" for k, v in sorted(r["emulator"].items())) or "none"
        lines.append(
            f"| {r['label']} | {r['wall']:.1f} | {r['processed'] / r['wall']:,.0f} "
            f"| {r['cpu']:.1f} | {requests} | {r['processed']:,} / {r['created']:,} / "
            f"{r['updated']:,} / {r['unchanged']:,} / {r['failed']:,} "
            f"| {per_product(good_of, 3):.3f} ({per_product(good_of, 0):.3f}) "
            f"| {per_product(digest, 3):.3f} ({per_product(digest, 0):.3f}) "
            f"| {good_of[2] + digest[2]:,} "
            f"| {r['queries']:,} | {r['sql_batch_median']}, {r['sql_batch_max']} "
            f"| {r['peak_rss']:.0f} |"
        )
    checks = []
    by = {r["label"]: r for r in rows}
    n = args.n
    first, same, changed = by.get("first push"), by.get("unchanged"), by.get("1 % changed")
    if first:
        ok = first["emulator"] == {"add_good": n} and first["created"] == n and not first["failed"]
        checks.append((ok, f"First push: N add_good requests: {verdict(ok)} "
                           f"({first['emulator'].get('add_good', 0):,} for N={n:,}, "
                           f"{first['created']:,} created)"))
    if same:
        ok = same["emulator"] == {} and same["requests"] == {} and same["unchanged"] == n
        checks.append((ok, f"Unchanged second push: 0 requests: {verdict(ok)} (emulator "
                           f"{sum(same['emulator'].values())}, client {same['requests'] or 0}, "
                           f"{same['unchanged']:,} unchanged)"))
    if changed:
        want = changed["expected_ids"]
        ok = (changed["emulator"] == {"update_good": len(want)}
              and changed["sent_ids"] == sorted(want) and changed["updated"] == len(want))
        checks.append((ok, f"1 % changed: exactly those goods sent: {verdict(ok)} "
                           f"({len(want)} changed, {sum(changed['emulator'].values())} requests "
                           f"{changed['emulator']}, ids sent = ids changed: "
                           f"{changed['sent_ids'] == sorted(want)})"))
    for r in rows:
        good_of, digest = r["timers"]["good_of"], r["timers"]["payload_hash"]
        cpu = per_product(good_of, 3) + per_product(digest, 3)
        wall = per_product(good_of, 0) + per_product(digest, 0)
        ok = cpu <= PAYLOAD_MS_TARGET
        checks.append((ok, f"Payload building, {r['label']}: {cpu:.3f} ms Odoo CPU per product "
                           f"(good_of + payload_hash; wall {wall:.3f} ms, which counts the "
                           f"PostgreSQL reads and the wait for a CPU), target ≤ "
                           f"{PAYLOAD_MS_TARGET}: {verdict(ok)}; "
                           f"{(good_of[2] + digest[2]) / max(r['batches'], 1):.1f} of its SQL "
                           f"queries per batch of {r['batch']}"))
    return lines, checks


def stock_lines(args, r):
    chunk = args.stock_batch
    want = math.ceil(args.n / chunk)
    lines = [
        "## Stock pull", "",
        "| N | chunk | wall s | goods/s | Odoo CPU s | get_stock (client / emulator) "
        "| ⌈N/chunk⌉ | offers | SQL total | SQL/batch median, max | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|",
        f"| {args.n:,} | {chunk} | {r['wall']:.1f} | {r['processed'] / r['wall']:,.0f} "
        f"| {r['cpu']:.1f} | {r['requests'].get('get_stock', 0):,} / "
        f"{r['emulator'].get('get_stock', 0):,} | {want:,} | {r['offers']:,} | {r['queries']:,} "
        f"| {r['sql_batch_median']}, {r['sql_batch_max']} | {r['peak_rss']:.0f} |",
    ]
    ok = (r["requests"] == {"get_stock": want} and r["emulator"] == {"get_stock": want})
    right = (r["processed"] == args.n and not r["failed"] and r["offers"] == args.n
             and not r["offers_wrong"])
    checks = [
        (ok, f"Stock requests = ⌈N/chunk⌉ = ⌈{args.n:,}/{chunk}⌉ = {want:,}: {verdict(ok)} "
             f"(client {r['requests']}, emulator {r['emulator']})"),
        (right, f"Every good's free stock on its offer: {verdict(right)} ({r['processed']:,} "
                f"processed, {r['failed']} failed, {r['offers']:,} offers, {r['offers_wrong']} "
                f"differing from the emulator; {r['free_total']:,.0f} free units in all)"),
    ]
    return lines, checks


def callback_lines(r):
    o = r["outcome"]
    lines = [
        "## Callbacks (order.set_status through Odoo's HTTP server)", "",
        "| calls | orders | failed | median ms | p95 ms | max ms | mean ms | first 100 median / "
        "p95 | last 100 median / p95 | status 9 median (validates) | other median | total s |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|",
        f"| {r['calls']:,} | {r['orders']} | {r['failed']} | {r['median']:.1f} | {r['p95']:.1f} "
        f"| {r['max']:.1f} | {r['mean']:.1f} | {r['first_median']:.1f} / {r['first_p95']:.1f} "
        f"| {r['last_median']:.1f} / {r['last_p95']:.1f} | {r['shipped_median']:.1f} "
        f"| {r['others_median']:.1f} | {r['total']:.1f} |",
        "", "Median ms of each 100 calls in turn: "
        + ", ".join(f"{m:.1f}" for m in r["window_medians"]),
    ]
    growth = r["last_median"] / r["first_median"] if r["first_median"] else 0
    done = o["events"].get("order.set_status done", 0)
    right = (not r["failed"] and o["at_11"] == r["orders"] == r["sent"]
             and o["deliveries_done"] == o["deliveries"] == r["orders"] and done == r["calls"])
    checks = [
        (growth <= NO_GROWTH, f"No growth: last {r['window']} calls' median / first "
                              f"{r['window']}'s = {growth:.2f}, allowed ≤ {NO_GROWTH}: "
                              f"{verdict(growth <= NO_GROWTH)}"),
        (right, f"Every call answered ok and applied: {verdict(right)} ({r['calls'] - r['failed']:,}"
                f" answered ok, {r['sent']} orders sent, {o['at_11']} at status 11, "
                f"{o['deliveries_done']} of {o['deliveries']} deliveries validated, events "
                f"{o['events']}" + (f"; first errors {r['errors']}" if r["errors"] else "") + ")"),
    ]
    return lines, checks


def report(args, out, load):
    intro = (f"N={args.n:,} goods, push batch {args.batch}, stock chunk {args.stock_batch}, "
             f"{args.calls:,} callbacks; emulator without latency; "
             f"{harness.machine(args, load)}.")
    sections = [build() for key, build in (
        ("push", lambda: push_lines(args, out["push"])),
        ("stock", lambda: stock_lines(args, out["stock"])),
        ("callbacks", lambda: callback_lines(out["callbacks"])),
    ) if key in out]
    return harness.compose_report("IMSKLAD benchmark", intro, sections)


def main(argv=None):
    args = parse_args(argv)
    if args.phase:
        return child(args)

    def run(parts, out):
        emulator = start_emulator()
        try:
            if "push" in parts:
                bench_push(args, emulator, out)
            if "stock" in parts:
                bench_stock(args, out)
            if "callbacks" in parts:
                bench_callbacks(args, emulator, out)
        finally:
            emulator.stop()

    return harness.run_parts("imsklad", args, ("push", "stock", "callbacks"), run,
                             lambda parts: cleanup(args, parts),
                             lambda out, load: report(args, out, load))


if __name__ == "__main__":
    sys.exit(main())
