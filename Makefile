# Quick start: `make demo`, `make test`. Both create .venv with Python 3.10 first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
NMC   := $(VENV)/bin/nmc
LOCK  := requirements.lock

# Python 3.10 exactly (lava-nc 0.10.0 supports no other): $PYTHON310, python3.10, or pyenv's.
PY310 := $(shell for c in "$$PYTHON310" python3.10 $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python; do \
	[ -n "$$c" ] && command -v "$$c" >/dev/null 2>&1 && \
	"$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && \
	{ command -v "$$c"; break; }; done)

.PHONY: demo test bench clean lock

# Installs exactly the versions in $(LOCK) (every transitive dependency, pip and setuptools
# included), then nmcompile itself without resolving anything: a fresh clone installs today
# what it installed when the lock was written. `make lock` refreshes the lock deliberately.
$(VENV)/.installed: pyproject.toml $(LOCK)
	@if [ -z "$(PY310)" ]; then \
	  echo "error: nmcompile needs Python 3.10 (lava-nc 0.10.0 supports only 3.10)." >&2; \
	  echo "       Install it (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10." >&2; \
	  exit 1; fi
	@echo "creating $(VENV) with $(PY310) from $(LOCK)"
	@rm -rf $(VENV)
	$(PY310) -m venv $(VENV)
	$(PY) -m pip install -q --no-deps -r $(LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $@

# Resolve pyproject.toml's ranges afresh in a scratch venv and write every installed version.
lock:
	@if [ -z "$(PY310)" ]; then echo "error: make lock needs Python 3.10" >&2; exit 1; fi
	@rm -rf .lock-venv
	$(PY310) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip setuptools
	.lock-venv/bin/python -m pip install -q '.[test,bench]'
	{ echo "# Every package make installs, transitive ones included: Python 3.10, Linux x86_64."; \
	  echo "# Written by 'make lock' on $$(date -u +%Y-%m-%d); edit pyproject.toml, then run it again."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude nmcompile; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	@rm -rf .lock-venv build
	@echo "wrote $(LOCK)"

test: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider

DEMO := examples/wta.yaml

demo: $(VENV)/.installed
	@mkdir -p out
	$(NMC) info $(DEMO)
	$(NMC) compile $(DEMO) --target loihi2 -o out/wta.nmc --report
	@for b in brian2 lava lava-fixed emulator emulator-float; do \
	  $(NMC) run $(DEMO) --backend $$b -q -o out/wta.$$b.npz || exit 1; done
	$(NMC) run out/wta.nmc --backend emulator -q --plot out/wta.raster.png
	$(NMC) parity $(DEMO) --backends brian2,lava,emulator-float,lava-fixed,emulator

# Every benchmark with its defaults, peers (Brian2, Lava, NEST) in the same run: about 40 min
# and 15 GiB at most on 2 cores, most of it the full-scale microcircuit (benchmarks/README.md).
bench: $(VENV)/.installed
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) "$$b" || exit 1; done

clean:
	rm -rf $(VENV) .lock-venv build out *.egg-info .hypothesis
