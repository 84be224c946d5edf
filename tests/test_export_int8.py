"""int8 TFLite: full-integer graphs with a float island (the runtime-filter depthwise conv and the
heatmap head); the int8 stepper provably reads its state; integer exports are judged by keypoint
agreement."""
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from dkd_tf.data import penn_action
from dkd_tf.data import synthetic
from dkd_tf.serving import graphs, rewrites, runtimes
from dkd_tf.serving import tflite_export
from dkd_tf.serving import verify
from tests.helpers import make_model_dir

SIZE = 64


def _op_details(blob):
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_content=blob)
    types = {t["index"]: t["dtype"] for t in interp.get_tensor_details()}
    return interp, [(op["op_name"], [types.get(i) for i in op["inputs"] if i >= 0])
                    for op in interp._get_ops_details()]


class FloatIslandTest(tf.test.TestCase):
    """The island on a head like the real-world preset's: V, the runtime-filter depthwise conv,
    the residual add, U, a sigmoid read-out and the resize to P's grid (the shipped
    dkd_movenet_video stepper's ops; the island first found only the resize that writes the
    output, leaving U int8)."""

    def _blob(self, tmp):
        rng = np.random.default_rng(0)
        v = tf.constant(rng.normal(size=(1, 1, 4, 6)), tf.float32)
        u = tf.constant(rng.normal(size=(1, 1, 6, 3)), tf.float32)
        w = tf.constant(rng.normal(size=(3, 3, 9, 6)), tf.float32)

        class Step(tf.Module):
            @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 4], tf.float32, "frame"),
                                          tf.TensorSpec([3, 3, 6, 1], tf.float32, "state")])
            def step(self, frame, state):
                f = tf.nn.conv2d(frame, v, 1, "SAME")
                x = tf.nn.depthwise_conv2d(f, state, [1, 1, 1, 1], "SAME") + f
                logits = tf.nn.conv2d(x, u, 1, "SAME")
                heat = tf.image.resize(tf.sigmoid(logits), [16, 16])
                kernels = tf.nn.conv2d(tf.concat([f, tf.sigmoid(logits)], -1), w, 1, "SAME")
                return {"heatmaps": heat, "state": kernels}

        module = Step()
        path = os.path.join(tmp, "saved")
        tf.saved_model.save(module, path, signatures={"step": module.step})
        return tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["step"]).convert()

    def test_island_runs_from_the_runtime_filter_to_the_heatmaps(self):
        from ai_edge_litert.interpreter import Interpreter
        tmp = tempfile.mkdtemp(prefix="dkd_island_test_")
        try:
            blob = self._blob(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        interp = Interpreter(model_content=blob)
        names = {t["index"]: t["name"] for t in interp.get_tensor_details()}
        op_of = {names[op["outputs"][0]]: op["op_name"] for op in interp._get_ops_details()}
        island = tflite_export.float_island_nodes(blob, "step")
        self.assertEqual([op_of[n] for n in island],
                         ["DEPTHWISE_CONV_2D", "ADD", "CONV_2D", "LOGISTIC", "RESIZE_BILINEAR"])
        self.assertEqual([op_of[n] for n in tflite_export.heatmap_head_nodes(blob, "step")],
                         ["CONV_2D", "LOGISTIC", "RESIZE_BILINEAR"])
        # V (the conv before the runtime filter) and the kernels' conv stay out.
        self.assertEqual(sum(op_of[n] == "CONV_2D" for n in island), 1)


class Int8StepperTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="dkd_int8_test_")
        data = os.path.join(cls.root, "data")
        synthetic.generate(data, num_videos=2, num_frames=6, seed=0, height=96, width=128)
        cls.model_dir = make_model_dir(os.path.join(cls.root, "model"), seed=0, calibrate=True)
        cls.model, _ = graphs.load_model_dir(cls.model_dir)
        records = penn_action.read_split(data, "all")
        samples = tflite_export.representative_samples(cls.model, SIZE, records, num_samples=8)
        g = graphs.build_graphs(cls.model, SIZE, rewrites.DEFAULT)
        saved = graphs.write_saved_model(g, os.path.join(cls.root, "saved_model"))
        cls.blob = tflite_export.convert(saved, "stepper", "int8", samples["stepper"])
        cls.reference = runtimes.KerasRunner(*runtimes.keras_manifest(cls.model_dir),
                                             cls.model_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_float_island_is_the_runtime_filter_conv_and_the_heatmap_head(self):
        _, ops = _op_details(self.blob)
        depthwise = [types for name, types in ops if name == "DEPTHWISE_CONV_2D"]
        self.assertLen(depthwise, 1)
        self.assertEqual(depthwise[0][:2], [np.float32, np.float32])  # features, state filter
        convs = [types for name, types in ops if name == "CONV_2D"]
        self.assertGreater(len(convs), 10)
        float_convs = [t for t in convs if t[0] == np.float32]
        self.assertLen(float_convs, 1)  # U, the heatmap head that reads the runtime filter
        self.assertEqual(float_convs[0][:2], [np.float32, np.float32])
        self.assertTrue(all(t[0] == np.int8 and t[1] == np.int8 for t in convs
                            if t[0] != np.float32))

    def test_float_island_nodes_name_the_runtime_filter_conv_and_the_heatmap_head(self):
        g = graphs.build_graphs(self.model, SIZE, rewrites.DEFAULT)
        saved = graphs.write_saved_model(g, os.path.join(self.root, "saved_model_fp32"))
        converter = tf.lite.TFLiteConverter.from_saved_model(saved, signature_keys=["step"])
        blob = converter.convert()
        island = tflite_export.float_island_nodes(blob, "step")
        self.assertEqual(island[:1], tflite_export.runtime_filter_nodes(blob))
        self.assertEqual(island[1:], tflite_export.heatmap_head_nodes(blob, "step"))
        self.assertLen(island, 2)

    def test_int8_stepper_reads_its_state(self):
        interp, _ = _op_details(self.blob)
        step = interp.get_signature_runner("step")
        clip = verify.load_clip(SIZE, 3)
        _, states = verify.stream_clip(self.reference, clip.frames)
        frame = clip.frames[1][None]
        state_a = states[0][None]
        state_b = np.ascontiguousarray(np.roll(states[-1][::-1, ::-1], 1, axis=-1)[None])
        got = {k: step(frame=frame, state=s)["heatmaps"] for k, s in (("a", state_a),
                                                                        ("b", state_b))}
        again = step(frame=frame, state=state_a)["heatmaps"]
        want = {k: self.reference.step(frame, s)[0] for k, s in (("a", state_a), ("b", state_b))}
        keras_change = np.abs(want["a"] - want["b"]).max()
        int8_change = np.abs(got["a"] - got["b"]).max()
        self.assertGreater(keras_change, 1e-3)
        self.assertGreater(int8_change, 0.5 * keras_change)
        self.assertAllEqual(again, got["a"])
        # The change follows Keras's change (a frozen or ignored state gives none, or noise).
        corr = np.corrcoef((got["b"] - got["a"]).ravel(), (want["b"] - want["a"]).ravel())[0, 1]
        self.assertGreater(corr, 0.8)

    def test_keypoint_criterion_judges_integer_exports(self):
        reference = self.reference

        class Shifted:
            """An 'int8' runner whose heatmaps are Keras's, rolled by `cells` for some joints."""
            quantization = "int8"
            manifest = reference.manifest

            def __init__(self, joints, cells=1):
                self.joints, self.cells = joints, cells

            def describe(self):
                return "shifted"

            def _shift(self, out):
                h, s = out
                h = h.copy()
                h[..., self.joints] = np.roll(h[..., self.joints], self.cells, axis=2)
                return h, s

            def initialize(self, frame):
                return self._shift(reference.initialize(frame))

            def step(self, frame, state):
                return self._shift(reference.step(frame, state))

        clip = verify.load_clip(SIZE, 4)
        quiet = lambda *_: None  # noqa: E731
        same = verify.compare(reference, Shifted([]), clip, log=quiet)
        self.assertTrue(same["passed"], same["problems"])
        self.assertEqual(same["criterion"], "keypoints")
        self.assertEqual(same["keypoint_agreement"], 1.0)
        moved = verify.compare(reference, Shifted(list(range(13))), clip, log=quiet)
        self.assertFalse(moved["passed"])
        self.assertLess(moved["keypoint_agreement"], 0.95)
        self.assertIn("within 1 px", " ".join(moved["problems"]))
        self.assertTrue(verify.compare(reference, Shifted(list(range(13))), clip, log=quiet,
                                       min_agreement=0.0)["passed"])


if __name__ == "__main__":
    tf.test.main()
