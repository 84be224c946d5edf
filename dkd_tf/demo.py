"""`make demo`: the whole system end to end on the synthetic videos, on a CPU, in minutes.

1. generate the synthetic set (Penn Action format);
2. pretrain the single-frame network ResNet18-w16 (the paper pretrains P and F single-frame);
3. go on training it: that is the Baseline(ResNet18-w16); its pretraining snapshot seeds F and
   the finished Baseline seeds P (the paper's P is the strongest single-frame network around);
4. fine-tune DKD (P, F, Phi, matching head, temporal D; Algorithm 1) on 5-frame clips, for as
   many steps as the Baseline trained after the snapshot, so both frame encoders see as many
   frames;
5. stream every held-out video through both models (initialize/step) and print PCK side by side;
6. export DKD to TFLite, stream held-out videos through stepper.tflite, print latencies and the
   PCK of the streamed keypoints next to the Keras evaluation.
Every step prints the command-line equivalent, so each can be rerun or changed by hand.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import time

from absl import app, flags

from dkd_tf import evaluation, metrics, training
from dkd_tf.data import datasets

flags.DEFINE_string("out_dir", "demo_out", "Where data, runs and exports of the demo go.")
flags.DEFINE_integer("videos", 64, "Synthetic videos (a quarter are held out for testing).")
flags.DEFINE_integer("frames", 40, "Frames per synthetic video.")
flags.DEFINE_float("epoch_scale", 1.0, "Multiply every training length (0.1 for a smoke run).")
flags.DEFINE_bool("export", True, "Export to TFLite and stream through stepper.tflite.")
FLAGS = flags.FLAGS

# One small recipe for both models: same frame encoder (ResNet-18 at width 16), same input size,
# same data, same augmentation, same batches (8 clips of 5 frames; the single-frame network sees
# them as 40 frames). An epoch is 50 steps.
COMMON = dict(dataset="synthetic", input_size=128, deconv_filters=64, kernel_size=7,
              kernel_channels=32, encoder_backbone="resnet18", encoder_width=16,
              initializer_backbone="resnet18", initializer_width=16, batch_size=8,
              clip_length=5, clips_per_epoch=400, learning_rate=1e-3,
              discriminator_scale=0.5, max_translation=0.1, verbose=2)
PRETRAIN_EPOCHS, FINETUNE_EPOCHS = 4, 5  # the last fine-tuning epoch runs at lr x 0.1
ENCODER_SNAPSHOT = "encoder_pretrained.keras"

def _flags_of(cfg: training.TrainConfig) -> str:
    default = training.TrainConfig()
    parts = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if value != getattr(default, f.name) and f.name != "verbose":
            value = ",".join(map(str, value)) if isinstance(value, tuple) else value
            parts.append(f"--{f.name}={value}")
    return " ".join(parts)


def _train(cfg: training.TrainConfig, allow_changes=()):
    allow = f" --allow_changes={','.join(allow_changes)}" if allow_changes else ""
    print(f"\n$ python -m dkd_tf.train {_flags_of(cfg)}{allow}", flush=True)
    start = time.time()
    training.run_training(cfg, allow_changes=allow_changes)
    print(f"  trained {cfg.model_dir} in {time.time() - start:.0f} s", flush=True)


def _epochs(n: int) -> int:
    return max(1, round(n * FLAGS.epoch_scale))


def recipes(out: str, videos: int, frames: int) -> dict:
    """The demo's runs: name -> TrainConfig ('pretrain' is the Baseline's first epochs)."""
    data = dict(data_dir=os.path.join(out, "data"), synthetic_videos=videos,
                synthetic_frames=frames, **COMMON)
    runs = os.path.join(out, "runs")
    pre, fine = _epochs(PRETRAIN_EPOCHS), _epochs(FINETUNE_EPOCHS)
    baseline = training.TrainConfig(model_dir=os.path.join(runs, "baseline"), **data,
                                    variant="baseline", epochs=pre + fine,
                                    lr_decay_epochs=(pre + fine - 1,))
    dkd = training.TrainConfig(model_dir=os.path.join(runs, "dkd"), **data, variant="dkd",
                               epochs=fine, lr_decay_epochs=(fine - 1,),
                               init_initializer_from=os.path.join(baseline.model_dir,
                                                                  training.MODEL_FILE),
                               init_encoder_from=os.path.join(runs, ENCODER_SNAPSHOT))
    return {"pretrain": dataclasses.replace(baseline, epochs=pre), "baseline": baseline,
            "dkd": dkd}


def main(argv):
    del argv
    out = FLAGS.out_dir
    runs = recipes(out, FLAGS.videos, FLAGS.frames)
    t0 = time.time()
    cfg = runs["dkd"]
    print(f"$ python -m dkd_tf.data.synthetic --out {cfg.data_dir} --videos {FLAGS.videos} "
          f"--frames {FLAGS.frames} --seed {cfg.seed}", flush=True)
    datasets.ensure_synthetic(cfg)
    _train(runs["pretrain"], allow_changes=("epochs",))  # a rerun finds the Baseline's 9
    snapshot = runs["dkd"].init_encoder_from
    if not os.path.exists(snapshot):
        shutil.copyfile(os.path.join(runs["pretrain"].model_dir, training.MODEL_FILE), snapshot)
    _train(runs["baseline"], allow_changes=("epochs",))  # resumes after the snapshot's epochs
    _train(runs["dkd"])

    names = {"DKD(ResNet18-w16)": runs["dkd"], "Baseline(ResNet18-w16)": runs["baseline"]}
    print(f"\n$ python -m dkd_tf.evaluate --model_dir "
          f"{runs['dkd'].model_dir},{runs['baseline'].model_dir} "
          f"--names {','.join(names)} --output_dir {os.path.join(out, 'eval')}", flush=True)
    joint_set, records = datasets.load(cfg, "test")
    accumulators = {}
    for name, run in names.items():
        accumulators[name], _ = evaluation.evaluate_records(
            evaluation.load_model(run.model_dir), records, run.input_size, joint_set)
    print(f"Held-out synthetic videos: {len(records)}, frames: "
          f"{sum(r.num_frames for r in records)}; each streamed frame by frame "
          "(initialize on frame 1, step after).")
    print(metrics.format_paper_table(accumulators))
    print(metrics.format_comparison(*names, *accumulators.values()))
    print(f"wrote {' and '.join(metrics.write_report(accumulators, os.path.join(out, 'eval')))}")
    if FLAGS.export:
        from export import demo_export  # deployment half of the demo lives with the exporters
        demo_export.run(runs["dkd"].model_dir, os.path.join(out, "export"), cfg.data_dir,
                        keras_pck=accumulators["DKD(ResNet18-w16)"].result()["mean"])
    print(f"\ndemo finished in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    from dkd_tf import cli_errors
    cli_errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
