"""Real unlabelled video labelled by teachers, written in Penn Action's on-disk format.

No labelled real video can be downloaded, and one teacher's keypoints are wrong often enough
(docs: ../shared notes, "Teachers agree less than one would hope") that training on them would
copy its mistakes. So several independent teachers label every frame, and a joint is kept
(visibility 1) only where

  * every teacher's score exceeds `min_score`, and
  * every pair of teachers lies within `agree` x the person size (the max side of the box around
    the joints all teachers are confident about in that frame, the person box written as bbox),
  * and every teacher marks that joint itself: a joint a teacher only has a stand-in for
    (peers.DERIVED: MoveNet's and BlazePose's nose for Penn Action's head, the head top) is
    never kept, as LSP's and Penn Action's human labels would then disagree with these on the
    head by a tenth of the person. The stand-in still helps place the crop.

The label is the teachers' mean. Kept or not, each joint's evidence goes into the .mat as extra
fields the Penn Action reader ignores (penn_action.read_field reads them):

  confidence    [T, 13]  the lowest teacher score
  disagreement  [T, 13]  the largest distance between two teachers / person size
  crop          [T, 4]   the box the teachers' crops were built from (x1, y1, x2, y2)
  frame_index   [T]      the frame's index in the source video
  source, teachers, agree, min_score
  unmarked_joints  the joints no teacher marks ('head' for the published peers; 'none')

The crop follows the person: the first frame is the whole frame padded square; after that, the
box around the previous frame's confident keypoints, grown by `margin` of its size on each side.
A frame where fewer than `min_follow_joints` joints were confident loses the person: the next
`hold_frames` frames are looked at through the last box (an unusual pose or a blurred frame
must not hand the labels to someone else in the picture). A person lost for longer ends the
clip (one clip, one person: a clip never switches people, which would teach Phi a jump and
score a tracker against someone it was not asked to follow), and the whole frame is searched
again; a frame where nobody is found there is not written. Each
teacher crops that box at its own input size (dkd_tf.data.frame_crops.crop_frame: the box's side x
CROP_MARGIN, integer coordinates at pixel centres) and its keypoints are mapped back to the frame.

A second run into the same folder adds only what is not there yet (resume): a video labelled to
its end with the same settings is recorded in SOURCES_FILE and skipped; the clips of one whose
labelling was cut off (they name it as `source` but it is not recorded) are removed and it is
labelled again; the same video labelled with other settings is refused. So rerunning an
interrupted command (or the recipe's step) never leaves a video in the set twice.

A teacher is anything with `.names` (its keypoint names, e.g. peers.COCO_NAMES), `.input_size`
and `.predict(crop uint8 [S, S, 3] RGB) -> [N, 3]` (x, y, score in crop pixels): the published
peers of dkd_tf.pretrained.peers, or a user's own model.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import os
import shutil
import time

import cv2
import numpy as np

from dkd_tf.core import joints as joints_lib
from dkd_tf.data import penn_action
from dkd_tf.core.crop_geometry import transform_points
from dkd_tf.data.photo_motion import downscale_matrix
from dkd_tf.pretrained import peers as peers_lib
from dkd_tf.data.video_frames import FrameSource
from dkd_tf.data.frame_crops import crop_frame, full_frame_box

JOINT_SET = joints_lib.PENN_ACTION
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
ACTION = penn_action.TEACHER_ACTION
DEFAULT_TEACHERS = ("movenet_thunder", "movenet_lightning")


@dataclasses.dataclass(frozen=True)
class Options:
    """agree: teachers must lie within this fraction of the person size of each other.
    min_score: every teacher's score must exceed this.
    margin: the followed box grows by this fraction of its size on each side.
    min_follow_joints: fewer confident joints than this: the person is lost in that frame.
    hold_frames: after losing the person, look this many frames more through the last box
      before ending the clip and searching the whole frame (0: at once). A clip's labels then
      survive the teachers failing on a frame or two, and never jump to whoever the whole
      frame shows best.
    max_side: frames are stored with their longer side shrunk to this (0: as they are); the
      teachers always see the original frame.
    every: label every n-th frame of the video (60 fps footage moves little between frames).
    max_frames: stop after this many frames of the video are read (0: all).
    clip_frames: cut each video into clips of this many labelled frames (0: one clip; Penn
      Action's clips are 18 to 663 frames, most under 150; a clip is held in memory). A clip
      that reaches it while its person is lost runs on until they are found (at most
      hold_frames frames more) or gone (its unlabelled end is then cut).
    start_box: (x1, y1, x2, y2) in the video's pixels: label the person in this box instead of
      whoever the whole-frame look finds (e.g. the second person of a scene, so that a tracker
      that picks either can be scored), from the first frame where the teachers find someone
      there; once that person is gone (lost for more than hold_frames), labelling of the video
      stops, as a whole-frame look could not tell them from anyone else. None: the whole
      frame.
    start_frame: the first frame of the video looked at (the frames before it are read, not
      labelled): with start_box, a person who comes in later is looked for where they are on
      that frame, not through a box that something else may fill before they come."""

    agree: float = 0.1
    min_score: float = 0.3
    margin: float = 0.15
    min_follow_joints: int = 4
    hold_frames: int = 30
    max_side: int = 640
    every: int = 1
    max_frames: int = 0
    clip_frames: int = 150
    start_box: tuple | None = None
    start_frame: int = 0

    def __post_init__(self):
        if self.agree <= 0 or not 0 <= self.min_score < 1 or self.margin < 0:
            raise ValueError(f"need agree > 0, 0 <= min_score < 1, margin >= 0: {self}")
        if (self.every < 1 or self.min_follow_joints < 2 or self.hold_frames < 0
                or self.start_frame < 0):
            raise ValueError(f"need every >= 1, min_follow_joints >= 2, hold_frames >= 0 and "
                             f"start_frame >= 0: {self}")
        if self.start_box is not None:
            box = tuple(float(v) for v in self.start_box)
            if len(box) != 4 or not (box[2] > box[0] and box[3] > box[1]):
                raise ValueError(f"start_box must be x1,y1,x2,y2 with x2 > x1 and y2 > y1, got "
                                 f"{self.start_box}")
            object.__setattr__(self, "start_box", box)


@dataclasses.dataclass
class FrameLabel:
    joints: np.ndarray        # [K, 2] teachers' mean, frame pixels
    visibility: np.ndarray    # [K] 1: kept
    confidence: np.ndarray    # [K] lowest teacher score
    disagreement: np.ndarray  # [K] largest pairwise distance / person size
    bbox: np.ndarray          # [4] person box (the crop box when no person was found)
    crop: np.ndarray          # [4] box the crops were built from
    found: bool               # enough confident joints to follow


def box_around(points, margin: float = 0.0) -> np.ndarray:
    pts = np.asarray(points, np.float64)
    lo, hi = pts.min(0), pts.max(0)
    grow = margin * max(float(np.max(hi - lo)), 1.0)
    return np.concatenate([lo - grow, hi + grow]).astype(np.float32)


def teacher_keypoints(teacher, image, box):
    """One teacher on the crop of `box`: (xy [K, 2] frame pixels, score [K]) in JOINT_SET."""
    crop, matrix, _, _ = crop_frame(image, box, teacher.input_size)
    crop = np.clip(np.round(crop[0]), 0, 255).astype(np.uint8)
    kps = np.asarray(teacher.predict(crop), np.float64)
    xy, score = peers_lib.to_joint_set(kps, teacher.names, JOINT_SET)
    inv = np.linalg.inv(matrix)
    return transform_points(inv, xy), score


def marked_by_all(teachers) -> np.ndarray:
    """[K] bool: the joints every teacher marks itself. The rest (the head: COCO and BlazePose
    mark a nose, Penn Action's head is the head top) stay unlabelled; a nose labelled as the
    head would teach and score a point a tenth of the person away from LSP's head."""
    return np.all([peers_lib.marked_joints(t.names, JOINT_SET) for t in teachers], axis=0)


def unmarked_names(teachers) -> str:
    """The .mat's UNMARKED_FIELD: comma-separated joint names, 'none' when every one is
    marked."""
    return ",".join(n for n, m in zip(JOINT_SET.names, marked_by_all(teachers)) if not m) or "none"


def label_frame(teachers, image, box, options: Options) -> FrameLabel:
    """Every teacher on one frame through the crop of `box`; their agreement decides."""
    outs = [teacher_keypoints(t, image, box) for t in teachers]
    xys = np.stack([o[0] for o in outs])       # [n, K, 2]
    scores = np.stack([o[1] for o in outs])    # [n, K]
    mean = xys.mean(0)
    confidence = scores.min(0)
    confident = confidence > options.min_score
    found = int(confident.sum()) >= options.min_follow_joints
    person = box_around(mean[confident]) if found else np.asarray(box, np.float32)
    size = max(float(np.max(person[2:] - person[:2])), 1.0)
    spread = np.zeros(len(mean))
    for a, b in itertools.combinations(range(len(teachers)), 2):
        spread = np.maximum(spread, np.linalg.norm(xys[a] - xys[b], axis=-1))
    disagreement = spread / size
    keep = confident & (disagreement <= options.agree) & found & marked_by_all(teachers)
    return FrameLabel(mean.astype(np.float32), keep.astype(np.float32),
                      confidence.astype(np.float32), disagreement.astype(np.float32),
                      person.astype(np.float32), np.asarray(box, np.float32), found)


def follow_box(label: FrameLabel, options: Options) -> np.ndarray:
    """The next frame's crop box: around the confident keypoints of a frame that found the
    person."""
    confident = label.confidence > options.min_score
    return box_around(label.joints[confident], options.margin)


@dataclasses.dataclass
class VideoSummary:
    source: str
    video_ids: list
    frames: int
    joints: int   # labels written (frames x 13)
    kept: int     # of them kept by the teachers' agreement
    seconds: float
    unlabelled_clips: int = 0   # clips not written: the teachers agreed on no joint in them
    unlabelled_frames: int = 0  # ... and their frames

    @property
    def kept_fraction(self) -> float:
        return self.kept / max(self.joints, 1)


def _write(out_dir, video_id, frames, base, labels, indices, source, teachers, options,
           train):
    """frames are already shrunk by `base` (frame pixels -> stored pixels); labels are not."""
    def scaled(boxes):  # x1 y1 x2 y2 -> the same corners in the stored frame
        b = np.asarray(boxes, np.float64).reshape(-1, 2, 2)
        return transform_points(base, b).reshape(-1, 4)

    return penn_action.write_video(
        out_dir, video_id, frames,
        transform_points(base, np.stack([l.joints for l in labels])),
        np.stack([l.visibility for l in labels]), scaled([l.bbox for l in labels]), train,
        action=ACTION, extra={
            "confidence": np.stack([l.confidence for l in labels]).astype(np.float64),
            "disagreement": np.stack([l.disagreement for l in labels]).astype(np.float64),
            "crop": scaled([l.crop for l in labels]),
            "frame_index": np.asarray(indices, np.float64),
            "source": os.path.basename(os.path.normpath(os.fspath(source))),
            "teachers": ",".join(getattr(t, "key", type(t).__name__) for t in teachers),
            "agree": float(options.agree), "min_score": float(options.min_score),
            penn_action.UNMARKED_FIELD: unmarked_names(teachers),
            **({"start_box": np.asarray(options.start_box, np.float64)}
               if options.start_box else {})})


def label_video(source, teachers, out_dir, first_id: int, options: Options = Options(),
                train: bool = True, progress=None) -> VideoSummary:
    """Labels one video (file or numbered frame folder) into out_dir as Penn Action video(s)
    first_id, first_id + 1, ... Each clip follows one person: it starts at a frame where the
    whole-frame look (or options.start_box) found someone, and ends after clip_frames frames
    (at the first frame after that where the person is found), or where the person has been
    lost for more than hold_frames frames (those last frames, unlabelled, are not written, nor
    are frames where nobody is found). A clip in which the teachers agree on no joint of any
    frame is not written either: it could be neither scored nor learnt from, and would only
    inflate the clip and frame counts (the summary counts it). Unreadable frames are skipped
    (frame_index says which frames each clip holds)."""
    if not teachers:
        raise ValueError("no teachers")
    start = time.time()
    ids, frames, labels, indices = [], [], [], []
    total = kept = unlabelled_clips = unlabelled_frames = 0
    box = base = size = first = None
    lost = 0  # frames since the person was last found

    def write_clip():
        nonlocal frames, labels, indices, total, kept, unlabelled_clips, unlabelled_frames
        if frames and not any(label.visibility.any() for label in labels):
            unlabelled_clips += 1
            unlabelled_frames += len(frames)
        elif frames:
            vid = first_id + len(ids)
            _write(out_dir, vid, frames, base, labels, indices, source, teachers, options,
                   train)
            ids.append(penn_action.video_dirname(vid))
            total += len(labels) * JOINT_SET.num_joints
            kept += int(sum(label.visibility.sum() for label in labels))
        frames, labels, indices = [], [], []

    with FrameSource(source, options.max_frames or None) as src:
        for item in src:
            if (item.image is None or item.index % options.every
                    or item.index < options.start_frame):
                continue
            image = item.image
            if base is None:
                first = image.shape[:2]
                base, size = downscale_matrix(first, options.max_side)
            if image.shape[:2] != first:
                raise ValueError(f"{source}: frame {item.index} is {image.shape[1]}x"
                                 f"{image.shape[0]}, the first was another size")
            if progress:
                progress(item.index + 1, src.total)
            searching = box is None
            crop_box = box if not searching else (
                np.asarray(options.start_box, np.float32) if options.start_box
                else full_frame_box(*image.shape[:2]))
            label = label_frame(teachers, image, crop_box, options)
            if label.found:
                lost, box = 0, follow_box(label, options)
            elif searching:
                continue  # nobody to follow yet
            else:
                lost += 1
            # Frames are kept shrunk, so a long clip fits in memory (clip_frames + hold_frames
            # bound it).
            frames.append(image if size == image.shape[:2] else
                          cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA))
            labels.append(label)
            indices.append(item.index)
            if lost > options.hold_frames:  # gone: end the clip before the frames without them
                keep = max(len(frames) - lost, 0)
                frames, labels, indices = frames[:keep], labels[:keep], indices[:keep]
                write_clip()
                if options.start_box:
                    break  # the person asked for is gone; nobody else is to be labelled
                box, lost = None, 0  # and look at the whole frame for whoever comes next
            elif options.clip_frames and len(frames) >= options.clip_frames and not lost:
                write_clip()  # (while the person is lost, wait to see whether they return)
    write_clip()
    return VideoSummary(os.fspath(source), ids, total // JOINT_SET.num_joints, total, kept,
                        time.time() - start, unlabelled_clips, unlabelled_frames)


def check_start_frame(sources, options: Options) -> None:
    """Before any teacher loads: a start_frame at or past the last frame read of a video (where
    its frame count is known) would label nothing; ValueError naming the video."""
    if not options.start_frame:
        return
    for source in sources:
        with FrameSource(source, options.max_frames or None) as src:
            total = src.total
        if total is not None and options.start_frame >= total:
            raise ValueError(f"{source}: --start_frame {options.start_frame} is past its last "
                             f"frame (frames 0-{total - 1} are read)")


SOURCES_FILE = "label_video_sources.json"  # in the output folder: the videos labelled to the end


def settings_of(teachers, options: Options, train: bool) -> dict:
    """What decides a video's labels, besides the video: its record in SOURCES_FILE."""
    settings = {"teachers": ",".join(getattr(t, "key", type(t).__name__) for t in teachers),
                "train": bool(train), penn_action.UNMARKED_FIELD: unmarked_names(teachers),
                **dataclasses.asdict(options)}
    if settings["start_box"] is None:  # as recorded before start_box existed
        del settings["start_box"]
    if not settings["start_frame"]:  # ... and before start_frame
        del settings["start_frame"]
    return json.loads(json.dumps(settings))  # as SOURCES_FILE reads back (a tuple: a list)


def _source_name(source) -> str:
    return os.path.basename(os.path.normpath(os.fspath(source)))  # the .mat's `source`


def finished_sources(out_dir) -> dict:
    """{real path of a video: {'settings', 'videos'}} of the videos labelled to their end."""
    path = os.path.join(os.fspath(out_dir), SOURCES_FILE)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path) as f:
            done = json.load(f)
        if not (isinstance(done, dict) and all(isinstance(e, dict) and {"settings", "videos"}
                                               <= set(e) for e in done.values())):
            raise ValueError("not a record of labelled videos")
    except ValueError as e:
        raise ValueError(f"{path}: cannot be read ({e}); it records which videos were labelled "
                         "to their end: restore it, or label into a new --out_dir") from None
    return done


