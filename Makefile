# The two commands a newcomer runs (see README):
#   make run    -- set up .venv on first use (what the CLI and the TUI need), then open the wizard
#   (make demo  -- the same, plus the local AWS emulator, then the live dashboard on it: no AWS account)
#   make test   -- set up .venv on first use (everything: the model server, CDK Terrain, test tools),
#                  then run every check: ruff, mypy, pytest
# Installs are reproducible: every Python dependency is pinned, the main job's in requirements.lock and
# everything the tests need in requirements-dev.lock (the same versions: requirements.lock and
# requirements-demo.lock are compiled under requirements-dev.lock as a constraint). Regenerate both with `make lock` after editing
# pyproject.toml.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# PyTorch is kept out of the lock: PyPI only carries the CUDA build (~2.5 GB of nvidia-* wheels).
# Where the machine image has a CPU wheel in /opt/wheels we use it; otherwise the PyPI build.
TORCH_VERSION := 2.13.0
TORCH_LOCAL := $(firstword $(wildcard /opt/wheels/torch-$(TORCH_VERSION)+cpu-*.whl))
TORCH_REQ := $(if $(TORCH_LOCAL),$(TORCH_LOCAL),torch==$(TORCH_VERSION))

.PHONY: run demo test lint typecheck pytest lock clean setup setup-dev setup-demo test-tools node mutation

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev
setup-demo: $(VENV)/.installed-demo

# --compile-bytecode (and compileall for this checkout's own packages): what pip does by default and
# uv does not. Where PYTHONDONTWRITEBYTECODE is set (CI, some shells) Python would otherwise compile
# every module again on every start: mlfargate-tui's first screen took 1.17 s instead of 0.48 s
# (benchmarks/RESULTS.md), and every test subprocess pays the same.
# The main job's environment: the CLI and the TUI. No torch, no model server, no CDK Terrain: none
# of them is imported by `mlfargate` or `mlfargate-tui` (a machine without a local CPU wheel would
# otherwise download the ~2.5 GB CUDA build of torch to open the wizard).
$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q mlfargate tui
	@touch $@

# Everything the checks need on top: the model server and its torch, CDK Terrain, the test tools.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install -q --python $(BIN)/python "$(TORCH_REQ)"
	@touch $@

# The main job: the wizard. With no $(SPEC) yet it starts at step 1 from the example's values; an
# existing one opens at the review step, errors and all. No AWS account is needed to get all the way
# to a generated, policy-checked workspace and its monthly cost (bundled prices).
SPEC ?= mlfargate.yaml
run: setup
	$(BIN)/mlfargate-tui $(SPEC)

# The demo: `mlfargate-tui --demo` starts moto_server (the `demo` extra, not in the main job's lock:
# it brings ~30 packages) on 127.0.0.1 and opens the dashboard on a service seeded like $(DEMO_SPEC),
# or a built-in Fargate service when it is empty.
DEMO_SPEC ?=
$(VENV)/.installed-demo: $(VENV)/.installed requirements-demo.lock
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements-demo.lock
	@touch $@

demo: setup-demo
	$(BIN)/mlfargate-tui --demo $(DEMO_SPEC)

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check mlfargate tui cdktf_app service tests benchmarks

typecheck: setup-dev
	$(BIN)/mypy

pytest: setup-dev test-tools
	$(BIN)/pytest

# CDK Terrain (the --format cdktf output and its tests) runs its core in Node.js: say so before
# anything else runs, rather than failing minutes into the suite.
node:
	@command -v node >/dev/null || { echo "error: make test needs Node.js 20+ on PATH (CDK Terrain, for --format cdktf and its tests); install it, e.g. apt-get install nodejs"; exit 1; }

# Real parts for tests/image: an OCI registry (Debian's docker-registry, distribution 2.8), a daemonless
# builder (buildah) and htpasswd (apache2-utils). Installed with apt-get when one is missing (CI runs as
# root on Debian; sudo -n otherwise); where there is no apt-get, tests/image skips and says why.
IMAGE_TEST_PACKAGES := buildah docker-registry apache2-utils
test-tools:
	@if command -v buildah >/dev/null && command -v docker-registry >/dev/null && command -v htpasswd >/dev/null; then \
	  exit 0; \
	elif ! command -v apt-get >/dev/null; then \
	  echo "note: no apt-get: install $(IMAGE_TEST_PACKAGES) yourself, or tests/image skips"; \
	else \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; log=$$(mktemp); \
	  echo "installing $(IMAGE_TEST_PACKAGES) for tests/image (apt-get)"; \
	  if ! { $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	         && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	              $(IMAGE_TEST_PACKAGES); } >"$$log" 2>&1; then \
	    cat "$$log"; rm -f "$$log"; \
	    echo "error: apt-get could not install $(IMAGE_TEST_PACKAGES) (needs root or passwordless sudo)"; exit 1; \
	  fi; \
	  rm -f "$$log"; \
	fi

test: node lint typecheck pytest

# Mutation testing of the modules that guard users (issue 21): slow (minutes per target, CPU-bound), so
# not part of `make test`. Runs each target of benchmarks/mutation.py one at a time with at most
# $(MUTATION_CHILDREN) mutants at once and rewrites the "Mutation testing" section of
# benchmarks/RESULTS.md: the score per target and every surviving mutant, justified or not.
#   make mutation                                   every target
#   make mutation MUTATION_TARGETS="spec-rules"     some of them (the others keep their last results)
MUTATION_TARGETS ?=
MUTATION_CHILDREN ?= 2
mutation: setup-dev
	$(BIN)/python benchmarks/mutation.py --max-children $(MUTATION_CHILDREN) $(MUTATION_TARGETS)

LOCK_FLAGS := --python-version 3.11 --python-platform x86_64-manylinux_2_35 -q
lock:
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q uv==$(UV_VERSION); }
	$(BIN)/uv pip compile pyproject.toml --extra cdktf --extra service --extra dev $(LOCK_FLAGS) \
	  -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml -c requirements-dev.lock $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra demo -c requirements-dev.lock $(LOCK_FLAGS) \
	  -o requirements-demo.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .mutation
