"""Exports and peers scored on labelled clips as a device runs them: frame by frame, own crops.

Each clip goes through a PoseTracker with the crop policy asked for: 'gt' (the labelled box each
frame), 'follow' (the first labelled box, then the tracker's own follow crop) or 'find' (no box:
the whole frame first). PCK@0.2/0.1 by person size, jitter (median joint acceleration) and
latency per model; compare_streams gives a paired bootstrap interval of one model minus another
over the same clips.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from dkd_tf.serving.tracking_policy import DEFAULT_FOLLOW_MARGIN, DEFAULT_FOLLOW_SMOOTHING


# gt: every frame cropped around its labelled box (the paper's protocol); follow: frame 1's
# labelled box, then the box follows the predicted keypoints; find: no box at all, as
# `dkd_tf.stream` without --bbox (the initializer reads the whole first frame, then follows).
CROPS = ("gt", "follow", "find")
FOLLOWING = ("follow", "find")


def evaluate_stream(export_dir: str, data_dir: str, crop: str = "follow",
                    backend: str = "tflite", split: str = "test", max_videos: int | None = None,
                    alpha: float = 0.2, reinit_threshold: float = 0.0, reinit_every: int = 0,
                    num_threads: int | None = None, runner=None, progress: bool = False,
                    log=print, allow_unverified: bool = False,
                    follow_smoothing: float = DEFAULT_FOLLOW_SMOOTHING,
                    follow_margin: float = DEFAULT_FOLLOW_MARGIN, finder=None,
                    smoothing: dict | None = None, motion_prior: float | None = None,
                    follow_velocity: float | None = None) -> dict:
    """Stream the videos of `split` and score them. smoothing: One Euro filter settings for the
    keypoints (dkd_tf.tracking.keypoint_filter.make; None: as decoded). motion_prior:
    PoseTracker's (0: off; published peers decode themselves and ignore it). follow_velocity:
    PoseTracker's. Either None: the export's manifest's.

    Returns {'pck': mean PCK@alpha (person size, percent), 'pck_table': the full
    dkd_tf.evaluation.metrics result, 'median_latency_ms': {'initializer', 'stepper'}, 'latency': stats,
    'num_videos', 'num_frames', 'crop', 'backend', 'predictions': {video_id: [T, K, 2]}}.
    """
    from dkd_tf.data import penn_action
    from dkd_tf.data.frames import load_frame
    from dkd_tf.evaluation import metrics
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.serving import runtimes
    from dkd_tf.tracking import keypoint_filter, pose_tracker
    if crop not in CROPS:
        raise ValueError(f"crop must be one of {CROPS}, got {crop!r}")
    if runner is None:
        runner = runtimes.open_runner(backend, export_dir, num_threads,
                                      allow_unverified=allow_unverified)
    runner.warmup()  # one-time costs are no per-frame latency
    joint_set = manifest_lib.joint_set(runner.manifest)
    records = penn_action.read_split(data_dir, split)
    if not records:
        raise ValueError(f"{data_dir}: no {split} videos")
    if max_videos:
        records = records[:max_videos]
    if records[0].joint_set != joint_set.name:
        raise ValueError(f"{data_dir} is labelled with joint set {records[0].joint_set!r}, the "
                         f"export predicts {joint_set.name!r}")
    tracker = pose_tracker.PoseTracker(runner, reinit_threshold=reinit_threshold,
                                 reinit_every=reinit_every, follow=(crop in FOLLOWING),
                                 follow_smoothing=follow_smoothing, follow_margin=follow_margin,
                                 finder=finder,
                                 keypoint_filter=keypoint_filter.make(smoothing),
                                 motion_prior=motion_prior, follow_velocity=follow_velocity)
    predictions = {}
    start = time.perf_counter()
    iterator = records
    if progress:
        from tqdm import tqdm
        iterator = tqdm(records, unit="video", file=sys.stderr)
    for rec in iterator:
        tracker.reset(None if crop == "find" else rec.bboxes[0])
        pred = np.zeros(rec.joints.shape, np.float32)
        for t, path in enumerate(rec.frame_paths):
            box = rec.bboxes[t] if crop == "gt" else None
            result = tracker.process(load_frame(path), t, box=box)
            pred[t] = result.keypoints
        predictions[rec.video_id] = pred
    wall = time.perf_counter() - start
    acc = metrics.score_records(joint_set, records, predictions,
                                source=f"{runner.describe()} predictions")
    table = acc.result(alpha=alpha, norm="person")
    lat = tracker.latency_summary()
    out = {
        "pck": float(table["mean"]), "alpha": alpha, "norm": "person", "pck_table": table,
        "median_latency_ms": {g: lat[g]["median_ms"] for g in lat}, "latency": lat,
        "num_videos": len(records), "num_frames": acc.num_frames, "crop": crop,
        "follow_smoothing": tracker.follow_smoothing if crop in FOLLOWING else None,
        "follow_margin": tracker.follow_margin if crop in FOLLOWING else None,
        "backend": runner.backend, "runner": runner.describe(),
        "reinit_reasons": dict(tracker.reinit_counts), "wall_seconds": round(wall, 2),
        **tracker.temporal_settings(),
        "predictions": predictions, "accumulator": acc, "records": records,
    }
    lines = [f"{runner.describe()} on {len(records)} {split} videos ({acc.num_frames} frames) "
             f"of {data_dir}, crop={crop}"
             + (f" (follow_smoothing {tracker.follow_smoothing:g}, follow_margin "
                f"{tracker.follow_margin:g})" if crop in FOLLOWING else "")
             + ":",
             f"  PCK@{alpha:g} (person size): {out['pck']:.2f}"]
    for g in ("initializer", "stepper"):
        if lat[g]["runs"]:
            lines.append(f"  {g:11s} median {lat[g]['median_ms']:.2f} ms  p90 "
                         f"{lat[g]['p90_ms']:.2f} ms  ({lat[g]['runs']} runs)")
    log("\n".join(lines))
    return out


def compare_streams(runners: dict, data_dir: str, split: str = "test", crop: str = "follow",
                    max_videos: int | None = None, compare=(), samples: int = 1000,
                    log=print, per_video: bool = False, people_dirs=(), per_joint: bool = False,
                    **stream_kwargs) -> dict:
    """Several runners (our exports, and published peers through runtimes.PeerRunner) streamed
    over the same videos with the same crop policy, from the same first box, and scored alike.

    runners: {row name: runner}. compare: (a, b) row-name pairs reported as a - b with a
    paired-bootstrap 95 % interval over the videos (metrics.paired_bootstrap). Returns
    {'rows': {name: {'pck_0.2', 'pck_0.1' (person size), 'torso_0.2', 'jitter' (metrics.jitter),
    'initializer_ms', 'stepper_ms' (medians of this sequential run), 'reinit_reasons',
    'runner', 'decoding' (the manifest's rule; None for a peer, which decodes itself),
    'per_video': {video id: {'pck_0.2', 'pck_0.1'}}, 'per_joint': {'pck_0.2', 'pck_0.1':
    {joint name: PCK}}, 'limbs_0.2', 'limbs_0.1': PCK without the Head group}}, 'labels_jitter':
    the labels' own jitter, 'pairs': {'a - b': {alpha: interval}}, 'num_videos', 'num_frames',
    'crop', 'split', 'data_dir'}, and prints the table (per_video: and each video's PCK@0.2 by
    row, which says whether a loss is spread or a few videos where a row lost its person;
    per_joint: and each joint's, which says whether a loss is a joint whose label differs
    between sources, per_joint_pck).

    people_dirs: label dirs of the other people in these clips (dkd_tf.label_video
    --start_box, one per person): each row is also scored against the person it picked on
    each clip's first frame (dkd_tf.evaluation.either_person), as rows[name]['one_of_them'] =
    {'pck_0.2', 'pck_0.1', 'picked': {video id: labels used}}; for --crop find."""
    from dkd_tf.evaluation import metrics
    from dkd_tf.serving import runtimes
    for a, b in compare:  # before any streaming
        if a not in runners or b not in runners:
            raise ValueError(f"--compare {a}:{b}: no row named {a if a not in runners else b} "
                             f"(rows: {', '.join(runners)})")
    shared = shared_settings(runners.values(), stream_kwargs.get("follow_velocity"),
                             stream_kwargs.get("motion_prior"))
    # The re-initialization is the caller's protocol (evaluate_stream's default: none, as the
    # paper), not the export's.
    stream_kwargs.update({k: shared[k] for k in ("follow_velocity", "motion_prior")})
    results = {name: evaluate_stream(None, data_dir, crop, split=split, max_videos=max_videos,
                                     runner=runner, log=lambda *_: None, **stream_kwargs)
               for name, runner in runners.items()}
    first = next(iter(results.values()))
    records = first["records"]
    people = None
    if people_dirs:  # the labels each row's picks are scored against, read once
        from dkd_tf.evaluation import either_person
        people = either_person.load_people(data_dir, records, people_dirs)
    rows = {}
    for name, r in results.items():
        acc = r["accumulator"]
        rows[name] = {
            "pck_0.2": acc.result(0.2, "person")["mean"],
            "pck_0.1": acc.result(0.1, "person")["mean"],
            "torso_0.2": acc.result(0.2, "torso")["mean"],
            "jitter": metrics.jitter(records, r["predictions"]),
            "initializer_ms": r["median_latency_ms"]["initializer"],
            "stepper_ms": r["median_latency_ms"]["stepper"],
            "reinit_reasons": r["reinit_reasons"], "runner": r["runner"],
            "decoding": runtimes.decoding_of(runners[name]),
            "per_video": per_video_pck(acc, records), **per_joint_pck(acc)}
        if people is not None:
            rows[name]["one_of_them"] = one_of_them(acc.joint_set, people, records,
                                                    r["predictions"], r["runner"])
    pairs = {}
    limbs = metrics.limb_joints(first["accumulator"].joint_set)
    for a, b in compare:
        acc_a, acc_b = results[a]["accumulator"], results[b]["accumulator"]
        pairs[f"{a} - {b}"] = {
            **{str(alpha): metrics.paired_bootstrap(acc_a, acc_b, "person", alpha, samples)
               for alpha in (0.2, 0.1)},
            **{f"limbs_{alpha:g}": metrics.paired_bootstrap(acc_a, acc_b, "person", alpha,
                                                            samples, joints=limbs)
               for alpha in (0.2, 0.1)}}
    labels = metrics.jitter(records, {r.video_id: r.joints for r in records})
    out = {"rows": rows, "labels_jitter": labels, "pairs": pairs,
           "num_videos": len(records), "num_frames": first["num_frames"], "crop": crop,
           "split": split, "data_dir": data_dir, "keypoint_filter": first["keypoint_filter"],
           "motion_prior": first["motion_prior"], "follow_velocity": first["follow_velocity"]}
    log(format_comparison(out, per_video, per_joint))
    return out


def one_of_them(joint_set, people, records, predictions, source) -> dict:
    """{'pck_0.2', 'pck_0.1', 'picked'}: PCK by person size against the labels of the person
    each clip's prediction picked (either_person.rescored_records over `people`, its
    load_people)."""
    from dkd_tf.evaluation import either_person, metrics
    picked_records, picked = either_person.rescored_records(people, records, predictions)
    acc = metrics.score_records(joint_set, picked_records, predictions,
                                source=f"{source} predictions")
    return {"pck_0.2": acc.result(0.2, "person")["mean"],
            "pck_0.1": acc.result(0.1, "person")["mean"], "picked": picked}


def shared_settings(runners, follow_velocity: float | None = None,
                    motion_prior: float | None = None,
                    reinit_threshold: float | None = None) -> dict:
    """{'follow_velocity', 'motion_prior', 'reinit_threshold'} every row of a comparison streams
    with, so that all are tracked alike: each as given, else the manifest's of the first of our
    exports (a peer carries none), else the tracker's default."""
    from dkd_tf.serving import tracking_policy
    ours = [r for r in runners if not getattr(r, "yields_keypoints", False)]
    manifest = ours[0].manifest if ours else {}
    return {"follow_velocity": (float(follow_velocity) if follow_velocity is not None
                                else tracking_policy.follow_velocity_of(manifest)[0]),
            "motion_prior": (float(motion_prior) if motion_prior is not None
                             else tracking_policy.motion_prior_of(manifest)),
            "reinit_threshold": (float(reinit_threshold) if reinit_threshold is not None
                                 else tracking_policy.reinit_threshold_of(manifest))}


