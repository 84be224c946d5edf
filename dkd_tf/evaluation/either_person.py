"""Scoring a tracker that finds the person itself on clips of several people: "one of them".

With no first box (`dkd_tf.stream` without `--bbox`, `--crop find`) a tracker on a clip of two
people may rightly pick either; a clip labelled on one of them then scores a correct track of
the other as a miss, so the score says which person a tracker picks, not whether it tracks one.
Each person's labels come from their own labelling run (`label_video --start_box`, one data dir
per person, same frames: `source` and `frame_index` in each clip's .mat say which). A clip is
scored against the labelled person nearest the tracker's keypoints on the clip's first frame
(the person it picked), on every frame of the clip where that person is labelled. A tracker
that picks someone nobody labelled, draws a skeleton over two people, or drifts to the other
person later still scores misses.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from dkd_tf.evaluation.metrics import person_size

MIN_JOINTS = 4  # labelled joints a person needs on the first frame to be told apart
# Two label sets whose joints lie within this many person sizes of each other (median) on the
# first frame are one person (a person dir may label the clip's own person again): PCK@0.2's
# radius.
SAME_PERSON = 0.2


@dataclasses.dataclass
class LabelledClip:
    """One person's labels on a run of a source video's frames."""

    source: str            # the video the frames were cut from
    frame_index: np.ndarray  # [T] its frame numbers
    joints: np.ndarray     # [T, K, 2]
    visibility: np.ndarray  # [T, K]
    bboxes: np.ndarray     # [T, 4]
    image_size: tuple | None
    name: str              # 'data dir:video id', for the choice's record


def labelled_clips(data_dir: str, split: str = "all") -> list[LabelledClip]:
    """The clips of a teacher-labelled data dir (dkd_tf.label_video), with where they came
    from; a clip without `source` / `frame_index` (not written by label_video) is a ValueError
    naming it."""
    from dkd_tf.data import penn_action
    return [_clip(data_dir, rec) for rec in penn_action.read_split(data_dir, split)]


def check_people_dirs(data_dirs, people_dirs) -> None:
    """Before any streaming: every people dir holds label_video clips (source, frame_index)
    and shares a source video with the clips of `data_dirs` (one dir or several: then each
    people dir belongs to one of them); a dir that does not would change no score (ValueError
    naming it)."""
    if not people_dirs:
        return
    data_dirs = [data_dirs] if isinstance(data_dirs, str) else list(data_dirs)
    belonging = {p for d in data_dirs for p in people_dirs_of(d, people_dirs)}
    for d in people_dirs:
        if d not in belonging:
            raise ValueError(f"{d}: none of its clips comes from a video of "
                             f"{' or '.join(data_dirs)}'s clips (their 'source'); label the "
                             "people of those videos (dkd_tf.label_video --start_box)")


def people_dirs_of(data_dir: str, people_dirs) -> list:
    """The people dirs of `people_dirs` whose clips come from a video of data_dir's clips (the
    others cannot change its scores)."""
    sources = {c.source for c in labelled_clips(data_dir)}
    return [d for d in people_dirs if {c.source for c in labelled_clips(d)} & sources]


def clips_with_others(data_dir: str, people_dirs) -> int:
    """How many of data_dir's clips have another person of `people_dirs` labelled on their
    first frame (MIN_JOINTS joints at least, as `choose` needs): the clips where 'one of them'
    can differ from the clip's own labels."""
    others = [c for d in people_dirs for c in labelled_clips(d)]
    return sum(any(int((clip.visibility[i] > 0).sum()) >= MIN_JOINTS
                   for clip, i in _others_on_first_frame(main, others))
               for main in labelled_clips(data_dir))


def _clip(data_dir, rec) -> LabelledClip:
    from dkd_tf.data import penn_action
    fields = penn_action.read_fields(data_dir, rec.video_id, ("source", "frame_index"))
    if fields.get("source") is None or fields.get("frame_index") is None:
        raise ValueError(f"{penn_action.label_path(data_dir, rec.video_id)}: no source / "
                         "frame_index (clips written by dkd_tf.label_video have them)")
    index = np.asarray(fields["frame_index"]).reshape(-1).astype(np.int64)
    if len(index) != rec.num_frames:
        raise ValueError(f"{penn_action.label_path(data_dir, rec.video_id)}: frame_index has "
                         f"{len(index)} entries for {rec.num_frames} frames")
    return LabelledClip(str(np.asarray(fields["source"]).reshape(-1)[0]), index, rec.joints,
                        rec.visibility, rec.bboxes, rec.image_size, f"{data_dir}:{rec.video_id}")


