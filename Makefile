# Thin wrappers over uv. Every target installs what it needs first, so a fresh clone needs
# nothing but Python 3.11+ and the network to PyPI.
SHELL := /bin/bash
PYTHON ?= python3
# uv must use the machine's Python: it cannot download interpreters here.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif

.PHONY: setup run test bench lint format clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $@

setup: .venv/.synced

run: setup ## master a generated sample and print the report
	$(UV) run --frozen soundry demo

test: setup ## the whole suite
	$(UV) run --frozen pytest

bench: setup ## benchmarks against peers; writes benchmarks/results/*.json
	$(UV) run --frozen python -m benchmarks

lint: setup
	$(UV) run --frozen ruff check src tests benchmarks
	$(UV) run --frozen ruff format --check src tests benchmarks
	$(UV) run --frozen mypy

format: setup
	$(UV) run --frozen ruff format src tests benchmarks
	$(UV) run --frozen ruff check --fix src tests benchmarks

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache benchmarks/results
