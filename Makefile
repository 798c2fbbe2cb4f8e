# Two commands do all the set-up on a fresh machine (Python 3.11 with venv and pip):
#   make demo   generate the embedded demo and run the whole pipeline on it
#   make test   run the test suite
# Both create .venv and install exactly the tested versions (constraints.txt) first.

VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.droogte-installed

.PHONY: demo test bench peers clean install

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	# The project's bytecode now (pip compiles what it installs, not an editable checkout): a
	# run then does not compile its modules again each time where PYTHONDONTWRITEBYTECODE is set.
	$(BIN)/python -m compileall -q pipelines models dashboards
	# numba compiles the indicators' and the allocation's kernels at their first call (about 16 s
	# of CPU) and keeps them beside their modules: one run of the demo in a temporary folder, with
	# a Prefect home of its own, compiles them now, so that no first run pays for it.
	@tmp=$$(mktemp -d) && echo "compiling the kernels: one run of the demo in $$tmp" && \
	  if env -u PREFECT_API_URL PREFECT_HOME=$$tmp/prefect $(BIN)/droogte demo --root $$tmp > $$tmp/log 2>&1; \
	  then rm -rf $$tmp; else tail -20 $$tmp/log; echo "the demo run failed (log above, kept in $$tmp/log); the kernels compile at the first run"; fi
	touch $@

demo: $(STAMP)
	$(BIN)/droogte demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_demo.py

# The peers for benchmarks/compare_peers.py: xclim and climate_indices in .venv (the [peers]
# extra), pywr in .venv-pywr (it requires pandas < 3; the project pins pandas 3).
peers: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,peers]"
	$(PYTHON) -m venv .venv-pywr
	.venv-pywr/bin/python -m pip install --quiet --upgrade "pip>=24"
	.venv-pywr/bin/python -m pip install --quiet -r benchmarks/pywr-requirements.txt

clean:
	rm -rf $(VENV) .venv-pywr data/raw/demo data/processed/demo dashboards/site dashboards/bulletins
