# Two commands on a fresh machine with Python 3.11 and make: `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench bench-map bench-whatif sample clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m zoning demo

test: $(VENV)/.installed
	$(PY) -m ruff check zoning tests bench tools
	$(PY) -m ruff format --check zoning tests bench tools
	$(PY) -m mypy
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) bench/run.py

bench-whatif: $(VENV)/.installed
	$(PY) bench/whatif_bench.py --sizes sample,100000

bench-map: $(VENV)/.installed
	$(PY) bench/map_bench.py --sizes sample,50000 --decimals 6,5

sample: $(VENV)/.installed
	$(PY) -m zoning sample --out data/sample_county.gpkg

clean:
	rm -rf $(VENV) out
