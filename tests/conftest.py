"""Settings every test process shares (pytest loads this before the test modules).

Grappler, TensorFlow's graph optimizer, rewrites each new function graph before its first run.
The suite builds hundreds of one-shot graphs (a tiny model trained for a step or two, then
thrown away), so on 2 cores that rewriting was about a third of a training test's time: the
ablation command test took 99 s with it and 70 s without, back to back on one machine. The
rewrites may not change what a graph computes, and the tests check what it computes, so they
run without them. The package itself leaves Grappler on (this file is not part of it); commands
the tests start as subprocesses run with it as users do. The TFLite converter runs its own
Grappler pass whatever this says.

Under pytest-xdist the controller process only hands out tests and runs none, so it does not
import TensorFlow: the import prints TensorFlow's start-up notices to stderr, which pytest showed
after its summary in every `make test` log. A worker imports it here, as this file loads, where
pytest swallows those notices. Without xdist this process imports it at configure time, before
pytest captures anything, so the notices (INFO lines: the CPU instructions TensorFlow was not
built for) are silenced for that import by TF_CPP_MIN_LOG_LEVEL=1, unless the user set a level;
the variable is put back afterwards, so the commands the tests start see the user's environment.
"""
import os


def _grappler_off():
    unset = "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    if unset:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "1"  # read once, as TensorFlow's C++ logging starts
    try:
        import tensorflow as tf
    finally:
        if unset:
            del os.environ["TF_CPP_MIN_LOG_LEVEL"]
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


if "PYTEST_XDIST_WORKER" in os.environ:
    _grappler_off()


def pytest_configure(config):
    if not getattr(config.option, "numprocesses", None):  # no workers: this process runs tests
        _grappler_off()
