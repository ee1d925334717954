# Entry points: `make run`, `make quick` (the edit-test loop, under a minute), `make test` (lint and
# every test) and `make lint`. All create .venv and install on first use, and are quick once
# installed (the stamp file is newer than pyproject.toml).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CPU wheel of torch; installed first so that no dependency resolves to a CUDA build.
TORCH_SPEC ?= torch==2.13.0
PORT ?= 8501

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run quick test lint format bench clean chromium

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "$(TORCH_SPEC)"
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

chromium:
	@bash scripts/ensure-chromium

# Lint, then the tests not marked slow (subprocesses, SIGKILL, torchrun, corpus subprocesses)
# or browser (Chromium); see the markers in pyproject.toml.
quick: $(STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -m "not slow and not browser"

test: lint chromium
	$(PY) -m pytest

# Style (ruff), then the layering contracts of pyproject.toml's [tool.importlinter] (import-linter).
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: $(STAMP)
	$(PY) benchmarks/load_speed.py
	$(PY) benchmarks/train_speed.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache artifacts
