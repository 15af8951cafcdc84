# Support Autopilot: `make demo` runs the main job on the embedded default; `make test` runs the whole suite.
# Both work on a fresh machine: they create the virtualenv and install everything (no downloads but packages).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: demo test install dev system-deps llm-server lint eval-banking77 eval-safety eval-answers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch==2.13.0 first: the machine's CPU build. An unpinned torch would pull gigabytes of CUDA.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev

# Real services for the suite, from Debian: PostgreSQL (the suite starts a throwaway cluster itself), chromium for the
# playground's browser test, Node for Stoplight Prism (Intercom contract tests, installed under ~/.cache by npm).
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $$missing; fi
	bash ci/install-prism.sh

demo: install
	$(BIN)/autopilot ingest
	$(BIN)/autopilot demo

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The local OpenAI-compatible server for the LLM integration tests: llama-cpp-python built once into a cached wheel
# (~/.cache/support-autopilot/wheels, about 10 minutes on 2 cores the first time), serving SmolLM2-135M-Instruct.
llm-server: dev
	bash ci/install-llm-server.sh $(VENV)

test: dev system-deps llm-server lint
	$(BIN)/pytest -q

eval-banking77: install
	$(BIN)/autopilot eval banking77

eval-safety: install
	$(BIN)/autopilot eval safety

eval-answers: install
	$(BIN)/autopilot eval answers

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
