"""Left/right identity: how much of a model's error is a left/right mix-up, from its own heatmaps.

    python -m dkd_tf.left_right --model_dir A[,B] [--names ...] --data_dir D [--max_videos N]

Streams each model over the test videos and prints the PCK of three decodings of the same
heatmaps, then the median distance between the two joints of a visible left/right pair:

  'argmax'          the manifest's per-channel rule (what every runtime reports);
  'two_peaks'       each left/right pair moved to the two strongest peaks of h_left + h_right,
                    assigned by the heatmaps' own evidence;
  'identity_known'  the same peaks assigned by the ground truth (left/right identity solved).

Why, and the maths: dkd_tf.evaluation.left_right. Takes the flags of dkd_tf.evaluate.
"""
from __future__ import annotations

from dkd_tf.evaluation import left_right


def main(argv):
    """Reuses dkd_tf.evaluate's flags: --model_dir A,B --names --data_dir --max_videos."""
    del argv
    from absl import app, flags

    from dkd_tf.cli import evaluate_flags
    from dkd_tf.data import datasets
    f = flags.FLAGS
    rows = []
    for name, kind, model_dir in evaluate_flags.sources(f):
        if kind != "model":
            raise app.UsageError("left_right reads heatmaps: give --model_dir, not "
                                 "--predictions")
        rows.append((name, model_dir, evaluate_flags.data_config(model_dir, None)))
    # Every row's config.json was read: TensorFlow loads only now (about 5 s).
    from dkd_tf.evaluation import protocol
    for name, model_dir, cfg in rows:
        joint_set, records = datasets.load(cfg, "test")
        if f.max_videos:
            records = records[:f.max_videos]
        predictor = protocol.StreamingPredictor(protocol.load_model(model_dir),
                                                cfg.input_size, joint_set)
        print(left_right.format_report(name, left_right.identity_report(predictor, records,
                                                                        joint_set)))
        print()

if __name__ == "__main__":
    from dkd_tf.cli import errors, evaluate_flags
    evaluate_flags.define_flags()  # the flags of dkd_tf.evaluate
    errors.run(main)
