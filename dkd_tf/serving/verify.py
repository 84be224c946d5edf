"""An export is checked against the Keras model it came from before it is kept.

Both stream the same clip frame by frame (initializer, then the stepper with the state carried);
heatmaps must agree within the format's tolerance (TOLERANCES: fp32 1e-4, fp16 0.03, ...) and,
for the int8 formats, at least KEYPOINT_AGREEMENT of the decoded keypoints within
KEYPOINT_TOLERANCE_PX; the stepper must also depend on its state (check_state_sensitivity).
verify_and_commit moves a staged export into place only when it passed, so a failed export never
replaces a good one. The clip is a video, labelled data or the synthetic generator's.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from dkd_tf.core import lazy_modules
from dkd_tf.serving import manifest as manifest_lib
from dkd_tf.serving import staging


# dkd_tf.serving.runtimes imports TensorFlow: imported on first use, so that `python -m export.verify`
# checks its export directory, model directory and video before TensorFlow loads
# (dkd_tf/core/lazy_modules.py).
runtimes = lazy_modules.module("dkd_tf.serving.runtimes")

# Allowed max abs difference, as a fraction of max(1, peak |reference|), per graph precision.
FP32_TOLERANCE = 1e-4
TOLERANCES = {"none": FP32_TOLERANCE, "fp32": FP32_TOLERANCE, "fp16": 0.03, "dynamic": 0.15,
              "int8": 0.35}
MIN_FRAMES = 30
# Integer graphs: the share of (frame, joint) keypoints within KEYPOINT_TOLERANCE_PX of Keras's.
KEYPOINT_CHECKED = ("dynamic", "int8")
KEYPOINT_TOLERANCE_PX = 1.0
KEYPOINT_AGREEMENT = 0.95


class VerificationError(RuntimeError):
    """An export that does not reproduce its Keras model."""


@dataclasses.dataclass
class Clip:
    frames: np.ndarray  # [T, S, S, 3] float32 RGB 0..255
    description: str


def _crop_frames(images, boxes, input_size):
    from dkd_tf.data import transforms
    out = []
    for image, box in zip(images, boxes):
        center, size = transforms.box_center_size(np.asarray(box, np.float32))
        m = transforms.crop_matrix(center, size, input_size)
        out.append(transforms.warp_image(image, m, input_size).numpy())
    return np.stack(out).astype(np.float32)


def _clip_from_video(video, input_size, num_frames) -> Clip:
    from dkd_tf.data import frame_crops, video_frames
    images = []
    with video_frames.FrameSource(video) as source:
        for item in source:
            if item.image is not None:
                images.append(item.image)
            if len(images) == num_frames:
                break
    if len(images) < num_frames:
        raise VerificationError(f"{video}: only {len(images)} readable frames, the parity check "
                                f"needs {num_frames}")
    boxes = [frame_crops.full_frame_box(*im.shape[:2]) for im in images]
    return Clip(_crop_frames(images, boxes, input_size), f"{video} (full frames)")


def _clip_from_data(cfg, input_size, num_frames) -> Clip | None:
    """The first test video of the model's data set with enough frames, gt-box crops."""
    from dkd_tf.data import datasets
    from dkd_tf.data.frames import load_frame
    if cfg is None or cfg.dataset == "mpii" or not os.path.isdir(cfg.data_dir or ""):
        return None
    if cfg.dataset == "synthetic" and not os.path.isdir(os.path.join(cfg.data_dir, "labels")):
        return None
    try:
        _, records = datasets.load(cfg, "test")
    except (ValueError, OSError):
        return None
    for rec in records:
        if rec.num_frames >= num_frames:
            images = [load_frame(p) for p in rec.frame_paths[:num_frames]]
            return Clip(_crop_frames(images, rec.bboxes[:num_frames], input_size),
                        f"{cfg.dataset} test video {rec.video_id} ({cfg.data_dir})")
    return None


