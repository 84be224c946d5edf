"""One entry point from a training config to (joint set, video records) for any data set."""
from __future__ import annotations

import os

from dkd_tf.core import joints as joints_lib, train_config
from dkd_tf.data import lsp, mpii, penn_action, sub_jhmdb
from dkd_tf.data import synthetic
from dkd_tf.data.records import DatasetError

# lsp: data_dir holds lsp/ (LSP 1-1000 train, 1001-2000 test); lsp_extended: lsp/ and lspet/
# (LSPET's 10,000 photos join the training half).
DATASETS = train_config.DATASETS  # the --dataset choices, declared with the setting


def joint_set_of(dataset: str) -> joints_lib.JointSet:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")
    if dataset in ("lsp", "lsp_extended"):
        return joints_lib.LSP
    return joints_lib.get("penn_action" if dataset == "synthetic" else dataset)


def ensure_synthetic(cfg, log=None) -> bool:
    """Generate the synthetic set on first use, so the synthetic config runs out of the box, and
    say so. Only dkd_tf.train and the demo call this; True when a set was written."""
    wanted = {k: bool(getattr(cfg, "synthetic_" + k)) for k in synthetic.DRAW_OPTIONS}
    if os.path.isdir(os.path.join(cfg.data_dir, "labels")):
        on_disk = synthetic.read_options(cfg.data_dir)
        for k in synthetic.DRAW_OPTIONS:
            if on_disk[k] != wanted[k]:
                raise DatasetError(synthetic.options_path(cfg.data_dir),
                                   f"this synthetic set was drawn with {k}={on_disk[k]}, the run "
                                   f"asks for synthetic_{k}={wanted[k]}: use another --data_dir")
        return False
    (log or say)(f"{cfg.data_dir}: no synthetic data set there (no labels/); generating "
                  f"{cfg.synthetic_videos} videos x {cfg.synthetic_frames} frames (seed "
                  f"{cfg.seed}{synthetic.describe_options(**wanted)}) as `python -m "
                  "dkd_tf.make_synthetic` would")
    synthetic.generate(cfg.data_dir, cfg.synthetic_videos, cfg.synthetic_frames, cfg.seed,
                       **wanted)
    return True


def say(text):
    print(text, flush=True)


def load(cfg, subset: str, generate: bool = False):
    """Records of `subset` ('train' or 'test') of the data set named by cfg.dataset.

    A missing synthetic set is generated only with generate=True (training); everywhere else it
    is an error naming the directory looked in, so a typo or a relative path from another folder
    never turns into a freshly generated data set that gets scored."""
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    joint_set = joint_set_of(cfg.dataset)
    if cfg.dataset == "synthetic":
        if generate:
            ensure_synthetic(cfg)
        elif not os.path.isdir(os.path.join(cfg.data_dir, "labels")):
            raise DatasetError(os.path.abspath(os.path.join(cfg.data_dir, "labels")),
                               "no synthetic data set here (data_dir "
                               f"{cfg.data_dir!r}); only dkd_tf.train and the demo generate "
                               "one: pass the --data_dir the model was trained on")
    if cfg.dataset in ("synthetic", "penn_action"):
        records = penn_action.read_split(cfg.data_dir, subset)
    elif cfg.dataset in ("lsp", "lsp_extended"):
        records = lsp.read_split(cfg.data_dir, subset, cfg.dataset == "lsp_extended")
    elif cfg.dataset == "sub_jhmdb":
        records = sub_jhmdb.read_split(cfg.data_dir, int(cfg.split), subset)
    else:
        records = mpii.read_annotations(cfg.data_dir, "train" if subset == "train" else "valid")
    if not records:
        raise ValueError(f"{cfg.data_dir}: no {subset} videos found for dataset {cfg.dataset!r}")
    return joint_set, records
