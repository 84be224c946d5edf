"""The flags of `python -m dkd_tf.evaluate` (and of the commands that score models the same way).

--split takes 1, 2, 3, a comma list or 'all' (SplitParser), so a training flagfile's integer
--split reads unchanged; data settings come from each model's config.json unless a flag sets them
(data_config); `sources` turns --model_dir/--names/--peers/--predictions into the table's rows.
"""
from __future__ import annotations

import dataclasses
import os

from absl import app, flags

from dkd_tf.cli import train_flags
from dkd_tf.data import frame_crops
from dkd_tf.pretrained import peers as peers_lib
from dkd_tf.training import run_state
from dkd_tf.core import train_config


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

    Runs before train_flags.define_flags(), which then keeps it. Where dkd_tf.train's integer --split
    is already defined in this process (a caller ran train_flags.define_flags() first), it is replaced:
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


def data_config(model_dir: str | None, split: int | None) -> train_config.TrainConfig:
    """The model's config (defaults without a model) with the explicit data flags and split."""
    cfg = run_state.load_config(model_dir)[0] if model_dir else train_config.TrainConfig()
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


def sources(f) -> list[tuple[str, str, str]]:
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


def define_flags() -> None:
    """Every flag of `python -m dkd_tf.evaluate`, the training flags included (a training
    flagfile is accepted as it is)."""
    define_split_flag()
    train_flags.define_flags()  # accept the training flagfiles as they are
    flags.DEFINE_list("names", [], "Row names for the models (default: model_dir base names).")
    flags.DEFINE_list("test_scales", ["1.0"], "Crop scales for multi-scale testing (the paper uses "
                                              "seven, e.g. 0.7,0.8,0.9,1.0,1.1,1.2,1.3); models only.")
    flags.DEFINE_bool("flip_test", False, "Also run horizontally flipped streams and average "
                                          "(peers too: their keypoints are averaged).")
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
    flags.DEFINE_enum("view", "box", list(frame_crops.VIEWS), "Crop of each frame: 'box' around "
                      "the labelled person box (the paper's protocol), 'image' the whole frame padded "
                      "to a square (as a single-person peer sees a photo).")
    flags.DEFINE_list("peers", [], "Published pose networks scored beside the models, on the same "
                      "frames with the same crops: " + ", ".join(peers_lib.PEERS) + " (fetched and "
                      "checked by dkd_tf.pretrained).")
    flags.DEFINE_bool("nonfinite_as_miss", False, "Score NaN/inf predicted keypoints as misses (with "
                      "a warning that counts them) instead of refusing them with the video and frame.")
