"""Evaluate models (or a predictions file) with the paper's PCK protocol.

  python -m dkd_tf.evaluate --model_dir runs/dkd,runs/baseline --output_dir E
  python -m dkd_tf.evaluate --flagfile configs/subjhmdb.flags --split all \
      --model_dir 'runs/subjhmdb_split{split}_dkd_resnet50'
  python -m dkd_tf.evaluate --dataset penn_action --data_dir D --predictions preds.npz

Data settings (dataset, data_dir, split, input_size) come from each model's config.json unless a
flag sets them explicitly, so the training flagfile can be passed as it is.

Sub-JHMDB splits: --split takes 1, 2, 3, a comma list such as 1,3, or 'all' (= 1,2,3). This module
defines --split with a parser that also takes 'all' (dkd_tf.train's flag is an integer; see
define_split_flag), so the training flagfiles' `--split=1` parses unchanged. With several splits
every split is scored on its own, its table printed, and then the average over the splits of every
number (the paper's Sub-JHMDB protocol: the splits' PCKs are averaged, their frames are not
pooled). Each split has its own trained model: a '{split}' in --model_dir, --predictions or
--save_predictions is replaced by the split number. A Sub-JHMDB model is never scored on a split
other than the one in its config.json (that split's test videos are another split's training
videos).

Prints the per-group table for person- and torso-normalized PCK, then the temporal coherence
table (dkd_tf.evaluation.coherence: acceleration error, left/right swaps and collapses). With --output_dir
writes pck.json, {name: the reported numbers (metrics.PCKAccumulator.to_json layout, plus
"coherence"; the average over splits when several ran, with each split's own numbers under
"splits")}, and pck_curve.png (PCK versus alpha, Fig. 4a).

Real photos beside published peers, all cropped the same way (--view image: the whole photo
padded to a square, as a single-person peer sees it; --view box: around the labelled person):

  python -m dkd_tf.evaluate --model_dir runs/lsp_initializer --view image \
      --peers movenet_thunder,movenet_lightning,blazepose_full

--flip_test runs every row, peers included, on the mirrored crop too and averages (models:
heatmaps; peers: keypoints). --test_scales applies to models only (a peer sees one crop scale).

--by_tag (synthetic sets, which carry tags/NNNN.json; dkd_tf.data.tags) also scores PCK on the
frames / joints of each situation tag and on clean ones, with the paired-bootstrap interval of
first - other per tag (dkd_tf.evaluation.tag_scores): printed, stored as "by_tag" in each model's pck.json
entry, and plotted to pck_by_tag.png:

  python -m dkd_tf.evaluate --model_dir runs/dkd,runs/baseline --names DKD,Baseline --by_tag \
      --output_dir E
"""
from __future__ import annotations

import os
import sys

from absl import app, flags

from dkd_tf.cli import errors, evaluate_flags
from dkd_tf.cli.evaluate_flags import (
    SPLIT_PLACEHOLDER, data_config, parse_splits, sources, with_split)
from dkd_tf.data import datasets
from dkd_tf.data import tags as tags_lib
from dkd_tf.core import lazy_modules
from dkd_tf.evaluation import coherence, metrics, tag_scores
from dkd_tf.pretrained import peers as peers_lib
from dkd_tf.core.train_config import MODEL_FILE

# Imports TensorFlow: reached once a model is scored, after every row's files were checked.
protocol = lazy_modules.module("dkd_tf.evaluation.protocol")


evaluate_flags.define_flags()

def _test_records(cfg):
    joint_set, records = datasets.load(cfg, "test")
    if flags.FLAGS.max_videos:
        records = records[:flags.FLAGS.max_videos]
    return joint_set, records


def _progress(name):
    def report(i, n):
        sys.stdout.write(f"\r  {name}: video {i}/{n}")
        sys.stdout.flush()
        if i == n:
            sys.stdout.write("\n")
    return report


def evaluate_model(model_dir, cfg):
    """Streams every test video of cfg's data set (one split) through the model.

    Returns (PCKAccumulator, {video_id: keypoints [T, K, 2] in source pixels}, records)."""
    joint_set, records = _test_records(cfg)
    acc, preds = protocol.evaluate_records(
        protocol.load_model(model_dir), records, cfg.input_size, joint_set,
        [float(s) for s in flags.FLAGS.test_scales], flags.FLAGS.flip_test,
        progress=_progress(os.path.basename(model_dir)), nonfinite=_nonfinite(),
        source=os.path.join(model_dir, MODEL_FILE), view=flags.FLAGS.view)
    return acc, preds, records


def evaluate_peer(key, cfg):
    """A published peer (dkd_tf.pretrained.peers) on cfg's test frames, cropped as the models'
    are. Returns (PCKAccumulator, {video_id: keypoints}, records)."""
    joint_set, records = _test_records(cfg)
    peer = peers_lib.load(key, log=print)
    preds = protocol.predict_peer_records(peer, records, joint_set, flags.FLAGS.view,
                                          _progress(key), flip=flags.FLAGS.flip_test)
    return metrics.score_records(joint_set, records, preds, _nonfinite(), peer.path), preds, \
        records


def _nonfinite() -> str:
    return "miss" if flags.FLAGS.nonfinite_as_miss else "refuse"


def evaluate_predictions(path, cfg):
    """Scores a predictions file (metrics.save_predictions layout) on cfg's test videos.

    Returns (PCKAccumulator, {video_id: keypoints [T, K, 2]}, records)."""
    joint_set_name, preds = metrics.load_predictions(path)
    joint_set, records = _test_records(cfg)
    if joint_set.name != joint_set_name:
        raise ValueError(f"{path}: predictions are for {joint_set_name!r}, the data set "
                         f"{cfg.dataset!r} uses {joint_set.name!r}")
    preds = {rec.video_id: metrics.prediction_for(preds, rec, path) for rec in records}
    return metrics.score_records(joint_set, records, preds, _nonfinite(), path), preds, records


