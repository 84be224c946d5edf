"""Settings every test process shares (pytest loads this before the test modules).

Grappler, TensorFlow's graph optimizer, rewrites each new function graph before its first run.
The suite builds hundreds of one-shot graphs (a tiny model trained for a step or two, then
thrown away), so on 2 cores that rewriting was about a third of a training test's time: the
ablation command test took 99 s with it and 70 s without, back to back on one machine. The
rewrites may not change what a graph computes, and the tests check what it computes, so they
run without them. The package itself leaves Grappler on (this file is not part of it); commands
the tests start as subprocesses run with it as users do. The TFLite converter runs its own
Grappler pass whatever this says.
"""
import tensorflow as tf

tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
