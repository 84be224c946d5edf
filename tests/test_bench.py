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

from dkd_tf.benchmarks import measure
from dkd_tf.benchmarks import costs, stepper_parts
from dkd_tf.evaluation import speed_accuracy
from dkd_tf.core import tflite_graphs
from dkd_tf.serving import graphs as graphs_lib
from tests.helpers import shared_export, tiny_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = 64


def _concrete(fn, *specs):
    return tf.function(fn, input_signature=list(specs), autograph=False).get_concrete_function()


# A peer model the tests write themselves: conv 3x3 stride 2, 3 -> 8 channels, and an int32
# second input (peers are fed inputs of their own shapes and dtypes).
PEER_MACS = 32 * 32 * 8 * 3 * 3 * 3


def write_peer(path) -> str:
    w = tf.constant(np.random.default_rng(0).standard_normal((3, 3, 3, 8)).astype(np.float32))
    fn = _concrete(lambda x, n: tf.nn.relu(tf.nn.conv2d(x, w, 2, "SAME")) + tf.cast(
        tf.reduce_sum(n), tf.float32), tf.TensorSpec([1, 64, 64, 3], tf.float32, name="image"),
        tf.TensorSpec([2], tf.int32, name="count"))
    with open(path, "wb") as f:
        f.write(tflite_graphs.convert_function(fn))
    return path


def _pck_doc(mean_person, mean_torso):
    """The fields of a dkd_tf.evaluate pck.json row that the plot reads."""
    return {"joint_set": "penn_action", "person": {"mean": mean_person},
            "torso": {"mean": mean_torso}}


class OpMacsTest(tf.test.TestCase):

    def test_hand_computed_counts(self):
        x = tf.TensorSpec([1, 16, 16, 8], tf.float32)
        w = tf.random.normal([3, 3, 8, 4])
        conv = _concrete(lambda a: tf.nn.conv2d(a, w, 1, "SAME"), x)
        self.assertEqual(costs.graph_macs(conv), 16 * 16 * 4 * 3 * 3 * 8)
        strided = _concrete(lambda a: tf.nn.conv2d(a, w, 2, "VALID"), x)
        self.assertEqual(costs.graph_macs(strided), 7 * 7 * 4 * 3 * 3 * 8)

        dw = tf.random.normal([5, 5, 8, 1])
        depthwise = _concrete(lambda a: tf.nn.depthwise_conv2d(a, dw, [1, 1, 1, 1], "SAME"), x)
        self.assertEqual(costs.graph_macs(depthwise), 16 * 16 * 8 * 5 * 5)

        # Transposed conv 4x4 / 2, 8 -> 6 channels, 16x16 -> 32x32: every input value meets the
        # whole kernel once = 32 * 32 * 6 outputs x (4 * 4 / 2**2 taps) x 8 channels.
        tw = tf.random.normal([4, 4, 6, 8])
        deconv = _concrete(lambda a: tf.nn.conv2d_transpose(a, tw, [1, 32, 32, 6], 2, "SAME"), x)
        self.assertEqual(costs.graph_macs(deconv), 16 * 16 * 8 * 4 * 4 * 6)
        self.assertEqual(costs.graph_macs(deconv), 32 * 32 * 6 * 4 * 8)

        m = tf.random.normal([7, 2])
        matmul = _concrete(lambda a: tf.matmul(a, m), tf.TensorSpec([3, 7], tf.float32))
        self.assertEqual(costs.graph_macs(matmul), 3 * 2 * 7)
        matmul_t = _concrete(lambda a: tf.matmul(a, m, transpose_a=True),
                             tf.TensorSpec([7, 3], tf.float32))
        self.assertEqual(costs.graph_macs(matmul_t), 3 * 2 * 7)

    def test_elementwise_ops_cost_nothing(self):
        fn = _concrete(lambda a: tf.nn.relu(a * 2.0 + 1.0), tf.TensorSpec([1, 8, 8, 4]))
        self.assertEqual(costs.graph_macs(fn), 0)

    def test_dynamic_shape_is_a_clear_error(self):
        w = tf.random.normal([3, 3, 3, 4])
        fn = _concrete(lambda a: tf.nn.conv2d(a, w, 1, "SAME"),
                       tf.TensorSpec([None, None, None, 3], tf.float32))
        with self.assertRaisesRegex(ValueError, "dynamic shape"):
            costs.graph_macs(fn)

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
                if op.type not in costs.LINEAR_OPS:
                    continue
                seen.add(op.type)
                expected = tf_ops.get_stats_for_node_def(frozen.graph, op.node_def, "flops").value
                self.assertEqual(2 * costs.op_macs(op), int(expected), op.name)
        self.assertEqual(seen, {"Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput"})


