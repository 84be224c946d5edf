"""The training half of `make demo` (dkd_tf/demo.py): a pair trained, scored and shipped.

train_pair trains (or resumes) a recipe's runs (dkd_tf.training.recipes), announcing each as its
`python -m dkd_tf.train` line; evaluate_pair streams the held-out videos through each model
(initialize, then step; ground-truth crops) and prints the paper's table and the paired
comparison; show_presets does the same for the shipped reference pair and streams its TFLite
stepper (dkd_tf.experiments.demo_export); ship copies a trained pair and its verified export
into dkd_tf/presets/<recipe> with preset.json recording what produced them.
"""
from __future__ import annotations

import os
import shutil

from dkd_tf import presets
from dkd_tf.data import datasets
from dkd_tf.evaluation import metrics, protocol
from dkd_tf.experiments.run_steps import say, train_runs
from dkd_tf.training import recipes, trainer

PRESET = "reference"


def train_pair(recipe: recipes.Recipe, out_dir: str, data_cfg,
               epoch_scale: float = 1.0) -> tuple[dict, dict]:
    """Trains (or resumes) the recipe's runs on data_cfg's synthetic set (its data_dir, videos,
    frames, seed and side cue; the runs take the same seed); returns (configs, seconds per
    run)."""
    runs = recipes.runs(recipe, out_dir, data_cfg.data_dir, data_cfg.synthetic_videos,
                        data_cfg.synthetic_frames, epoch_scale, data_cfg.seed,
                        data_cfg.synthetic_side_cue)
    return runs, train_runs(runs)


def evaluate_pair(model_dirs: dict, input_size: int, data_cfg, eval_dir: str) -> dict:
    """{name: PCKAccumulator} of the held-out videos streamed through each model; prints the
    paper's table, the paired comparison and writes pck.json + pck_curve.png to eval_dir."""
    names = list(model_dirs)
    say(f"\n$ python -m dkd_tf.evaluate --model_dir {','.join(model_dirs.values())} "
         f"--names {','.join(names)} --data_dir {data_cfg.data_dir} --output_dir {eval_dir}")
    joint_set, records = datasets.load(data_cfg, "test")
    accumulators = {}
    for name, model_dir in model_dirs.items():
        accumulators[name], _ = protocol.evaluate_records(
            protocol.load_model(model_dir), records, input_size, joint_set)
    say(f"Held-out synthetic videos: {len(records)}, frames: "
         f"{sum(r.num_frames for r in records)}; each streamed frame by frame (initialize on "
         "frame 1, step after), cropped around its ground-truth box.")
    say(metrics.format_paper_table(accumulators))
    say(metrics.format_comparison(*names, *accumulators.values()))
    say(f"wrote {' and '.join(metrics.write_report(accumulators, eval_dir))}")
    return accumulators


def show_presets(out: str, data_cfg) -> dict:
    """The shipped reference pair (checksums verified first) evaluated and streamed as
    dkd_tf.demo's part 2 says; {'accumulators': {name: PCKAccumulator}, 'stream': report}."""
    meta = presets.verify(PRESET)
    names = meta["names"]
    say(f"\n== The shipped reference pair (dkd_tf/presets/{PRESET}; {meta['produced_by']})")
    model_dirs = {names[m]: presets.member_dir(PRESET, m, meta) for m in ("dkd", "baseline")}
    acc = evaluate_pair(model_dirs, meta["input_size"], data_cfg,
                        os.path.join(out, "reference_eval"))
    from dkd_tf.experiments import demo_export
    report = demo_export.showcase(presets.member_dir(PRESET, "dkd_tflite", meta),
                                  os.path.join(out, "reference_stream"), data_cfg.data_dir,
                                  acc[names["dkd"]].result()["mean"])
    return {"accumulators": acc, "stream": report}