def per_video_pck(acc, records) -> dict:
    """{video id: {'pck_0.2', 'pck_0.1'}}: each video's PCK by person size (the mean over its
    joints, as the whole set's; NaN where no joint of it is labelled)."""
    out = {}
    for i, rec in enumerate(records):
        one = acc.subset([i])
        out[rec.video_id] = {f"pck_{a:g}": one.result(a, "person")["mean"] for a in (0.2, 0.1)}
    return out


def pck_label(key: str) -> str:
    """A pair's key in compare_streams' 'pairs' ('0.2', 'limbs_0.1') as the tables print it."""
    return f"limbs PCK@{key[6:]}" if key.startswith("limbs_") else f"PCK@{key}"


def per_joint_pck(acc) -> dict:
    """{'per_joint': {'pck_0.2', 'pck_0.1': {joint name: PCK by person size}}, 'limbs_0.2',
    'limbs_0.1': the mean over metrics.limb_joints}. The head is where label sources disagree:
    LSP's photos (and so the photo clips) label the head top, MoveNet gives a nose
    (pretrained.peers.DERIVED), a tenth of the person apart, so at @0.1 a row that shares the
    labels' convention gains a joint that says nothing of its accuracy; the single-frame cards
    leave it out for that reason (docs/real_people.md). Teacher-labelled clips label no head
    (teacher_labels.marked_by_all), so there the two means are one."""
    from dkd_tf.evaluation import metrics
    limbs = metrics.limb_joints(acc.joint_set)
    out = {"per_joint": {}}
    for alpha in (0.2, 0.1):
        out["per_joint"][f"pck_{alpha:g}"] = acc.result(alpha, "person")["joints"]
        out[f"limbs_{alpha:g}"] = acc.result(alpha, "person", limbs)["mean"]
    return out


