# `make demo` and `make test` each create the virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO ?= demo_out

.PHONY: venv test android-test demo clean

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The Python suite (tf.test.TestCase classes, collected by pytest) on two worker processes (most
# of a test's time is single-threaded graph building), then the Android demo's checks. A class
# runs whole on one worker (--dist loadscope): its setUpClass fixtures (trained or exported tiny
# models) and class-level caches are then built once, not once per worker that draws one of its
# tests.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest tests -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadscope
	$(MAKE) android-test

# JUnit tests of the app's Java core (golden vectors included) and the offline APK build; both
# install the Debian packages they need (as root) and fail loudly when they cannot.
android-test: $(STAMP)
	android_demo/test_jvm.sh
	PYTHON=$(abspath $(BIN))/python android_demo/build_offline.sh

# Synthetic data -> Baseline and DKD -> streaming PCK of both -> export + on-device-style stream.
demo: $(STAMP)
	$(BIN)/python -m dkd_tf.demo --out_dir $(DEMO)

clean:
	rm -rf $(DEMO) runs
