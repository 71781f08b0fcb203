#!/usr/bin/env bash
# `make lint`: ruff on the whole repository, then pylint-odoo's Odoo checks ("odoolint") on the
# addon as Odoo sees it ($ADDONS_DIR/supplier_connector, see scripts/lib.sh). Exit status is non-zero if either fails.
# Ruff config: .ruff.toml. Pylint config: scripts/pylintrc.
# Environment: ODOO_SRC, VENV, PYTHON (see scripts/lib.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

if ensure_odoo_src soft >/dev/null 2>&1; then
    ensure_venv
    export PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}"  # lets astroid resolve `odoo` imports
fi
PY="$(pure_python "import ruff, pylint_odoo")" || die "no Python with ruff + pylint-odoo"
BIN="$(dirname "$PY")"
ensure_addons_link

status=0
banner "ruff check ."
"$BIN/ruff" check . || status=1  # configuration: .ruff.toml

banner "pylint --load-plugins=pylint_odoo -d all -e odoolint supplier_connector"
(cd "$ADDONS_DIR" && "$BIN/pylint" --rcfile="$REPO_ROOT/scripts/pylintrc" \
    -d missing-readme supplier_connector) || status=1

if [ "$status" = 0 ]; then log "lint: ok"; else log "lint: FAILED"; fi
exit "$status"
