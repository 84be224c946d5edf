"""The deployment half of `make demo`: export the trained DKD, stream through stepper.tflite, and
check that the streamed keypoints score what the Keras evaluation scored.

    run(model_dir, out_dir, data_dir, keras_pck)

1. export: dkd_tf.serving.tflite_export.export_tflite(model_dir, out_dir, 'none') writes initializer.tflite,
   stepper.tflite and manifest.json, and verifies them against Keras over >= 30 frames (it raises
   dkd_tf.serving.verify.VerificationError otherwise);
2. stream: the first held-out video of data_dir (Penn Action format, split 'test') goes through
   dkd_tf.stream (backend tflite) as a user would run it: crop started from the first frame's
   ground-truth box, then following the keypoints. Writes out_dir/overlay.mp4,
   out_dir/keypoints.json and one overlay frame, out_dir/overlay_frame.png (for the README);
3. evaluate: export.evaluate_stream streams every held-out video through the TFLite graphs with
   the Keras evaluation's protocol (crop around each frame's ground-truth box, no
   re-initialization; dkd_tf.evaluation.protocol) and scores PCK@0.2 normalized by person size; prints it
   next to `keras_pck`, with the per-frame latency (median, p90) of the initializer and of the
   stepper, and writes out_dir/stream_eval.json. The follow-crop PCK (no ground truth after
   frame 1) is printed for information;
4. check: the two PCKs must agree within `tolerance` (0.5 points), else PCKMismatchError.

Every step prints its command-line equivalent, as the rest of the demo does.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

import numpy as np

PCK_TOLERANCE = 0.5  # points of PCK@0.2 between the TFLite stream and the Keras evaluation
OVERLAY_VIDEO = "overlay.mp4"
KEYPOINTS_JSON = "keypoints.json"
OVERLAY_PNG = "overlay_frame.png"
EVAL_JSON = "stream_eval.json"
PNG_MIN_HEIGHT = 480  # the README picture is upscaled to at least this many rows


class PCKMismatchError(RuntimeError):
    """The keypoints streamed through the export do not score the PCK of the Keras model."""


def _agrees(diff: float, tolerance: float) -> bool:
    return bool(np.isfinite(diff) and diff <= tolerance)


def check_pck(tflite_pck: float, keras_pck: float, tolerance: float = PCK_TOLERANCE) -> float:
    """|tflite_pck - keras_pck| in points; raises PCKMismatchError above `tolerance` (or NaN)."""
    diff = abs(float(tflite_pck) - float(keras_pck))
    if not _agrees(diff, tolerance):
        raise PCKMismatchError(
            f"PCK@0.2 of the TFLite stream ({float(tflite_pck):.2f}) differs from the Keras "
            f"evaluation ({float(keras_pck):.2f}) by {diff:.2f} points; at most {tolerance:g} is "
            "allowed (same videos, same ground-truth crops)")
    return diff


def _cli(command: str, **flags) -> str:
    parts = [f"--{k}={v}" for k, v in flags.items() if v not in (None, "")]
    return f"$ python -m {command} " + " ".join(parts)


def save_overlay_frame(image: np.ndarray, entry: dict, names, edges, path: str,
                       keypoint_threshold: float, label: str = "") -> str:
    """Redraw one frame of a keypoint JSON (dkd_tf.stream) on its uint8 RGB source image, upscaled
    to at least PNG_MIN_HEIGHT rows so the skeleton reads well in a document, and save it."""
    import cv2

    from dkd_tf.tracking import drawing
    from dkd_tf.tracking import pose_tracker
    from dkd_tf.data.frames import save_frame
    result = pose_tracker.FrameResult.from_json(entry)
    scale = max(1, int(np.ceil(PNG_MIN_HEIGHT / image.shape[0])))
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if scale > 1:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        if result.status == "ok":
            # Pixel centres: x_big = (x + 0.5) * scale - 0.5.
            result = dataclasses.replace(result,
                                         keypoints=(result.keypoints + 0.5) * scale - 0.5,
                                         crop=(result.crop + 0.5) * scale - 0.5)
    bgr = drawing.draw_pose(bgr, result, names, edges, keypoint_threshold, label)
    save_frame(path, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return path


def _latency_lines(lat: dict) -> list[str]:
    lines = []
    for g in ("initializer", "stepper"):
        s = lat[g]
        if s["runs"]:
            lines.append(f"  {g:11s} median {s['median_ms']:7.2f} ms   p90 {s['p90_ms']:7.2f} ms"
                         f"   ({s['runs']} frames)")
    ini, stp = lat["initializer"]["median_ms"], lat["stepper"]["median_ms"]
    if ini and stp:
        lines.append(f"  the stepper costs {stp / ini:.2f}x the initializer per frame")
    return lines


def run(model_dir: str, out_dir: str, data_dir: str, keras_pck: float, *,
        tolerance: float = PCK_TOLERANCE, progress: bool = True, log=print) -> dict:
    """Export, stream one held-out video, evaluate all held-out videos, compare with keras_pck.

    Args:
      model_dir: the trained DKD run (config.json + model.keras).
      out_dir: export directory; also receives overlay.mp4, keypoints.json, overlay_frame.png
        and stream_eval.json.
      data_dir: Penn Action format data dir whose 'test' split is held out.
      keras_pck: mean PCK@0.2 (person size, percent) of the Keras streaming evaluation
        (dkd_tf.evaluation.protocol) of the same model on the same videos.
      tolerance: allowed |PCK_tflite - keras_pck| in points.

    Returns {'pck', 'keras_pck', 'difference', 'follow_pck', 'latency', 'files', 'manifest',
    'stream_summary'}; raises PCKMismatchError when the PCKs differ by more than `tolerance`.
    """
    from dkd_tf.serving import tflite_export
    # 1. Export (verifies itself: >= 30 frames through Keras and through the files).
    log("\n" + _cli("export.tflite", model_dir=model_dir, out_dir=out_dir, quantize="none"))
    sys.stdout.flush()
    manifest = tflite_export.export_tflite(model_dir, out_dir, "none", log=log)
    report = showcase(out_dir, out_dir, data_dir, keras_pck, tolerance=tolerance,
                      progress=progress, log=log)
    report["manifest"] = manifest
    return report


def showcase(export_dir: str, out_dir: str, data_dir: str, keras_pck: float | None, *,
             tolerance: float = PCK_TOLERANCE, progress: bool = True, log=print) -> dict:
    """Steps 2-4 on an existing verified export (e.g. a shipped preset): stream one held-out
    video with the follow crop, score every held-out video through the TFLite graphs (ground-truth
    crops, then the follow crop), and compare with keras_pck (skipped when None)."""
    from dkd_tf.tracking import video_stream
    from dkd_tf.data import penn_action
    from dkd_tf.data.frames import load_frame
    from dkd_tf.evaluation import stream_eval
    from dkd_tf.serving import runtimes
    from dkd_tf.serving import manifest as manifest_lib

    def say(text):  # the commands show up before the work they stand for, even when piped
        log(text)
        sys.stdout.flush()

    records = penn_action.read_split(data_dir, "test")
    if not records:
        raise ValueError(f"{data_dir}: no held-out ('test') videos to stream")
    os.makedirs(out_dir, exist_ok=True)
    files = {"overlay_video": os.path.join(out_dir, OVERLAY_VIDEO),
             "keypoints_json": os.path.join(out_dir, KEYPOINTS_JSON),
             "overlay_png": os.path.join(out_dir, OVERLAY_PNG),
             "eval_json": os.path.join(out_dir, EVAL_JSON),
             "initializer": os.path.join(export_dir, "initializer.tflite"),
             "stepper": os.path.join(export_dir, "stepper.tflite"),
             "manifest": os.path.join(export_dir, "manifest.json")}
    runner = runtimes.TFLiteRunner(export_dir)

    # 2. Stream one held-out video as a user would: start from its first box, then follow.
    rec = records[0]
    frames_dir = os.path.dirname(rec.frame_paths[0])
    box = [round(float(v), 1) for v in rec.bboxes[0]]
    bbox = ",".join(f"{v:g}" for v in box)
    say("\n" + _cli("dkd_tf.stream", model_dir=export_dir, video=frames_dir, backend="tflite",
                    bbox=bbox, out_video=files["overlay_video"],
                    out_json=files["keypoints_json"]))
    streamed = video_stream.stream_video(export_dir, frames_dir, "tflite",
                                   out_video=files["overlay_video"],
                                   out_json=files["keypoints_json"], bbox=np.array(box, np.float32),
                                   progress=progress, runner=runner, log=log)
    ok = [e for e in streamed["frames"] if e["status"] == "ok"]
    steps = [e for e in ok if e["graph"] == "stepper"]
    pick = (steps or ok)[len(steps or ok) // 2]
    save_overlay_frame(load_frame(rec.frame_paths[pick["index"]]), pick, streamed["joints"],
                       streamed["edges"], files["overlay_png"],
                       streamed["settings"]["keypoint_threshold"], "tflite")
    log(f"wrote {files['overlay_video']}, {files['keypoints_json']} and {files['overlay_png']} "
        f"(frame {pick['index']} of held-out video {rec.video_id})")

    # 3. PCK of the TFLite stream with the Keras evaluation's protocol, and latency.
    say("\n" + _cli("export.evaluate_stream", export_dir=export_dir, data_dir=data_dir,
                    crop="gt", backend="tflite", out_json=files["eval_json"]))
    gt = stream_eval.evaluate_stream(export_dir, data_dir, crop="gt", runner=runner,
                                         progress=progress, log=log)
    say(_cli("export.evaluate_stream", export_dir=export_dir, data_dir=data_dir,
             crop="follow", backend="tflite"))
    follow = stream_eval.evaluate_stream(export_dir, data_dir, crop="follow", runner=runner,
                                             log=lambda *_: None)
    diff = abs(gt["pck"] - float(keras_pck)) if keras_pck is not None else float("nan")
    passed = _agrees(diff, tolerance) if keras_pck is not None else None
    report = {"pck": gt["pck"], "keras_pck": keras_pck, "difference": diff,
              "tolerance": tolerance, "passed": passed, "follow_pck": follow["pck"],
              "follow_table": follow["pck_table"],
              "latency": gt["latency"], "num_videos": gt["num_videos"],
              "num_frames": gt["num_frames"], "runner": runner.describe()}
    with open(files["eval_json"], "w") as f:
        json.dump(stream_eval.json_ready({**report, "evaluation": gt}), f, indent=1)
    precision = manifest_lib.PRECISION_NAMES[runner.quantization]
    lines = [f"\nTFLite {precision} stream ({runner.describe()}), {gt['num_videos']} held-out "
             f"videos, {gt['num_frames']} frames, input {runner.input_size}x{runner.input_size}:",
             "Per-frame latency (graph invoke only, batch 1):", *_latency_lines(gt["latency"])]
    if keras_pck is None:
        lines.append(f"PCK@0.2 (person size), ground-truth crops: TFLite {gt['pck']:.2f}")
    else:
        lines.append(f"PCK@0.2 (person size), ground-truth crops: TFLite {gt['pck']:.2f}  vs  "
                     f"Keras {float(keras_pck):.2f}  (difference {diff:.2f}, allowed "
                     f"{tolerance:g}) -> {'match' if passed else 'MISMATCH'}")
    lines.append(f"PCK@0.2 when the crop follows the predicted keypoints (deployment, gt box on "
                 f"frame 1 only): {follow['pck']:.2f}")
    log("\n".join(lines))
    if keras_pck is not None:
        check_pck(gt["pck"], keras_pck, tolerance)
    report.update(files=files, stream_summary=streamed["summary"])
    return report
