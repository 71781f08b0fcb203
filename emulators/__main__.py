"""Run an emulator in the foreground: ``python -m emulators <service> [options]``.

Each service registers a subcommand in ``SERVICES``: a function adding its own options and a
function building the emulator from the parsed arguments. Common options (--host, --port,
--latency, --rate-limit) are added to every subcommand.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import timedelta

from .etm import EtmEmulator
from .imsklad import ImskladEmulator
from .imsklad_demo import DEMO_CALLBACK_KEY, DEMO_KEY
from .moysklad import MoyskladEmulator
from .moysklad_demo import DEMO_APP_TOKEN as MS_APP_TOKEN
from .moysklad_demo import DEMO_LOGIN as MS_LOGIN
from .moysklad_demo import DEMO_PASSWORD as MS_PASSWORD
from .shate import ShateEmulator
from .shate_demo import DEMO_API_KEY, DEMO_LOGIN, DEMO_PASSWORD
from .udoma import UdomaEmulator
from .udoma_demo import DEMO_KEY as UDOMA_KEY


def _synthetic_size(args) -> int | None:
    """``--catalogue``: None for 'demo', else the number of synthetic records asked for."""
    if args.catalogue == "demo":
        return None
    if args.catalogue.isdigit():
        return int(args.catalogue)
    raise SystemExit(f"--catalogue must be 'demo' or a number, not {args.catalogue!r}")


def _users(args, login: str, password: str) -> dict[str, str]:
    """``--user LOGIN:PASSWORD`` (repeatable) as {login: password}; the demo user without it."""
    return dict(u.split(":", 1) for u in args.user) if args.user else {login: password}


def _etm_options(parser: argparse.ArgumentParser):
    parser.add_argument("--catalogue", default="demo",
                        help="'demo' (36 products) or a number of synthetic products")
    parser.add_argument("--session-ttl", type=float, default=7200, help="seconds (default 7200)")
    parser.add_argument("--user", action="append", metavar="LOGIN:PASSWORD",
                        help="accepted credentials, repeatable (default demo:demo)")
    parser.add_argument("--job-polls", type=int, default=2,
                        help="SgGds job polls before the file is ready (default 2)")


def _etm_build(args, common: dict) -> tuple[EtmEmulator, str]:
    size = _synthetic_size(args)
    catalogue = None if size is None else EtmEmulator.generate_catalogue(size)
    users = _users(args, "demo", "demo")
    emulator = EtmEmulator(catalogue=catalogue, users=users, session_ttl=args.session_ttl,
                           job_polls_until_done=args.job_polls, **common)
    login, password = next(iter(users.items()))
    return emulator, f"(login {login}/{password})"


def _shate_options(parser: argparse.ArgumentParser):
    parser.add_argument("--catalogue", default="demo",
                        help="'demo' (32 articles) or a number of synthetic articles")
    parser.add_argument("--seed", type=int, default=0, help="seed of a synthetic catalogue")
    parser.add_argument("--token-ttl", type=float, default=3600, help="seconds (default 3600)")
    parser.add_argument("--price-ttl", type=float, default=1800,
                        help="seconds a priceId stays valid (default 1800; 0 = until reprice)")
    parser.add_argument("--user", action="append", metavar="LOGIN:PASSWORD",
                        help=f"accepted credentials, repeatable (default "
                             f"{DEMO_LOGIN}:{DEMO_PASSWORD})")
    parser.add_argument("--api-key", action="append", metavar="KEY",
                        help=f"accepted ApiKey, repeatable (default {DEMO_API_KEY})")
    parser.add_argument("--price-limit-15min", type=int, default=2000,
                        help="price requests per 15 minutes (default 2000; 0 = off)")
    parser.add_argument("--price-limit-day", type=int, default=120_000,
                        help="price requests per day (default 120000; 0 = off)")
    parser.add_argument("--require-agreement-and-address", action="store_true",
                        help="prices/search answers [] without agreementCode and "
                             "deliveryAddressCode")
    parser.add_argument("--auto-progress", type=float, default=0, metavar="SECONDS",
                        help="advance every order item one status per SECONDS (0 = off)")


def _shate_build(args, common: dict) -> tuple[ShateEmulator, str]:
    size = _synthetic_size(args)
    catalogue = None if size is None else ShateEmulator.generate_catalogue(size, args.seed)
    users = _users(args, DEMO_LOGIN, DEMO_PASSWORD)
    login = next(iter(users))
    api_keys = {key: login for key in (args.api_key or [DEMO_API_KEY])}
    emulator = ShateEmulator(
        catalogue, users=users, api_keys=api_keys, token_ttl=args.token_ttl,
        price_ttl=args.price_ttl or None,
        price_requests_per_15min=args.price_limit_15min or None,
        price_requests_per_day=args.price_limit_day or None,
        require_agreement_and_address=args.require_agreement_and_address,
        auto_progress_seconds=args.auto_progress or None, **common)
    return emulator, f"(api key {next(iter(api_keys))}; login {login}/{users[login]})"


def _imsklad_options(parser: argparse.ArgumentParser):
    parser.add_argument("--catalogue", default="demo",
                        help="'demo' (7 goods) or a number of synthetic goods")
    parser.add_argument("--key", action="append", metavar="KEY",
                        help=f"accepted API key, repeatable (default {DEMO_KEY})")
    parser.add_argument("--callback-url", default=None,
                        help="where the warehouse calls the shop back (e.g. Odoo's route)")
    parser.add_argument("--callback-key", default=DEMO_CALLBACK_KEY,
                        help=f"endpoint key sent with the callbacks (default {DEMO_CALLBACK_KEY})")
    parser.add_argument("--unknown-stock-ids", choices=("omit", "error"), default="omit",
                        help="get_stock with an unknown id: leave it out (default) or answer 2")


def _imsklad_build(args, common: dict) -> tuple[ImskladEmulator, str]:
    size = _synthetic_size(args)
    goods = None if size is None else ImskladEmulator.generate_goods(size)
    keys = args.key or [DEMO_KEY]
    emulator = ImskladEmulator(goods, api_keys=keys, callback_url=args.callback_url,
                               callback_key=args.callback_key,
                               unknown_stock_ids=args.unknown_stock_ids, **common)
    return emulator, f"(api key {keys[0]}; callbacks to {args.callback_url or 'nowhere yet'})"


def _moysklad_options(parser: argparse.ArgumentParser):
    parser.add_argument("--catalogue", default="demo",
                        help="'demo' (30 products), 'empty' or a number of synthetic products")
    parser.add_argument("--counterparties", type=int, default=0,
                        help="synthetic counterparties added (part 2 benchmarks; default 0)")
    parser.add_argument("--user", action="append", metavar="LOGIN:PASSWORD",
                        help=f"accepted credentials, repeatable (default "
                             f"{MS_LOGIN}:{MS_PASSWORD})")
    parser.add_argument("--app-token", action="append", metavar="TOKEN",
                        help=f"accepted application token, repeatable (default {MS_APP_TOKEN})")
    parser.add_argument("--no-limits", action="store_true",
                        help="no 45/3 s window, parallel limit or lockout (benchmarks)")
    parser.add_argument("--free-plan", action="store_true",
                        help="the account is on the free plan: webhooks answer 30006")
    parser.add_argument("--user-weight", type=int, default=None,
                        help="units per login/password or user-token request "
                             "(default: the official 2026 schedule)")
    parser.add_argument("--lockout-seconds", type=float, default=3600,
                        help="how long the API stays switched off (default 3600)")
    parser.add_argument("--public-url", default=None,
                        help="base URL written in webhook bodies (default the emulator's)")


def _moysklad_build(args, common: dict) -> tuple[MoyskladEmulator, str]:
    if args.catalogue not in ("demo", "empty") and not args.catalogue.isdigit():
        raise SystemExit(f"--catalogue must be 'demo', 'empty' or a number, "
                         f"not {args.catalogue!r}")
    users = _users(args, MS_LOGIN, MS_PASSWORD)
    tokens = {token: f"app-{n}" for n, token in enumerate(args.app_token or [MS_APP_TOKEN], 1)}
    emulator = MoyskladEmulator(
        args.catalogue, counterparties=args.counterparties, users=users, app_tokens=tokens, limits_enabled=not args.no_limits,
        paid_plan=not args.free_plan, user_weight=args.user_weight,
        lockout_seconds=args.lockout_seconds, public_url=args.public_url, **common)
    login = next(iter(users))
    return emulator, f"(login {login}/{users[login]}; app token {next(iter(tokens))})"


def _udoma_options(parser: argparse.ArgumentParser):
    parser.add_argument("--catalogue", default="demo",
                        help="'demo' (two shops, four orders) or 'empty' (two shops, no orders)")
    parser.add_argument("--orders", type=int, default=0,
                        help="synthetic orders added over the last day (benchmarks; default 0)")
    parser.add_argument("--key", default=UDOMA_KEY, help=f"the API key (default {UDOMA_KEY})")
    parser.add_argument("--export-all-shops", action="store_true",
                        help="export-orders answers every shop's orders (the document's example)")
    parser.add_argument("--no-item-names", action="store_true",
                        help="error answers do not name the items concerned")


def _udoma_build(args, common: dict) -> tuple[UdomaEmulator, str]:
    if args.catalogue not in ("demo", "empty"):
        raise SystemExit(f"--catalogue must be 'demo' or 'empty', not {args.catalogue!r}")
    emulator = UdomaEmulator(api_key=args.key, demo=args.catalogue == "demo",
                             export_all_shops=args.export_all_shops,
                             name_items_in_errors=not args.no_item_names, **common)
    if args.orders:
        start = emulator.now() - timedelta(days=1)
        for order in UdomaEmulator.generate_orders(args.orders, start,
                                                   step_seconds=86400 / args.orders):
            emulator.add_order(order)
    return emulator, f"(api key {args.key}; shops {', '.join(emulator.shops)})"


# name → (default port, add options, build(args, common kwargs) → (emulator, banner suffix))
SERVICES = {
    "etm": (8801, _etm_options, _etm_build),
    "shate": (8802, _shate_options, _shate_build),
    "imsklad": (8803, _imsklad_options, _imsklad_build),
    "moysklad": (8804, _moysklad_options, _moysklad_build),
    "udoma": (8805, _udoma_options, _udoma_build),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulators",
                                     description="Local emulators of the supplier APIs.")
    subparsers = parser.add_subparsers(dest="service", required=True, metavar="SERVICE")
    for name, (port, add_options, _build) in SERVICES.items():
        sub = subparsers.add_parser(name, help=f"{name} emulator (default port {port})")
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=port)
        sub.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
        sub.add_argument("--rate-limit", type=float, default=0,
                         help="requests per second before 429 (0 = off)")
        add_options(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _port, _add, build = SERVICES[args.service]
    common = {"host": args.host, "port": args.port, "latency": args.latency,
              "rate_limit_per_second": args.rate_limit}
    emulator, suffix = build(args, common)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    emulator.start()
    url = getattr(emulator, "api_url", emulator.base_url)
    print(f"{args.service.upper()} emulator on {url} {suffix}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
