# Two commands do all set-up on a fresh machine:
#   make demo   install, then run the main job end to end
#   make test   install, then run the test suite (what CI runs)
# "install" = the system packages of system-packages.txt (installed with apt-get when run as
# root, else the exact apt-get line to run is printed and set-up goes on), then the venv.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  ?= torch==2.13.0
OUT    ?= outputs/demo
PYTEST_ARGS ?= -m "not slow"
# the one list of system (apt) packages; '#' starts a comment
SYSTEM_PACKAGES_FILE ?= system-packages.txt
SYSTEM_PACKAGES := $(strip $(shell sed -e 's/\#.*//' $(SYSTEM_PACKAGES_FILE) 2>/dev/null))
APT_INSTALL := apt-get install -y --no-install-recommends

.PHONY: install system-packages demo test test-all bench clean

# Quiet and fast (one dpkg-query per package) when everything is installed already.
system-packages: $(SYSTEM_PACKAGES_FILE)
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "make: no dpkg-query (not Debian/Ubuntu): install the equivalents of: $(SYSTEM_PACKAGES)"; \
	  echo "make: (Open3D needs them; tests that need Open3D skip without them)"; \
	  exit 0; \
	fi; \
	missing=""; \
	for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${db:Status-Abbrev}\n' "$$p" 2>/dev/null | grep -q '^.i' || missing="$$missing $$p"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make: installing system packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && $(APT_INSTALL) -qq $$missing >/dev/null; \
	else \
	  echo "make: system packages missing:$$missing"; \
	  echo "make: (Open3D needs them; tests that need Open3D skip without them). Install them as root:"; \
	  echo "  sudo apt-get update && sudo $(APT_INSTALL)$$missing"; \
	fi

$(VENV)/.installed: pyproject.toml | system-packages
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# CPU torch first (local wheel), so the range in pyproject.toml installs nothing more.
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q $(TORCH)
	$(PIP) install -q -e ".[all]"
	touch $@

install: system-packages $(VENV)/.installed

demo: install
	$(PY) tools/demo.py --out $(OUT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-all: install
	$(PY) -m pytest -m ""

bench: install
	$(PY) tools/bench/bench_mocap.py

clean:
	rm -rf $(VENV) outputs .pytest_cache
