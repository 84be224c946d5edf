"""The benchmark: multiply-adds per op (by hand and against TensorFlow's own op statistics),
parameters per graph, the per-frame mean, latency bookkeeping, and the CLI on a flagfile and on
an exported TFLite pair. No timing thresholds: speed targets are the benchmark's output."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from dkd_tf import bench, benchmark
from export import graphs as graphs_lib
from export import tflite
from tests.helpers import make_model_dir, tiny_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = 64


def _concrete(fn, *specs):
    return tf.function(fn, input_signature=list(specs), autograph=False).get_concrete_function()


class OpMacsTest(tf.test.TestCase):

    def test_hand_computed_counts(self):
        x = tf.TensorSpec([1, 16, 16, 8], tf.float32)
        w = tf.random.normal([3, 3, 8, 4])
        conv = _concrete(lambda a: tf.nn.conv2d(a, w, 1, "SAME"), x)
        self.assertEqual(benchmark.graph_macs(conv), 16 * 16 * 4 * 3 * 3 * 8)
        strided = _concrete(lambda a: tf.nn.conv2d(a, w, 2, "VALID"), x)
        self.assertEqual(benchmark.graph_macs(strided), 7 * 7 * 4 * 3 * 3 * 8)

        dw = tf.random.normal([5, 5, 8, 1])
        depthwise = _concrete(lambda a: tf.nn.depthwise_conv2d(a, dw, [1, 1, 1, 1], "SAME"), x)
        self.assertEqual(benchmark.graph_macs(depthwise), 16 * 16 * 8 * 5 * 5)

        # Transposed conv 4x4 / 2, 8 -> 6 channels, 16x16 -> 32x32: every input value meets the
        # whole kernel once = 32 * 32 * 6 outputs x (4 * 4 / 2**2 taps) x 8 channels.
        tw = tf.random.normal([4, 4, 6, 8])
        deconv = _concrete(lambda a: tf.nn.conv2d_transpose(a, tw, [1, 32, 32, 6], 2, "SAME"), x)
        self.assertEqual(benchmark.graph_macs(deconv), 16 * 16 * 8 * 4 * 4 * 6)
        self.assertEqual(benchmark.graph_macs(deconv), 32 * 32 * 6 * 4 * 8)

        m = tf.random.normal([7, 2])
        matmul = _concrete(lambda a: tf.matmul(a, m), tf.TensorSpec([3, 7], tf.float32))
        self.assertEqual(benchmark.graph_macs(matmul), 3 * 2 * 7)
        matmul_t = _concrete(lambda a: tf.matmul(a, m, transpose_a=True),
                             tf.TensorSpec([7, 3], tf.float32))
        self.assertEqual(benchmark.graph_macs(matmul_t), 3 * 2 * 7)

    def test_elementwise_ops_cost_nothing(self):
        fn = _concrete(lambda a: tf.nn.relu(a * 2.0 + 1.0), tf.TensorSpec([1, 8, 8, 4]))
        self.assertEqual(benchmark.graph_macs(fn), 0)

    def test_dynamic_shape_is_a_clear_error(self):
        w = tf.random.normal([3, 3, 3, 4])
        fn = _concrete(lambda a: tf.nn.conv2d(a, w, 1, "SAME"),
                       tf.TensorSpec([None, None, None, 3], tf.float32))
        with self.assertRaisesRegex(ValueError, "dynamic shape"):
            benchmark.graph_macs(fn)

    def test_dkd_graphs_agree_with_tensorflows_op_statistics(self):
        """Every linear op of both DKD graphs (convs, the dynamic depthwise, the deconvs): our
        count x 2 equals the flops TensorFlow registers for the op (its profiler's source)."""
        model = tiny_model()
        graphs = graphs_lib.build_graphs(model, SIZE)
        seen = set()
        for name in ("initializer", "stepper"):
            fn = graphs.function(name).get_concrete_function()
            frozen = convert_variables_to_constants_v2(fn)
            for op in frozen.graph.get_operations():
                if op.type not in benchmark.LINEAR_OPS:
                    continue
                seen.add(op.type)
                expected = tf_ops.get_stats_for_node_def(frozen.graph, op.node_def, "flops").value
                self.assertEqual(2 * benchmark.op_macs(op), int(expected), op.name)
        self.assertEqual(seen, {"Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput"})


class GraphCostTest(tf.test.TestCase):

    def test_params_are_those_of_the_networks_each_graph_runs(self):
        model = tiny_model()
        costs = benchmark.graph_costs(graphs_lib.build_graphs(model, SIZE))
        p, f = model.initializer.count_params(), model.encoder.count_params()
        phi, match = model.distillator.count_params(), model.matcher.count_params()
        self.assertEqual(costs["initializer"].params, p + f + phi)
        self.assertEqual(costs["stepper"].params, f + match + phi)

    def test_stepper_is_cheaper_and_single_frame_graphs_equal(self):
        dkd = benchmark.graph_costs(graphs_lib.build_graphs(
            tiny_model(initializer_width=16), SIZE))
        self.assertLess(dkd["stepper"].macs, dkd["initializer"].macs)
        self.assertGreater(dkd["stepper"].macs, 0)
        base = benchmark.graph_costs(graphs_lib.build_graphs(tiny_model("baseline"), SIZE))
        self.assertEqual(base["stepper"].macs, base["initializer"].macs)
        self.assertEqual(base["stepper"].params, base["initializer"].params)

    def test_macs_grow_with_the_input_area(self):
        model = tiny_model()
        small = benchmark.graph_costs(graphs_lib.build_graphs(model, SIZE))
        large = benchmark.graph_costs(graphs_lib.build_graphs(model, 2 * SIZE))
        # Every linear op of P, F and Phi works on maps whose area scales with the input (Phi's
        # resize to S x S comes after its convs) and the kernels stay S x S: exactly 4x.
        for name in ("initializer", "stepper"):
            self.assertEqual(large[name].macs, 4 * small[name].macs, name)

    def test_per_frame_mean(self):
        self.assertEqual(benchmark.per_frame_macs(100, 10, 1), 100)
        self.assertEqual(benchmark.per_frame_macs(100, 10, 10), (100 + 9 * 10) / 10)
        with self.assertRaises(ValueError):
            benchmark.per_frame_macs(100, 10, 0)

    def test_time_graphs_carries_the_state_and_counts_runs(self):
        calls = []

        def initialize(frame):
            self.assertEqual(frame.shape, (4, 4, 3))
            return np.zeros(1)

        def step(frame, state):
            calls.append(float(state[0]))
            return state + 1

        lat = benchmark.time_graphs(initialize, step, (4, 4, 3), runs=5, warmup=1)
        self.assertEqual(lat["initializer"]["runs"], 5)
        self.assertEqual(lat["stepper"]["runs"], 5)
        self.assertEqual(calls, [0.0, 0.0, 1.0, 2.0, 3.0, 4.0])  # warmup, then a carried chain
        self.assertGreaterEqual(lat["stepper"]["p90_ms"], lat["stepper"]["median_ms"])


class BenchRunTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="dkd_bench_test_")
        cls.model_dir = make_model_dir(os.path.join(cls.root, "model"))
        cls.export_dir = os.path.join(cls.root, "export")
        tflite.export_tflite(cls.model_dir, cls.export_dir, "none", log=lambda *_: None)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_tflite_export_is_timed_with_the_keras_graphs_cost(self):
        model, cfg, source = bench.load_or_build(None, self.model_dir)
        self.assertIn("trained model", source)
        keras_out = bench.benchmark(model, cfg, SIZE, "keras", runs=3, warmup=1, video_length=10)
        lite_out = bench.benchmark(model, cfg, SIZE, "tflite", self.export_dir, runs=3, warmup=1,
                                   video_length=10)
        for name in ("initializer", "stepper"):
            self.assertEqual(lite_out["graphs"][name]["macs"], keras_out["graphs"][name]["macs"])
            self.assertEqual(lite_out["graphs"][name]["latency"]["runs"], 3)
            size = os.path.getsize(os.path.join(self.export_dir, f"{name}.tflite"))
            self.assertAlmostEqual(lite_out["graphs"][name]["file_mb"], size / 2 ** 20, places=3)
        self.assertIn("tflite", lite_out["runtime"])
        init, step = (keras_out["graphs"][g]["macs"] for g in ("initializer", "stepper"))
        self.assertAlmostEqual(keras_out["per_frame_gmacs"], (init + 9 * step) / 10 / 1e9,
                               places=4)

    def test_export_of_another_input_size_is_refused(self):
        model, cfg, _ = bench.load_or_build(None, self.model_dir)
        with self.assertRaisesRegex(bench.BenchError, "the export takes state"):
            bench.benchmark(model, cfg, 2 * SIZE, "tflite", self.export_dir, runs=1, warmup=0)
        with self.assertRaisesRegex(bench.BenchError, "--export_dir"):
            bench.benchmark(model, cfg, SIZE, "onnx", "", runs=1, warmup=0)

    def test_cli_on_a_flagfile_builds_the_untrained_architecture(self):
        out_json = os.path.join(self.root, "bench.json")
        model_dir = os.path.join(self.root, "not_trained")
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.bench", "--flagfile=configs/synthetic.flags",
             f"--model_dir={model_dir}", "--input_size=64", "--initializer_width=8",
             "--encoder_width=8", "--deconv_filters=16", "--kernel_channels=8", "--runs=2",
             "--warmup=1", "--video_length=5", f"--out_json={out_json}"],
            cwd=REPO, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("architecture from the flags (random weights)", proc.stdout)
        self.assertIn("per frame over a 5-frame video", proc.stdout)
        self.assertFalse(os.path.exists(model_dir))  # benchmarking writes no model dir
        with open(out_json) as f:
            out = json.load(f)
        self.assertEqual(out["input_size"], 64)
        self.assertEqual(out["model"]["kernel_channels"], 8)
        init, step = out["graphs"]["initializer"], out["graphs"]["stepper"]
        self.assertEqual(init["latency"]["runs"], 2)
        self.assertLess(step["macs"], init["macs"])
        self.assertAlmostEqual(out["per_frame_gmacs"], (init["macs"] + 4 * step["macs"]) / 5e9,
                               places=4)
        self.assertGreater(out["peak_rss_mb"], 0)


if __name__ == "__main__":
    tf.test.main()
