"""Joint sets as data: names, skeleton, flip pairs, the paper's evaluation groups, torso joints.

Every other module (readers, augmentation, metrics, drawing, the export manifest) reads these
objects; no joint index is written anywhere else.
"""
from __future__ import annotations

import dataclasses

# The column groups of the paper's Tables 1-4, in print order.
GROUP_NAMES = ("Head", "Sho.", "Elb.", "Wri.", "Hip", "Knee", "Ank.")


@dataclasses.dataclass(frozen=True)
class JointSet:
    """A data set's joint definition.

    Attributes:
      name: registry key ('penn_action', 'sub_jhmdb', 'mpii').
      names: joint names in the data set's official order (index = channel of the heatmaps).
      edges: skeleton edges as (i, j) index pairs, for drawing.
      flip_pairs: (left, right) index pairs swapped by a horizontal flip.
      groups: group name -> joint indices, for the per-group PCK columns.
      torso: (i, j) whose distance is the torso size for torso-normalized PCK.
      evaluated: indices that enter PCK (Sub-JHMDB drops neck and belly; MPII pelvis, thorax).
    """

    name: str
    names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    flip_pairs: tuple[tuple[int, int], ...]
    groups: dict[str, tuple[int, ...]]
    torso: tuple[int, int]
    evaluated: tuple[int, ...]

    @property
    def num_joints(self) -> int:
        return len(self.names)

    def index(self, joint_name: str) -> int:
        return self.names.index(joint_name)

    def flip_permutation(self) -> list[int]:
        """Channel permutation that maps a flipped image's joints back to their own names."""
        perm = list(range(self.num_joints))
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def to_json(self) -> dict:
        """The manifest form, read by every runtime (Python stream runner, Android app)."""
        return {
            "name": self.name,
            "names": list(self.names),
            "edges": [list(e) for e in self.edges],
            "flip_pairs": [list(p) for p in self.flip_pairs],
            "groups": {k: list(v) for k, v in self.groups.items()},
            "torso": list(self.torso),
            "evaluated": list(self.evaluated),
        }


def _make(name, names, edges, torso, group_members, evaluated=None) -> JointSet:
    idx = {n: i for i, n in enumerate(names)}
    edges_i = tuple((idx[a], idx[b]) for a, b in edges)
    flips = []
    for n in names:
        if n.startswith("l_") and ("r_" + n[2:]) in idx:
            flips.append((idx[n], idx["r_" + n[2:]]))
    groups = {g: tuple(idx[m] for m in group_members[g]) for g in GROUP_NAMES}
    if evaluated is None:
        evaluated = tuple(range(len(names)))
    else:
        evaluated = tuple(idx[n] for n in evaluated)
    return JointSet(name, tuple(names), edges_i, tuple(flips), groups,
                    (idx[torso[0]], idx[torso[1]]), evaluated)


_LIMBS = {
    "Sho.": ("l_shoulder", "r_shoulder"),
    "Elb.": ("l_elbow", "r_elbow"),
    "Wri.": ("l_wrist", "r_wrist"),
    "Hip": ("l_hip", "r_hip"),
    "Knee": ("l_knee", "r_knee"),
    "Ank.": ("l_ankle", "r_ankle"),
}
_ARMS_LEGS = [
    ("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist"), ("r_shoulder", "r_elbow"),
    ("r_elbow", "r_wrist"), ("l_hip", "l_knee"), ("l_knee", "l_ankle"),
    ("r_hip", "r_knee"), ("r_knee", "r_ankle"),
]

# Penn Action (Zhang et al. 2013), official order of labels/*.mat columns.
PENN_ACTION = _make(
    "penn_action",
    ["head", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
     "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"],
    _ARMS_LEGS + [("head", "l_shoulder"), ("head", "r_shoulder"), ("l_shoulder", "r_shoulder"),
                  ("l_shoulder", "l_hip"), ("r_shoulder", "r_hip"), ("l_hip", "r_hip")],
    torso=("r_shoulder", "l_hip"),
    group_members={"Head": ("head",), **_LIMBS},
)

