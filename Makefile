# Two commands do everything: `make demo` (run the default scenario) and `make test`.
# Each creates the virtual environment with Python >= 3.12 and installs the project when needed.

VENV := .venv
BIN := $(VENV)/bin
# The first Python 3.12+ found: on PATH, then pyenv's versions, then the usual places.
PYTHON ?= $(shell for p in python3.12 python3.13 $$HOME/.pyenv/versions/3.12*/bin/python3.12 \
	$$HOME/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

.PHONY: demo test test-all lint bench viz validate clean-venv

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 or newer not found; install it or run make PYTHON=/path/to/python3.12" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,salib,ema,app]'
	@touch $@

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
	rm -rf $(VENV)
