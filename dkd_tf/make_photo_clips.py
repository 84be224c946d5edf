"""Labelled photos set in motion, written as Penn Action clips (dkd_tf/data/photo_motion.py).

    python -m dkd_tf.make_photo_clips --data_dir ../shared/data --out_dir D --clips N \
        --frames T --seed S [--dataset lsp|lsp_extended] [--subset train|test] [--max_side 0] \
        [--shift 0.2 --zoom 0.15 --rotation 8 --min_period 20 --max_period 90 --exposure 0.5]
        [--passer_prob 0 --passer_travel 2]

D then trains and evaluates as `--dataset penn_action --data_dir D`. --passer_prob P gives that
share of the clips a second person crossing in front (photo_motion.Passer: cut out of another
photo of the same half). Test-half photos (LSP
1001-2000, `--subset test`) make test clips; never mix them into training.
"""
from __future__ import annotations

import time

from absl import flags

from dkd_tf.data import lsp, photo_motion


def main(argv):
    del argv
    f = flags.FLAGS
    motion = photo_motion.Motion(shift=f.shift, zoom=f.zoom, rotation_deg=f.rotation,
                                 min_period=f.min_period, max_period=f.max_period,
                                 exposure=f.exposure)
    records = lsp.read_split(f.data_dir, f.subset, f.dataset == "lsp_extended")
    print(f"{len(records)} labelled photos ({f.dataset}, {f.subset}); writing {f.clips} clips x "
          f"{f.frames} frames into {f.out_dir}", flush=True)
    start = time.time()

    def progress(i, n):
        if i == n or i % 50 == 0:
            print(f"  {i}/{n} clips ({time.time() - start:.0f} s)", flush=True)

    paths = photo_motion.write_clips(records, f.out_dir, f.clips, f.frames, f.seed, motion,
                                     f.max_side, f.first_id, progress,
                                     photo_motion.Passer(prob=f.passer_prob,
                                                         travel=f.passer_travel))
    print(f"wrote {len(paths)} clips (ids {f.first_id}..{f.first_id + len(paths) - 1}) in "
          f"{time.time() - start:.1f} s; read them with --dataset penn_action --data_dir "
          f"{f.out_dir}")
    return 0


def _define_flags():
    d = photo_motion.Motion()
    flags.DEFINE_string("data_dir", None, "Folder holding lsp/ (and lspet/ for lsp_extended).")
    flags.DEFINE_string("out_dir", None, "Where to write frames/ and labels/ (Penn Action layout).")
    flags.DEFINE_enum("dataset", "lsp", ["lsp", "lsp_extended"], "Labelled photos: LSP, or LSP "
                      "plus LSP extended (whose 10,000 photos join the training half).")
    flags.DEFINE_enum("subset", "train", ["train", "test"], "Which half of LSP (train: 1-1000, "
                      "test: 1001-2000); sets each clip's train flag.")
    flags.DEFINE_integer("clips", 100, "Clips to write (photos are cycled when fewer).",
                         lower_bound=1)
    flags.DEFINE_integer("frames", 16, "Frames per clip.", lower_bound=1)
    flags.DEFINE_integer("seed", 0, "Photo order and camera paths; the same seed writes the same "
                         "files.")
    flags.DEFINE_integer("first_id", 1, "Video id of the first clip (to add to a folder).",
                         lower_bound=1)
    flags.DEFINE_integer("max_side", 0, "Shrink photos whose longer side exceeds this (0: keep "
                         "their size).", lower_bound=0)
    flags.DEFINE_float("shift", d.shift, "Largest camera shift, a fraction of the person size.",
                       lower_bound=0)
    flags.DEFINE_float("zoom", d.zoom, "Largest zoom: scale within [1/(1+zoom), 1+zoom].",
                       lower_bound=0)
    flags.DEFINE_float("rotation", d.rotation_deg, "Largest rotation, degrees.", lower_bound=0)
    flags.DEFINE_float("min_period", d.min_period, "Fastest sway of the path, frames per cycle.",
                       lower_bound=1e-3)
    flags.DEFINE_float("max_period", d.max_period, "Slowest drift of the path, frames per cycle.",
                       lower_bound=1e-3)
    flags.DEFINE_float("exposure", d.exposure, "Motion blur: shutter open for this fraction of a "
                       "frame interval (0: sharp frames).", lower_bound=0)
    flags.DEFINE_float("passer_prob", 0.0, "Share of clips in which a second person (cut out of "
                       "another photo) walks past in front of the labelled one.",
                       lower_bound=0, upper_bound=1)
    flags.DEFINE_float("passer_travel", photo_motion.Passer().travel, "How far a passer walks "
                       "during a clip, in person sizes (centred on the person: a longer way is "
                       "a faster walk).", lower_bound=0)
    flags.mark_flags_as_required(["data_dir", "out_dir"])


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)
