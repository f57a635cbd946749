# Two commands on a fresh machine: `make demo` (install + main job) and `make test` (install + tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench-baselines bench-data-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch==2.13.0 is pinned in pyproject.toml: pip takes the CPU build lying on this machine's disk.
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/driftrec demo --out runs/demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/pytest -q -m "not slow"

test-all: $(STAMP) lint
	$(BIN)/pytest -q

bench-baselines: $(STAMP)
	$(BIN)/python benchmarks/baselines.py

bench-data-scale: $(STAMP)
	$(BIN)/python benchmarks/data_scale.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
