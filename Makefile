# Two entry points, as in the README: `make edition` and `make test`.
# Both set up a virtual environment in .venv on first use; `make test` also installs the
# Debian packages the tests use (chromium for the browser tests, epubcheck and jing) when
# they are missing and the machine lets us (root with apt-get).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEBIAN_PACKAGES := chromium epubcheck jing

.PHONY: edition test validate schema system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

edition: $(STAMP)
	$(BIN)/edition build

validate: $(STAMP)
	$(BIN)/edition validate

schema: $(STAMP)
	$(BIN)/edition schema

system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	[ -f /usr/share/java/epubcheck.jar ] || missing="$$missing epubcheck"; \
	command -v jing >/dev/null || missing="$$missing jing"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "please install these Debian packages first:$$missing (sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

test: $(STAMP) system-deps
	$(BIN)/python -m pytest

clean:
	rm -rf build
