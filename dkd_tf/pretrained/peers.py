"""Published pose networks as peers and teachers: keypoints on any crop, mapped to our joints.

Each peer runs as TFLite through LiteRT, as on a phone: BlazePose's published .tflite as it is,
MoveNet's TF.js graph converted once (dkd_tf.pretrained.tfjs, then the TFLite converter) and
cached beside its source with the converted file's sha256, checked on every load.

  peer = peers.load("movenet_thunder")
  kps = peer.predict(crop)            # crop uint8 [S, S, 3] RGB at peer.input_size
  xy, conf = peers.to_joint_set(kps, peer.names, joints.LSP)

MoveNet: [1, 1, 17, 3] (y, x, score) in 0..1 of its square input (COCO's 17 keypoints).
MoveNet MultiPose: [1, 6, 56] for up to six people, each 17 x (y, x, score), then its box
(ymin, xmin, ymax, xmax) and the person's score, all in 0..1; `predict` returns the keypoints
of the person with the highest score (choose_person), so that it serves as a person finder on
crowded whole frames (`dkd_tf.stream --finder movenet_multipose`) where a single-person network
draws one skeleton over several people.
BlazePose landmark models: float [1, 256, 256, 3] in 0..1, a person crop; `Identity` [1, 195]
= 39 x (x, y, z, visibility, presence) in crop pixels, the first 33 the landmarks; the score is
sigmoid(visibility).
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from dkd_tf.core import tflite_graphs
from dkd_tf.core.joints import JointSet
from dkd_tf.pretrained import fetch

COCO_NAMES = ("nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow",
              "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle",
              "r_ankle")
# BlazePose's 33 landmarks: the ones our joint sets use, by index (others unnamed).
_BLAZEPOSE = {0: "nose", 2: "l_eye", 5: "r_eye", 7: "l_ear", 8: "r_ear", 11: "l_shoulder",
              12: "r_shoulder", 13: "l_elbow", 14: "r_elbow", 15: "l_wrist", 16: "r_wrist",
              23: "l_hip", 24: "r_hip", 25: "l_knee", 26: "r_knee", 27: "l_ankle", 28: "r_ankle"}
BLAZEPOSE_NAMES = tuple(_BLAZEPOSE.get(i, f"landmark_{i}") for i in range(33))
# Our joints a peer has no keypoint for, as the mean of keypoints it has (head top is not the
# nose, but it is the nearest thing a COCO model marks; they are not scored in LSP's protocol).
DERIVED = {"neck": ("l_shoulder", "r_shoulder"), "upper_neck": ("l_shoulder", "r_shoulder"),
           "thorax": ("l_shoulder", "r_shoulder"), "head": ("nose",), "head_top": ("nose",),
           "face": ("nose",), "belly": ("l_hip", "r_hip"), "pelvis": ("l_hip", "r_hip")}
PEERS = ("movenet_lightning", "movenet_thunder", "movenet_multipose", "blazepose_lite",
         "blazepose_full", "blazepose_heavy")
# MultiPose takes any input size (a multiple of 32); TFLite needs one. 256, the longer side its
# model card recommends: 33 ms a frame on one thread of this machine's CPU, against 111 ms at
# 384 and 183 ms at 512 (a finder runs only when the whole frame is searched).
MULTIPOSE_INPUT = 256
# Its output per person: 17 x (y, x, score), then the box (4) and the person's score.
MULTIPOSE_KEYPOINTS = len(COCO_NAMES)
MULTIPOSE_PERSON_SCORE = 3 * MULTIPOSE_KEYPOINTS + 4  # column 55
MULTIPOSE_VALUES = MULTIPOSE_PERSON_SCORE + 1  # 56
CONVERTED = "converted"


def _check(key):
    if key not in PEERS:
        raise ValueError(f"unknown peer {key!r}; choose one of {', '.join(PEERS)}")


def tflite_file(key: str, log=None) -> str:
    """The peer's .tflite path: BlazePose's published file, or MoveNet converted and cached
    (re-converted when the cached file's sha256 no longer matches its record)."""
    _check(key)
    source = fetch.fetch(key, log)
    if source.endswith(".tflite"):
        return source
    folder = os.path.join(fetch.cache_dir(), CONVERTED)
    path = os.path.join(folder, f"{key}.tflite")
    record = path + ".sha256"
    if os.path.isfile(path) and os.path.isfile(record):
        with open(record) as f:
            if f.read().strip() == fetch.sha256(path):
                return path
    from dkd_tf.pretrained import tfjs  # loads TensorFlow: only when a conversion is due
    if log:
        log(f"converting {key} to TFLite into {path}")
    graph = tfjs.load_graph_model(source)
    if key == "movenet_multipose":  # its input is [1, H, W, 3]: fix it for the converter
        import tensorflow as tf
        spec = tf.TensorSpec([1, MULTIPOSE_INPUT, MULTIPOSE_INPUT, 3], tf.int32)
        graph = tf.function(lambda frame: graph(frame)[0],
                            input_signature=[spec]).get_concrete_function()
    content = tflite_graphs.convert_function(graph)
    os.makedirs(folder, exist_ok=True)
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(content)
    os.replace(tmp, path)
    with open(record + ".part", "w") as f:
        f.write(fetch.sha256(path) + "\n")
    os.replace(record + ".part", record)
    return path


@dataclasses.dataclass
class Peer:
    """A loaded peer: predict(crop) -> [N, 3] (x, y, score) in crop pixels."""

    key: str
    names: tuple
    input_size: int
    path: str
    interpreter: object

    def predict(self, crop) -> np.ndarray:
        crop = np.asarray(crop)
        s = self.input_size
        if crop.shape != (s, s, 3):
            raise ValueError(f"{self.key} takes [{s}, {s}, 3] crops, got {crop.shape}")
        interp = self.interpreter
        inp = interp.get_input_details()[0]
        if self.key.startswith("movenet"):
            x = np.clip(np.round(crop), 0, 255).astype(inp["dtype"])[None]
        else:
            x = (crop.astype(np.float32) / 255.0)[None]
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        if self.key.startswith("movenet"):
            out = interp.get_tensor(interp.get_output_details()[0]["index"])[0]
            # [17, 3] (y, x, score); MultiPose: the chosen one of its people
            out = choose_person(out) if self.key == "movenet_multipose" else out[0]
            return np.stack([out[:, 1] * (s - 1), out[:, 0] * (s - 1), out[:, 2]], -1)
        outs = {d["name"]: d for d in interp.get_output_details()}
        det = next(d for d in outs.values() if int(np.prod(d["shape"])) == 195)
        lm = interp.get_tensor(det["index"]).reshape(39, 5)[:33]
        score = 1.0 / (1.0 + np.exp(-lm[:, 3]))
        return np.stack([lm[:, 0], lm[:, 1], score], -1).astype(np.float32)


def choose_person(people: np.ndarray) -> np.ndarray:
    """MultiPose's [6, 56] -> the [17, 3] (y, x, score) keypoints of the person with the highest
    person score (column 55). Empty slots score about 0, so some person is always returned; a
    finder's caller judges its keypoints' scores as any other's."""
    people = np.asarray(people, np.float32)
    if people.ndim != 2 or people.shape[1] != MULTIPOSE_VALUES:
        raise ValueError(f"MultiPose output must be [people, {MULTIPOSE_VALUES}], got "
                         f"{people.shape}")
    best = int(np.argmax(people[:, MULTIPOSE_PERSON_SCORE]))
    return people[best, :3 * MULTIPOSE_KEYPOINTS].reshape(MULTIPOSE_KEYPOINTS, 3)


def load(key: str, num_threads: int | None = None, log=None) -> Peer:
    from ai_edge_litert.interpreter import Interpreter
    path = tflite_file(key, log)
    interp = Interpreter(model_path=path, num_threads=num_threads)
    interp.allocate_tensors()
    size = int(interp.get_input_details()[0]["shape"][1])
    names = COCO_NAMES if key.startswith("movenet") else BLAZEPOSE_NAMES
    return Peer(key, names, size, path, interp)


def joint_mapping(names, joint_set: JointSet) -> list[list[int]]:
    """For each joint of `joint_set`, the rows of a peer's keypoints (named `names`) it comes
    from: its own row, or the rows DERIVED names. Computed once per peer and joint set
    (map_keypoints applies it per frame); a joint the peer cannot give is a ValueError."""
    index = {n: i for i, n in enumerate(names)}
    out = []
    for name in joint_set.names:
        sources = (name,) if name in index else DERIVED.get(name)
        if not sources or any(s not in index for s in sources):
            raise ValueError(f"peer keypoints {list(names)[:3]}... have no {name!r} for "
                             f"{joint_set.name}")
        out.append([index[s] for s in sources])
    return out


def marked_joints(names, joint_set: JointSet) -> np.ndarray:
    """[K] bool: the joints of `joint_set` a model with keypoints `names` marks itself. The
    others come from DERIVED, a nearby point standing in (a COCO nose for Penn Action's head,
    which is the head top): good enough to place a crop or draw a skeleton, never a label."""
    index = set(names)
    return np.array([name in index for name in joint_set.names])


def map_keypoints(keypoints: np.ndarray, mapping) -> tuple[np.ndarray, np.ndarray]:
    """[N, 3] peer keypoints -> (xy [K, 2], confidence [K]) through joint_mapping's rows: a
    derived joint is the mean of its sources, its confidence the minimum of theirs."""
    xy = np.zeros((len(mapping), 2), np.float32)
    conf = np.zeros(len(mapping), np.float32)
    for k, rows in enumerate(mapping):
        picked = keypoints[rows]
        xy[k] = picked[:, :2].mean(0)
        conf[k] = picked[:, 2].min()
    return xy, conf


def to_joint_set(keypoints: np.ndarray, names, joint_set: JointSet):
    """[N, 3] peer keypoints -> (xy [K, 2], confidence [K]) in `joint_set`'s order; joints the
    peer lacks come from DERIVED (their confidence the minimum of their sources')."""
    return map_keypoints(keypoints, joint_mapping(names, joint_set))
