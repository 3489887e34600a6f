# r2cnn: every target that runs Python goes through .venv (created by `make setup`).
VENV   := .venv
PYTHON := $(VENV)/bin/python

.PHONY: setup test demo package bench lint clean screenshots

# Idempotent; silent when nothing changed (scripts/setup.sh keeps a stamp keyed on pyproject.toml
# and constraints.txt).
setup:
	@scripts/setup.sh

test: setup
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest

demo: setup
	$(VENV)/bin/r2cnn demo

package: setup
	$(PYTHON) scripts/package_plugin.py

# docs/quicklook_qgis.png, the README's picture of the real QGIS window (needs Debian's qgis and xvfb).
screenshots: setup
	$(PYTHON) scripts/screenshots.py

bench: setup
	$(PYTHON) -m benchmarks.bench --repeat 2

# r2cnn detect-archive: scenes per hour, 1 worker x 2 threads vs 2 workers x 1 thread, overhead per scene
.PHONY: bench-archive
bench-archive: setup
	$(PYTHON) -m benchmarks.archive_bench

lint: setup
	$(VENV)/bin/ruff check engine benchmarks r2cnn_qgis tests scripts

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache r2cnn_qgis.zip
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
