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

from absl import app, flags

from dkd_tf.cli import errors, evaluate_flags
from dkd_tf.cli.evaluate_flags import (
    SPLIT_PLACEHOLDER, data_config, parse_splits, sources, with_split)
from dkd_tf.evaluation import coherence, metrics, row_scores, tag_scores


evaluate_flags.define_flags()


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
    nonfinite = "miss" if f.nonfinite_as_miss else "refuse"
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
                results[name][key], preds, records = row_scores.evaluate_predictions(
                    path, cfg, f.max_videos, nonfinite)
            elif kind == "peer":
                results[name][key], preds, records = row_scores.evaluate_peer(
                    path, cfg, f.max_videos, f.flip_test, f.view, nonfinite)
            else:
                results[name][key], preds, records = row_scores.evaluate_model(
                    path, cfg, f.max_videos, f.test_scales, f.flip_test, f.view, nonfinite)
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
    by_tag = None
    if f.by_tag:
        try:
            by_tag = row_scores.score_rows_by_tag(results, tagged, f.bootstrap)
        except row_scores.DifferentVideosError as e:
            raise app.UsageError(str(e)) from None
    if by_tag:
        for name, entry in by_tag.items():
            documents[name]["by_tag"] = entry
        print("\n" + tag_scores.format_table(by_tag))
    if f.output_dir:
        print(f"wrote {' and '.join(metrics.write_report(documents, f.output_dir))}")
        if by_tag:
            print("wrote " + tag_scores.plot_by_tag(
                by_tag, os.path.join(f.output_dir, tag_scores.PLOT_FILE)))


if __name__ == "__main__":
    errors.run(main)