def _clip_from_labelled(data_dir, input_size, num_frames) -> Clip:
    """The first video of a Penn Action format data dir with enough frames, cropped around its
    labelled boxes: a person at the size the model was trained on (a whole frame can make him
    a few dozen pixels, where a real-world model's peaks are flat and parity is noise)."""
    from dkd_tf.data import penn_action
    from dkd_tf.data.frames import load_frame
    for rec in penn_action.read_split(data_dir, "all"):
        if rec.num_frames >= num_frames:
            images = [load_frame(p) for p in rec.frame_paths[:num_frames]]
            return Clip(_crop_frames(images, rec.bboxes[:num_frames], input_size),
                        f"video {rec.video_id} of {data_dir} (labelled-box crops)")
    raise VerificationError(f"{data_dir}: no video with {num_frames} frames for the parity clip")


def _clip_from_generator(input_size, num_frames) -> Clip:
    from dkd_tf.data import synthetic
    v = synthetic.render_video(synthetic.video_rng(2019, 0), num_frames, 160, 208)
    return Clip(_crop_frames(v["frames"], v["bboxes"], input_size),
                "synthetic generator video (seed 2019)")


def load_clip(input_size, num_frames=MIN_FRAMES, video=None, cfg=None) -> Clip:
    if num_frames < 2:
        raise ValueError("the parity clip needs at least 2 frames (initializer + stepper)")
    if video and os.path.isdir(os.path.join(video, "labels")):
        return _clip_from_labelled(video, input_size, num_frames)
    if video:
        return _clip_from_video(video, input_size, num_frames)
    return (_clip_from_data(cfg, input_size, num_frames)
            or _clip_from_generator(input_size, num_frames))


def stream_clip(runner, frames):
    """Initializer on frame 0, stepper after, state carried -> (heatmaps [T,...], states)."""
    heatmaps, states, state = [], [], None
    for t, frame in enumerate(frames):
        if t == 0:
            h, state = runner.initialize(frame[None])
        else:
            h, state = runner.step(frame[None], state)
        heatmaps.append(h[0])
        states.append(state[0])
    return np.stack(heatmaps), np.stack(states)


def check_state_sensitivity(make_runner, reference, frame, state_a, state_b, tolerance) -> dict:
    """Guard against a stepper whose runtime-computed filter is frozen after the first invoke.

    make_runner() must return a fresh runner (no invoke yet). Its stepper sees state_a, then
    state_b, then state_a again; the outputs must track Keras's for both states: the output must
    change by at least a quarter of Keras's change, match Keras for state_b within `tolerance`
    (times max(1, peak)), and repeat for state_a.
    """
    runner = make_runner()
    ea, _ = runner.step(frame, state_a)
    eb, _ = runner.step(frame, state_b)
    ea2, _ = runner.step(frame, state_a)
    ka, _ = reference.step(frame, state_a)
    kb, _ = reference.step(frame, state_b)
    ref_delta = float(np.abs(ka - kb).max())
    exp_delta = float(np.abs(ea - eb).max())
    scale = max(1.0, float(np.abs(ka).max()), float(np.abs(kb).max()))
    out = {
        "keras_output_change": ref_delta, "export_output_change": exp_delta,
        "max_abs_diff_state_a": float(np.abs(ea - ka).max()),
        "max_abs_diff_state_b": float(np.abs(eb - kb).max()),
        "repeat_diff": float(np.abs(ea2 - ea).max()),
    }
    problems = []
    if ref_delta <= 1e-6:
        problems.append(f"the Keras model's output does not depend on the state (it changes by "
                        f"{ref_delta:.3g} between two test states), so the stepper cannot be "
                        "checked; an untrained model whose activations vanish does this (e.g. "
                        "MobileNetV3 with its initial BatchNorm statistics): export a trained "
                        "model")
    elif exp_delta < 0.25 * ref_delta:
        problems.append(f"the stepper's output barely changes with the state ({exp_delta:.3g} vs "
                        f"Keras {ref_delta:.3g}): the runtime filter looks frozen")
    if out["max_abs_diff_state_b"] > tolerance * scale:
        problems.append(f"with a second state the stepper differs from Keras by "
                        f"{out['max_abs_diff_state_b']:.3g} (tolerance {tolerance * scale:.3g}): "
                        "it did not take the new filter")
    if out["repeat_diff"] > tolerance * scale:
        problems.append(f"feeding the first state again gives a different output "
                        f"({out['repeat_diff']:.3g})")
    out["passed"] = not problems
    out["problems"] = problems
    return out


