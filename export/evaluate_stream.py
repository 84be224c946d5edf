"""PCK of an exported model streamed over the test videos of a Penn-Action-format data dir.

    python -m export.evaluate_stream --export_dir E --data_dir D [--crop gt|follow]
        [--backend tflite|onnx|keras] [--max_videos N] [--out_json R.json]

Every test video runs through the exported graphs exactly as on a device (dkd_tf.stream's
PoseTracker: initializer on frame 1, stepper after, state carried, keypoints decoded with the
manifest's rule and mapped back to source pixels). Two crop protocols:
  gt      (paper protocol, as dkd_tf.evaluation.protocol): every frame is cropped around the centre of its
          own ground-truth person box;
  follow  (deployment): the first frame's ground-truth box starts the crop, then the crop follows
          the predicted keypoints (no ground truth after frame 1).
No re-initialization unless --reinit_threshold / --reinit_every ask for it (the paper never
re-initializes). Returns / prints PCK@0.2 normalized by person size (dkd_tf.evaluation.metrics) and the
median latencies of the initializer and the stepper.

Several exports (comma-separated --export_dir) and published peers (--peers movenet_lightning,
run through dkd_tf.serving.runtimes.PeerRunner) stream the same videos from the same first box through
the same crop policy and are tabled side by side (compare_streams): PCK@0.2 and @0.1, jitter
(metrics.jitter), latency, and --compare A:B differences with paired-bootstrap intervals.

    python -m export.evaluate_stream --export_dir D,B --names DKD,Baseline \
        --peers movenet_lightning,movenet_thunder --compare DKD:Baseline --data_dir V

--per_video also prints each video's PCK@0.2 by row (the JSON always holds it): whether a loss is
spread over the set or a few videos where a row lost its person.

--smooth_keypoints smooths every row's keypoints with the same One Euro filter, as
dkd_tf.stream --smooth_keypoints does (dkd_tf.tracking.keypoint_filter).
"""
from __future__ import annotations

import json
import os

from dkd_tf.cli import smoothing_flags
from dkd_tf.evaluation.stream_eval import (
    CROPS, check_inputs, compare_streams, evaluate_stream, json_ready, open_runners, parse_pairs)
from dkd_tf.serving.tracking_policy import DEFAULT_FOLLOW_MARGIN, DEFAULT_FOLLOW_SMOOTHING


def main(argv):
    from absl import flags
    del argv
    f = flags.FLAGS
    from dkd_tf.cli.errors import quiet_tf_logging  # absl only: TensorFlow loads later
    quiet_tf_logging(f)
    from dkd_tf.tracking.pose_tracker import open_finder
    export_dirs = [d for d in f.export_dir.split(",") if d]
    pairs = parse_pairs(f.compare)
    # before TensorFlow loads
    check_inputs(export_dirs, f.backend, f.data_dir, f.out_json, f.people_dirs)
    runners = open_runners(export_dirs, f.names, f.peers, f.backend, f.num_threads or None,
                           f.allow_unverified)
    finder = open_finder(f.finder, next(iter(runners.values())), f.num_threads or None)
    if len(export_dirs) == 1 and not f.peers and not f.people_dirs:
        out = evaluate_stream(f.export_dir, f.data_dir, f.crop, f.backend, f.split,
                              f.max_videos or None, f.alpha, f.reinit_threshold, f.reinit_every,
                              f.num_threads or None, runner=next(iter(runners.values())),
                              progress=True, follow_smoothing=f.follow_smoothing,
                              follow_margin=f.follow_margin, finder=finder,
                              smoothing=smoothing_flags.smoothing(f), motion_prior=f.motion_prior,
                              follow_velocity=f.follow_velocity)
    else:
        out = compare_streams(runners, f.data_dir, f.split, f.crop, f.max_videos or None, pairs,
                              reinit_threshold=f.reinit_threshold, reinit_every=f.reinit_every,
                              follow_smoothing=f.follow_smoothing, follow_margin=f.follow_margin,
                              finder=finder, smoothing=smoothing_flags.smoothing(f),
                              motion_prior=f.motion_prior, per_video=f.per_video,
                              follow_velocity=f.follow_velocity, people_dirs=f.people_dirs,
                              per_joint=f.per_joint)
    if f.out_json:
        os.makedirs(os.path.dirname(os.path.abspath(f.out_json)), exist_ok=True)
        with open(f.out_json, "w") as fh:
            json.dump(json_ready(out), fh, indent=1)
    return 0


