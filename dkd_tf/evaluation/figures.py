"""Pictures of what models do on a clip: the paper's Fig. 3 as a strip of frames (write_strip).

For each model two rows, both on the model's input crop (the ground-truth box's, as evaluate
crops): its keypoints (skeleton; left limbs orange, right blue; the chosen joint circled) with
the ground truth of that joint as a green cross; then the joint's heatmap.
Models are streamed over the whole clip (initialize, then step) with
protocol.StreamingPredictor, exactly as evaluate scores them. Without a video the test video
with the most frames where the distractor overlaps the subject (in front of it first) is picked
from the synthetic set's tags (dkd_tf.data.tags), and the frames shown are spread over its
overlap, two frames either side.

The command: python -m dkd_tf.figures strip (dkd_tf/figures.py).
"""
from __future__ import annotations

import os

import cv2
import numpy as np

from dkd_tf.core import codec, joints as joints_lib
from dkd_tf.data import penn_action, tags as tags_lib
from dkd_tf.data.records import DatasetError

JOINT_SET = joints_lib.PENN_ACTION
MARGIN_FRAMES = 2
LEFT_RGB, RIGHT_RGB, CENTRE_RGB = (1.0, 0.55, 0.0), (0.1, 0.45, 1.0), (1.0, 1.0, 1.0)


def resolve_joint(name: str, joint_set=JOINT_SET) -> int:
    """Index of a joint by its name or a unique prefix of it ('l_wri' -> l_wrist)."""
    key = str(name).strip().lower()
    if key in joint_set.names:
        return joint_set.index(key)
    hits = [i for i, n in enumerate(joint_set.names) if n.startswith(key)]
    if len(hits) == 1:
        return hits[0]
    raise ValueError(f"--joint {name!r}: {'ambiguous' if hits else 'no such joint'} in "
                     f"{joint_set.name}; names: {', '.join(joint_set.names)}")


def pick_crossing_clip(data_dir, split: str = "test") -> str:
    """The video of `split` with the most distractor-overlap frames, the distractor in front
    preferred; ties go to the lower id. DatasetError when tags are missing or none overlaps."""
    best, best_key = None, None
    for rec in penn_action.read_split(data_dir, split):
        vt = tags_lib.read_tags(data_dir, rec.video_id, rec.num_frames)
        key = (bool(vt.distractor_in_front), int(vt.frame["distractor_overlap"].sum()))
        if key[1] and (best_key is None or key > best_key):
            best, best_key = rec.video_id, key
    if best is None:
        raise DatasetError(os.path.join(os.fspath(data_dir), tags_lib.TAGS_DIR),
                           f"no {split} video where the distractor overlaps the subject")
    return best


def pick_frames(num_frames: int, count: int, overlap=None) -> list[int]:
    """`count` frame indices spread evenly over the overlap span (+- MARGIN_FRAMES) or, without
    an overlap, over the whole clip."""
    lo, hi = 0, num_frames - 1
    if overlap is not None and np.any(overlap):
        idx = np.flatnonzero(overlap)
        lo, hi = max(idx[0] - MARGIN_FRAMES, 0), min(idx[-1] + MARGIN_FRAMES, num_frames - 1)
    return sorted({int(round(v)) for v in np.linspace(lo, hi, max(int(count), 1))})


def stream_clip(model, input_size: int, record, last_frame: int):
    """Streams frames 0..last_frame of `record` -> per frame (keypoints [K, 2] source pixels,
    merged heatmaps [h, w, K], reference crop matrix [3, 3])."""
    from dkd_tf.evaluation import protocol
    from dkd_tf.data import transforms
    predictor = protocol.StreamingPredictor(model, input_size, JOINT_SET)
    out = []
    for t, (merged, mat) in enumerate(predictor.stream_heatmaps(record)):
        xy, _ = codec.decode_heatmaps(merged, predictor.stride)
        out.append((transforms.invert_points(mat, xy), merged, mat))
        if t >= last_frame:
            break
    return predictor, out


def _overlay(crop, heatmap):
    """Crop [S, S, 3] in 0..255 with one heatmap channel [h, w] upsampled over it, RGB 0..1."""
    size = crop.shape[0]
    hm = cv2.resize(np.asarray(heatmap, np.float32), (size, size),
                    interpolation=cv2.INTER_LINEAR)
    hm = np.clip(hm / max(float(hm.max()), 1e-6), 0.0, 1.0)
    from matplotlib import colormaps
    colour = colormaps["jet"](hm)[..., :3]
    base = np.clip(np.asarray(crop, np.float32) / 255.0, 0, 1)
    a = 0.65 * hm[..., None]
    return (1 - a) * base * 0.7 + a * colour


