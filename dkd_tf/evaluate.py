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

--by_tag (synthetic sets, which carry tags/NNNN.json; dkd_tf.data.tags) also scores PCK on the
frames / joints of each situation tag and on clean ones, with the paired-bootstrap interval of
first - other per tag (dkd_tf.evaluation.tag_scores): printed, stored as "by_tag" in each model's pck.json
entry, and plotted to pck_by_tag.png:

  python -m dkd_tf.evaluate --model_dir runs/dkd,runs/baseline --names DKD,Baseline --by_tag \
      --output_dir E
"""
from __future__ import annotations

import dataclasses
import os
import sys

from absl import app, flags

from dkd_tf.cli import errors
from dkd_tf.evaluation import coherence, protocol, metrics, tag_scores
from dkd_tf.training import run_state, trainer
from dkd_tf import train
from dkd_tf.data import datasets, tags as tags_lib
from dkd_tf.pretrained import peers as peers_lib

SUB_JHMDB_SPLITS = (1, 2, 3)
SPLIT_PLACEHOLDER = "{split}"
DATA_FIELDS = ("dataset", "data_dir", "input_size")  # --split is read by parse_splits


class SplitParser(flags.ArgumentParser):
    """--split values: an integer, parsed as dkd_tf.train's integer flag parses it, or any other
    text ('all', '1,3') kept as a lower-case string for parse_splits."""

    syntactic_help = "1, 2, 3, a comma list of them, or 'all'"

    def parse(self, argument):
        if isinstance(argument, int):
            return argument
        text = str(argument).strip()
        try:
            return int(text)
        except ValueError:
            return text.lower()

    def flag_type(self):
        return "split"


def define_split_flag() -> None:
    """Defines --split with SplitParser (default 1, TrainConfig's).

    Runs before train.define_flags(), which then keeps it. Where dkd_tf.train's integer --split
    is already defined in this process (a caller ran train.define_flags() first), it is replaced:
    SplitParser gives the same int for every value the integer flag accepts, so the training
    flags read as before.
    """
    if "split" in flags.FLAGS:
        if isinstance(flags.FLAGS["split"].parser, SplitParser):
            return
        delattr(flags.FLAGS, "split")
    flags.DEFINE(SplitParser(), "split", 1,
                 "Sub-JHMDB split(s) to evaluate: 1, 2, 3, a comma list (1,3) or 'all' (1,2,3; "
                 "each split scored on its own, then every number averaged over the splits). "
                 "'{split}' in --model_dir/--predictions/--save_predictions becomes the split "
                 "number. When not given: each model's own split.", flags.FLAGS,
                 flags.ArgumentSerializer())


define_split_flag()
train.define_flags()  # accept the training flagfiles as they are
flags.DEFINE_list("names", [], "Row names for the models (default: model_dir base names).")
flags.DEFINE_list("test_scales", ["1.0"], "Crop scales for multi-scale testing (the paper uses "
                                          "seven, e.g. 0.7,0.8,0.9,1.0,1.1,1.2,1.3).")
flags.DEFINE_bool("flip_test", False, "Also run horizontally flipped streams and average.")
flags.DEFINE_string("predictions", "", "Score this .npz/.json keypoint file (see "
                                       "dkd_tf.evaluation.metrics.save_predictions) instead of a model.")
flags.DEFINE_string("save_predictions", "", "Write the first model's keypoints to this "
                                            ".npz/.json file.")
flags.DEFINE_string("output_dir", "", "Write pck.json and pck_curve.png here.")
flags.DEFINE_integer("bootstrap", 1000, "With several rows: compare the first with each other "
                     "row by a paired bootstrap over the test videos with this many draws "
                     "(95 % interval of the PCK difference); 0 = off.", lower_bound=0)
flags.DEFINE_integer("max_videos", 0, "Evaluate only the first N test videos (0 = all).")
flags.DEFINE_bool("by_tag", False, "Also score PCK per situation tag of the synthetic set "
                  "(its tags/NNNN.json files) and on clean frames, with the paired-bootstrap "
                  "interval of the first row minus each other per tag; adds pck_by_tag.png.")
flags.DEFINE_enum("view", "box", list(protocol.VIEWS), "Crop of each frame: 'box' around "
                  "the labelled person box (the paper's protocol), 'image' the whole frame padded "
                  "to a square (as a single-person peer sees a photo).")
flags.DEFINE_list("peers", [], "Published pose networks scored beside the models, on the same "
                  "frames with the same crops: " + ", ".join(peers_lib.PEERS) + " (fetched and "
                  "checked by dkd_tf.pretrained).")
flags.DEFINE_bool("nonfinite_as_miss", False, "Score NaN/inf predicted keypoints as misses (with "
                  "a warning that counts them) instead of refusing them with the video and frame.")


def parse_splits(value) -> list[int]:
    """The --split value -> split numbers: 'all' -> [1, 2, 3], '2' -> [2], '1,3' -> [1, 3],
    '' -> [] (each model's own split). Raises ValueError on anything else."""
    text = "" if value is None else str(value).strip().lower()
    if not text:
        return []
    if text == "all":
        return list(SUB_JHMDB_SPLITS)
    try:
        splits = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        splits = None
    if not splits or any(s not in SUB_JHMDB_SPLITS for s in splits) or len(set(splits)) < len(
            splits):
        raise ValueError(f"--split must be 1, 2, 3, a comma list of them or 'all', got {value!r}")
    return splits


def with_split(path: str, split) -> str:
    """Replace '{split}' in a path by the split number."""
    if SPLIT_PLACEHOLDER not in path:
        return path
    if split is None:
        raise app.UsageError(f"{path!r} contains {SPLIT_PLACEHOLDER}: pass --split")
    return path.replace(SPLIT_PLACEHOLDER, str(split))


def data_config(model_dir: str | None, split: int | None) -> trainer.TrainConfig:
    """The model's config (defaults without a model) with the explicit data flags and split."""
    cfg = run_state.load_config(model_dir)[0] if model_dir else trainer.TrainConfig()
    trained_split = cfg.split
    explicit = {f: flags.FLAGS[f].value for f in DATA_FIELDS if flags.FLAGS[f].present}
    cfg = dataclasses.replace(cfg, **explicit)
    if split is not None:
        cfg = dataclasses.replace(cfg, split=int(split))
    if model_dir and cfg.dataset == "sub_jhmdb" and int(cfg.split) != int(trained_split):
        raise app.UsageError(
            f"{model_dir} was trained on Sub-JHMDB split {trained_split}; scoring it on split "
            f"{cfg.split} would test it on videos it trained on. Give each split its own model, "
            f"e.g. --model_dir 'runs/subjhmdb_split{SPLIT_PLACEHOLDER}_...' --split all.")
    return cfg


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
        source=os.path.join(model_dir, trainer.MODEL_FILE), view=flags.FLAGS.view)
    return acc, preds, records


def evaluate_peer(key, cfg):
    """A published peer (dkd_tf.pretrained.peers) on cfg's test frames, cropped as the models'
    are. Returns (PCKAccumulator, {video_id: keypoints}, records)."""
    joint_set, records = _test_records(cfg)
    peer = peers_lib.load(key, log=print)
    preds = protocol.predict_peer_records(peer, records, joint_set, flags.FLAGS.view,
                                            _progress(key))
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


def _sources(f) -> list[tuple[str, str, str]]:
    """(row name, 'predictions' | 'model', path template) for each row of the table."""
    if f.predictions:
        return [(f.names[0] if f.names else os.path.basename(f.predictions), "predictions",
                 f.predictions)]
    peers = [p for p in f.peers if p]
    model_dirs = [d for d in f.model_dir.split(",") if d] if (
        f["model_dir"].present or not peers) else []
    names = f.names or [os.path.basename(os.path.normpath(d)) for d in model_dirs]
    if len(names) != len(model_dirs):
        raise app.UsageError("--names needs one name per --model_dir")
    for p in peers:
        if p not in peers_lib.PEERS:
            raise app.UsageError(f"--peers: unknown peer {p!r}; choose from "
                                 f"{', '.join(peers_lib.PEERS)}")
    if peers and not model_dirs and not f["dataset"].present:
        raise app.UsageError("--peers without --model_dir needs --dataset and --data_dir")
    return [(n, "model", d) for n, d in zip(names, model_dirs)] + [(p, "peer", p) for p in peers]


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
    sources = _sources(f)
    # peers are scored on the data set of the first model row (or the data flags without one)
    first_model = next((t for _, k, t in sources if k == "model"), None)
    for i, (name, kind, template) in enumerate(sources):
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
