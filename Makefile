# Two commands do all set-up on a fresh machine:
#   make demo   install, then run the main job end to end
#   make test   install, then run the test suite (what CI runs)
# "install" = the system packages of system-packages.txt (installed with apt-get when run as
# root, else the exact apt-get line to run is printed and set-up goes on), then the venv.
VENV   ?= .venv
# the Python that makes the venv
PYTHON3 ?= python3
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  ?= torch==2.13.0
OUT    ?= outputs/demo
PYTEST_ARGS ?= -m "not slow"
# the one list of system (apt) packages; '#' starts a comment
SYSTEM_PACKAGES_FILE ?= system-packages.txt
SYSTEM_PACKAGES := $(strip $(shell sed -e 's/\#.*//' $(SYSTEM_PACKAGES_FILE) 2>/dev/null))
APT_INSTALL := apt-get install -y --no-install-recommends
# Python's venv module, as the list names it
VENV_PACKAGE := $(filter %-venv,$(SYSTEM_PACKAGES))

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

# Debian's python3 makes a venv without pip (and fails) when its venv package is missing: remove
# that half-made venv, so that the next run makes it again, and say what to install. A venv left
# without pip (by an older make) gets pip from ensurepip once that package is there.
# pip --prefer-binary: fpsample >= 1.0 is a source release only (needs a C++ compiler); its last
# wheels (0.3.x) satisfy the range, so a machine without compilers installs everything.
NO_VENV_MODULE = echo "make: motion3d needs Python >= 3.10 with its venv module (ensurepip); on"; \
  echo "make: Debian/Ubuntu that is the package $(VENV_PACKAGE). Install it as root, then run make again:"; \
  echo "  sudo apt-get update && sudo $(APT_INSTALL) $(VENV_PACKAGE)"
$(VENV)/.installed: pyproject.toml | system-packages
	@if ! test -x $(PY); then \
	  echo "$(PYTHON3) -m venv $(VENV)"; \
	  $(PYTHON3) -m venv $(VENV) || { rm -rf $(VENV); echo "make: '$(PYTHON3) -m venv' failed (see above)."; \
	    $(NO_VENV_MODULE); exit 1; }; \
	elif ! $(PIP) --version >/dev/null 2>&1; then \
	  echo "$(PY) -m ensurepip  # $(VENV) has no pip"; \
	  $(PY) -m ensurepip >/dev/null || { echo "make: $(VENV) has no pip and ensurepip failed (or remove $(VENV))."; \
	    $(NO_VENV_MODULE); exit 1; }; \
	fi
	$(PIP) install -q --upgrade pip
	# CPU torch first (local wheel), so the range in pyproject.toml installs nothing more.
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q $(TORCH)
	$(PIP) install -q --prefer-binary -e ".[all]"
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
