# Two commands do everything: `make demo` (run the default scenario) and `make test`.
# Each creates the virtual environment with Python >= 3.12 and installs the project when needed,
# with the exact versions (and hashes) of requirements.lock, so every fresh clone tests the same
# packages. `make lock` refreshes the lock; `make test-latest` tests the newest versions that
# pyproject.toml allows, in .venv-latest, so that upstream drift is seen before a lock refresh.

VENV := .venv
comma := ,
BIN := $(VENV)/bin
# The first Python 3.12+ found: on PATH, then pyenv's versions, then the usual places.
PYTHON ?= $(shell for p in python3.12 python3.13 $$HOME/.pyenv/versions/3.12*/bin/python3.12 \
	$$HOME/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

.PHONY: demo test test-all test-latest lock lint bench viz validate clean-venv

EXTRAS := dev,dask,salib,ema,app,osm
LOCK := requirements.lock
FIND_PYTHON = @test -n "$(PYTHON)" || { echo "error: Python 3.12 or newer not found; install it or run make PYTHON=/path/to/python3.12" >&2; exit 2; }

$(BIN)/.installed: pyproject.toml $(LOCK)
	$(FIND_PYTHON)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	@touch $@

# The lock: every package of every extra at an exact version with its hashes, for any platform.
lock: $(BIN)/.installed
	$(BIN)/uv pip compile pyproject.toml $(foreach e,$(subst $(comma), ,$(EXTRAS)),--extra $(e)) \
		--universal --python-version 3.12 --generate-hashes --quiet -o $(LOCK)
	@echo "refreshed $(LOCK); run make test (it reinstalls from the lock)"

# The newest versions pyproject.toml allows, in a separate environment (the lock is not used).
test-latest:
	$(FIND_PYTHON)
	@test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[$(EXTRAS)]'
	.venv-latest/bin/python -m pip list --format=freeze | grep -iE '^(mesa|numpy|numba|scipy|networkx|pyarrow|matplotlib)=='
	.venv-latest/bin/python -m pytest -q -m "not slow" -n auto --dist worksteal

demo: $(BIN)/.installed
	$(BIN)/python run.py run scenarios/default.toml

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m "not slow" -n auto --dist worksteal

test-all: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n auto --dist worksteal

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

viz: $(BIN)/.installed
	$(BIN)/python run.py viz

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

# The validation report (results/validation/report.md): every analytic and pattern check at
# full size; exit status 1 if any fails. make validate WORKERS=N to change the processes.
WORKERS ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)
validate: $(BIN)/.installed
	$(BIN)/python run.py validate --workers $(WORKERS)

clean-venv:
	rm -rf $(VENV) .venv-latest
