# Two commands do all set-up on a fresh machine:
#   make demo   install, then run the main job end to end
#   make test   install, then run the test suite (what CI runs)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  ?= torch==2.13.0
OUT    ?= outputs/demo
PYTEST_ARGS ?= -m "not slow"

.PHONY: install demo test test-all bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# CPU torch first (local wheel), so the range in pyproject.toml installs nothing more.
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q $(TORCH)
	$(PIP) install -q -e ".[all]"
	touch $@

install: $(VENV)/.installed

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
