"""One entry point from a training config to (joint set, video records) for any data set."""
from __future__ import annotations

import os

from dkd_tf import joints as joints_lib
from dkd_tf.data import mpii, penn_action, sub_jhmdb, synthetic

DATASETS = ("synthetic", "penn_action", "sub_jhmdb", "mpii")


def joint_set_of(dataset: str) -> joints_lib.JointSet:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")
    return joints_lib.get("penn_action" if dataset == "synthetic" else dataset)


def ensure_synthetic(cfg) -> None:
    """Generate the synthetic set on first use, so the synthetic config runs out of the box."""
    if not os.path.isdir(os.path.join(cfg.data_dir, "labels")):
        synthetic.generate(cfg.data_dir, cfg.synthetic_videos, cfg.synthetic_frames, cfg.seed)


def load(cfg, subset: str):
    """Records of `subset` ('train' or 'test') of the data set named by cfg.dataset."""
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    joint_set = joint_set_of(cfg.dataset)
    if cfg.dataset == "synthetic":
        ensure_synthetic(cfg)
    if cfg.dataset in ("synthetic", "penn_action"):
        records = penn_action.read_split(cfg.data_dir, subset)
    elif cfg.dataset == "sub_jhmdb":
        records = sub_jhmdb.read_split(cfg.data_dir, int(cfg.split), subset)
    else:
        records = mpii.read_annotations(cfg.data_dir, "train" if subset == "train" else "valid")
    if not records:
        raise ValueError(f"{cfg.data_dir}: no {subset} videos found for dataset {cfg.dataset!r}")
    return joint_set, records
