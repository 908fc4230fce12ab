# make dev   - set up .venv, make sample data, start dagster dev on http://127.0.0.1:3000
#              and the mesh catalog on http://127.0.0.1:3001
# make test  - set up .venv, check the house style (ruff), run the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export MESH_DATA_DIR ?= $(CURDIR)/data
SCALE ?= 0.01
PORT ?= 3000
export MESH_UI_URL ?= http://127.0.0.1:$(PORT)
# The mesh catalog (product pages, mesh map, discovery API) runs beside the Dagster UI.
CATALOG_PORT ?= 3001
export MESH_CATALOG_URL ?= http://127.0.0.1:$(CATALOG_PORT)
# The risk domain buys ratings from a provider's HTTP API; `make dev` runs a local stand-in.
RATINGS_PORT ?= 8765
export RATINGS_API_URL ?= http://127.0.0.1:$(RATINGS_PORT)
export RATINGS_API_KEY ?= dev-ratings-key

.PHONY: dev test lint venv seed prepare validate clean bench

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

seed: venv
	$(BIN)/mesh seed --scale $(SCALE) --if-missing

prepare: venv
	$(BIN)/mesh prepare

validate: venv
	$(BIN)/mesh validate

# The dev instance's config is checked in (run queue, schedules, sensors, automation, freshness);
# DAGSTER_HOME keeps only runtime state.
$(DAGSTER_HOME)/dagster.yaml: dagster_home/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	@if [ -s $@ ] && ! grep -q "^# The development Dagster instance" $@; then \
		echo "keeping $@: it was not copied from $< (delete it to use the checked-in config)"; touch $@; \
	else cp $< $@; fi

# The local ratings provider runs in the background for as long as dagster dev does.
dev: venv seed prepare $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python domains/risk/ratings_provider.py --host 127.0.0.1 --port $(RATINGS_PORT) & provider=$$!; \
	$(BIN)/mesh catalog serve --host 127.0.0.1 --port $(CATALOG_PORT) & catalog=$$!; \
	trap 'kill $$provider $$catalog 2>/dev/null' EXIT INT TERM; \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

# House style ([tool.ruff] in pyproject.toml): `ruff format .` fixes the layout.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Two workers: most tests wait on dbt, Dagster or a server in a subprocess, so the second core
# halves the wall time. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: venv lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

# Benchmarks (not part of make test): contract checks vs hand-written DuckDB SQL at BENCH_ROWS
# rows (1M and 10M; add 100000000 on demand: its table is ~3.4 GB in bench/.data, git-ignored);
# platform overhead (mesh materialize vs bare dbt build at scale 1 and 10), one day's
# incremental run vs a full refresh at scale 1, code-location load time and peak RSS (each
# example domain and a generated 50-product / 500-model domain). BENCH_REPEAT runs per figure.
BENCH_REPEAT ?= 5
BENCH_ROWS ?= 1000000 10000000
bench: venv
	$(BIN)/python bench/contract_checks.py --rows $(BENCH_ROWS) --repeat $(BENCH_REPEAT)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/platform_overhead.py --floors --repeat $(BENCH_REPEAT) --json bench/.data/platform.json

clean:
	rm -rf $(VENV) data .dagster_home dbt_projects/*/target dbt_projects/*/logs