def _scalar(value):
    """A scalar extra field of a clip's .mat as stored -> str or float; None when absent."""
    if value is None or np.asarray(value).size != 1:
        return None
    value = np.asarray(value).ravel()[0]
    return str(value) if isinstance(value, str) else float(value)


def resume(out_dir, source, settings: dict) -> tuple[list | None, list]:
    """(videos of a finished labelling of `source` with `settings`, None when unfinished: with
    a list, even an empty one, there is nothing to do; videos of an unfinished one: to remove
    before labelling it again). Raises ValueError when `source` was labelled into out_dir with
    other settings."""
    done = finished_sources(out_dir)
    entry = done.pop(os.path.realpath(os.fspath(source)), None)
    if entry is not None:
        if entry["settings"] != settings:
            other = sorted(k for k in set(settings) | set(entry["settings"])
                           if settings.get(k) != entry["settings"].get(k))
            raise ValueError(f"{out_dir}: already holds {source} labelled with other settings "
                             f"({', '.join(other)} differ; videos {', '.join(entry['videos'])}); "
                             "label it into another --out_dir")
        if all(os.path.isfile(penn_action.label_path(out_dir, v)) for v in entry["videos"]):
            return list(entry["videos"]), []
        # Some of its clips were deleted since: what is left of it is redone with the rest.
    owned = {v for e in done.values() for v in e["videos"]}
    try:
        ids = penn_action.list_videos(out_dir)
    except penn_action.DatasetError:  # no labels/ folder yet
        return None, []
    stale = []
    for vid in ids:
        if vid in owned:
            continue
        fields = penn_action.read_fields(out_dir, vid, ("source", "teachers", "agree",
                                                        "min_score", penn_action.UNMARKED_FIELD))
        if _scalar(fields.pop("source")) != _source_name(source):
            continue
        mine = {k: _scalar(v) for k, v in fields.items()}
        want = {"teachers": settings["teachers"], "agree": float(settings["agree"]),
                "min_score": float(settings["min_score"]),
                penn_action.UNMARKED_FIELD: settings[penn_action.UNMARKED_FIELD]}
        if mine != want:
            raise ValueError(f"{penn_action.label_path(out_dir, vid)}: a clip of {source} "
                             f"labelled with other settings ({mine}) is in {out_dir}; label "
                             "into another --out_dir")
        stale.append(vid)
    return None, stale