def _describe_filter(settings: dict) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in settings.items())


def format_comparison(out: dict, per_video: bool = False, per_joint: bool = False) -> str:
    lines = [f"{out['num_videos']} {out['split']} videos ({out['num_frames']} frames) of "
             f"{out['data_dir']}, crop={out['crop']}, every row from the "
             f"{'whole first frame' if out['crop'] == 'find' else 'same first box'}"
             + (f", keypoints smoothed ({_describe_filter(out['keypoint_filter'])})"
                if out.get("keypoint_filter") else "")
             + (f", joints looked for near the last frame's (motion_prior "
                f"{out['motion_prior']:g})" if out.get("motion_prior") else "")
             + (f", the box moving on with the person (follow_velocity "
                f"{out['follow_velocity']:g})" if out.get("follow_velocity") else "") + ":",
             f"  {'row':28s} {'PCK@0.2':>8s} {'PCK@0.1':>8s} {'torso@0.2':>9s} "
             f"{'jitter':>7s} {'init ms':>8s} {'step ms':>8s}"]
    for name, r in out["rows"].items():
        lines.append(f"  {name:28s} {r['pck_0.2']:8.1f} {r['pck_0.1']:8.1f} "
                     f"{r['torso_0.2']:9.1f} {r['jitter']['median']:7.2f} "
                     f"{r['initializer_ms']:8.2f} {r['stepper_ms']:8.2f}")
    picks = {n: r["one_of_them"] for n, r in out["rows"].items() if "one_of_them" in r}
    if picks:
        lines.append("  one of them (each clip scored against the labelled person the row "
                     "picked on its first frame): " + "; ".join(
                         f"{n} {p['pck_0.2']:.1f} / {p['pck_0.1']:.1f}"
                         for n, p in picks.items()))
    lines.append(f"  jitter: median joint acceleration, % of the person size per frame^2 (the "
                 f"labels' own: {out['labels_jitter']['median']:.2f}); PCK by person size")
    for pair, by_alpha in out["pairs"].items():
        for key, r in by_alpha.items():
            lines.append(f"  {pair}, {pck_label(key)}: {r['difference']:+.1f} points (95 % "
                         f"interval {r['low']:+.1f} to {r['high']:+.1f}, paired bootstrap over "
                         f"{r['videos']} videos)")
    if per_video:
        names = list(out["rows"])
        lines.append("  PCK@0.2 per video: " + ", ".join(
            f"{i + 1} {n}" for i, n in enumerate(names)))
        lines.append(f"  {'video':10s} " + " ".join(f"{i + 1:>6d}" for i in range(len(names))))
        for vid in out["rows"][names[0]]["per_video"]:
            lines.append(f"  {vid:10s} " + " ".join(
                f"{out['rows'][n]['per_video'][vid]['pck_0.2']:6.1f}" for n in names))
    if per_joint:
        names = list(out["rows"])
        lines.append("  PCK@0.2 / @0.1 per joint: " + ", ".join(
            f"{i + 1} {n}" for i, n in enumerate(names)))
        lines.append(f"  {'joint':12s} " + " ".join(f"{i + 1:>14d}" for i in range(len(names))))
        first = out["rows"][names[0]]["per_joint"]["pck_0.2"]
        for joint in first:
            lines.append(f"  {joint:12s} " + " ".join(
                f"{out['rows'][n]['per_joint']['pck_0.2'][joint]:6.1f} / "
                f"{out['rows'][n]['per_joint']['pck_0.1'][joint]:5.1f}" for n in names))
        lines.append(f"  {'limbs':12s} " + " ".join(
            f"{out['rows'][n]['limbs_0.2']:6.1f} / {out['rows'][n]['limbs_0.1']:5.1f}"
            for n in names) + "   (without the Head group)")
    return "\n".join(lines)


