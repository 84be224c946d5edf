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
import TensorFlow: an import prints TensorFlow's start-up notices to stderr, which pytest shows
after its summary (four lines of noise in every `make test` log).
"""
import os


def pytest_configure(config):
    if getattr(config.option, "numprocesses", None) and "PYTEST_XDIST_WORKER" not in os.environ:
        return  # the xdist controller
    import tensorflow as tf
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
