"""Streaming pose estimation on a video, a folder of frames or a camera, through any backend.

    python -m dkd_tf.stream --video IN [--model_dir E | --preset NAME] [--backend tflite|onnx|keras]
        [--out_video OUT.mp4] [--out_json K.json] [--bbox x1,y1,x2,y2] [--finder KEY|none]
        [--reinit_threshold F] [--reinit_every N] [--keypoint_threshold F]
        [--follow_margin F] [--follow_max_resize F] [--follow_smoothing F] [--follow_velocity F]
        [--smooth_keypoints [--smooth_min_cutoff F] [--smooth_beta F]] [--motion_prior F]
        [--num_threads N]
        [--max_frames N] [--noprogress]
        [--nooverlap]

Without --model_dir the model is a shipped preset's (--preset, default presets.DEFAULT: the
real-world one), verified against its checksums first; the backend picks its member.
--model_dir: for tflite and onnx an export directory (manifest.json + the graph files written by
`python -m export.tflite` / `python -m export.onnx`). For keras it may be the training model
directory itself (model.keras + config.json) or an export directory: the manifest records the
source model directory and the checksum of its model.keras, and the runner loads that model
(refusing it if the file changed since the export). Every constant (input size, stride, state
shape, joints, skeleton, decoding rule) comes from the manifest.

Per frame: crop a square around the current person box (crop_frame: the crops of training and
evaluation, dkd_tf.data.transforms, computed with OpenCV), run the initializer on the first frame and the stepper after it with the
state carried, decode keypoints with the manifest's rule (dkd_tf.core.codec) and map them back to the
frame. The person is followed: the box for frame t+1 is the bounding box of frame t's keypoints
(when at least a third of them have conf >= --keypoint_threshold), expanded by
--follow_margin of its size on each side; the first box is --bbox or the whole frame, where
the person finder the export's manifest names (--finder: the real-world preset's MoveNet
MultiPose picks one whole person among several) gives the initializer its box. The box
centre moves to --follow_smoothing x its old position + the rest x the keypoint box's centre (a
collapsed left/right pair biases that centre, and an off-centre crop repeats the bias), its size
by at most --follow_max_resize per frame and, when --bbox gave the first box, within
FOLLOW_SCALE_RANGE of that box: a weak model's keypoints hug the body centre, and an unbounded
box would shrink with them frame after frame until the crop holds only the torso.
Averaging alone lags a walking person (by speed x s / (1 - s)); --follow_velocity V first moves
the old centre on by V x its recent velocity (an alpha-beta filter; default: the export's
manifest's, 1 for the exports made since it came).

--smooth_keypoints smooths the reported keypoints over time with the One Euro filter
(dkd_tf.tracking.keypoint_filter: a low-pass whose cut-off rises with each joint's speed, so
resting joints stop shaking and fast ones do not lag); the crop still follows the raw keypoints.
--motion_prior S makes the stepper look for each joint near where it was in the last frame (its
heatmap weighted by a Gaussian of S x the crop side around the last keypoint: codec.decode_near),
so that a joint stays on its person and its side when another peak appears in the crop
(default: the export's manifest's; 0, off, in every shipped export).

Re-initialization (the initializer runs again instead of the stepper) happens when the mean peak
confidence of a frame falls below --reinit_threshold (the box is then kept, not followed; the
whole frame is looked at when that re-initialization is below it too: the person left), every
--reinit_every frames, and after a frame that could not be read. Unreadable frames (a corrupt
or missing image in a folder, a frame a video decoder rejects or drops: a video's frame numbers
come from its timestamps, FrameClock) are skipped, written to the overlay as a black frame and
to the JSON with status 'bad_frame', and counted in the summary; a file that cannot be opened
at all is an error. A video that ends before its declared frame count
is reported as truncated.

Outputs: an overlay video (skeleton drawn with OpenCV; .mp4 -> mp4v, .avi -> MJPG), a JSON with
one entry per input frame (keypoints as [x, y, confidence] in frame pixels), and a summary with
per-graph latency (median, p90), frames per second end to end and of the model alone, and
re-initialization counts.

Speed: each crop follows the previous frame's keypoints, so crop, model and decoding form one
chain; reading/decoding the next frames and drawing/writing the overlay run beside it in two
threads (dkd_tf/tracking/pipelining.py; --nooverlap turns that off, with the same output), frame order
kept.

Library use (e.g. from a demo): `stream_video(...)` returns the same dict as the JSON;
`PoseTracker(runner)` processes frames one at a time.
"""
from __future__ import annotations

import signal
import sys

from dkd_tf.cli import smoothing_flags
from dkd_tf.data.frame_crops import parse_bbox
from dkd_tf.data.video_frames import check_video_path
# The tracker's defaults (also written into every manifest's `tracker` entry).
from dkd_tf.serving.tracking_policy import (
    DEFAULT_FOLLOW_MARGIN, DEFAULT_FOLLOW_MAX_RESIZE, DEFAULT_FOLLOW_SMOOTHING,
    DEFAULT_KEYPOINT_THRESHOLD, DEFAULT_REINIT_THRESHOLD, FOLLOW_SCALE_RANGE)
from dkd_tf.tracking.video_stream import (
    MAX_NUM_THREADS, interruption_message, preset_model_dir, stop_on_signals, stream_video)


