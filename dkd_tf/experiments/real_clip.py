"""A real person in a real clip, tracked by a shipped preset beside MoveNet Lightning.

`make demo` starts here: it fetches a real clip from a package registry (the pinned pose2sim
wheel from PyPI, sha256-checked and cached by dkd_tf.data.footage; a camera no preset trained
on), streams it with no box through a preset's TFLite export (the person found on the whole
first frame by the person finder the export names, MoveNet MultiPose for the real-world preset,
then the crop follows, re-initializing when confidence drops), and streams it the same way through
MoveNet Lightning (dkd_tf.serving.runtimes.PeerRunner), writing for each an overlay video and the
keypoint JSON, and one PNG of the same frame side by side. There are no human labels for this
clip: it reports how far the two agree (PCK@0.2 of ours with Lightning's keypoints as the
reference, by the size of Lightning's keypoint box, on the limbs: the head's label differs)
and what each costs; the labelled measurements are export.evaluate_stream's
(docs/real_people.md).
"""
from __future__ import annotations

import json
import os

import cv2
import numpy as np

from dkd_tf.tracking import video_stream
from dkd_tf.data import footage

CLIP = "Pose2Sim/Demo_SinglePerson/videos/cam04.mp4"  # held out of the real-world training
PEER = "movenet_lightning"
PNG_FRAME = 50


def agreement(ours: dict, reference: dict, alpha: float = 0.2, joints=None) -> float:
    """PCK@alpha (percent) of `ours` against `reference` keypoints (over the indices `joints`;
    None: all), per frame by the larger side of the reference keypoints' box; frames either
    stream lost are left out."""
    hits, total = 0, 0
    for a, b in zip(ours["frames"], reference["frames"]):
        if a.get("status") != "ok" or b.get("status") != "ok":
            continue
        p, r = np.asarray(a["keypoints"])[:, :2], np.asarray(b["keypoints"])[:, :2]
        size = max(float(np.ptp(r[:, 0])), float(np.ptp(r[:, 1])), 1.0)  # all of them
        if joints is not None:
            p, r = p[joints], r[joints]
        d = np.linalg.norm(p - r, axis=-1)
        hits += int(np.sum(d <= alpha * size))
        total += d.size
    return 100.0 * hits / total if total else float("nan")


def side_by_side(videos: dict, index: int, out_png: str) -> str:
    """Frame `index` of each overlay video, resized to one height and joined left to right."""
    tiles = []
    for label, path in videos.items():
        cap = cv2.VideoCapture(path)
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
        cap.release()
        if not ok:
            raise RuntimeError(f"{path}: cannot read overlay frame {index}")
        h = 640
        frame = cv2.resize(frame, (int(round(frame.shape[1] * h / frame.shape[0])), h))
        cv2.putText(frame, label, (8, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255),
                    2, cv2.LINE_AA)
        tiles.append(frame)
    cv2.imwrite(out_png, np.concatenate(tiles, axis=1))
    return out_png


def run(out_dir: str, model_dir: str, name: str, video: str | None = None,
        num_threads: int = 1, log=print) -> dict:
    """Stream the clip through `model_dir` (a verified TFLite export) and through Lightning;
    returns {'video', 'rows': {row: summary}, 'agreement', 'png'} and writes it to
    out_dir/real_clip.json."""
    from dkd_tf.core import joints as joints_lib
    from dkd_tf.evaluation import metrics, stream_eval
    from dkd_tf.serving import runtimes, tracking_policy
    os.makedirs(out_dir, exist_ok=True)
    video = video or footage.pose2sim_video(CLIP, log=log)
    ours = runtimes.open_runner("tflite", model_dir, num_threads)
    peer = runtimes.peer_like(PEER, ours, num_threads)
    outputs, summaries, overlays = {}, {}, {}
    shared = stream_eval.shared_settings([ours, peer])  # both tracked alike, with the
    shared["finder"] = tracking_policy.finder_of(ours.manifest)  # person finder ours names
    for label, runner, mdir in ((name, ours, model_dir), (PEER, peer, "")):
        stem = os.path.join(out_dir, f"real_{label}")
        overlays[label] = stem + ".mp4"
        log(f"$ python -m dkd_tf.stream --video {video} "
            + (f"--model_dir {mdir} " if mdir else f"(peer {PEER}) ")
            + f"--out_video {stem}.mp4 --out_json {stem}.json")
        out = video_stream.stream_video(mdir, video, "tflite", stem + ".mp4", stem + ".json",
                                  runner=runner, progress=False, log=log,
                                  **shared)
        outputs[label], summaries[label] = out, out["summary"]
    png = side_by_side(overlays, min(PNG_FRAME, len(outputs[name]["frames"]) - 1),
                       os.path.join(out_dir, "real_side_by_side.png"))
    # On the limbs: Lightning's head is a nose, ours (Penn Action's, LSP's) the head top.
    limbs = metrics.limb_joints(joints_lib.get(ours.manifest["joints"]["name"]))
    agree = agreement(outputs[name], outputs[PEER], joints=limbs)
    log(f"{name} agrees with {PEER} on {agree:.1f} % of the limb keypoints (PCK@0.2 with its "
        f"keypoints as reference, the head left out: ours marks its top, {PEER} a nose; no "
        f"human labels on this clip); side by side: {png}")
    result = {"video": video, "rows": summaries, "agreement_pck_0.2": agree, "png": png}
    with open(os.path.join(out_dir, "real_clip.json"), "w") as f:
        json.dump(result, f, indent=1, default=float)
    return result
