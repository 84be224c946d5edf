"""The real-world DKD preset from nothing, as one resumable sequence of documented commands.

    python -m dkd_tf.real_video_recipe [--work_dir runs] [--data_dir ../shared/data] [--dry_run]

Each step is a command a user could type (printed before it runs); a step whose marker
(<work_dir>/recipe/<step>.done, holding the command) exists is skipped, so after a crash or a
kill the same command goes on from the first unfinished step; training itself resumes from its
checkpoints (dkd_tf.train). A marker written by another command (the flags changed) is an
error, not a skip: nothing stale is used. About 3 hours on a 2-core CPU, most of it the two
trainings (docs/real_people.md#real-people-in-video):

1. footage: the pinned pose2sim wheel's videos (PyPI, sha256-checked, cached), OpenCV's
   vtest.avi (Debian's opencv-doc) and Sports2D's outdoor demo (PyPI), linked into
   <work_dir>/video_{train,test}_src, <work_dir>/vtest_src and <work_dir>/outdoor_src: cameras
   1-3 of both scenes train, camera 4, vtest and the outdoor clip are held out;
2. training clips: 3,000 LSP + LSPET photos set in motion, 8 frames each, half of them with a
   second person walking past in front, and the training cameras labelled by MoveNet Thunder +
   Lightning where they agree (never the head: they mark a nose, Penn Action the head top)
   -> <work_dir>/real_clips_passers (both networks train on them);
3. held-out clips: LSP's test photos set in motion (human labels) -> photo_clips_test; camera 4
   labelled by MoveNet Thunder + BlazePose heavy (Lightning, a peer in the results, is no
   teacher) -> real_clips_test_tb; vtest's pedestrians the same way -> vtest_test_tb (the
   exports' parity clip); each of the two people of the two-person test camera labelled from
   their box on its first frame -> people/test_cam04_{a,b} (the no-box rows' "one of them");
   the outdoor clip: its man from the whole frame -> outdoor_test_tb, the woman walking past
   from her box on frame 50 -> people/test_outdoor_b;
4. the Baseline and DKD trainings (configs/real_baseline_passers.flags,
   configs/real_dkd_passers.flags);
5. the preset: presets.real_world_video (exports, scores beside the peers, model card).
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

from dkd_tf.data import footage
from dkd_tf.data.teacher_labels import Options as LabelOptions

SCENES = ("SinglePerson", "MultiPerson")
TRAIN_CAMERAS = (1, 2, 3)
TEST_CAMERA = 4
MARKER_DIR = "recipe"
# The two people of pose2sim's two-person test camera (MultiPerson cam04): their boxes on its
# first frame (x1,y1,x2,y2, video pixels), as `--finder movenet_multipose` finds them: the
# acrobat in front and the woman behind him, each labelled by the teachers on their own.
TEST_PEOPLE = {"a": "144,469,684,1430", "b": "635,403,955,944"}
# Sports2D's outdoor demo (held out, never trained on): the teachers label the man on the box
# from the whole first frame; the woman walking past below is labelled on her own from frame
# 50, the first frame where she is in view (her box there), so the no-box rows can pick either.
OUTDOOR_VIDEO = "sports2d_demo.mp4"
OUTDOOR_WOMAN = ("1400,480,1680,990", 50)


class RecipeError(RuntimeError):
    """A step failed, or a marker was written by another command."""


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    argv: tuple  # after `python -m`

    @property
    def command(self) -> str:
        return "python -m " + " ".join(self.argv)


def pose2sim_member(scene: str, camera: int) -> str:
    return f"Pose2Sim/Demo_{scene}/videos/cam{camera:02d}.mp4"


def link_name(scene: str, camera: int) -> str:
    """A pose2sim video's name in the recipe's video folders."""
    return f"{scene}_cam{camera:02d}.mp4"


def link_footage(work_dir: str, log=print) -> dict:
    """Fetch (or find cached) the footage and link it into the recipe's video folders;
    returns {folder name: [links]}."""
    folders = {"video_train_src": [(s, c) for s in SCENES for c in TRAIN_CAMERAS],
               "video_test_src": [(s, TEST_CAMERA) for s in SCENES]}
    out = {}
    for folder, members in folders.items():
        os.makedirs(os.path.join(work_dir, folder), exist_ok=True)
        out[folder] = [_link(footage.pose2sim_video(pose2sim_member(s, c), log=log),
                             os.path.join(work_dir, folder, link_name(s, c)))
                       for s, c in members]
    os.makedirs(os.path.join(work_dir, "vtest_src"), exist_ok=True)
    out["vtest_src"] = [_link(footage.vtest_video(log=log),
                              os.path.join(work_dir, "vtest_src", "vtest.avi"))]
    os.makedirs(os.path.join(work_dir, "outdoor_src"), exist_ok=True)
    out["outdoor_src"] = [_link(footage.sports2d_video(log=log),
                                os.path.join(work_dir, "outdoor_src", OUTDOOR_VIDEO))]
    return out


def _link(target: str, link: str) -> str:
    if os.path.islink(link) or os.path.exists(link):
        if os.path.realpath(link) == os.path.realpath(target):
            return link
        os.remove(link)
    os.symlink(os.path.abspath(target), link)
    return link


def steps(work_dir: str, data_dir: str) -> list[Step]:
    """The recipe's commands in order (module docstring)."""
    w = lambda name: os.path.join(work_dir, name)  # noqa: E731
    thunder_heavy = "--teachers=movenet_thunder,blazepose_heavy"
    # Named in the commands (and so in their markers): labels made before a person lost for
    # long ended the clip (when clips could switch people) are then refused, not reused.
    hold = f"--hold_frames={LabelOptions().hold_frames}"
    two = link_name("MultiPerson", TEST_CAMERA)
    return [
        Step("photo_clips_passers", ("dkd_tf.make_photo_clips", f"--data_dir={data_dir}",
                                     f"--out_dir={w('real_clips_passers')}",
                                     "--dataset=lsp_extended", "--clips=3000", "--frames=8",
                                     "--seed=0", "--max_side=480", "--passer_prob=0.5",
                                     "--passer_travel=1.5")),
        Step("label_train_passers", ("dkd_tf.label_video", f"--video={w('video_train_src')}",
                                     f"--out_dir={w('real_clips_passers')}", "--split=train",
                                     hold)),
        Step("photo_clips_test", ("dkd_tf.make_photo_clips", f"--data_dir={data_dir}",
                                  f"--out_dir={w('photo_clips_test')}", "--subset=test",
                                  "--clips=200", "--frames=16", "--seed=1")),
        Step("label_test", ("dkd_tf.label_video", f"--video={w('video_test_src')}",
                            f"--out_dir={w('real_clips_test_tb')}", "--split=test",
                            "--clip_frames=25", thunder_heavy, hold)),
        Step("label_vtest", ("dkd_tf.label_video", f"--video={w('vtest_src')}",
                             f"--out_dir={w('vtest_test_tb')}", "--split=test",
                             "--clip_frames=100", thunder_heavy, hold)),
        *[Step(f"label_test_person_{p}", (
            "dkd_tf.label_video", f"--video={os.path.join(w('video_test_src'), two)}",
            f"--out_dir={w(f'people/test_cam04_{p}')}", "--split=test", "--clip_frames=25",
            thunder_heavy, hold, f"--start_box={box}")) for p, box in TEST_PEOPLE.items()],
        Step("label_outdoor", ("dkd_tf.label_video", f"--video={w('outdoor_src')}",
                               f"--out_dir={w('outdoor_test_tb')}", "--split=test",
                               "--clip_frames=25", thunder_heavy, hold)),
        Step("label_outdoor_person_b", (
            "dkd_tf.label_video", f"--video={os.path.join(w('outdoor_src'), OUTDOOR_VIDEO)}",
            f"--out_dir={w('people/test_outdoor_b')}", "--split=test", "--clip_frames=25",
            thunder_heavy, hold, f"--start_box={OUTDOOR_WOMAN[0]}",
            f"--start_frame={OUTDOOR_WOMAN[1]}")),
        Step("train_baseline", ("dkd_tf.train", "--flagfile=configs/real_baseline_passers.flags",
                                f"--data_dir={w('real_clips_passers')}",
                                f"--model_dir={w('real_baseline_passers')}")),
        Step("train_dkd", ("dkd_tf.train", "--flagfile=configs/real_dkd_passers.flags",
                           f"--data_dir={w('real_clips_passers')}",
                           f"--model_dir={w('real_dkd_c32_passers')}")),
        Step("ship", ("dkd_tf.make_video_preset", f"--dkd_dir={w('real_dkd_c32_passers')}",
                      f"--baseline_dir={w('real_baseline_passers')}",
                      f"--test_dirs={w('photo_clips_test')},{w('real_clips_test_tb')},"
                      f"{w('vtest_test_tb')},{w('outdoor_test_tb')}",
                      f"--find_dirs={w('real_clips_test_tb')},{w('outdoor_test_tb')}",
                      "--people_dirs=" + ",".join([*(w(f"people/test_cam04_{p}")
                                                     for p in TEST_PEOPLE),
                                                   w("people/test_outdoor_b")]),
                      f"--verify_video={w('vtest_test_tb')}")),
    ]