def ship(recipe: recipes.Recipe, runs: dict, seconds: dict, acc: dict, data_cfg,
         stream_report: dict, wall_minutes: float, out_dir: str) -> str:
    """Copy the trained pair (config.json + model.keras each) and DKD's verified export into
    dkd_tf/presets/<recipe>, and write preset.json with what produced them and their results.
    data_cfg is the synthetic set the pair was trained and scored on; out_dir the demo's (the
    recorded command; a quantized export is streamed again into out_dir/shipped_stream)."""
    data_dir = data_cfg.data_dir
    videos, frames, seed = data_cfg.synthetic_videos, data_cfg.synthetic_frames, data_cfg.seed
    from dkd_tf.serving import graphs as graphs_lib
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.serving import tflite_export
    root = os.path.join(presets.PRESETS_DIR, recipe.name)
    with presets.staged(root) as staging:  # removed if the build fails
        for member in ("baseline", "dkd"):
            os.makedirs(os.path.join(staging, member))
            shutil.copyfile(os.path.join(runs[member].model_dir, trainer.CONFIG_FILE),
                            os.path.join(staging, member, trainer.CONFIG_FILE))
            model, cfg = graphs_lib.load_model_dir(runs[member].model_dir)
            trainer.save_inference_model(
                model, os.path.join(staging, member, trainer.MODEL_FILE), cfg.input_size)
        # The shipped export is made from the shipped (inference-only) model, verified against it.
        quantize = recipe.ship_quantize
        calibration = data_dir if quantize == "int8" else None
        say("\n$ python -m export.tflite --model_dir " + os.path.join(staging, "dkd") +
             " --out_dir " + os.path.join(staging, "dkd_tflite") + f" --quantize {quantize}" +
             (f" --representative_data {calibration}" if calibration else ""))
        shipped_export = os.path.join(staging, "dkd_tflite")
        tflite_export.export_tflite(os.path.join(staging, "dkd"), shipped_export, quantize,
                                    calibration, log=lambda *_: None)
        if quantize != "none":  # the shipped export's own scores, not the fp32 demo export's
            from dkd_tf.experiments import demo_export
            stream_report = demo_export.showcase(shipped_export,
                                                 os.path.join(out_dir, "shipped_stream"),
                                                 data_dir, None)
        names = recipe.names()
        results = {}
        for key, name in names.items():
            tables = {norm: acc[name].result(norm=norm) for norm in metrics.NORMS}
            results[key] = {norm: {"mean": t["mean"], "groups": t["groups"]}
                            for norm, t in tables.items()}
        results["dkd_minus_baseline"] = {
            norm: metrics.paired_bootstrap(acc[names["dkd"]], acc[names["baseline"]], norm)
            for norm in metrics.NORMS}
        results["dkd_follow_crop_pck"] = stream_report["follow_pck"]
        results["dkd_tflite_gt_crop_pck"] = stream_report["pck"]
        results["dkd_tflite_quantize"] = quantize
        command = (f"python -m dkd_tf.demo --recipe {recipe.name} --out_dir {out_dir} "
                   f"--videos {videos} --frames {frames} --seed {seed} --ship")
        info = {"produced_by": command, "machine": presets.machine(),
                "commit": presets.git_commit(), "wall_minutes": round(wall_minutes, 1),
                **_train_seconds(runs, seconds),
                "data": {"dataset": "synthetic", "videos": videos, "frames": frames, "seed": seed},
                "input_size": runs["dkd"].input_size, "names": names, "results": results}
        presets.write(os.path.basename(staging),
                      {"baseline": "keras model dir (inference weights)",
                       "dkd": "keras model dir (inference weights: P, F, Phi, matching head)",
                       "dkd_tflite": "verified TFLite "
                                     f"{manifest_lib.PRECISION_NAMES[quantize]} export of dkd"},
                      {**info, "name": recipe.name}, root=presets.PRESETS_DIR)
        card = os.path.join(root, presets.CARD_FILE)
        if os.path.isfile(card):  # kept; tests/test_api.py flags numbers that no longer match
            shutil.copyfile(card, os.path.join(staging, presets.CARD_FILE))
        presets.install(staging, root)
    presets.verify(recipe.name)
    return root


def _train_seconds(runs: dict, seconds: dict) -> dict:
    """What training the shipped pair took: the runs' own records (summed over resumes, so a
    --ship invocation that finds them finished still reports their cost), else this
    invocation's seconds."""
    from dkd_tf.training import run_state
    keys = [k for k in ("seed", "baseline", "dkd") if k in runs]
    recorded = {k: run_state.recorded_train_seconds(runs[k].model_dir) for k in keys}
    if all(v is not None for v in recorded.values()):
        first = "pretrain+seed" if "seed" in runs else "pretrain+baseline"
        return {"train_seconds": {first: round(recorded[keys[0]]),
                                  **{k: round(recorded[k]) for k in keys[1:]}},
                "train_seconds_source": "the runs' model_epoch.json (epochs summed over resumes)"}
    return {"train_seconds": {k: round(v) for k, v in seconds.items()},
            "train_seconds_source": "this invocation"}