def _on_frame(clip: LabelledClip, frame: int):
    hit = np.nonzero(clip.frame_index == frame)[0]
    return int(hit[0]) if hit.size else None


def _others_on_first_frame(main: LabelledClip, others):
    """(clip, row of the first frame) of each other person's clip labelled on main's first
    frame (same source, same frame size), those that label main's person again left out."""
    first = int(main.frame_index[0])
    for clip in others:
        if clip.source != main.source or clip.image_size != main.image_size:
            continue
        i = _on_frame(clip, first)
        if i is None:
            continue
        if not _same_person(main, clip, i):
            yield clip, i


def _same_person(main: LabelledClip, clip: LabelledClip, i: int) -> bool:
    """Whether clip's row i labels main's person on main's first frame: the joints both label
    within SAME_PERSON person sizes of each other (median)."""
    both = (main.visibility[0] > 0) & (clip.visibility[i] > 0)
    if int(both.sum()) < MIN_JOINTS:
        return False
    size = max(float(person_size(main.bboxes[:1])[0]), 1.0)
    gap = np.linalg.norm(main.joints[0][both] - clip.joints[i][both], axis=-1)
    return float(np.median(gap)) / size < SAME_PERSON


def _distance(pred, clip: LabelledClip, i: int) -> float | None:
    """Median keypoint distance over the clip's labelled joints of row i, in person sizes."""
    seen = clip.visibility[i] > 0
    if int(seen.sum()) < MIN_JOINTS:
        return None
    size = max(float(person_size(clip.bboxes[i:i + 1])[0]), 1.0)
    return float(np.median(np.linalg.norm(pred[seen] - clip.joints[i][seen], axis=-1)) / size)


def choose(record, main: LabelledClip, pred: np.ndarray, others) -> tuple:
    """(record scored against the person picked, that person's clip name): the candidate among
    `main` (the record's own labels) and `others` (LabelledClips, any data dir) labelled on the
    record's first frame, of the same source and frame size, nearest `pred[0]`; an other
    person's clip that labels main's person again is no candidate (main's labels stand)."""
    best, best_d = main, _distance(pred[0], main, 0)
    for clip, i in _others_on_first_frame(main, others):
        d = _distance(pred[0], clip, i)
        if d is not None and (best_d is None or d < best_d):
            best, best_d = clip, d
    if best is main:
        return record, main.name
    joints = np.zeros_like(record.joints)
    visibility = np.zeros_like(record.visibility)
    bboxes = np.array(record.bboxes, copy=True)  # unlabelled frames keep a size, count nothing
    for t, frame in enumerate(main.frame_index):
        i = _on_frame(best, int(frame))
        if i is not None:
            joints[t], visibility[t], bboxes[t] = best.joints[i], best.visibility[i], best.bboxes[i]
    return dataclasses.replace(record, joints=joints, visibility=visibility,
                               bboxes=bboxes), best.name


@dataclasses.dataclass
class People:
    """The labels a run over some records is scored against: each record's own (by video id)
    and the other people's clips. Read once (load_people), used for every row."""

    mains: dict   # video id -> LabelledClip
    others: list  # LabelledClip


def load_people(data_dir: str, records, other_dirs) -> People:
    """The People of `records` (clips of data_dir); other_dirs: the other people's label
    dirs."""
    return People({rec.video_id: _clip(data_dir, rec) for rec in records},
                  [c for d in other_dirs for c in labelled_clips(d)])


def rescored_records(people: People, records, predictions: dict) -> tuple:
    """(records each labelled on the person its prediction picked, {video id: the labels'
    clip name}) for one run's predictions over `records`."""
    out, picked = [], {}
    for rec in records:
        new, name = choose(rec, people.mains[rec.video_id],
                           np.asarray(predictions[rec.video_id]), people.others)
        out.append(new)
        picked[rec.video_id] = name
    return out, picked
