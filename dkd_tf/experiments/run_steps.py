"""Training steps that print what they do as a command line, for the demo and the ablations.

Every run is trained (or resumed) through dkd_tf.training.trainer, and announced as the
`python -m dkd_tf.train ...` command that would do the same, so each step of a long experiment
can be rerun or changed by hand.
"""
from __future__ import annotations

import dataclasses
import time

from dkd_tf.training import recipes, trainer


def flags_of(cfg: trainer.TrainConfig) -> str:
    default = trainer.TrainConfig()
    parts = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if value != getattr(default, f.name) and f.name != "verbose":
            value = ",".join(map(str, value)) if isinstance(value, tuple) else value
            parts.append(f"--{f.name}={value}")
    return " ".join(parts)


def say(text: str) -> None:
    print(text, flush=True)


def train_run(cfg: trainer.TrainConfig, allow_changes=()) -> float:
    allow = f" --allow_changes={','.join(allow_changes)}" if allow_changes else ""
    say(f"\n$ python -m dkd_tf.train {flags_of(cfg)}{allow}")
    start = time.time()
    trainer.run_training(cfg, allow_changes=allow_changes)
    seconds = time.time() - start
    say(f"  trained {cfg.model_dir} in {seconds:.0f} s")
    return seconds


def train_runs(runs: dict) -> dict:
    """Trains (or resumes) every run of recipes.runs / ablation_runs in seeding order; returns
    {run: seconds}. The pretraining run is the first epochs of the run that shares its
    directory (the Baseline, or its seed), so a rerun finds that run's epoch count: those two
    take an epochs change."""
    seconds = {}
    for key in recipes.stages(runs):
        grows = runs[key].model_dir == runs["pretrain"].model_dir
        seconds[key] = train_run(runs[key], allow_changes=("epochs",) if grows else ())
        if key == "pretrain" and recipes.uses_encoder_snapshot(runs):
            recipes.save_encoder_snapshot(runs)
    return seconds
