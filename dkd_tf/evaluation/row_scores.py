"""One row of dkd_tf.evaluate's table scored on a data set's test videos: a model, a published peer
or a predictions file, each with the paper's PCK protocol.

Every function returns (PCKAccumulator, {video_id: keypoints [T, K, 2] in source pixels},
records), what the command needs for its tables, coherence, pck.json and --save_predictions.
cfg is the row's TrainConfig (data set, data_dir, split, input_size); max_videos keeps the first
N test videos (0: all); nonfinite is metrics.score_records's rule for NaN/inf keypoints
('refuse' or 'miss').

score_rows_by_tag scores the rows per situation tag of the synthetic set (dkd_tf.data.tags,
dkd_tf.evaluation.tag_scores); the rows must have scored the same videos.
"""
from __future__ import annotations

import os
import sys

from dkd_tf.core import lazy_modules
from dkd_tf.core.train_config import MODEL_FILE
from dkd_tf.data import datasets
from dkd_tf.data import tags as tags_lib
from dkd_tf.evaluation import metrics, tag_scores
from dkd_tf.pretrained import peers as peers_lib

# Imports TensorFlow: reached once a model is scored, after every row's files were checked.
protocol = lazy_modules.module("dkd_tf.evaluation.protocol")


class DifferentVideosError(ValueError):
    """Two rows scored different videos, so they cannot be compared per tag."""


def load_test_records(cfg, max_videos: int = 0):
    """(JointSet, the first max_videos test VideoRecords of cfg's data set; 0: all)."""
    joint_set, records = datasets.load(cfg, "test")
    if max_videos:
        records = records[:max_videos]
    return joint_set, records


def _progress(name):
    def report(i, n):
        sys.stdout.write(f"\r  {name}: video {i}/{n}")
        sys.stdout.flush()
        if i == n:
            sys.stdout.write("\n")
    return report


def evaluate_model(model_dir, cfg, max_videos: int = 0, test_scales=(1.0,),
                   flip_test: bool = False, view: str = "box", nonfinite: str = "refuse"):
    """Streams every test video of cfg's data set (one split) through the model.

    test_scales: crop scales averaged (multi-scale testing); flip_test: the mirrored crop too;
    view: frame_crops.VIEWS ('box' around the labelled person, 'image' the whole frame).
    Returns (PCKAccumulator, {video_id: keypoints [T, K, 2] in source pixels}, records)."""
    joint_set, records = load_test_records(cfg, max_videos)
    acc, preds = protocol.evaluate_records(
        protocol.load_model(model_dir), records, cfg.input_size, joint_set,
        [float(s) for s in test_scales], flip_test,
        progress=_progress(os.path.basename(model_dir)), nonfinite=nonfinite,
        source=os.path.join(model_dir, MODEL_FILE), view=view)
    return acc, preds, records


def evaluate_peer(key, cfg, max_videos: int = 0, flip_test: bool = False, view: str = "box",
                  nonfinite: str = "refuse"):
    """A published peer (dkd_tf.pretrained.peers) on cfg's test frames, cropped as the models'
    are. Returns (PCKAccumulator, {video_id: keypoints}, records)."""
    joint_set, records = load_test_records(cfg, max_videos)
    peer = peers_lib.load(key, log=print)
    preds = protocol.predict_peer_records(peer, records, joint_set, view, _progress(key),
                                          flip=flip_test)
    return metrics.score_records(joint_set, records, preds, nonfinite, peer.path), preds, \
        records


def evaluate_predictions(path, cfg, max_videos: int = 0, nonfinite: str = "refuse"):
    """Scores a predictions file (metrics.save_predictions layout) on cfg's test videos.

    Returns (PCKAccumulator, {video_id: keypoints [T, K, 2]}, records)."""
    joint_set_name, preds = metrics.load_predictions(path)
    joint_set, records = load_test_records(cfg, max_videos)
    if joint_set.name != joint_set_name:
        raise ValueError(f"{path}: predictions are for {joint_set_name!r}, the data set "
                         f"{cfg.dataset!r} uses {joint_set.name!r}")
    preds = {rec.video_id: metrics.prediction_for(preds, rec, path) for rec in records}
    return metrics.score_records(joint_set, records, preds, nonfinite, path), preds, records


def score_rows_by_tag(results, tagged, samples) -> dict:
    """tag_scores.score_by_tag of every row. results: {row name: {split: PCKAccumulator}} (one
    split each); tagged: {row name: (data_dir, records)}; samples: bootstrap draws.
    DifferentVideosError when two rows scored different videos."""
    accumulators = {n: next(iter(r.values())) for n, r in results.items()}
    (first, (data_dir, records)), *others = tagged.items()
    for name, (_, recs) in others:
        if [r.video_id for r in recs] != [r.video_id for r in records] or \
                accumulators[name].video_frames() != accumulators[first].video_frames():
            raise DifferentVideosError(f"--by_tag: {first} and {name} were scored on different "
                                       "videos")
    video_tags = [tags_lib.read_tags(data_dir, rec.video_id, rec.num_frames) for rec in records]
    return tag_scores.score_by_tag(accumulators, video_tags, samples)