def remove_videos(out_dir, video_ids) -> None:
    for vid in video_ids:
        os.remove(penn_action.label_path(out_dir, vid))
        shutil.rmtree(penn_action.frame_dir(out_dir, vid), ignore_errors=True)


def record_finished(out_dir, source, settings: dict, video_ids) -> None:
    done = finished_sources(out_dir)
    done[os.path.realpath(os.fspath(source))] = {"settings": settings, "videos": list(video_ids)}
    os.makedirs(out_dir, exist_ok=True)  # a video where nobody was found wrote no clip
    path = os.path.join(os.fspath(out_dir), SOURCES_FILE)
    with open(path + ".tmp", "w") as f:
        json.dump(done, f, indent=1)
    os.replace(path + ".tmp", path)


def label_or_resume(source, teachers, out_dir, options: Options = Options(), train: bool = True,
                    first_id: int = 0, progress=None, log=print) -> VideoSummary | None:
    """label_video, resumable (module docstring): None when `source` is already labelled into
    out_dir with these settings. first_id 0: after the last video there."""
    settings = settings_of(teachers, options, train)
    done, stale = resume(out_dir, source, settings)
    if done is not None:
        log(f"{source}: already labelled into {out_dir} with these settings (videos "
            f"{', '.join(done) or 'none: nobody was found in it'}); skipped")
        return None
    if stale:
        log(f"{source}: its labelling was cut off; removing its {len(stale)} clip(s) (videos "
            f"{', '.join(stale)}) and labelling it again")
        remove_videos(out_dir, stale)
    summary = label_video(source, teachers, out_dir, first_id or next_video_id(out_dir),
                          options, train, progress)
    record_finished(out_dir, source, settings, summary.video_ids)
    return summary


