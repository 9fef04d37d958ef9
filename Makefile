# lx -- the two commands of the README are `make shell` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.lx-installed
NATIVE := $(wildcard native/*.c native/*.h native/*.py native/*.pyx native/stub/*.c)

.PHONY: all deps venv shell test test-fast bench compat abi check-generated clean

all: venv

deps:
	@tools/deps.sh

$(STAMP): pyproject.toml setup.py $(NATIVE)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

venv: deps $(STAMP)

# The main job: a shell under lx.
shell: venv
	@$(VENV)/bin/lx run

# The whole suite (slow tests included), as CI runs it.
test: venv
	@$(PY) -m pytest -q

# Everything but the slow distribution tests.
test-fast: venv
	@$(PY) -m pytest -q -m 'not slow'

bench: venv
	@$(PY) -m pytest bench -o 'python_files=bench_*.py' --benchmark-only -q

# Regenerate the generated files (the tests fail while they are stale).
compat: venv
	@$(PY) -m syscalls.gen_nr
	@$(PY) -m lx syscalls --format md > docs/compat.md
	@$(PY) -m lx syscalls --format csv > docs/compat.csv

abi: venv
	@$(PY) -m syscalls.gen_abi

clean:
	rm -rf $(VENV) build *.egg-info lx/native/*.so lx/native/_lxfast.c native/decode.c