def main(argv):
    from absl import flags
    del argv
    f = flags.FLAGS
    from dkd_tf.cli.errors import quiet_tf_logging  # absl only: TensorFlow loads later
    quiet_tf_logging(f)
    check_video_path(f.video)  # before a preset is verified (hashed) or TensorFlow loads
    model_dir = f.model_dir or preset_model_dir(f.preset, f.backend)
    with stop_on_signals() as stop:
        out = stream_video(model_dir, f.video, f.backend, f.out_video or None,
                           f.out_json or None, parse_bbox(f.bbox), f.reinit_threshold,
                           f.reinit_every, f.keypoint_threshold, f.follow_margin,
                           follow_max_resize=f.follow_max_resize,
                           follow_smoothing=f.follow_smoothing,
                           num_threads=f.num_threads or None, max_frames=f.max_frames or None,
                           progress=f.progress, allow_unverified=f.allow_unverified,
                           overlap=f.overlap, stop=stop, finder=f.finder,
                           smoothing=smoothing_flags.smoothing(f), motion_prior=f.motion_prior,
                           follow_velocity=f.follow_velocity)
    if out["summary"]["interrupted"]:
        print(interruption_message(out, f.out_video, f.out_json), file=sys.stderr, flush=True)
        return stop.exit_status if stop.is_set() else 128 + int(signal.SIGINT)
    return 0


def _define_flags():
    from absl import flags
    flags.DEFINE_string("model_dir", None, "Export dir (manifest.json + graphs) for tflite/onnx; "
                        "for keras also a training model dir (model.keras + config.json). "
                        "Default: the --preset's.")
    flags.DEFINE_string("preset", "", "Shipped preset to stream with when --model_dir is not "
                        "given (name or alias; default: the real-world preset). Verified first.")
    flags.DEFINE_string("video", None, "Input: a video file OpenCV reads, a folder of frames "
                        "(sorted by name; gaps in numbering count as missing frames), or a camera "
                        "index such as 0.")
    flags.DEFINE_enum("backend", "tflite", ["tflite", "onnx", "keras"], "Runtime that executes "
                      "the initializer and stepper graphs.")
    flags.DEFINE_string("out_video", "", "Overlay video to write (.mp4/.m4v/.mov: mp4v, "
                        ".avi/.mkv: MJPG); empty: none.")
    flags.DEFINE_string("out_json", "", "JSON of per-frame keypoints [x, y, conf] and the "
                        "summary; empty: none.")
    from dkd_tf.pretrained.peers import PEERS
    flags.DEFINE_enum("finder", None, ["none", *PEERS], "Person finder for frames seen whole "
                      "(no --bbox, or the person lost): a published network (fetched and "
                      "checksummed) whose keypoints' box the initializer starts from; "
                      "movenet_multipose, for frames of several people, picks the one it is "
                      "surest of. none: the initializer looks itself, twice. Default: the "
                      "export's manifest's (movenet_multipose in the real-world preset's, none "
                      "in others).")
    flags.DEFINE_string("bbox", "", "Start box x1,y1,x2,y2 in frame pixels around the person; "
                        "empty: the whole frame.")
    flags.DEFINE_float("reinit_threshold", None, "Re-run the initializer when a frame's mean "
                       "peak confidence is below this; 0 disables. Default: the export's "
                       f"manifest's (0.3 in dkd_movenet_video's, {DEFAULT_REINIT_THRESHOLD:g} in "
                       "others).",
                       lower_bound=0.0)
    flags.DEFINE_integer("reinit_every", 0, "Re-run the initializer every N frames; 0 disables.",
                         lower_bound=0)
    flags.DEFINE_float("keypoint_threshold", DEFAULT_KEYPOINT_THRESHOLD, "Confidence from which "
                       "a keypoint is drawn and used to move the crop.")
    flags.DEFINE_float("follow_margin", DEFAULT_FOLLOW_MARGIN, "The box from the keypoints grows "
                       "by this fraction of its size on each side.", lower_bound=0.0)
    low, high = FOLLOW_SCALE_RANGE
    flags.DEFINE_float("follow_max_resize", DEFAULT_FOLLOW_MAX_RESIZE, "The followed box's "
                       "width and height change by at most this fraction per frame; with "
                       f"--bbox they also stay within {low:g}-{high:g}x of that box.",
                       lower_bound=1e-6)
    flags.DEFINE_float("follow_smoothing", DEFAULT_FOLLOW_SMOOTHING, "Share of its old position "
                       "the followed box's centre keeps each frame (0: it jumps to the keypoint "
                       "box's centre).", lower_bound=0.0, upper_bound=0.999)
    smoothing_flags.define_flags()
    flags.DEFINE_integer("num_threads", 0, "Runtime threads (tflite/onnx); 0: the runtime's "
                         "default.", lower_bound=0, upper_bound=MAX_NUM_THREADS)
    flags.DEFINE_integer("max_frames", 0, "Stop after this many frames; 0: all (camera: until "
                         "Ctrl-C).", lower_bound=0)
    flags.DEFINE_boolean("progress", True, "Show a progress bar (files and folders).")
    flags.DEFINE_boolean("overlap", True, "Read and decode frames ahead, and draw and write the "
                         "overlay, in two threads beside the model (--nooverlap: one thread; "
                         "same output).")
    flags.DEFINE_boolean("allow_unverified", False, "Run TFLite/ONNX graphs whose manifest does "
                         "not record a passed parity check against Keras (refused otherwise).")
    flags.mark_flags_as_required(["video"])


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