def list_sources(spec) -> list[str]:
    """--video's value: a video file, a numbered frame folder, a folder of videos (each
    labelled, in name order), or several of them comma-separated."""
    out = []
    for part in [p for p in str(spec).split(",") if p]:
        if os.path.isdir(part):
            videos = sorted(n for n in os.listdir(part) if n.lower().endswith(VIDEO_EXTENSIONS))
            out += [os.path.join(part, n) for n in videos] if videos else [part]
        elif os.path.isfile(part):
            out.append(part)
        else:  # checked before any teacher loads
            raise ValueError(f"{part}: no such video file or folder")
    if not out:
        raise ValueError("--video: no video given")
    return out


def next_video_id(out_dir) -> int:
    """1 + the largest video id already in out_dir (1 when there is none): a second run adds."""
    try:
        ids = penn_action.list_videos(out_dir)
    except Exception:  # noqa: BLE001 - no labels/ folder yet
        return 1
    return max((int(i) for i in ids), default=0) + 1


def load_teachers(keys, num_threads: int | None = None, log=None) -> list:
    keys = [k.strip() for k in keys if k.strip()]
    if len(keys) < 2:
        raise ValueError(f"--teachers: agreement needs at least two teachers, got {keys}")
    return [peers_lib.load(k, num_threads=num_threads, log=log) for k in keys]