class GraphCostTest(tf.test.TestCase):

    def test_params_are_those_of_the_networks_each_graph_runs(self):
        model = tiny_model()
        by_graph = costs.graph_costs(graphs_lib.build_graphs(model, SIZE))
        p, f = model.initializer.count_params(), model.encoder.count_params()
        phi, match = model.distillator.count_params(), model.matcher.count_params()
        self.assertEqual(by_graph["initializer"].params, p + f + phi)
        self.assertEqual(by_graph["stepper"].params, f + match + phi)

    def test_stepper_is_cheaper_and_single_frame_graphs_equal(self):
        dkd = costs.graph_costs(graphs_lib.build_graphs(
            tiny_model(initializer_width=16), SIZE))
        self.assertLess(dkd["stepper"].macs, dkd["initializer"].macs)
        self.assertGreater(dkd["stepper"].macs, 0)
        base = costs.graph_costs(graphs_lib.build_graphs(tiny_model("baseline"), SIZE))
        self.assertEqual(base["stepper"].macs, base["initializer"].macs)
        self.assertEqual(base["stepper"].params, base["initializer"].params)

    def test_macs_grow_with_the_input_area(self):
        model = tiny_model()
        small = costs.graph_costs(graphs_lib.build_graphs(model, SIZE))
        large = costs.graph_costs(graphs_lib.build_graphs(model, 2 * SIZE))
        # Every linear op of P, F and Phi works on maps whose area scales with the input (Phi's
        # resize to S x S comes after its convs) and the kernels stay S x S: exactly 4x.
        for name in ("initializer", "stepper"):
            self.assertEqual(large[name].macs, 4 * small[name].macs, name)

    def test_per_frame_mean(self):
        self.assertEqual(costs.per_frame_macs(100, 10, 1), 100)
        self.assertEqual(costs.per_frame_macs(100, 10, 10), (100 + 9 * 10) / 10)
        with self.assertRaises(ValueError):
            costs.per_frame_macs(100, 10, 0)

    def test_time_graphs_carries_the_state_and_counts_runs(self):
        calls = []

        def initialize(frame):
            self.assertEqual(frame.shape, (4, 4, 3))
            return np.zeros(1)

        def step(frame, state):
            calls.append(float(state[0]))
            return state + 1

        lat = costs.time_graphs(initialize, step, (4, 4, 3), runs=5, warmup=1)
        self.assertEqual(lat["initializer"]["runs"], 5)
        self.assertEqual(lat["stepper"]["runs"], 5)
        # The first step starts from an initializer state, then each is fed its previous one.
        self.assertEqual(calls, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
        self.assertGreaterEqual(lat["stepper"]["p90_ms"], lat["stepper"]["median_ms"])

    def test_interleaved_rounds_call_every_graph_once_in_rotating_order(self):
        order = []
        callables = {n: (lambda n=n: order.append(n)) for n in "abc"}
        lat = costs.time_interleaved(callables, runs=3, warmup=1)
        self.assertEqual("".join(order), "abc" + "abc" + "bca" + "cab")
        self.assertEqual({n: s["runs"] for n, s in lat.items()}, {"a": 3, "b": 3, "c": 3})

    def test_gflops(self):
        self.assertAlmostEqual(costs.gflops(5e8, 10.0), 100.0)
        self.assertIsNone(costs.gflops(5e8, None))


class TFLiteGraphTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.get_temp_dir()

    def test_peer_is_fed_random_inputs_of_its_own_shapes_and_counted(self):
        graph = tflite_graphs.TFLiteGraph(write_peer(os.path.join(self.dir, "peer.tflite")))
        graph()
        self.assertEqual(graph.name, "peer.tflite")
        self.assertEqual(graph.macs, PEER_MACS)
        self.assertEqual(sorted((i["shape"], i["dtype"]) for i in graph.inputs),
                         [([1, 64, 64, 3], "float32"), ([2], "int32")])

    def test_tflite_op_counts_agree_with_the_keras_graph_counts(self):
        for m, k, n in ((4, 8, 16), (1, 32, 3)):
            content, _ = tflite_graphs.matmul_peak_graph(m, k, n)
            self.assertEqual(tflite_graphs.TFLiteGraph(content, "mm").macs, m * k * n)
        x = tf.TensorSpec([1, 8, 8, 6], tf.float32)
        tw = tf.constant(np.ones((4, 4, 5, 6), np.float32))
        deconv = _concrete(lambda a: tf.nn.conv2d_transpose(a, tw, [1, 16, 16, 5], 2, "SAME"), x)
        dw = tf.constant(np.ones((3, 3, 6, 1), np.float32))
        depthwise = _concrete(lambda a: tf.nn.depthwise_conv2d(a, dw, [1] * 4, "SAME"), x)
        for fn in (deconv, depthwise):
            lite = tflite_graphs.TFLiteGraph(tflite_graphs.convert_function(fn))
            self.assertEqual(lite.macs, costs.graph_macs(fn))

    def test_missing_and_unloadable_files_are_clear_errors(self):
        with self.assertRaisesRegex(tflite_graphs.TFLiteFileError, "nope.tflite: no such"):
            tflite_graphs.TFLiteGraph(os.path.join(self.dir, "nope.tflite"))
        bad = os.path.join(self.dir, "bad.tflite")
        with open(bad, "wb") as f:
            f.write(b"not a flatbuffer" * 10)
        with self.assertRaisesRegex(tflite_graphs.TFLiteFileError, "bad.tflite: LiteRT cannot"):
            tflite_graphs.TFLiteGraph(bad)


class StepperPartsTest(tf.test.TestCase):

    def test_the_parts_compute_the_stepper_and_add_up_to_its_cost(self):
        model = tiny_model()
        graphs = graphs_lib.build_graphs(model, SIZE)
        parts = stepper_parts.stepper_parts(model, SIZE)
        self.assertEqual(tuple(p.name for p in parts), stepper_parts.PART_NAMES)
        rng = np.random.default_rng(0)
        frame = rng.uniform(0, 255, graphs.frame_shape).astype(np.float32)
        state = rng.standard_normal(graphs.state_shape).astype(np.float32)
        heatmaps, next_state = stepper_parts.run_parts(parts, frame, state)
        want = graphs.step(frame, state)
        self.assertAllClose(heatmaps, want["heatmaps"], atol=1e-5)
        self.assertAllClose(next_state, want["state"], atol=1e-5)
        macs = [costs.graph_macs(p.concrete()) for p in parts]
        self.assertTrue(all(m > 0 for m in macs))
        self.assertEqual(sum(macs), costs.graph_costs(graphs)["stepper"].macs)

    def test_single_frame_and_lstm_variants_have_no_parts(self):
        for variant in ("baseline", "w_lstm"):
            with self.assertRaisesRegex(stepper_parts.PartsUnavailable, variant):
                stepper_parts.stepper_parts(tiny_model(variant), SIZE)


class BenchRunTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="dkd_bench_test_")
        cls.model_dir, cls.export_dir = shared_export()  # also tests/test_stream.py's
        cls.peer = write_peer(os.path.join(cls.root, "peer.tflite"))

    def test_peers_parts_peak_and_onnx_beside_in_one_loop(self):
        model, cfg, _ = measure.load_or_build(None, self.model_dir)
        out = measure.benchmark(model, cfg, SIZE, "tflite", self.export_dir, runs=3, warmup=1,
                              num_threads=1, peers=[self.peer, self.peer], parts=True,
                              peak=True, beside=True, peak_shape=(8, 64, 32), name="tiny")
        self.assertEqual(out["name"], "tiny")
        step = out["graphs"]["stepper"]
        self.assertLen(out["peers"], 2)
        for peer in out["peers"]:
            self.assertEqual(peer["macs"], PEER_MACS)
            self.assertEqual(peer["latency"]["runs"], 3)
            # (the JSON's latencies are rounded to microseconds)
            self.assertAllClose(peer["stepper_to_peer"], step["latency"]["median_ms"]
                                / peer["latency"]["median_ms"], rtol=0.05)
        self.assertEqual(out["fp32_peak"]["macs"], 8 * 64 * 32)
        self.assertAllClose(step["of_peak"], step["gflops"] / out["fp32_peak"]["gflops"],
                            rtol=0.05)
        parts = out["parts"]
        self.assertEqual([r["part"] for r in parts["rows"]], list(stepper_parts.PART_NAMES))
        self.assertEqual(parts["sum_macs"], step["macs"])
        self.assertEqual(parts["stepper_macs"], step["macs"])
        self.assertAlmostEqual(sum(r["share_of_time"] for r in parts["rows"]), 1.0, places=2)
        self.assertAlmostEqual(sum(r["share_of_macs"] for r in parts["rows"]), 1.0, places=2)
        self.assertEqual(out["beside"]["backend"], "onnx")
        self.assertIn("onnx", out["beside"]["runtime"])
        self.assertEqual(out["beside"]["graphs"]["stepper"]["latency"]["runs"], 3)
        report = measure.format_report(out, "tiny")
        for text in ("peer peer.tflite", "fp32 peak", "stepper parts", "F backbone",
                     "beside it, onnx"):
            self.assertIn(text, report)
        json.dumps(out)  # every number is JSON

    def test_the_exported_files_multiply_adds_are_counted_too(self):
        model, cfg, _ = measure.load_or_build(None, self.model_dir)
        out = measure.benchmark(model, cfg, SIZE, "tflite", self.export_dir, runs=1, warmup=0)
        for name in ("initializer", "stepper"):
            lite = tflite_graphs.TFLiteGraph(os.path.join(self.export_dir, f"{name}.tflite"))
            self.assertEqual(out["graphs"][name]["file_macs"], lite.macs)
        # The same graph converted without export rewrites counts what Keras counts.
        step = graphs_lib.build_graphs(model, SIZE).step.get_concrete_function()
        lite = tflite_graphs.TFLiteGraph(tflite_graphs.convert_function(step))
        self.assertEqual(lite.macs, costs.graph_macs(step))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_tflite_export_is_timed_with_the_keras_graphs_cost(self):
        model, cfg, source = measure.load_or_build(None, self.model_dir)
        self.assertIn("trained model", source)
        keras_out = measure.benchmark(model, cfg, SIZE, "keras", runs=3, warmup=1, video_length=10)
        lite_out = measure.benchmark(model, cfg, SIZE, "tflite", self.export_dir, runs=3, warmup=1,
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
        model, cfg, _ = measure.load_or_build(None, self.model_dir)
        with self.assertRaisesRegex(measure.BenchError, "the export takes state"):
            measure.benchmark(model, cfg, 2 * SIZE, "tflite", self.export_dir, runs=1, warmup=0)
        with self.assertRaisesRegex(measure.BenchError, "--export_dir"):
            measure.benchmark(model, cfg, SIZE, "onnx", "", runs=1, warmup=0)

    def test_cli_exports_an_untrained_architecture_to_time_it_in_tflite(self):
        scratch = os.path.join(self.root, "tmp")
        os.makedirs(scratch)
        out_json = os.path.join(self.root, "bench_tflite.json")
        tiny = ["--flagfile=configs/synthetic.flags", "--input_size=64",
                "--initializer_backbone=resnet10", "--encoder_backbone=resnet10",
                "--initializer_width=8", "--encoder_width=8", "--deconv_filters=16",
                "--kernel_channels=8", "--runs=2", "--warmup=1", "--num_threads=1",
                "--backend=tflite", "--noparts", "--nopeak"]
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.bench", *tiny, f"--json={out_json}"], cwd=REPO,
            capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": scratch})
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("exported here to tflite (fp32, verified)", proc.stdout)
        with open(out_json) as f:
            out = json.load(f)
        self.assertIn("tflite", out["runtime"].lower())
        self.assertGreater(out["graphs"]["stepper"]["file_macs"], 0)  # counted on the .tflite
        self.assertEqual(os.listdir(scratch), [])  # the scratch export is removed

    def test_cli_on_a_flagfile_builds_the_untrained_architecture(self):
        out_json = os.path.join(self.root, "bench.json")
        model_dir = os.path.join(self.root, "not_trained")
        tiny = ["--flagfile=configs/synthetic.flags", f"--model_dir={model_dir}",
                "--input_size=64", "--initializer_backbone=resnet10",
                "--encoder_backbone=resnet10", "--initializer_width=8", "--encoder_width=8",
                "--deconv_filters=16", "--kernel_channels=8", "--runs=2", "--warmup=1",
                "--video_length=5", "--num_threads=1"]
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.bench", *tiny, f"--peer={self.peer}",
             f"--json={out_json}"], cwd=REPO, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("architecture from the flags (random weights)", proc.stdout)
        self.assertIn("per frame over a 5-frame video", proc.stdout)
        self.assertIn("our stepper takes", proc.stdout)
        self.assertFalse(os.path.exists(model_dir))  # benchmarking writes no model dir
        with open(out_json) as f:
            out = json.load(f)
        self.assertEqual(out["name"], "not_trained")
        self.assertEqual(out["num_threads"], 1)
        self.assertEqual(out["peers"][0]["macs"], PEER_MACS)
        self.assertEqual(out["parts"]["sum_macs"], out["graphs"]["stepper"]["macs"])
        self.assertEqual(out["fp32_peak"]["macs"], int(np.prod(measure.PEAK_SHAPE)))
        self.assertGreater(out["fp32_peak"]["gflops"], 0)

        # The speed-versus-accuracy plot joins it with a pck.json row of the same name.
        pck = os.path.join(self.root, "pck.json")
        with open(pck, "w") as f:
            json.dump({"not_trained": _pck_doc(41.0, 30.0), "other": _pck_doc(50.0, 40.0)}, f)
        png = os.path.join(self.root, "plot", "fig.png")
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.bench_plot", f"--bench={out_json}", f"--pck={pck}",
             f"--out={png}", "--x=ms"], cwd=REPO, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        points = speed_accuracy.join([out_json], speed_accuracy.read_pck([pck]), "gmacs",
                                     "torso")
        self.assertEqual([(p.name, p.pck) for p in points], [("not_trained", 30.0)])
        self.assertEqual(points[0].x, out["graphs"]["stepper"]["gmacs"])
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.bench_plot", f"--bench={out_json}", f"--pck={pck}",
             "--names=missing", f"--out={png}"], cwd=REPO, capture_output=True, text=True,
            timeout=300)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr.strip().splitlines()[-1],
                         r"^error: .*bench.json: model 'missing' has no row")

        # A missing peer file: one error line, exit status 1.
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.bench", *tiny, "--peer=/nonexistent/peer.tflite"],
            cwd=REPO, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr.strip().splitlines()[-1],
                         "error: /nonexistent/peer.tflite: no such TFLite file")
        self.assertEqual(out["input_size"], 64)
        self.assertEqual(out["model"]["kernel_channels"], 8)
        init, step = out["graphs"]["initializer"], out["graphs"]["stepper"]
        self.assertEqual(init["latency"]["runs"], 2)
        self.assertLess(step["macs"], init["macs"])
        self.assertAlmostEqual(out["per_frame_gmacs"], (init["macs"] + 4 * step["macs"]) / 5e9,
                               places=4)
        self.assertGreater(out["peak_rss_mb"], 0)