def _tolerance_of(runner) -> tuple[str, float]:
    precision = getattr(runner, "quantization", "fp32")
    return precision, TOLERANCES[precision]


def keypoint_agreement(ref_xy, exp_xy, tolerance_px=KEYPOINT_TOLERANCE_PX) -> float:
    """Share of keypoints [..., K, 2] (input pixels) within tolerance_px of the reference's."""
    return float(np.mean(np.linalg.norm(exp_xy - ref_xy, axis=-1) <= tolerance_px))


def compare(reference, runner, clip: Clip, tolerance=None, make_runner=None, log=print,
            min_agreement=None) -> dict:
    """Stream `clip` through both runners; per-frame differences and the pass/fail verdict.
    min_agreement overrides KEYPOINT_AGREEMENT for the integer precisions."""
    from dkd_tf.core import codec
    precision, default_tol = _tolerance_of(runner)
    tol = default_tol if tolerance is None else float(tolerance)
    k_hm, k_st = stream_clip(reference, clip.frames)
    e_hm, e_st = stream_clip(runner, clip.frames)
    stride = int(reference.manifest["stride"])
    rule = runner.manifest.get("decoding", codec.DEFAULT_DECODING)  # as the export's users decode
    k_xy, _ = codec.decode_heatmaps(k_hm, stride, rule)
    e_xy, _ = codec.decode_heatmaps(e_hm, stride, rule)
    d_hm = np.abs(e_hm - k_hm).reshape(len(k_hm), -1).max(1)
    d_st = np.abs(e_st - k_st).reshape(len(k_st), -1).max(1)
    d_kp = np.linalg.norm(e_xy - k_xy, axis=-1).max(1)
    hm_scale = max(1.0, float(np.abs(k_hm).max()))
    st_scale = max(1.0, float(np.abs(k_st).max()))
    by_keypoints = precision in KEYPOINT_CHECKED
    need = KEYPOINT_AGREEMENT if min_agreement is None else float(min_agreement)
    agreement = keypoint_agreement(k_xy, e_xy)
    if by_keypoints:
        log(f"parity {runner.describe()} vs keras: {len(k_hm)} frames of {clip.description}, "
            f"precision {precision}: keypoints within {KEYPOINT_TOLERANCE_PX:g} px on >= "
            f"{need:.0%} of the joints (state check tolerance {tol:g} x max(1, peak))")
    else:
        log(f"parity {runner.describe()} vs keras: {len(k_hm)} frames of {clip.description}, "
            f"precision {precision}, tolerance {tol:g} x max(1, peak) = heatmaps "
            f"{tol * hm_scale:.3g}, state {tol * st_scale:.3g}")
    log(f"  {'frame':>5} {'graph':>11} {'max|dh|':>10} {'max|ds|':>10} {'max kp px':>9}")
    for t in range(len(k_hm)):
        log(f"  {t:5d} {'initializer' if t == 0 else 'stepper':>11} {d_hm[t]:10.3e} "
            f"{d_st[t]:10.3e} {d_kp[t]:9.2f}")
    result = {
        "precision": precision, "tolerance": tol, "frames": int(len(k_hm)),
        "clip": clip.description,
        "max_abs_diff_heatmaps": float(d_hm.max()), "max_abs_diff_state": float(d_st.max()),
        "per_frame_heatmaps": [float(x) for x in d_hm],
        "per_frame_state": [float(x) for x in d_st],
        "max_keypoint_shift_px": float(d_kp.max()),
        "mean_keypoint_shift_px": float(np.linalg.norm(e_xy - k_xy, axis=-1).mean()),
        "keypoint_agreement": agreement, "keypoint_tolerance_px": KEYPOINT_TOLERANCE_PX,
        "criterion": ("keypoints" if by_keypoints else "heatmaps"),
    }
    if by_keypoints:
        result["min_keypoint_agreement"] = need
    problems = []
    if not np.all(np.isfinite(e_hm)) or not np.all(np.isfinite(e_st)):
        problems.append("the export produced NaN/inf")
    if by_keypoints:
        if agreement < need:
            problems.append(f"keypoints within {KEYPOINT_TOLERANCE_PX:g} px of Keras on "
                            f"{agreement:.1%} of the joints, need {need:.0%}")
    elif d_hm.max() > tol * hm_scale:
        problems.append(f"heatmaps differ by {d_hm.max():.3g} (frame {int(d_hm.argmax())}), "
                        f"tolerance {tol * hm_scale:.3g}")
    if not by_keypoints and d_st.max() > tol * st_scale:
        problems.append(f"state differs by {d_st.max():.3g} (frame {int(d_st.argmax())}), "
                        f"tolerance {tol * st_scale:.3g}")
    if reference.model.temporal and make_runner is not None and len(k_st) >= 2:
        # Two states with in-distribution values: the stream's state before frame 1, and the
        # last one mirrored and with its channels rotated (a larger change of the output).
        other = np.roll(k_st[-1][::-1, ::-1], 1, axis=-1)[None]
        guard = check_state_sensitivity(make_runner, reference, clip.frames[1][None],
                                        k_st[0][None], np.ascontiguousarray(other), tol)
        result["state_sensitivity"] = guard
        log(f"  state sensitivity: keras output change {guard['keras_output_change']:.3g}, "
            f"export {guard['export_output_change']:.3g}, diff with 2nd state "
            f"{guard['max_abs_diff_state_b']:.3g}, repeat {guard['repeat_diff']:.3g} -> "
            f"{'ok' if guard['passed'] else 'FAILED'}")
        problems += guard["problems"]
    else:
        result["state_sensitivity"] = {"passed": True, "skipped": "single-frame variant"}
    result["passed"] = not problems
    result["problems"] = problems
    log(f"  max |dh| {result['max_abs_diff_heatmaps']:.3e}, max |ds| "
        f"{result['max_abs_diff_state']:.3e}, keypoints moved <= "
        f"{result['max_keypoint_shift_px']:.2f} px, within {KEYPOINT_TOLERANCE_PX:g} px: "
        f"{agreement:.1%} -> {'PASSED' if not problems else 'FAILED'}")
    for p in problems:
        log(f"  problem: {p}")
    return result


