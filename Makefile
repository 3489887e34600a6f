# r2cnn: every target that runs Python goes through .venv (created by `make setup`).
VENV   := .venv
PYTHON := $(VENV)/bin/python

.PHONY: setup test demo package bench lint clean

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

bench: setup
	$(PYTHON) -m benchmarks.bench --repeat 2

lint: setup
	$(VENV)/bin/ruff check engine benchmarks r2cnn_qgis tests scripts

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache r2cnn_qgis.zip
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
