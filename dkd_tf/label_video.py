"""Any video -> Penn Action clips labelled by agreeing teachers (dkd_tf/data/teacher_labels.py).

    python -m dkd_tf.label_video --video V[,V2...] (or a folder of videos) --out_dir D \
        [--teachers movenet_thunder,movenet_lightning[,blazepose_full]] [--agree 0.1] \
        [--min_score 0.3] [--hold_frames 30] [--every 1] [--max_frames 0] \
        [--clip_frames 150] [--max_side 640] \
        [--split train|test] [--first_id N] [--start_box x1,y1,x2,y2] [--start_frame N]

D then trains and evaluates as `--dataset penn_action --data_dir D`; a second run into the same
D adds videos after the ones there (unless --first_id says otherwise), skipping a video already
labelled there to its end with the same settings and labelling again one whose run was cut off
(D/label_video_sources.json records which are finished). --start_box labels the person in that
box (video pixels) instead of whoever the whole first frame shows, until they are gone;
--start_frame N starts at frame N (the box then means where that person is on frame N).
"""
from __future__ import annotations

import sys
import time

from absl import flags

from dkd_tf.data import teacher_labels


def main(argv):
    del argv
    f = flags.FLAGS
    options = teacher_labels.Options(agree=f.agree, min_score=f.min_score, margin=f.margin,
                                     hold_frames=f.hold_frames, max_side=f.max_side, every=f.every,
                                     max_frames=f.max_frames, clip_frames=f.clip_frames,
                                     start_box=_box(f.start_box), start_frame=f.start_frame)
    sources = teacher_labels.list_sources(f.video)
    teacher_labels.check_start_frame(sources, options)
    teachers = teacher_labels.load_teachers(f.teachers, f.threads or None, log=print)
    next_id = f.first_id
    start = time.time()
    frames = joints = kept = 0
    for source in sources:
        def progress(i, n, source=source):
            if i % 25 == 0 or i == n:
                sys.stdout.write(f"\r  {source}: frame {i}/{n or '?'}")
                sys.stdout.flush()
        s = teacher_labels.label_or_resume(source, teachers, f.out_dir, options,
                                           f.split == "train", next_id, progress)
        if s is None:
            continue
        sys.stdout.write("\n")
        skipped = (f"; {s.unlabelled_clips} clip(s) ({s.unlabelled_frames} frames) not "
                   "written: the teachers agreed on no joint in them" if s.unlabelled_clips
                   else "")
        if not s.video_ids:
            print(f"{s.source}: the teachers "
                  f"{'agreed on no joint' if s.unlabelled_clips else 'found nobody'} in it; no "
                  f"clip written ({s.seconds:.1f} s)", flush=True)
            continue
        print(f"{s.source}: {s.frames} frames -> video(s) {', '.join(s.video_ids)}; kept "
              f"{s.kept}/{s.joints} joints ({100 * s.kept_fraction:.1f} %) in {s.seconds:.1f} s "
              f"({1000 * s.seconds / max(s.frames, 1):.0f} ms a frame){skipped}", flush=True)
        next_id = next_id and next_id + len(s.video_ids)
        frames, joints, kept = frames + s.frames, joints + s.joints, kept + s.kept
    unmarked = teacher_labels.unmarked_names(teachers)
    print(f"labelled {frames} frames of {len(sources)} video(s) with "
          f"{','.join(t.key for t in teachers)}: kept {kept}/{joints} joints "
          f"({100 * kept / max(joints, 1):.1f} %, agree {f.agree}, min_score {f.min_score}"
          + (f"; never {unmarked.replace(',', ', ')}, which not every teacher marks itself"
             if unmarked != "none" else "") + f") in "
          f"{time.time() - start:.1f} s; read them with --dataset penn_action --data_dir "
          f"{f.out_dir}")
    return 0


def _box(values):
    """--start_box's list -> (x1, y1, x2, y2), or None when not given."""
    if not values:
        return None
    try:
        return tuple(float(v) for v in values)
    except ValueError:
        raise ValueError(f"--start_box: {','.join(values)} is not four numbers "
                         "x1,y1,x2,y2") from None


def _define_flags():
    d = teacher_labels.Options()
    flags.DEFINE_string("video", None, "A video file, a numbered frame folder, a folder of "
                        "videos, or several comma-separated.")
    flags.DEFINE_string("out_dir", None, "Where to write frames/ and labels/ (Penn Action "
                        "layout).")
    flags.DEFINE_list("teachers", list(teacher_labels.DEFAULT_TEACHERS), "Published pose "
                      "networks that label each frame (dkd_tf.pretrained.peers: "
                      "movenet_lightning, movenet_thunder, blazepose_lite/full/heavy); at least "
                      "two.")
    flags.DEFINE_float("agree", d.agree, "A joint is kept where every two teachers lie within "
                       "this fraction of the person size of each other.", lower_bound=0)
    flags.DEFINE_float("min_score", d.min_score, "... and every teacher's score exceeds this.",
                       lower_bound=0, upper_bound=1)
    flags.DEFINE_float("margin", d.margin, "The followed crop box grows by this fraction of the "
                       "keypoints' box on each side.", lower_bound=0)
    flags.DEFINE_integer("hold_frames", d.hold_frames, "After a frame where the teachers lose "
                         "the person, look this many frames more through the last box before "
                         "ending the clip and searching the whole frame (one clip, one "
                         "person).",
                         lower_bound=0)
    flags.DEFINE_integer("every", d.every, "Label every n-th frame.", lower_bound=1)
    flags.DEFINE_integer("max_frames", d.max_frames, "Read at most this many frames of each "
                         "video (0: all).", lower_bound=0)
    flags.DEFINE_integer("clip_frames", d.clip_frames, "Cut videos into clips of this many "
                         "labelled frames (0: one clip a video); a clip that reaches it while "
                         "its person is lost runs on until they are found or gone.",
                         lower_bound=0)
    flags.DEFINE_integer("max_side", d.max_side, "Store frames with the longer side at most "
                         "this (0: as they are); the teachers see the original.", lower_bound=0)
    flags.DEFINE_enum("split", "train", ["train", "test"], "The clips' train flag.")
    flags.DEFINE_integer("first_id", 0, "Video id of the first clip (0: after the last one "
                         "already in --out_dir).", lower_bound=0)
    flags.DEFINE_integer("threads", 0, "TFLite threads per teacher (0: LiteRT's default).",
                         lower_bound=0)
    flags.DEFINE_list("start_box", [], "x1,y1,x2,y2 in the video's pixels: label the person "
                      "in this box (e.g. the second person of a scene) instead of whoever the "
                      "whole frame shows; labelling stops when they are gone. Empty: the whole "
                      "frame.")
    flags.DEFINE_integer("start_frame", d.start_frame, "First frame of each video to label "
                         "(0-based; the frames before it are skipped): with --start_box, the "
                         "person in that box on this frame, e.g. one who walks in later.",
                         lower_bound=0)
    flags.mark_flags_as_required(["video", "out_dir"])


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)