def _define_flags():
    from absl import flags
    flags.DEFINE_string("export_dir", None, "Export dir (manifest.json + graphs); for "
                        "--backend=keras also a training model dir. Several, comma-separated, "
                        "are streamed over the same videos and tabled side by side.")
    flags.DEFINE_list("names", [], "Row names of the --export_dir entries (default: folder "
                      "names).")
    flags.DEFINE_list("peers", [], "Published networks streamed beside the exports through the "
                      "same crop policy (dkd_tf.pretrained.peers: movenet_lightning, "
                      "movenet_thunder, blazepose_full, ...).")
    flags.DEFINE_list("compare", [], "Row pairs A:B reported as A - B with a paired-bootstrap "
                      "interval over the videos (e.g. DKD:Baseline).")
    from dkd_tf.pretrained.peers import PEERS
    flags.DEFINE_list("people_dirs", [], "--crop find on clips of several people: the label "
                      "dirs of the other people (dkd_tf.label_video --start_box, one per "
                      "person); every row is also scored against the person it picked on each "
                      "clip's first frame ('one of them', dkd_tf.evaluation.either_person).")
    flags.DEFINE_enum("finder", "", ["", *PEERS], "--crop find: a published network that finds "
                      "the person on a whole frame for every row (dkd_tf.stream --finder); "
                      "empty: each row's initializer looks itself.")
    flags.DEFINE_string("data_dir", None, "Penn Action format data dir (frames/, labels/).")
    flags.DEFINE_enum("crop", "follow", list(CROPS), "gt: crop every frame around its "
                      "ground-truth box (paper protocol); follow: start from frame 1's box, then "
                      "follow the predicted keypoints; find: no box, the whole first frame (as "
                      "dkd_tf.stream without --bbox), then follow.")
    flags.DEFINE_enum("backend", "tflite", ["tflite", "onnx", "keras"], "Runtime that runs the "
                      "graphs; keras runs the source model (the reference).")
    flags.DEFINE_enum("split", "test", ["test", "train", "all"], "Which videos to stream.")
    flags.DEFINE_integer("max_videos", 0, "Stream only the first N videos; 0: all.",
                         lower_bound=0)
    flags.DEFINE_float("alpha", 0.2, "PCK threshold as a fraction of the person size.")
    flags.DEFINE_float("reinit_threshold", 0.0, "Re-initialize below this mean confidence; 0: "
                       "never (paper protocol).", lower_bound=0.0)
    flags.DEFINE_integer("reinit_every", 0, "Re-initialize every N frames; 0: never.",
                         lower_bound=0)
    flags.DEFINE_float("follow_smoothing", DEFAULT_FOLLOW_SMOOTHING, "--crop follow: share of "
                       "its old position the box centre keeps each frame (dkd_tf.stream).",
                       lower_bound=0.0, upper_bound=0.999)
    flags.DEFINE_float("follow_margin", DEFAULT_FOLLOW_MARGIN, "--crop follow: the keypoint box "
                       "grows by this fraction of its size on each side (dkd_tf.stream).",
                       lower_bound=0.0)
    smoothing_flags.define_flags()
    flags.DEFINE_integer("num_threads", 0, "Runtime threads; 0: default.", lower_bound=0)
    flags.DEFINE_bool("per_video", False, "With several rows: also print each video's "
                      "PCK@0.2 by row (the JSON always has it).")
    flags.DEFINE_bool("per_joint", False, "With several rows: also print each joint's PCK@0.2 "
                      "and @0.1 by row, and their mean without the head, whose label differs "
                      "between sources (the JSON always has them).")
    flags.DEFINE_string("out_json", "", "Write the results (without predictions) here.")
    flags.DEFINE_bool("allow_unverified", False, "Run TFLite/ONNX graphs whose manifest does not "
                      "record a passed parity check against Keras (refused otherwise).")
    flags.mark_flags_as_required(["export_dir", "data_dir"])
    flags.register_multi_flags_validator(
        ["people_dirs", "crop"], lambda v: not v["people_dirs"] or v["crop"] == "find",
        "--people_dirs scores runs that found the person themselves: it needs --crop find")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