def _make_runner(fmt, export_dir):
    return lambda: runtimes.open_runner(fmt, export_dir, allow_unverified=True)


def verify_format(export_dir, fmt, reference=None, clip=None, model_dir=None, video=None,
                  num_frames=MIN_FRAMES, tolerance=None, log=print) -> dict:
    """Parity of one format of an export. Returns the result dict (result['passed'])."""
    if reference is None:
        reference = runtimes.KerasRunner.from_dir(model_dir or export_dir)
    if clip is None:
        clip = load_clip(reference.input_size, num_frames, video, _config_of(reference))
    runner = runtimes.open_runner(fmt, export_dir, allow_unverified=True)  # this is the check
    if runner.manifest["model"].get("sha256") != reference.manifest["model"].get("sha256"):
        log("  note: comparing against a different model.keras than the one exported")
    return compare(reference, runner, clip, tolerance, _make_runner(fmt, export_dir), log)


def _config_of(reference):
    from dkd_tf.training.trainer import TrainConfig

    # The runner's source is the model dir itself, or an export dir whose manifest names it.
    for model_dir in (reference.source,
                      manifest_lib.source_model_dir(reference.manifest, reference.source)):
        try:
            return TrainConfig.load(model_dir)
        except (FileNotFoundError, ValueError, TypeError):
            continue
    return None


def check_inputs(export_dir, model_dir=None, video=None) -> dict:
    """The cheap checks, before TensorFlow loads: the export's manifest reads and is verified
    (manifest.read: a preset member against preset.json, else the manifest's content checksum),
    the model directory (given, or the one the manifest names) and the video exist. Returns the
    manifest."""
    from dkd_tf import presets
    manifest = manifest_lib.read(export_dir)
    source = model_dir or manifest_lib.source_model_dir(manifest, export_dir)
    if model_dir and not os.path.isdir(model_dir):
        raise FileNotFoundError(f"{model_dir}: --model_dir: no such model directory")
    if source and os.path.isdir(source):
        presets.verify_path(source)
    if video and not os.path.exists(video):
        raise FileNotFoundError(f"{video}: --video: no such video file or frame folder")
    return manifest


