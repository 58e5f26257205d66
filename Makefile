# The verbs of this project. Every target sets up what it needs first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BUF_VERSION := 1.75.0
BUF    := .tools/node_modules/.bin/buf
PROTOS := $(wildcard protos/rooms/v1/*.proto)
GEN_DIR := client/src

.PHONY: help venv run test test-fast test-citus gen check-gen lint buf-lint buf-breaking tools dist key clean bench bench-big bench-delivery h2load

help:
	@echo "make run        serve (embedded PostgreSQL unless ROOMS_DATABASE_URL is set)"
	@echo "make test       run the whole test suite on a real PostgreSQL"
	@echo "make test-fast  unit, contract and integration tests only"
	@echo "make test-citus the end-to-end suite on a 3-node Citus cluster on this machine"
	@echo "make gen        regenerate the client stubs from protos/"
	@echo "make check-gen  fail if regenerating changes anything"
	@echo "make lint       ruff, mypy --strict, the layer contracts, buf lint, buf breaking"
	@echo "make tools      buf into .tools/ (docs/guides/api.md's buf curl session uses it)"
	@echo "make dist       build the wheels and sdists of rooms-client and rooms-service into dist/"
	@echo "make key TENANT=acme NAME=billing   create an API key"
	@echo "make bench      benchmark a real server and database with h2load (writes docs/performance.md)"
	@echo "make bench-big  the same, plus AuthorizeJoin and GetRoom at 1,000,000 rooms"
	@echo "make bench-delivery  webhook delivery throughput and lag"

$(STAMP): pyproject.toml client/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	ROOMS_CLIENT_REQUIREMENT=rooms-client \
	  $(PY) -m pip install --quiet -e './client[cli,typing]' -e '.[dev]'
	@touch $@

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m service

# Two processes (pytest-xdist), each module's tests in one of them; each process has
# its own stock cluster (or embedded server). On one server named by
# ROOMS_TEST_DATABASE_URL, one process: the two together would pass the suite's budget
# of 60 connections. TEST_WORKERS=0: one process.
TEST_WORKERS ?= $(if $(ROOMS_TEST_DATABASE_URL),0,2)
test: $(STAMP)
	$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

# Unit, contract and integration tests: no server processes, no Janus, no examples. A
# feature's pure rules live in its folder as test_rules_*.py (tests/seats/test_rules_capacity.py).
FAST_TESTS := tests/unit tests/contract tests/integration \
  $(filter-out tests/unit/%,$(wildcard tests/*/test_rules_*.py))
test-fast: $(STAMP)
	$(PY) -m pytest $(FAST_TESTS) $(PYTEST_ARGS)

# The end-to-end suite on a real Citus cluster: a coordinator and two workers started
# here (support/citus.py), Citus built by ../shared/citus/build.sh (or
# $ROOMS_CITUS_SOURCE/build.sh) when missing; one line and a skip when neither is here.
# Fails on any server error logged. docs/scaling.md says what runs and what does not.
CITUS_TESTS ?= tests/citus tests/rooms tests/participants tests/admission tests/seats \
  tests/waiting_room tests/events tests/webhooks tests/credentials tests/livekit tests/calendar \
  tests/tenants tests/security tests/client tests/cli tests/server tests/examples tests/hostile \
  tests/fuzz tests/docs tests/contract tests/integration tests/operations tests/janus \
  tests/resilience/test_delivery_failover.py \
  --ignore-glob='*/test_rules_*.py' --ignore=tests/docs/test_readme.py --ignore=tests/docs/test_links.py

test-citus: $(STAMP)
	@$(PY) -m support.citus run -- $(PY) -m pytest -p tests.citus.errors $(CITUS_TESTS) $(PYTEST_ARGS)

# Benchmarks: a real server on loopback, a fresh database (dropped afterwards), load
# from h2load (Debian's nghttp2-client, installed here if missing) and, where every call
# needs another body, a Python generator; results go into docs/performance.md.
BENCH_ARGS ?=
h2load:
	@command -v h2load >/dev/null 2>&1 || { \
	  echo "installing h2load (Debian package nghttp2-client)"; \
	  apt-get install -y nghttp2-client || { apt-get update && apt-get install -y nghttp2-client; }; }

bench: $(STAMP) h2load
	$(PY) -m bench --write-doc docs/performance.md $(BENCH_ARGS)

bench-big: $(STAMP) h2load
	$(PY) -m bench --scale both --write-doc docs/performance.md $(BENCH_ARGS)

# Webhook delivery: events per second delivered and lag (p50, p99) to a local receiver.
bench-delivery: $(STAMP)
	$(PY) -m bench.delivery $(BENCH_ARGS)

key: $(STAMP)
	$(PY) -m service keys create --tenant "$(TENANT)" --name "$(NAME)"

gen: $(STAMP)
	rm -f $(GEN_DIR)/rooms/v1/*_pb2*.py $(GEN_DIR)/rooms/v1/*_pb2*.pyi
	$(PY) -m grpc_tools.protoc -Iprotos \
	  --plugin=protoc-gen-mypy=$(VENV)/bin/protoc-gen-mypy \
	  --plugin=protoc-gen-mypy_grpc=$(VENV)/bin/protoc-gen-mypy_grpc \
	  --python_out=$(GEN_DIR) --grpc_python_out=$(GEN_DIR) \
	  --mypy_out=$(GEN_DIR) --mypy_grpc_out=$(GEN_DIR) \
	  $(PROTOS)

check-gen: gen
	@git add -N $(GEN_DIR) && git diff --exit-code --stat -- $(GEN_DIR) \
	  || (echo "generated code is stale: run 'make gen' and commit" && exit 1)

$(BUF):
	npm install --silent --no-audit --no-fund --prefix .tools @bufbuild/buf@$(BUF_VERSION)

tools: $(BUF)

buf-lint: $(BUF)
	$(BUF) lint

# rooms.v1 never breaks its clients: compare with the image recorded from the last
# released contract. Refresh it (make buf-baseline, a commit of its own) only after
# `make buf-breaking` passes against the old one: it then records additions that have
# shipped (new services and fields), never a break.
BASELINE := protos/baseline/rooms-v1.binpb
buf-breaking: $(BUF)
	$(BUF) breaking protos --against $(BASELINE)

buf-baseline: $(BUF)
	$(BUF) build protos -o $(BASELINE)

# Each sdist, then its wheel built from that sdist (so the server's wheel depends on
# rooms-client by version). Install with: pip install --find-links dist rooms-service
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist ./client
	$(PY) -m build --outdir dist .

lint: $(STAMP) buf-lint buf-breaking
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
