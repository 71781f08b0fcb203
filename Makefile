# supplier_connector - developer commands. All the logic lives in scripts/*.sh.
# Environment: ODOO_SRC (default /opt/odoo/18.0), VENV (default /opt/odoo/venv),
#              DEMO_DB (default supplier_demo), PORT (default 8069). See README.md.

.PHONY: help demo test lint bench clean

help:
	@echo "make demo   - PostgreSQL + database $${DEMO_DB:-supplier_demo} with demo data + ETM emulator + Odoo on http://localhost:$${PORT:-8069}"
	@echo "make test   - ruff, pure-Python tests (pytest) and Odoo integration tests; ends with 'N passed, M failed'"
	@echo "make lint   - ruff check . and pylint-odoo on the addon"
	@echo "make bench  - benchmarks against the emulators: ETM, Shate-M, IMSKLAD (database sc_bench; BENCH_ONLY=imsklad picks one)"
	@echo "make clean  - remove .build/ (databases are not touched)"

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

lint:
	bash scripts/lint.sh

bench:
	bash scripts/bench.sh

clean:
	rm -rf .build
