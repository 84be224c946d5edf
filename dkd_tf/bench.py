"""Benchmark the streaming graphs: `python -m dkd_tf.bench --flagfile configs/X.flags`.

    python -m dkd_tf.bench --flagfile configs/penn_table1_dkd_resnet18.flags      # architecture
    python -m dkd_tf.bench --model_dir runs/dkd                                   # trained, keras
    python -m dkd_tf.bench --model_dir runs/dkd --backend tflite --export_dir E   # exported
    python -m dkd_tf.bench --profile_training --flagfile configs/X.flags          # training step

Prints, for the initializer (frame 1) and the stepper (every later frame): multiply-adds (GMACs,
the paper's "GFLOPs"), parameters, fp32 weight size and latency (median, p90 over --runs carried
steps), the mean cost per frame over a --video_length video, and the process's peak memory.

The model: the trained one in --model_dir when that directory holds model.keras + config.json;
otherwise the architecture the training flags describe, with random weights (cost and latency do
not depend on the weights, so a flagfile is enough to compare Table 1 rows before training any).
--input_size overrides the model's own input size. With --backend tflite|onnx the timed graphs
are the exported files in --export_dir (their manifest must match the model); the multiply-adds
are always counted on the Keras graphs the exporters convert.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

from absl import app, flags

from dkd_tf import train


class BenchError(Exception):
    pass


def load_or_build(cfg, model_dir: str):
    """(model, cfg, source): the trained model in model_dir, or cfg's architecture untrained."""
    from dkd_tf import training
    from dkd_tf.data.datasets import joint_set_of
    from export import graphs as graphs_lib
    if model_dir and graphs_lib.is_model_dir(model_dir):
        model, cfg = graphs_lib.load_model_dir(model_dir)
        return model, cfg, f"trained model {model_dir}"
    # Cost does not depend on weights: skip ImageNet downloads and pretrained-model files. The
    # discriminator is training-only: eta = 0 leaves it unbuilt (same inference graphs).
    arch = dataclasses.replace(cfg, backbone_weights="", init_initializer_from="",
                               init_encoder_from="", eta=0.0)
    model = training.build_model(arch, joint_set_of(cfg.dataset).num_joints)
    return model, cfg, "architecture from the flags (random weights)"


def benchmark(model, cfg, input_size: int, backend: str = "keras", export_dir: str = "",
              runs: int = 30, warmup: int = 2, video_length: int = 100,
              num_threads: int | None = None, allow_unverified: bool = False) -> dict:
    """Every number of the report as a dict (see the module docstring). cfg: the model's
    TrainConfig (its data set names the joint set)."""
    from dkd_tf import benchmark as bm
    from dkd_tf.data.datasets import joint_set_of
    from export import graphs as graphs_lib
    from export import manifest as manifest_lib
    from export import runtimes
    manifest = manifest_lib.build(model, cfg, joint_set_of(cfg.dataset), input_size,
                                  model_sha256="", model_dir="")
    files = {}
    if backend == "keras":
        runner = runtimes.KerasRunner(model, manifest, "batch-1 tf.functions")
        graphs = runner.graphs
    else:
        if not export_dir:
            raise BenchError(f"--backend {backend} times exported graphs: pass --export_dir")
        runner = runtimes.open_runner(backend, export_dir, num_threads,
                                      allow_unverified=allow_unverified)
        graphs = graphs_lib.build_graphs(model, input_size)
        if (runner.state_shape != graphs.state_shape
                or runner.heatmap_shape != graphs.heatmap_shape):
            raise BenchError(f"{export_dir}: the export takes state {runner.state_shape} and "
                             f"gives heatmaps {runner.heatmap_shape}; the model at input "
                             f"{input_size} has {graphs.state_shape} and {graphs.heatmap_shape} "
                             "(pass the model the export was made from, or its --input_size)")
        entry = manifest_lib.format_entry(runner.manifest, backend, export_dir)
        files = {g: os.path.getsize(os.path.join(export_dir, entry[g]["file"]))
                 for g in manifest_lib.GRAPHS}
    costs = bm.graph_costs(graphs)
    latency = bm.time_graphs(*bm.runner_callables(runner), graphs.frame_shape[1:], runs, warmup)
    init, stepper = costs["initializer"], costs["stepper"]
    graphs_out = {}
    for name, cost in costs.items():
        graphs_out[name] = {**cost.to_json(), "latency": latency[name]}
        if name in files:
            graphs_out[name]["file_mb"] = round(files[name] / 2 ** 20, 3)
    mean_macs = bm.per_frame_macs(init.macs, stepper.macs, video_length)
    return {
        "model": {k: v for k, v in manifest["model"].items() if k not in ("sha256", "model_dir")},
        "input_size": input_size, "runtime": runner.describe(), "graphs": graphs_out,
        "video_length": video_length, "per_frame_gmacs": round(mean_macs / 1e9, 4),
        "stepper_to_initializer_macs": round(stepper.macs / max(init.macs, 1), 4),
        "peak_rss_mb": round(bm.peak_rss_mb(), 1),
        "macs_note": "multiply-adds of Conv2D, depthwise, transposed conv and MatMul ops "
                     "(BN, ReLU, pooling and elementwise ops excluded)",
    }


