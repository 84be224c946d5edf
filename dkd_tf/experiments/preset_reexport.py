"""Re-export a shipped preset's DKD with the current exporter and tracker, without retraining.

    python -m dkd_tf.reexport_preset --preset reference --data_dir demo_out/data

Why: an export carries more than the weights (the manifest's decoding rule and tracker constants,
which the Android app reads from it; the graph rewrites). When those change, the shipped export
and the results preset.json records for it go stale, while the Keras members do not. This
exports the shipped `dkd` member again (the precision it was shipped in; int8 calibrated on
data_dir's frames), streams data_dir's held-out videos through it (ground-truth crops, which must
match the Keras PCK that preset.json records, then the follow crop), swaps it in for the old
export and rewrites preset.json: the export's results and every checksum, plus an entry in
`exports_refreshed` (command, commit, date, the results it replaced). The Keras models, their
results and the training record stay as they were.
"""
from __future__ import annotations

import datetime
import os
import shutil


from dkd_tf import presets

EXPORT_MEMBER = "dkd_tflite"
EXPORT_RESULTS = ("dkd_follow_crop_pck", "dkd_tflite_gt_crop_pck")


def reexport(name: str, data_dir: str, out_dir: str, log=print) -> dict:
    """Re-export preset `name`'s DKD (see the module docstring); returns the new preset.json."""
    from dkd_tf.training import trainer
    from dkd_tf.data import datasets
    from dkd_tf.experiments import demo_export
    from dkd_tf.serving import tflite_export
    meta = presets.verify(name)
    root = presets.preset_dir(name)
    data = meta["data"]
    datasets.ensure_synthetic(trainer.TrainConfig(
        dataset=data["dataset"], data_dir=data_dir, synthetic_videos=data["videos"],
        synthetic_frames=data["frames"], seed=data["seed"]), log=log)
    results = meta["results"]
    quantize = results.get("dkd_tflite_quantize", "none")
    calibration = data_dir if quantize == "int8" else None
    staging = f"{root}.{EXPORT_MEMBER}.staging"  # beside the preset: never listed in it
    shutil.rmtree(staging, ignore_errors=True)
    model_dir = presets.member_dir(name, "dkd", meta)
    log(f"$ python -m export.tflite --model_dir {model_dir} --out_dir {staging} "
        f"--quantize {quantize}" + (f" --representative_data {calibration}" if calibration else ""))
    try:
        tflite_export.export_tflite(model_dir, staging, quantize, calibration,
                                    log=lambda *_: None)
        # Raises unless the new export reproduces the Keras PCK that preset.json records.
        report = demo_export.showcase(staging, os.path.join(out_dir, f"{name}_stream"),
                                      data_dir, results["dkd"]["person"]["mean"], log=log)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # the shipped export stays as it was
        raise
    previous = {k: results.get(k) for k in EXPORT_RESULTS}
    results.update(dkd_follow_crop_pck=report["follow_pck"], dkd_tflite_gt_crop_pck=report["pck"])
    # A preset names no machine's folder: an absolute data_dir is recorded as DATA.
    shown = "DATA" if os.path.isabs(data_dir) else data_dir
    command = f"python -m dkd_tf.reexport_preset --preset {name} --data_dir {shown}"
    refreshed = list(meta.get("exports_refreshed", [])) + [{
        "command": command, "commit": presets.git_commit(),
        "date": datetime.date.today().isoformat(), "replaced": previous}]
    info = {k: v for k, v in meta.items()  # all but what presets.write sets itself
            if k not in ("format_version", "name", "members", "files")}
    info.update(results=results, exports_refreshed=refreshed)
    old = f"{root}.{EXPORT_MEMBER}.old"
    shutil.rmtree(old, ignore_errors=True)
    os.replace(os.path.join(root, EXPORT_MEMBER), old)
    os.replace(staging, os.path.join(root, EXPORT_MEMBER))
    shutil.rmtree(old)
    presets.write(name, meta["members"], info)
    log(f"re-exported {os.path.join(root, EXPORT_MEMBER)}: follow-crop PCK "
        f"{previous['dkd_follow_crop_pck']} -> {report['follow_pck']:.2f}")
    return presets.verify(name)