class TrainingProfileTest(tf.test.TestCase):
    """`bench --profile_training`: every part of Algorithm 1 is timed and the steps/s follow
    from the timed seconds (no thresholds: speed is the output)."""

    def test_every_part_of_algorithm_1_is_timed_and_the_rates_follow(self):
        from dkd_tf.training import training_profile
        from tests.helpers import tiny_config, tiny_synthetic
        data = tiny_synthetic(os.path.join(self.get_temp_dir(), "data"))
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "run"), data, variant="dkd",
                          clip_length=2)
        result = training_profile.profile(cfg, runs=1, fit_steps=1)
        seconds = result["seconds"]
        parts = {"pipeline", "P", "F", "Phi+matching", "D", "train_step", "fit_step"}
        self.assertEqual(set(seconds), parts)
        self.assertTrue(all(np.isfinite(s) and s > 0 for s in seconds.values()))
        self.assertEqual(result["frames_per_step"], cfg.batch_size * cfg.clip_length)
        self.assertAllClose(result["train_step_steps_per_s"], 1 / seconds["train_step"])
        self.assertAllClose(result["fit_frames_per_s"],
                            result["frames_per_step"] / seconds["fit_step"])
        text = training_profile.format_profile(result, cfg)
        for part in parts:
            self.assertIn(part, text)


if __name__ == "__main__":
    tf.test.main()