def format_report(out: dict, source: str) -> str:
    m = out["model"]
    if m["temporal"]:
        arch = (f"P {m['initializer_backbone']} (width {m['initializer_width']}), "
                f"F {m['encoder_backbone']} (width {m['encoder_width']}), "
                f"S={m['kernel_size']}, C={m['kernel_channels']}")
    else:
        arch = f"single-frame {m['encoder_backbone']} (width {m['encoder_width']})"
    lines = [f"{m['variant']}: {arch}, deconv {m['deconv_filters']}, {m['num_joints']} joints, "
             f"input {out['input_size']}x{out['input_size']}",
             f"  {source}; timed on {out['runtime']}",
             f"  {'graph':12s} {'GMACs':>8s} {'params':>10s} {'fp32 MB':>8s} "
             f"{'median ms':>10s} {'p90 ms':>8s} {'runs':>5s}"]
    for name, g in out["graphs"].items():
        lat = g["latency"]
        lines.append(f"  {name:12s} {g['gmacs']:8.3f} {g['params'] / 1e6:9.2f}M "
                     f"{g['fp32_weights_mb']:8.1f} {lat['median_ms']:10.2f} {lat['p90_ms']:8.2f} "
                     f"{lat['runs']:5d}" + (f"   file {g['file_mb']:.1f} MB"
                                              if "file_mb" in g else ""))
    lines.append(f"  per frame over a {out['video_length']}-frame video: "
                 f"{out['per_frame_gmacs']:.3f} GMACs (stepper = "
                 f"{out['stepper_to_initializer_macs']:.2f}x the initializer)")
    lines.append(f"  peak resident memory of this process: {out['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)


def main(argv):
    del argv
    f = flags.FLAGS
    from export.graphs import quiet_tf_logging
    quiet_tf_logging(f)
    cfg = train.config_from_flags()
    if f.profile_training:
        from dkd_tf import training_profile
        result = training_profile.profile(cfg, runs=f.runs)
        print(training_profile.format_profile(result, cfg))
        if f.out_json:
            with open(f.out_json, "w") as fh:
                json.dump(result, fh, indent=1)
        return 0
    model, cfg_used, source = load_or_build(cfg, f.model_dir)
    input_size = f.input_size if f["input_size"].present else cfg_used.input_size
    out = benchmark(model, cfg_used, input_size, f.backend, f.export_dir, f.runs, f.warmup,
                    f.video_length, f.num_threads or None, f.allow_unverified)
    out["source"] = source
    print(format_report(out, source))
    if f.out_json:
        os.makedirs(os.path.dirname(os.path.abspath(f.out_json)), exist_ok=True)
        with open(f.out_json, "w") as fh:
            json.dump(out, fh, indent=1)
        print(f"wrote {f.out_json}")
    return 0


def _define_flags():
    train.define_flags()
    flags.DEFINE_enum("backend", "keras", ["keras", "tflite", "onnx"], "Runtime to time.")
    flags.DEFINE_string("export_dir", "", "Export directory (manifest.json + graphs) for "
                        "--backend tflite|onnx.")
    flags.DEFINE_integer("runs", 30, "Timed runs of each graph.", lower_bound=1)
    flags.DEFINE_integer("warmup", 2, "Untimed runs before timing.", lower_bound=0)
    flags.DEFINE_integer("video_length", 100, "Frames per video for the mean per-frame cost "
                         "(initializer once, stepper on the rest).", lower_bound=1)
    flags.DEFINE_integer("num_threads", 0, "Runtime threads for tflite/onnx; 0: the runtime's "
                         "default.", lower_bound=0)
    flags.DEFINE_string("out_json", "", "Write every number to this JSON file.")
    flags.DEFINE_bool("profile_training", False, "Time the parts of one training step of the "
                      "flags' run (pipeline, P, F, Phi + matching, D, whole step, fit) instead.")
    flags.DEFINE_bool("allow_unverified", False, "Time TFLite/ONNX graphs whose manifest does "
                      "not record a passed parity check against Keras (refused otherwise).")


if __name__ == "__main__":
    from dkd_tf import cli_errors
    _define_flags()
    cli_errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
