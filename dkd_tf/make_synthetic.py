"""Write the synthetic stick-figure set (dkd_tf.data.synthetic) in Penn Action's on-disk format.

    python -m dkd_tf.make_synthetic --out DIR --videos N --frames T --seed S [--face_cue] [--side_cue]
    python -m dkd_tf.make_synthetic --out DIR --seed S --tags_only   # tags for a set on disk

The same seed gives the same set, byte for byte; the options drawn with are recorded in
DIR/synthetic.json, and the training reader refuses a set drawn with other options.
"""
from __future__ import annotations

import os
import time

from dkd_tf.data import tags as tags_lib
from dkd_tf.data.synthetic import DRAW_OPTIONS, add_tags, describe_options, generate, num_train


def main(argv):
    from absl import flags
    del argv
    f = flags.FLAGS
    start = time.time()
    if f.tags_only:
        ids, same = add_tags(f.out, f.seed)
        print(f"synthetic: wrote tags of {len(ids)} videos to "
              f"{os.path.join(os.path.abspath(f.out), tags_lib.TAGS_DIR)} (seed {f.seed}; labels "
              f"match; last frame byte-identical in {same}/{len(ids)}) in "
              f"{time.time() - start:.1f}s")
        return
    options = {k: f[k].value for k in DRAW_OPTIONS}
    ids = generate(f.out, f.videos, f.frames, f.seed, f.height, f.width, f.test_fraction,
                   **options)
    n_train = num_train(len(ids), f.test_fraction)
    print(f"synthetic: wrote {len(ids)} videos ({n_train} train, {len(ids) - n_train} test) x "
          f"{f.frames} frames at {f.height}x{f.width} to {os.path.abspath(f.out)} "
          f"(seed {f.seed}{describe_options(**options)}) in "
          f"{time.time() - start:.1f}s")


def _define_flags():
    from absl import flags
    flags.DEFINE_string("out", None, "Output root; frames/ and labels/ are created under it.")
    flags.DEFINE_integer("videos", 60, "Number of videos to generate.", lower_bound=1)
    flags.DEFINE_integer("frames", 40, "Frames per video.", lower_bound=1)
    flags.DEFINE_integer("seed", 0, "Random seed; the same seed gives the same data set.")
    flags.DEFINE_integer("height", 160, "Frame height in pixels.", lower_bound=16)
    flags.DEFINE_integer("width", 208, "Frame width in pixels.", lower_bound=16)
    flags.DEFINE_float("test_fraction", 0.25, "Fraction of videos (the last ones) in the test "
                       "split.", lower_bound=0.0, upper_bound=1.0)
    flags.DEFINE_bool("face_cue", False, "Draw the front of each head in a face colour (a "
                      "front/back cue larger than the eyes); recorded in ROOT/synthetic.json.")
    flags.DEFINE_bool("side_cue", False, "Draw a white stripe down each left limb (left/right "
                      "told apart in one frame; train with --flip_prob=0); recorded in "
                      "ROOT/synthetic.json.")
    flags.DEFINE_bool("tags_only", False, "Only (re)write tags/NNNN.json of the set already in "
                      "--out, re-rendering each video in memory from --seed (frames on disk are "
                      "not touched; --videos/--frames/--height/--width come from the labels).")
    flags.mark_flag_as_required("out")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
