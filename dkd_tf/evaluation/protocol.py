"""Streaming evaluation: every test video goes through initialize/step frame by frame, as on a
device, never through the clip-unrolled training graph.

Protocol (paper sec. 4.1): each frame is cropped around the centre of its ground-truth person box
at the model's input size; keypoints are decoded with dkd_tf.core.codec and mapped back to the source
image; PCK comes from dkd_tf.evaluation.metrics. view='image' crops the whole frame padded to a square
instead (how a single-person peer such as MoveNet sees a photo; LSP's photos are framed around
their person), so no ground truth enters the crop. Peers (dkd_tf.pretrained.peers) are scored
through the same crops by predict_peer_records (flip testing included, averaged as points). Multi-scale and flip testing run one stream per (scale,
flip) pair, each carrying its own state; their heatmaps are warped into the scale-1 crop's
heatmap frame and averaged before decoding.
"""
from __future__ import annotations


import numpy as np
import tensorflow as tf

from dkd_tf.core import codec, joints as joints_lib
from dkd_tf.evaluation import metrics
from dkd_tf.training import run_state
from dkd_tf.data import frame_crops, transforms
from dkd_tf.data.frames import load_frame
from dkd_tf.data.records import VideoRecord
from dkd_tf.pretrained import peers as peers_lib

def view_box(image_shape, box, view: str) -> np.ndarray:
    """The box a frame is cropped around: the ground-truth person box ('box'), or ('image') the
    box whose crop is exactly the frame padded to a square (frame_crops.full_frame_box)."""
    if view == "box":
        return np.asarray(box, np.float32)
    if view != "image":
        raise ValueError(f"view must be one of {frame_crops.VIEWS}, got {view!r}")
    return frame_crops.full_frame_box(*image_shape[:2])


def load_model(model_dir: str):
    """The trained model of a training run directory, through the one loader
    (run_state.load_model_dir: verified, safe mode, config.json checked against the model)."""
    return run_state.load_model_dir(model_dir)[0]


def _cell_matrix(stride: int) -> np.ndarray:
    """Input-pixel -> heatmap-cell affine (codec.pixel_to_cell)."""
    a, b = 1.0 / stride, 0.5 / stride - 0.5
    return np.array([[a, 0, b], [0, a, b], [0, 0, 1]], np.float64)


class StreamingPredictor:
    """Runs a DKD model over videos through its two inference graphs (batch = streams)."""

    def __init__(self, model, input_size: int, joint_set: joints_lib.JointSet,
                 scales=(1.0,), flip: bool = False, view: str = "box"):
        self.model = model
        self.view = view
        self.input_size = int(input_size)
        self.stride = model.stride
        self.joint_set = joint_set
        self.streams = [(float(s), f) for s in scales for f in ((False, True) if flip else (False,))]
        if (1.0, False) not in self.streams:
            self.streams.insert(0, (1.0, False))  # the reference frame for merging
        n, size = len(self.streams), self.input_size
        frame_spec = tf.TensorSpec([n, size, size, 3], tf.float32)
        state_spec = tf.TensorSpec([n, *model.state_shape_for(size)], tf.float32)
        self._initialize = tf.function(lambda f: model.initialize(f), input_signature=[frame_spec])
        self._step = tf.function(lambda f, s: model.step(f, s),
                                 input_signature=[frame_spec, state_spec])
        self._perm = joint_set.flip_permutation()

    def crops(self, image, box):
        """One crop per stream around the box centre -> (frames [n, S, S, 3], matrices)."""
        center, size = transforms.box_center_size(box)
        mats = [transforms.crop_matrix(center, size, self.input_size, s, 0.0, f)
                for s, f in self.streams]
        frames = tf.stack([transforms.warp_image(image, m, self.input_size) for m in mats])
        return frames, [m.numpy().astype(np.float64) for m in mats]

    def merge(self, heatmaps: np.ndarray, mats) -> np.ndarray:
        """Average the streams' heatmaps in the reference (scale 1, unflipped) heatmap frame."""
        if len(self.streams) == 1:
            return heatmaps[0]
        cell = _cell_matrix(self.stride)
        ref = mats[self.streams.index((1.0, False))]
        hm_size = heatmaps.shape[1]
        acc = np.zeros(heatmaps.shape[1:], np.float32)
        for i, ((_, flipped), m) in enumerate(zip(self.streams, mats)):
            hm = heatmaps[i][..., self._perm] if flipped else heatmaps[i]
            to_ref = cell @ ref @ np.linalg.inv(m) @ np.linalg.inv(cell)
            acc += transforms.warp_image(hm, tf.constant(to_ref, tf.float32), hm_size).numpy()
        return acc / len(self.streams)

    def stream_heatmaps(self, record: VideoRecord):
        """Yields, frame by frame, (merged heatmaps [h, w, K], the reference crop's matrix)."""
        ref_index = self.streams.index((1.0, False))
        state = None
        for t, path in enumerate(record.frame_paths):
            image = load_frame(path)
            frames, mats = self.crops(image, view_box(image.shape, record.bboxes[t], self.view))
            if state is None:
                heatmaps, state = self._initialize(frames)
            else:
                heatmaps, state = self._step(frames, state)
            yield self.merge(heatmaps.numpy(), mats), mats[ref_index]

    def predict_video(self, record: VideoRecord):
        """-> keypoints [T, K, 2] in source pixels, confidences [T, K]."""
        xy_all, conf_all = [], []
        for merged, mat in self.stream_heatmaps(record):
            xy, conf = codec.decode_heatmaps(merged, self.stride)
            xy_all.append(transforms.invert_points(mat, xy))
            conf_all.append(conf)
        return np.stack(xy_all), np.stack(conf_all)


