# Quick start: `make demo`, `make test`. Both create .venv with Python 3.10 first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
NMC   := $(VENV)/bin/nmc

# Python 3.10 exactly (lava-nc 0.10.0 supports no other): $PYTHON310, python3.10, or pyenv's.
PY310 := $(shell for c in "$$PYTHON310" python3.10 $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python; do \
	[ -n "$$c" ] && command -v "$$c" >/dev/null 2>&1 && \
	"$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && \
	{ command -v "$$c"; break; }; done)

.PHONY: demo test bench clean

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PY310)" ]; then \
	  echo "error: nmcompile needs Python 3.10 (lava-nc 0.10.0 supports only 3.10)." >&2; \
	  echo "       Install it (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10." >&2; \
	  exit 1; fi
	@echo "creating $(VENV) with $(PY310)"
	@rm -rf $(VENV)
	$(PY310) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider

DEMO := examples/wta.yaml

demo: $(VENV)/.installed
	@mkdir -p out
	$(NMC) info $(DEMO)
	$(NMC) compile $(DEMO) --target loihi2 -o out/wta.nmc --report
	@for b in brian2 lava lava-fixed emulator; do \
	  $(NMC) run $(DEMO) --backend $$b -q -o out/wta.$$b.npz || exit 1; done
	$(NMC) run out/wta.nmc --backend emulator -q --plot out/wta.raster.png
	$(NMC) parity $(DEMO)

bench: $(VENV)/.installed
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) "$$b" || exit 1; done

clean:
	rm -rf $(VENV) build out *.egg-info .hypothesis