def json_ready(obj):
    """The result without predictions, accumulators and records, NaN -> null."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()
                if k not in ("predictions", "accumulator", "records")}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj



def open_runners(export_dirs, names=(), peers=(), backend: str = "tflite", num_threads=None,
                 allow_unverified: bool = False) -> dict:
    """{row name: runner}: the exports (named by `names`, else by folder), then the peers
    (dkd_tf.pretrained.peers keys) shaped like the first export."""
    from dkd_tf.pretrained import peers as peers_lib
    from dkd_tf.serving import runtimes
    names = list(names) if names else [os.path.basename(os.path.normpath(d))
                                       for d in export_dirs]
    if len(names) != len(export_dirs):
        raise ValueError(f"--names has {len(names)} names for {len(export_dirs)} --export_dir "
                         "entries")
    for key in peers:  # before any model opens
        if key not in peers_lib.PEERS:
            raise ValueError(f"--peers {key}: unknown; choose from {', '.join(peers_lib.PEERS)}")
    runners = {n: runtimes.open_runner(backend, d, num_threads,
                                       allow_unverified=allow_unverified)
               for n, d in zip(names, export_dirs)}
    first = next(iter(runners.values()))
    for key in peers:
        runners[key] = runtimes.peer_like(key, first, num_threads)
    return runners


def parse_pairs(text) -> list:
    """['A:B', ...] -> [('A', 'B'), ...], rows compared as A - B."""
    pairs = []
    for item in text:
        a, sep, b = item.partition(":")
        if not sep or not a or not b:
            raise ValueError(f"--compare {item!r}: write pairs as A:B (row A minus row B)")
        pairs.append((a, b))
    return pairs


def check_inputs(export_dirs, backend: str, data_dir: str, out_json: str = "",
                 people_dirs=()) -> None:
    """Cheap checks before any model or TensorFlow loads: the data dir (and people_dirs) in
    Penn Action's layout (its reader's own check), out_json writable and none of the inputs,
    every export verified (dkd_tf.tracking.video_stream.check_model_dir)."""
    from dkd_tf.core import output_paths
    from dkd_tf.data import penn_action
    from dkd_tf.tracking.video_stream import check_model_dir
    for d in (data_dir, *people_dirs):
        penn_action.list_videos(d)
    from dkd_tf.evaluation import either_person
    either_person.check_people_dirs(data_dir, people_dirs)
    if out_json:
        inputs = [p for d in export_dirs for p in output_paths.files_in(d)]
        output_paths.check_file(out_json, inputs, "--out_json")
    for d in export_dirs:  # last: an export's crop check reads transforms (TensorFlow)
        check_model_dir(d, backend, flag="--export_dir")
