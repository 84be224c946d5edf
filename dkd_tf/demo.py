"""`make demo`: the whole system end to end on the synthetic videos, on a CPU, in minutes.

1. generate the synthetic set (Penn Action format);
2. train the single-frame Baseline(ResNet-18/16) on single frames;
3. train DKD: P and F start from single-frame pretraining (the paper pretrains both on MPII),
   then P, F, Phi, the matching head and D are fine-tuned on 5-frame clips;
4. stream every held-out video through both models (initialize/step) and print PCK side by side;
5. export DKD to TFLite, stream a held-out video through stepper.tflite, print latencies and the
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
# same data, same augmentation. DKD adds a wider initializer P (width 32), the distillator and D.
COMMON = dict(dataset="synthetic", input_size=128, deconv_filters=64, kernel_size=3,
              kernel_channels=32, encoder_backbone="resnet18", encoder_width=16,
              initializer_backbone="resnet18", initializer_width=32, batch_size=8,
              learning_rate=1e-3, discriminator_scale=0.5, verbose=2)


def _flags_of(cfg: training.TrainConfig) -> str:
    default = training.TrainConfig()
    parts = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if value != getattr(default, f.name) and f.name != "verbose":
            value = ",".join(map(str, value)) if isinstance(value, tuple) else value
            parts.append(f"--{f.name}={value}")
    return " ".join(parts)


def _train(cfg: training.TrainConfig):
    print(f"\n$ python -m dkd_tf.train {_flags_of(cfg)}", flush=True)
    start = time.time()
    training.run_training(cfg)
    print(f"  trained {cfg.model_dir} in {time.time() - start:.0f} s", flush=True)


def _epochs(n: int) -> int:
    return max(1, round(n * FLAGS.epoch_scale))


def recipes(out: str, videos: int, frames: int) -> dict:
    """The demo's runs: name -> TrainConfig.

    Fair budget: an epoch is 1600 frames for every run (1600 single frames, or 320 clips of 5).
    The Baseline trains 6 epochs, its snapshot seeds F (the paper pretrains F single-frame), and
    it then trains 3 more epochs, as many as DKD's fine-tuning, so both encoders see as many
    frames. P is a wider single-frame network pretrained for 3 epochs.
    """
    data = dict(data_dir=os.path.join(out, "data"), synthetic_videos=videos,
                synthetic_frames=frames, **COMMON)
    runs = os.path.join(out, "runs")
    single = dict(variant="baseline", clip_length=1, clips_per_epoch=1600)
    baseline = training.TrainConfig(model_dir=os.path.join(runs, "baseline"), **data, **single,
                                    epochs=_epochs(9), lr_decay_epochs=(_epochs(8),))
    pre_p = training.TrainConfig(model_dir=os.path.join(runs, "pretrain_p"),
                                 **{**data, "encoder_width": COMMON["initializer_width"]},
                                 **single, epochs=_epochs(3), lr_decay_epochs=())
    dkd = training.TrainConfig(model_dir=os.path.join(runs, "dkd"), **data, variant="dkd",
                               clip_length=5, epochs=_epochs(3), lr_decay_epochs=(_epochs(2),),
                               clips_per_epoch=320,
                               init_initializer_from=os.path.join(pre_p.model_dir, "model.keras"),
                               init_encoder_from=os.path.join(runs, "encoder_pretrained.keras"))
    return {"baseline": baseline, "pretrain_p": pre_p, "dkd": dkd}


def main(argv):
    del argv
    out = FLAGS.out_dir
    runs = recipes(out, FLAGS.videos, FLAGS.frames)
    t0 = time.time()
    cfg = runs["dkd"]
    print(f"$ python -m dkd_tf.data.synthetic --out {cfg.data_dir} --videos {FLAGS.videos} "
          f"--frames {FLAGS.frames} --seed {cfg.seed}", flush=True)
    datasets.ensure_synthetic(cfg)
    base = runs["baseline"]
    pretrain_f = dataclasses.replace(base, epochs=_epochs(6))
    _train(pretrain_f)
    snapshot = runs["dkd"].init_encoder_from
    if not os.path.exists(snapshot):
        shutil.copyfile(os.path.join(base.model_dir, training.MODEL_FILE), snapshot)
    _train(runs["pretrain_p"])
    _train(runs["dkd"])
    _train(base)  # resumes at epoch 6: the Baseline's last 3 epochs

    names = {"DKD(ResNet18-w16)": runs["dkd"], "Baseline(ResNet18-w16)": runs["baseline"]}
    print(f"\n$ python -m dkd_tf.evaluate --model_dir "
          f"{runs['dkd'].model_dir},{runs['baseline'].model_dir} "
          f"--names {','.join(names)} --output_dir {os.path.join(out, 'eval')}", flush=True)
    joint_set, records = datasets.load(cfg, "test")
    accumulators = {}
    for name, run in names.items():
        model = evaluation.load_model(run.model_dir)
        preds = evaluation.predict_records(model, records, run.input_size, joint_set)
        acc = metrics.PCKAccumulator(joint_set)
        for rec in records:
            acc.add_record(rec, preds[rec.video_id])
        accumulators[name] = acc
    print(f"Held-out synthetic videos: {len(records)}, frames: "
          f"{sum(r.num_frames for r in records)}; each streamed frame by frame "
          "(initialize on frame 1, step after).")
    print(metrics.format_paper_table(accumulators))
    os.makedirs(os.path.join(out, "eval"), exist_ok=True)
    metrics.plot_curves(accumulators, os.path.join(out, "eval", "pck_curve.png"))
    if FLAGS.export:
        from export import demo_export  # deployment half of the demo lives with the exporters
        demo_export.run(runs["dkd"].model_dir, os.path.join(out, "export"), cfg.data_dir,
                        keras_pck=accumulators["DKD(ResNet18-w16)"].result()["mean"])
    print(f"\ndemo finished in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    app.run(main)