def verify_export(export_dir, formats=None, model_dir=None, video=None, num_frames=MIN_FRAMES,
                  tolerance=None, log=print) -> dict:
    """Parity of every (or the named) format in export_dir; raises VerificationError on failure."""
    if num_frames < MIN_FRAMES:
        raise ValueError(f"the parity clip needs at least {MIN_FRAMES} frames, got {num_frames}")
    manifest = manifest_lib.read(export_dir)
    formats = list(formats or manifest["formats"])
    if not formats:
        raise VerificationError(f"{export_dir}: the manifest lists no exported graphs")
    reference = runtimes.KerasRunner.from_dir(model_dir or export_dir)
    clip = load_clip(reference.input_size, num_frames, video, _config_of(reference))
    results = {}
    for fmt in formats:
        results[fmt] = verify_format(export_dir, fmt, reference, clip, tolerance=tolerance,
                                     log=log)
    failed = [f for f, r in results.items() if not r["passed"]]
    if failed:
        raise VerificationError(f"{export_dir}: {', '.join(failed)} export failed its check "
                                "against the Keras model: " + "; ".join(
                                    p for f in failed for p in results[f]["problems"]))
    return results


_FORMAT_LABELS = {"tflite": "TFLite", "onnx": "ONNX"}


def verify_and_commit(stage, out_dir, fmt, fresh, model, model_dir, cfg, input_size,
                      verify_frames, video, detail, log=print, keep_unverified=False) -> dict:
    """The end of every export: merge the freshly built manifest with out_dir's, check the graphs
    staged in `stage` against the Keras model, record the result in the manifest, and move the
    graphs (then the manifest) into out_dir only when the check passed. Returns the manifest;
    raises VerificationError, leaving out_dir untouched, otherwise. detail: how the 'wrote'
    lines describe the files (quantization, opset).

    keep_unverified: a failed export is written all the same, its manifest recording the failure
    (runners refuse it unless allow_unverified), so that what a quantization costs can be
    measured, e.g. int8 PCK against fp32, where the keypoint rule is stricter than the accuracy
    one asks for. Never over an export of this format: a failed one cannot replace another."""
    held = _holds_format(out_dir, fmt)  # read before the merge replaces out_dir's entry
    fresh["verification"][fmt] = {"passed": False, "status": "pending"}
    manifest = manifest_lib.merge(out_dir, fresh)
    manifest_lib.write(stage, manifest)
    reference = runtimes.KerasRunner(model, manifest, model_dir)
    clip = load_clip(input_size, verify_frames, video, cfg)
    result = verify_format(stage, fmt, reference, clip, log=log)
    manifest["verification"][fmt] = result
    manifest_lib.write(stage, manifest)
    files = [manifest["formats"][fmt][g]["file"] for g in manifest_lib.GRAPHS]
    if not result["passed"]:
        problems = "; ".join(result["problems"])
        if keep_unverified and not held:
            for path in staging.commit(stage, out_dir, files):
                log(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB, {detail}, UNVERIFIED)")
            raise VerificationError(
                f"{out_dir}: the {_FORMAT_LABELS[fmt]} export failed its check against the Keras "
                f"model ({problems}); written anyway (--keep_unverified), its manifest records "
                "the failure: runners refuse it without --allow_unverified")
        if keep_unverified:
            problems += (f"; --keep_unverified does not write over the {_FORMAT_LABELS[fmt]} "
                         "export already there")
        raise VerificationError(
            f"{out_dir}: the {_FORMAT_LABELS[fmt]} export failed its check against the Keras "
            "model, so nothing was written there: " + problems)
    for path in staging.commit(stage, out_dir, files):
        log(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB, {detail})")
    return manifest


def _holds_format(out_dir, fmt) -> bool:
    """Whether out_dir's manifest lists an export of this format; an unreadable manifest counts
    as one (a failed export never replaces files it cannot account for)."""
    if not os.path.isfile(manifest_lib.manifest_path(out_dir)):
        return False
    try:
        return fmt in manifest_lib.read(out_dir).get("formats", {})
    except ValueError:
        return True
