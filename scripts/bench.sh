#!/usr/bin/env bash
# `make bench`: reproducible benchmarks against the emulators.
#
#   1. PostgreSQL, Odoo 18 source, virtualenv, addon link (as for `make test`);
#   2. database $BENCH_DB (default sc_bench) dropped and created again with supplier_connector
#      WITHOUT demo data (log: .build/bench-install.log);
#   3. the benchmarks named in $BENCH_ONLY (default etm,shate,imsklad,moysklad,udoma,moysklad_orders),
#      one after the other, run from the repository root with odoo importable (PYTHONPATH=$ODOO_SRC) and ODOO_RC pointing
#      at .build/odoo.conf (addons path, data dir):
#        etm      python -m bench.etm_pull   --sizes $BENCH_SIZES (default 1000,10000)
#        shate    python -m bench.shate_pull --sizes $BENCH_SIZES
#        imsklad  python -m bench.imsklad    --goods $IMSKLAD_GOODS (default 10000)
#                                            --calls $IMSKLAD_CALLS (default 1000)
#        moysklad python -m bench.moysklad   --products $MOYSKLAD_PRODUCTS (default 100000)
#                                            --push $MOYSKLAD_PUSH (default 10000)
#        udoma    python -m bench.udoma      --products $UDOMA_PRODUCTS (default 10000)
#                                            --orders $UDOMA_ORDERS (default 1000)
#        moysklad_orders   python -m bench.moysklad_orders   --orders $MOYSKLAD_ORDERS (default 1000)
#        moysklad_partners python -m bench.moysklad_partners --counterparties $MOYSKLAD_COUNTERPARTIES
#                                                            (default 10000)
#      moysklad_partners is not in the default list: its first pull of 10,000 counterparties alone
#      takes about 11 minutes on 2 shared cores (BENCH_ONLY=moysklad_partners runs it).
#      Extra arguments go to the benchmark when BENCH_ONLY names one, e.g.
#        BENCH_ONLY=imsklad make bench                      (just IMSKLAD)
#        BENCH_ONLY=imsklad bash scripts/bench.sh --parts callbacks --calls 200
#        BENCH_ONLY=moysklad_orders MOYSKLAD_ORDERS=20 make bench   (the smallest useful run)
#      A benchmark that fails does not stop the next one; the exit status is 1 if any failed.
#
# The database is kept afterwards for inspection; the next run recreates it.
# Environment: BENCH_DB, BENCH_ONLY, BENCH_SIZES, IMSKLAD_GOODS, IMSKLAD_CALLS, MOYSKLAD_PRODUCTS,
# MOYSKLAD_PUSH, UDOMA_PRODUCTS, UDOMA_ORDERS, MOYSKLAD_ORDERS, MOYSKLAD_COUNTERPARTIES, ODOO_SRC,
# VENV, PYTHON, PGUSER (see scripts/lib.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

BENCH_DB="${BENCH_DB:-sc_bench}"
BENCH_SIZES="${BENCH_SIZES:-1000,10000}"
BENCH_ONLY="${BENCH_ONLY:-etm,shate,imsklad,moysklad,udoma,moysklad_orders}"
IMSKLAD_GOODS="${IMSKLAD_GOODS:-10000}"
IMSKLAD_CALLS="${IMSKLAD_CALLS:-1000}"
MOYSKLAD_PRODUCTS="${MOYSKLAD_PRODUCTS:-100000}"
MOYSKLAD_PUSH="${MOYSKLAD_PUSH:-10000}"
UDOMA_PRODUCTS="${UDOMA_PRODUCTS:-10000}"
UDOMA_ORDERS="${UDOMA_ORDERS:-1000}"
MOYSKLAD_ORDERS="${MOYSKLAD_ORDERS:-1000}"
MOYSKLAD_COUNTERPARTIES="${MOYSKLAD_COUNTERPARTIES:-10000}"
KNOWN_BENCHES="etm, shate, imsklad, moysklad, udoma, moysklad_orders, moysklad_partners"
IFS=',' read -r -a BENCHES <<<"$BENCH_ONLY"
for bench in "${BENCHES[@]}"; do
    case "$bench" in
        etm | shate | imsklad | moysklad | udoma | moysklad_orders | moysklad_partners) ;;
        *) die "BENCH_ONLY: unknown benchmark '$bench' ($KNOWN_BENCHES)" ;;
    esac
done
if [ $# -gt 0 ] && [ ${#BENCHES[@]} -ne 1 ]; then
    die "extra arguments ($*) need one benchmark: set BENCH_ONLY to one of $KNOWN_BENCHES"
fi
INSTALL_LOG="$BUILD_DIR/bench-install.log"

ensure_postgres
ensure_odoo_src
ensure_venv
ensure_addons_link

log "(re)creating database $BENCH_DB with supplier_connector, without demo data (log: ${INSTALL_LOG#"$REPO_ROOT"/})"
drop_db "$BENCH_DB"
if ! odoo_bin -d "$BENCH_DB" -i supplier_connector --without-demo=all --stop-after-init --no-http \
    --max-cron-threads=0 --log-level=warn >"$INSTALL_LOG" 2>&1 </dev/null; then
    tail -n 60 "$INSTALL_LOG" >&2
    die "installing supplier_connector in $BENCH_DB failed (full log: ${INSTALL_LOG#"$REPO_ROOT"/})"
fi

export PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}"
export ODOO_RC="$ODOO_CONF" ODOO_SRC ADDONS_PATH
failed=()
for bench in "${BENCHES[@]}"; do
    case "$bench" in
        etm) cmd=(bench.etm_pull --sizes "$BENCH_SIZES") ;;
        shate) cmd=(bench.shate_pull --sizes "$BENCH_SIZES") ;;
        imsklad) cmd=(bench.imsklad --goods "$IMSKLAD_GOODS" --calls "$IMSKLAD_CALLS") ;;
        moysklad) cmd=(bench.moysklad --products "$MOYSKLAD_PRODUCTS" --push "$MOYSKLAD_PUSH") ;;
        udoma) cmd=(bench.udoma --products "$UDOMA_PRODUCTS" --orders "$UDOMA_ORDERS") ;;
        moysklad_orders) cmd=(bench.moysklad_orders --orders "$MOYSKLAD_ORDERS") ;;
        moysklad_partners) cmd=(bench.moysklad_partners --counterparties "$MOYSKLAD_COUNTERPARTIES") ;;
    esac
    log "running ${cmd[*]} --db $BENCH_DB $*"
    "$VENV/bin/python" -m "${cmd[@]}" --db "$BENCH_DB" --odoo-src "$ODOO_SRC" \
        --addons-path "$ADDONS_PATH" "$@" || failed+=("$bench")
done
if [ ${#failed[@]} -gt 0 ]; then
    die "benchmark(s) failed: ${failed[*]}"
fi
log "benchmarks done: ${BENCHES[*]} (reports in bench/results/)"