def marker(work_dir: str, step: Step) -> str:
    return os.path.join(work_dir, MARKER_DIR, step.name + ".done")


def pending(work_dir: str, all_steps) -> list[Step]:
    """The steps still to run. A marker that records another command is a RecipeError (its
    output was made with other flags: remove it, and the step's output, to redo it)."""
    out = []
    for step in all_steps:
        path = marker(work_dir, step)
        if not os.path.isfile(path):
            out.append(step)
            continue
        with open(path) as f:
            done = f.read().strip()
        if done != step.command:
            raise RecipeError(f"{path}: made by `{done}`, this recipe runs `{step.command}`; "
                              "remove the marker and that step's output to redo it")
    return out


def run(work_dir: str, data_dir: str, dry_run: bool = False, log=print, runner=None) -> list:
    """Run the pending steps in order; returns the steps run (or, dry_run, that would run).
    runner(argv) -> exit status (default: a subprocess of this Python, in the repository)."""
    all_steps = steps(work_dir, data_dir)
    todo = pending(work_dir, all_steps)
    for step in all_steps:
        log(("  to do  " if step in todo else "  done   ") + f"$ {step.command}")
    if dry_run or not todo:
        return todo
    if not os.path.isdir(os.path.join(data_dir, "lsp")):
        raise RecipeError(f"{data_dir}: no lsp/ (the LSP photos); see docs/real_people.md")
    link_footage(work_dir, log)
    runner = runner or _subprocess
    os.makedirs(os.path.join(work_dir, MARKER_DIR), exist_ok=True)
    for step in todo:
        log(f"\n$ {step.command}")
        status = runner(step.argv)
        if status != 0:
            raise RecipeError(f"step {step.name} failed (exit status {status}): "
                              f"`{step.command}`; rerun the recipe to go on from it")
        path = marker(work_dir, step)
        with open(path + ".tmp", "w") as f:
            f.write(step.command + "\n")
        os.replace(path + ".tmp", path)
    return todo


def _subprocess(argv) -> int:
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.call([sys.executable, "-m", *argv], cwd=repo)
