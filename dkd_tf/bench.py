"""Benchmark the streaming graphs: `python -m dkd_tf.bench --flagfile configs/X.flags`.

    python -m dkd_tf.bench --flagfile configs/penn_table1_dkd_resnet18.flags      # architecture
    python -m dkd_tf.bench --model_dir runs/dkd                                   # trained, keras
    python -m dkd_tf.bench --model_dir runs/dkd --backend tflite --export_dir E   # exported
    python -m dkd_tf.bench --profile_training --flagfile configs/X.flags          # training step
    python -m dkd_tf.bench --model_dir runs/dkd --backend tflite --export_dir E \
        --num_threads 1 --peer pose_landmark_lite.tflite --json bench.json       # against a peer

Prints, for the initializer (frame 1) and the stepper (every later frame): multiply-adds (GMACs,
the paper's "GFLOPs"), parameters, fp32 weight size and latency (median, p90 over --runs carried
steps), the mean cost per frame over a --video_length video, and the process's peak memory.
Every graph below is timed in the same interleaved loop (one call of each per round), on the same
LiteRT interpreter and --num_threads where it is TFLite:
- --peer FILE.tflite or a published peer's name (repeatable): any TFLite model, fed random inputs of its own shapes; its
  GMACs (counted from its ops), latency and our stepper's latency as a ratio of its.
- --parts: the stepper cut into F backbone, deconvs, V, matching, U+BN and Phi
  (dkd_tf/benchmarks/stepper_parts.py), each its own batch-1 TFLite graph: GMACs and time, with shares.
- --peak: a large FULLY_CONNECTED graph measures this machine's fp32 throughput (its fastest
  round); every graph's achieved GFLOP/s (2 x MACs / median) is given as a share of it.
- --beside: with --backend tflite|onnx, the export's other format (ONNX Runtime beside TFLite).
--json (= --out_json) writes every number; `python -m dkd_tf.bench_plot` draws speed against
accuracy from such files and `dkd_tf.evaluate`'s pck.json.

The model: the trained one in --model_dir when that directory holds model.keras + config.json;
otherwise the architecture the training flags describe, with random weights (cost and latency do
not depend on the weights, so a flagfile is enough to compare Table 1 rows before training any).
--input_size overrides the model's own input size. With --backend tflite|onnx the timed graphs
are the exported files in --export_dir (their manifest must match the model); an architecture
without --export_dir is exported (fp32, verified) to a scratch directory first. The multiply-adds
are counted on the Keras graphs the exporters convert (GMACs) and, for TFLite, also on the
exported files themselves (file_macs: export rewrites can change the count).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile

from absl import flags

from dkd_tf.benchmarks.measure import (
    PEAK_SHAPE, benchmark, check_inputs, export_architecture, format_report, is_trained,
    load_or_build, resolve_peers)
from dkd_tf.cli import train_flags


def main(argv):
    del argv
    f = flags.FLAGS
    from dkd_tf.cli.errors import quiet_tf_logging
    quiet_tf_logging(f)
    check_inputs(f.export_dir, f.peer, f.out_json)
    cfg = train_flags.config_from_flags()
    if f.profile_training:
        from dkd_tf.training import training_profile
        result = training_profile.profile(cfg, runs=f.runs)
        print(training_profile.format_profile(result, cfg))
        if f.out_json:
            with open(f.out_json, "w") as fh:
                json.dump(result, fh, indent=1)
        return 0
    model, cfg_used, source = load_or_build(cfg, f.model_dir)
    input_size = f.input_size if f["input_size"].present else cfg_used.input_size
    name = f.name or os.path.basename(os.path.normpath(f.model_dir or "")) or cfg_used.variant
    export_dir, scratch = f.export_dir, None
    if f.backend != "keras" and not export_dir and not is_trained(f.model_dir):
        scratch = tempfile.mkdtemp(prefix="dkd_bench_")
        source += f"; exported here to {f.backend} (fp32, verified) for timing"
        export_dir = export_architecture(model, cfg_used, input_size, f.backend, scratch)
    try:
        out = benchmark(model, cfg_used, input_size, f.backend, export_dir, f.runs, f.warmup,
                        f.video_length, f.num_threads or None, f.allow_unverified,
                        peers=resolve_peers(f.peer), parts=f.parts, peak=f.peak, beside=f.beside,
                        name=name)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    out["source"] = source
    print(format_report(out, source))
    if f.out_json:
        os.makedirs(os.path.dirname(os.path.abspath(f.out_json)), exist_ok=True)
        with open(f.out_json, "w") as fh:
            json.dump(out, fh, indent=1)
        print(f"wrote {f.out_json}")
    return 0


def _define_flags():
    train_flags.define_flags()
    flags.DEFINE_enum("backend", "keras", ["keras", "tflite", "onnx"], "Runtime to time.")
    flags.DEFINE_string("export_dir", "", "Export directory (manifest.json + graphs) for "
                        "--backend tflite|onnx; without it an untrained architecture (flags, "
                        "no --model_dir) is exported to a scratch directory first.")
    flags.DEFINE_integer("runs", 30, "Timed runs of each graph.", lower_bound=1)
    flags.DEFINE_integer("warmup", 2, "Untimed runs before timing.", lower_bound=0)
    flags.DEFINE_integer("video_length", 100, "Frames per video for the mean per-frame cost "
                         "(initializer once, stepper on the rest).", lower_bound=1)
    flags.DEFINE_integer("num_threads", 0, "Runtime threads for tflite/onnx; 0: the runtime's "
                         "default.", lower_bound=0)
    flags.DEFINE_string("out_json", "", "Write every number to this JSON file.")
    flags.DEFINE_alias("json", "out_json")
    flags.DEFINE_multi_string("peer", [], "A .tflite model, or a published peer by name "
                              "(movenet_lightning, movenet_thunder, blazepose_lite|full|heavy), "
                              "timed in the same interleaved loop "
                              "(random inputs of its own shapes, same interpreter and threads); "
                              "the report gives our stepper's latency as a ratio of its. "
                              "Repeatable.")
    flags.DEFINE_bool("parts", True, "Break the stepper down into F backbone, deconvs, V, "
                      "matching, U+BN and Phi, each timed as its own TFLite graph.")
    flags.DEFINE_bool("peak", True, "Measure this machine's fp32 matmul throughput (a "
                      f"{'x'.join(map(str, PEAK_SHAPE))} FULLY_CONNECTED graph) in the same loop "
                      "and give each graph's GFLOP/s as a share of it.")
    flags.DEFINE_bool("beside", True, "With --backend tflite|onnx, also time the export's other "
                      "format (ONNX Runtime beside TFLite, or the reverse) when its manifest "
                      "lists it.")
    flags.DEFINE_string("name", "", "Model name in the JSON, to join it with `dkd_tf.evaluate` "
                        "rows in `dkd_tf.bench_plot`; default: the --model_dir's base name.")
    flags.DEFINE_bool("profile_training", False, "Time the parts of one training step of the "
                      "flags' run (pipeline, P, F, Phi + matching, D, whole step, fit) instead.")
    flags.DEFINE_bool("allow_unverified", False, "Time TFLite/ONNX graphs whose manifest does "
                      "not record a passed parity check against Keras (refused otherwise).")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