def main(argv):
    del argv
    f = flags.FLAGS
    try:
        splits = parse_splits(f.split) if f["split"].present else []
    except ValueError as e:
        raise app.UsageError(str(e)) from None
    if len(splits) > 1 and f.save_predictions and SPLIT_PLACEHOLDER not in f.save_predictions:
        raise app.UsageError(f"--save_predictions needs {SPLIT_PLACEHOLDER} in its name to "
                             f"write one file per split")
    if f.by_tag and len(splits) > 1:
        raise app.UsageError("--by_tag scores the synthetic set's situation tags; it takes no "
                             "Sub-JHMDB splits")
    results = {}  # row name -> {split (None outside Sub-JHMDB): PCKAccumulator}
    temporal = {}  # row name -> {split: CoherenceAccumulator}
    tagged = {}  # row name -> (data_dir, records) of its single evaluation, for --by_tag
    rows = sources(f)
    # peers are scored on the data set of the first model row (or the data flags without one)
    first_model = next((t for _, k, t in rows if k == "model"), None)
    for i, (name, kind, template) in enumerate(rows):
        results[name], temporal[name] = {}, {}
        for split in splits or [None]:
            path = with_split(template, split)
            cfg = data_config(path if kind == "model" else (
                with_split(first_model, split) if first_model and kind == "peer" else None), split)
            if len(splits) > 1 and cfg.dataset != "sub_jhmdb":
                raise app.UsageError(f"several splits are a Sub-JHMDB protocol; the data set "
                                     f"is {cfg.dataset!r}")
            key = int(cfg.split) if cfg.dataset == "sub_jhmdb" else None
            if kind == "predictions":
                results[name][key], preds, records = evaluate_predictions(path, cfg)
            elif kind == "peer":
                results[name][key], preds, records = evaluate_peer(path, cfg)
            else:
                results[name][key], preds, records = evaluate_model(path, cfg)
            temporal[name][key] = coherence.score_records(results[name][key].joint_set,
                                                          records, preds)
            tagged[name] = (cfg.data_dir, records)
            if kind == "model" and i == 0 and f.save_predictions:
                metrics.save_predictions(with_split(f.save_predictions, key), preds,
                                         results[name][key].joint_set.name)

    documents = {}  # row name -> pck.json entry
    for name, per_split in results.items():
        if len(per_split) > 1:
            doc = metrics.mean_over_splits([a.to_json() for a in per_split.values()])
            doc["splits"] = {str(s): a.to_json() for s, a in per_split.items()}
            for s, c in temporal[name].items():
                doc["splits"][str(s)]["coherence"] = c.to_json()
            doc["coherence"] = coherence.mean_over_splits(
                c.to_json() for c in temporal[name].values())
        else:
            (s, acc), = per_split.items()
            doc = acc.to_json()
            if s is not None:
                doc["split"] = s
            doc["coherence"] = next(iter(temporal[name].values())).to_json()
        documents[name] = doc
    if len(splits) > 1:
        for split in splits:
            print(f"Sub-JHMDB split {split}\n")
            print(metrics.format_paper_table({n: r[split] for n, r in results.items()}) + "\n")
        print(f"Average over Sub-JHMDB splits {', '.join(map(str, splits))}\n")
    else:
        evaluated = {s for per_split in results.values() for s in per_split} - {None}
        if evaluated:
            print(f"Sub-JHMDB split {', '.join(map(str, sorted(evaluated)))}\n")
    print(metrics.format_paper_table(documents))
    print("\n" + coherence.format_table({n: d["coherence"] for n, d in documents.items()}))
    if f.bootstrap and len(results) > 1 and len(splits) <= 1:
        (first, first_acc), *others = ((n, next(iter(r.values()))) for n, r in results.items())
        for name, acc in others:
            if acc.video_frames() != first_acc.video_frames():
                print(f"\n{first} and {name} were scored on different videos: no paired "
                      "comparison")
                continue
            print("\n" + metrics.format_comparison(first, name, first_acc, acc, f.bootstrap))
    by_tag = _score_by_tag(results, tagged, f.bootstrap) if f.by_tag else None
    if by_tag:
        for name, entry in by_tag.items():
            documents[name]["by_tag"] = entry
        print("\n" + tag_scores.format_table(by_tag))
    if f.output_dir:
        print(f"wrote {' and '.join(metrics.write_report(documents, f.output_dir))}")
        if by_tag:
            print("wrote " + tag_scores.plot_by_tag(
                by_tag, os.path.join(f.output_dir, tag_scores.PLOT_FILE)))


def _score_by_tag(results, tagged, samples) -> dict:
    """tag_scores.score_by_tag of every row; all rows must have scored the same videos."""
    accumulators = {n: next(iter(r.values())) for n, r in results.items()}
    (first, (data_dir, records)), *others = tagged.items()
    for name, (_, recs) in others:
        if [r.video_id for r in recs] != [r.video_id for r in records] or \
                accumulators[name].video_frames() != accumulators[first].video_frames():
            raise app.UsageError(f"--by_tag: {first} and {name} were scored on different "
                                 "videos")
    video_tags = [tags_lib.read_tags(data_dir, rec.video_id, rec.num_frames) for rec in records]
    return tag_scores.score_by_tag(accumulators, video_tags, samples)


if __name__ == "__main__":
    errors.run(main)