def evaluate_records(model, records, input_size, joint_set, scales=(1.0,), flip=False,
                     progress=None, nonfinite="refuse", source="model", view="box"):
    """(PCKAccumulator, {video_id: keypoints [T, K, 2]}): every record streamed and scored.
    NaN/inf keypoints are refused unless nonfinite='miss' (metrics.score_records)."""
    preds = predict_records(model, records, input_size, joint_set, scales, flip, progress, view)
    return metrics.score_records(joint_set, records, preds, nonfinite, source), preds


def predict_peer_records(peer, records, joint_set, view: str = "box", progress=None,
                         flip: bool = False) -> dict:
    """{video_id: keypoints [T, K, 2]} of a peer (dkd_tf.pretrained.peers.Peer) on every frame,
    cropped as our models' frames are (same view, same crop matrix), mapped to joint_set.

    flip=True is a peer's flip test: it also sees the mirrored crop (crop_matrix's flip), whose
    keypoints are renamed (joint_set.flip_permutation), mapped back to the frame and averaged
    with the plain crop's. A peer gives keypoints, not heatmaps, so the two are averaged as
    points (our models average heatmaps, StreamingPredictor.merge)."""
    out = {}
    size = peer.input_size
    mapping = peers_lib.joint_mapping(peer.names, joint_set)  # once, not per frame
    perm = joint_set.flip_permutation()
    for i, rec in enumerate(records):
        frames = []
        for t, path in enumerate(rec.frame_paths):
            image = load_frame(path)
            center, box_size = transforms.box_center_size(
                view_box(image.shape, rec.bboxes[t], view))
            views = []
            for mirrored in ((False, True) if flip else (False,)):
                m = transforms.crop_matrix(center, box_size, size, 1.0, 0.0, mirrored)
                crop = transforms.warp_image(image, m, size).numpy()
                xy, _ = peers_lib.map_keypoints(peer.predict(crop), mapping)
                views.append(transforms.invert_points(m.numpy(), xy[perm] if mirrored else xy))
            frames.append(np.mean(views, axis=0))
        out[rec.video_id] = np.stack(frames)
        if progress:
            progress(i + 1, len(records))
    return out


def predict_records(model, records, input_size, joint_set, scales=(1.0,), flip=False,
                    progress=None, view="box") -> dict:
    """{video_id: keypoints [T, K, 2]} for every record, streamed."""
    predictor = StreamingPredictor(model, input_size, joint_set, scales, flip, view)
    out = {}
    for i, rec in enumerate(records):
        out[rec.video_id] = predictor.predict_video(rec)[0]
        if progress:
            progress(i + 1, len(records))
    return out
