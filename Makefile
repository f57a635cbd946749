# Two commands on a fresh machine: `make demo` (install + main job) and `make test` (install + tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint chromium bench-serving bench-index-recall bench-baselines bench-data-scale bench-migration bench-interest-scale bench-next-category bench-trends bench-durability bench-fuzz bench-ope bench-online clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch==2.13.0 is pinned in pyproject.toml: pip takes the CPU build lying on this machine's disk.
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Headless browser for PNG export of Plotly figures (Kaleido) and browser tests; installed once if missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

demo: $(STAMP)
	$(BIN)/driftrec demo --out runs/demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: $(STAMP) chromium lint
	$(BIN)/pytest -q -m "not slow"

test-all: $(STAMP) chromium lint
	$(BIN)/pytest -q

bench-baselines: $(STAMP)
	$(BIN)/python benchmarks/baselines.py

bench-data-scale: $(STAMP)
	$(BIN)/python benchmarks/data_scale.py

bench-migration: $(STAMP) chromium
	$(BIN)/python benchmarks/migration.py

bench-interest-scale: $(STAMP)
	$(BIN)/python benchmarks/interest_scale.py

bench-next-category: $(STAMP)
	$(BIN)/python benchmarks/next_category.py

bench-trends: $(STAMP)
	$(BIN)/python benchmarks/trends.py
	$(BIN)/python benchmarks/trends.py --hierarchy

bench-ope: $(STAMP)
	$(BIN)/python benchmarks/ope_vs_obp.py

bench-online: $(STAMP)
	$(BIN)/python benchmarks/online_policies.py

bench-durability: $(STAMP)
	$(BIN)/python benchmarks/durability.py

bench-fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py

# Load on the serving API (wrk from Debian if present, else the package's asyncio client) and ANN recall.
bench-serving: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk) || true
	$(BIN)/python benchmarks/serving_load.py

bench-index-recall: $(STAMP)
	$(BIN)/python benchmarks/index_recall.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