# Sub-JHMDB (Jhuang et al. 2013), order of joint_positions.mat pos_img columns.
SUB_JHMDB = _make(
    "sub_jhmdb",
    ["neck", "belly", "face", "r_shoulder", "l_shoulder", "r_hip", "l_hip", "r_elbow",
     "l_elbow", "r_knee", "l_knee", "r_wrist", "l_wrist", "r_ankle", "l_ankle"],
    _ARMS_LEGS + [("face", "neck"), ("neck", "l_shoulder"), ("neck", "r_shoulder"),
                  ("neck", "belly"), ("belly", "l_hip"), ("belly", "r_hip")],
    torso=("l_shoulder", "r_hip"),
    group_members={"Head": ("face",), **_LIMBS},
    evaluated=["face", "r_shoulder", "l_shoulder", "r_hip", "l_hip", "r_elbow", "l_elbow",
               "r_knee", "l_knee", "r_wrist", "l_wrist", "r_ankle", "l_ankle"],
)

# MPII Human Pose (Andriluka et al. 2014), order of the widely used JSON annotation.
MPII = _make(
    "mpii",
    ["r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax",
     "upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow",
     "l_wrist"],
    _ARMS_LEGS + [("pelvis", "thorax"), ("thorax", "upper_neck"), ("upper_neck", "head_top"),
                  ("thorax", "l_shoulder"), ("thorax", "r_shoulder"), ("pelvis", "l_hip"),
                  ("pelvis", "r_hip")],
    torso=("r_shoulder", "l_hip"),
    group_members={"Head": ("head_top", "upper_neck"), **_LIMBS},
    evaluated=["r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "upper_neck",
               "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow",
               "l_wrist"],
)

# Leeds Sports Pose and LSP extended (Johnson & Everingham 2010, 2011), order of joints.mat.
# PCK counts the 12 limb joints, as the usual LSP protocol and every MoveNet/BlazePose comparison
# do (neither peer has a neck or a head top); the torso is left shoulder - right hip.
LSP = _make(
    "lsp",
    ["r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "r_wrist", "r_elbow",
     "r_shoulder", "l_shoulder", "l_elbow", "l_wrist", "neck", "head_top"],
    _ARMS_LEGS + [("neck", "head_top"), ("neck", "l_shoulder"), ("neck", "r_shoulder"),
                  ("l_shoulder", "l_hip"), ("r_shoulder", "r_hip"), ("l_hip", "r_hip")],
    torso=("l_shoulder", "r_hip"),
    group_members={"Head": (), **_LIMBS},  # neck and head top are labelled, not scored
    evaluated=["r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "r_wrist", "r_elbow",
               "r_shoulder", "l_shoulder", "l_elbow", "l_wrist"],
)

JOINT_SETS = {js.name: js for js in (PENN_ACTION, SUB_JHMDB, MPII, LSP)}

# Joints that stand for another set's joint of another name (Penn Action's 'head' is the top of
# the head, as LSP's 'head_top' and MPII's 'head_top' are).
_SAME_JOINT = {("lsp", "penn_action"): {"head": "head_top"},
               ("mpii", "penn_action"): {"head": "head_top"}}


def mapping(source: JointSet, target: JointSet) -> list[int]:
    """For each joint of `target`, its index in `source` (-1 where `source` has none): how
    labels of one set (LSP's 14) feed a model of another (Penn Action's 13, the paper's
    protocol)."""
    alias = _SAME_JOINT.get((source.name, target.name), {})
    out = []
    for name in target.names:
        name = alias.get(name, name)
        out.append(source.names.index(name) if name in source.names else -1)
    return out


def get(name: str) -> JointSet:
    try:
        return JOINT_SETS[name]
    except KeyError:
        raise ValueError(f"unknown joint set {name!r}; known: {sorted(JOINT_SETS)}") from None