def _joint_colour(name):
    return LEFT_RGB if name.startswith("l_") else RIGHT_RGB if name.startswith("r_") else \
        CENTRE_RGB


def write_strip(model_dirs, names, data_dir, out, joint="l_wrist", video=None,
                num_frames: int = 6) -> dict:
    """Writes the strip PNG; returns {'video', 'frames' (0-based), 'joint', 'path'}."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from dkd_tf.evaluation import protocol
    from dkd_tf.training import trainer
    from dkd_tf.data.frames import load_frame

    if len(names) != len(model_dirs):
        raise ValueError(f"--names has {len(names)} names for {len(model_dirs)} --model_dir")
    k = resolve_joint(joint)
    vid = penn_action.video_dirname(video) if video else pick_crossing_clip(data_dir)
    record = penn_action.read_video(data_dir, vid)
    overlap, in_front = None, None
    if os.path.isfile(tags_lib.tag_path(data_dir, vid)):
        vt = tags_lib.read_tags(data_dir, vid, record.num_frames)
        overlap, in_front = vt.frame["distractor_overlap"], vt.distractor_in_front
    shown = pick_frames(record.num_frames, num_frames, overlap)

    rows = []
    for model_dir in model_dirs:
        cfg = trainer.TrainConfig.load(model_dir)
        predictor, per_frame = stream_clip(protocol.load_model(model_dir), cfg.input_size,
                                           record, shown[-1])
        rows.append((predictor, per_frame))

    n_rows, n_cols = 2 * len(rows), len(shown)
    fig = Figure(figsize=(2.2 * n_cols, 2.1 * n_rows))
    FigureCanvasAgg(fig)
    axes = np.asarray(fig.subplots(n_rows, n_cols, squeeze=False))
    images = {t: load_frame(record.frame_paths[t]) for t in shown}
    for m, (name, (predictor, per_frame)) in enumerate(zip(names, rows)):
        for c, t in enumerate(shown):
            xy, heatmaps, mat = per_frame[t]
            crop = predictor.crops(images[t], record.bboxes[t])[0].numpy()[0]
            to_crop = lambda p: np.asarray(p, np.float64) @ mat[:2, :2].T + mat[:2, 2]  # noqa
            xy = to_crop(xy)
            ax = axes[2 * m, c]
            ax.imshow(np.clip(crop / 255.0, 0, 1))
            for a, b in JOINT_SET.edges:
                ax.plot(xy[[a, b], 0], xy[[a, b], 1], "-", lw=1.2,
                        color=_joint_colour(JOINT_SET.names[b]))
            for j, n in enumerate(JOINT_SET.names):
                ax.plot(*xy[j], "o", ms=5 if j == k else 2.5, color=_joint_colour(n),
                        mec="k" if j == k else None, mew=0.8)
            gx, gy = to_crop(record.joints[t, k])
            ax.plot(gx, gy, "x", ms=6, mew=1.5, color=(0.1, 0.9, 0.1))
            ax.set_xlim(-0.5, crop.shape[1] - 0.5)
            ax.set_ylim(crop.shape[0] - 0.5, -0.5)
            hm_ax = axes[2 * m + 1, c]
            hm_ax.imshow(_overlay(crop, heatmaps[..., k]))
            if m == 0:
                tag = ""
                if overlap is not None and overlap[t]:
                    tag = " (distractor " + ("in front)" if in_front else "behind)")
                ax.set_title(f"frame {t + 1}{tag}", fontsize=7)
            if c == 0:
                ax.set_ylabel(f"{name}\nkeypoints", fontsize=8)
                hm_ax.set_ylabel(f"{name}\n{JOINT_SET.names[k]} heatmap", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"video {vid}: {', '.join(names)}; green x = ground-truth "
                 f"{JOINT_SET.names[k]}", fontsize=9)
    fig.tight_layout()
    out = os.fspath(out)
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    fig.savefig(out, format="png", dpi=110)
    return {"video": vid, "frames": shown, "joint": JOINT_SET.names[k], "path": out}
