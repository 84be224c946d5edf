# `make demo` and `make test` each create the virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO ?= demo_out

.PHONY: venv test demo clean

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The Python suite (tf.test.TestCase classes, collected by pytest).
test: $(STAMP)
	$(BIN)/python -m pytest tests -q -p no:cacheprovider

# Synthetic data -> Baseline and DKD -> streaming PCK of both -> export + on-device-style stream.
demo: $(STAMP)
	$(BIN)/python -m dkd_tf.demo --out_dir $(DEMO)

clean:
	rm -rf $(DEMO) runs
