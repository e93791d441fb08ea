# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# test processes for `make test` (pytest-xdist): one per CPU; the cluster and fault tests
# still run one at a time (tests/conftest.py)
TEST_PROCESSES ?= auto

.PHONY: install run test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench,dev]"
	touch $@

install: $(BIN)/.installed

run: install  ## install, migrate and serve on http://127.0.0.1:8000 (data in ./shutterbox-data)
	$(BIN)/shutterbox serve

test: install  ## every test: unit, contract, API and end-to-end
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadgroup

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: install  ## benchmarks; results go to docs/benchmarks.md
	$(BIN)/python -m bench.upload_latency
	$(BIN)/python -m bench.variants
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.scaled
	$(BIN)/python -m bench.edge
	$(BIN)/python -m bench.media
	$(BIN)/python -m bench.feed
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.resumable
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.migration_plan

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
