#!/usr/bin/env bash
# `make bench`: reproducible benchmarks against the emulators.
#
#   1. PostgreSQL, Odoo 18 source, virtualenv, addon link (as for `make test`);
#   2. database $BENCH_DB (default sc_bench) dropped and created again with supplier_connector
#      WITHOUT demo data (log: .build/bench-install.log);
#   3. python -m bench.etm_pull --db $BENCH_DB --sizes $BENCH_SIZES (default 1000,10000), run from
#      the repository root with odoo importable (PYTHONPATH=$ODOO_SRC) and ODOO_RC pointing at
#      .build/odoo.conf (addons path, data dir). Extra arguments are passed on to bench.etm_pull.
#
# The database is kept afterwards for inspection; the next run recreates it.
# Environment: BENCH_DB, BENCH_SIZES, ODOO_SRC, VENV, PYTHON, PGUSER (see scripts/lib.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

BENCH_DB="${BENCH_DB:-sc_bench}"
BENCH_SIZES="${BENCH_SIZES:-1000,10000}"
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

[ -f "$REPO_ROOT/bench/etm_pull.py" ] || die "bench/etm_pull.py not found"
log "running bench.etm_pull --db $BENCH_DB --sizes $BENCH_SIZES $*"
export PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}"
export ODOO_RC="$ODOO_CONF" ODOO_SRC ADDONS_PATH
exec "$VENV/bin/python" -m bench.etm_pull --db "$BENCH_DB" --sizes "$BENCH_SIZES" \
    --odoo-src "$ODOO_SRC" --addons-path "$ADDONS_PATH" "$@"
