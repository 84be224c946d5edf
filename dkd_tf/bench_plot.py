"""Speed against accuracy, the paper's Fig. 4b, from bench and evaluate JSON files.

    python -m dkd_tf.bench_plot --bench dkd.json,baseline.json --pck runs/eval/pck.json \
        --out speed_accuracy.png [--x gmacs|ms|frame_gmacs] [--norm person|torso] [--names A,B]

--bench: files of `python -m dkd_tf.bench --json`; --pck: pck.json files of `python -m
dkd_tf.evaluate --output_dir`. Models are joined by name (dkd_tf/evaluation/speed_accuracy.py).
"""
from __future__ import annotations

from absl import flags

from dkd_tf.evaluation import speed_accuracy


def main(argv):
    del argv
    f = flags.FLAGS
    points = speed_accuracy.join(f.bench, speed_accuracy.read_pck(f.pck), f.x, f.norm,
                                 f.names or None)
    for p in points:
        print(f"{p.name:20s} x = {p.x:10.4f}  PCK {p.pck:6.2f}   ({p.bench_file})")
    print(f"wrote {speed_accuracy.plot(points, f.out, f.x, f.norm)}")
    return 0


def _define_flags():
    flags.DEFINE_list("bench", None, "Comma-separated `dkd_tf.bench --json` files.")
    flags.DEFINE_list("pck", None, "Comma-separated pck.json files of `dkd_tf.evaluate`.")
    flags.DEFINE_string("out", "speed_accuracy.png", "PNG to write.")
    flags.DEFINE_enum("x", "gmacs", list(speed_accuracy.X_AXES), "x axis: the stepper's GMACs, "
                      "its median ms per frame, or the mean GMACs per frame over the video.")
    flags.DEFINE_enum("norm", "person", list(speed_accuracy.NORMS), "PCK normalization.")
    flags.DEFINE_list("names", [], "Row names in the PCK files, one per --bench file (default: "
                      "each bench file's own model name).")
    flags.mark_flags_as_required(["bench", "pck"])


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)
