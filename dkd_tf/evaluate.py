"""Evaluate models (or a predictions file) with the paper's PCK protocol.

  python -m dkd_tf.evaluate --model_dir runs/dkd,runs/baseline
  python -m dkd_tf.evaluate --flagfile configs/subjhmdb.flags --model_dir M --split all
  python -m dkd_tf.evaluate --dataset penn_action --data_dir D --predictions preds.npz

Data settings (dataset, data_dir, split, input_size) come from each model's config.json unless a
flag sets them explicitly, so the training flagfile can be passed as it is. Prints the per-group
table for person- and torso-normalized PCK, and writes a JSON of every number and a PNG of PCK
versus alpha (Fig. 4a) when --output_dir is given.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

from absl import app, flags

from dkd_tf import evaluation, metrics, train, training
from dkd_tf.data import datasets

DATA_FIELDS = ("dataset", "data_dir", "split", "input_size")
train.define_flags()  # accept the training flagfiles as they are
flags.FLAGS["split"].help += " 'all' is not a number: use --splits for Sub-JHMDB averaging."
flags.DEFINE_list("splits", [], "Sub-JHMDB splits to evaluate and average, e.g. 1,2,3 "
                                "(empty: the model's own split).")
flags.DEFINE_list("names", [], "Row names for the models (default: model_dir base names).")
flags.DEFINE_list("test_scales", ["1.0"], "Crop scales for multi-scale testing (the paper uses "
                                          "seven, e.g. 0.7,0.8,0.9,1.0,1.1,1.2,1.3).")
flags.DEFINE_bool("flip_test", False, "Also run horizontally flipped streams and average.")
flags.DEFINE_string("predictions", "", "Score this .npz/.json keypoint file (see "
                                       "dkd_tf.metrics.save_predictions) instead of a model.")
flags.DEFINE_string("save_predictions", "", "Write the first model's keypoints to this "
                                            ".npz/.json file.")
flags.DEFINE_string("output_dir", "", "Write pck.json and pck_curve.png here.")
flags.DEFINE_integer("max_videos", 0, "Evaluate only the first N test videos (0 = all).")


def _explicit_data_settings() -> dict:
    return {f: flags.FLAGS[f].value for f in DATA_FIELDS if flags.FLAGS[f].present}


def _data_config(model_dir: str | None) -> training.TrainConfig:
    cfg = training.TrainConfig.load(model_dir) if model_dir else training.TrainConfig()
    return dataclasses.replace(cfg, **_explicit_data_settings())


def _test_records(cfg, split=None):
    if split is not None:
        cfg = dataclasses.replace(cfg, split=int(split))
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


def evaluate_model(model_dir, splits):
    """Streams every test video (of every split) through the model.

    Returns (accumulator pooled over splits, {video_id: keypoints [T, K, 2]})."""
    cfg = _data_config(model_dir)
    model = evaluation.load_model(model_dir)
    scales = [float(s) for s in flags.FLAGS.test_scales]
    acc, all_preds = None, {}
    for split in splits:
        joint_set, records = _test_records(cfg, split)
        acc = acc or metrics.PCKAccumulator(joint_set)
        preds = evaluation.predict_records(model, records, cfg.input_size, joint_set, scales,
                                           flags.FLAGS.flip_test,
                                           progress=_progress(os.path.basename(model_dir)))
        for rec in records:
            acc.add_record(rec, preds[rec.video_id])
        all_preds.update(preds)
    return acc, all_preds


def evaluate_predictions(path, splits) -> metrics.PCKAccumulator:
    joint_set_name, preds = metrics.load_predictions(path)
    cfg = _data_config(None)
    acc = None
    for split in splits:
        joint_set, records = _test_records(cfg, split)
        if joint_set.name != joint_set_name:
            raise ValueError(f"{path}: predictions are for {joint_set_name!r}, the data set "
                             f"{cfg.dataset!r} uses {joint_set.name!r}")
        acc = acc or metrics.PCKAccumulator(joint_set)
        for rec in records:
            acc.add_record(rec, metrics.prediction_for(preds, rec, path))
    return acc


def main(argv):
    del argv
    f = flags.FLAGS
    splits = [int(s) for s in f.splits] or [None]
    accumulators = {}
    if f.predictions:
        accumulators[f.names[0] if f.names else os.path.basename(f.predictions)] = \
            evaluate_predictions(f.predictions, splits)
    else:
        model_dirs = [d for d in f.model_dir.split(",") if d]
        names = f.names or [os.path.basename(os.path.normpath(d)) for d in model_dirs]
        if len(names) != len(model_dirs):
            raise app.UsageError("--names needs one name per --model_dir")
        for i, (name, model_dir) in enumerate(zip(names, model_dirs)):
            accumulators[name], preds = evaluate_model(model_dir, splits)
            if i == 0 and f.save_predictions:
                metrics.save_predictions(f.save_predictions, preds,
                                         accumulators[name].joint_set.name)
    print(metrics.format_paper_table(accumulators))
    if f.output_dir:
        os.makedirs(f.output_dir, exist_ok=True)
        with open(os.path.join(f.output_dir, "pck.json"), "w") as fh:
            json.dump({n: a.to_json() for n, a in accumulators.items()}, fh, indent=2)
        metrics.plot_curves(accumulators, os.path.join(f.output_dir, "pck_curve.png"))
        print(f"wrote {f.output_dir}/pck.json and pck_curve.png")


if __name__ == "__main__":
    app.run(main)
