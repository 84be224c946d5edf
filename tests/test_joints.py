"""Joint sets: the official orders, flip pairs, skeletons, the paper's groups and torso pairs."""
import tensorflow as tf

from dkd_tf.core import joints

PENN_ORDER = ["head", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
              "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"]
SUB_JHMDB_ORDER = ["neck", "belly", "face", "r_shoulder", "l_shoulder", "r_hip", "l_hip",
                   "r_elbow", "l_elbow", "r_knee", "l_knee", "r_wrist", "l_wrist", "r_ankle",
                   "l_ankle"]
MPII_ORDER = ["r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax",
              "upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder",
              "l_elbow", "l_wrist"]


def _names(js, indices):
    return {js.names[i] for i in indices}


class JointSetTest(tf.test.TestCase):

    def test_official_orders(self):
        self.assertEqual(list(joints.PENN_ACTION.names), PENN_ORDER)
        self.assertEqual(list(joints.SUB_JHMDB.names), SUB_JHMDB_ORDER)
        self.assertEqual(list(joints.MPII.names), MPII_ORDER)
        self.assertIs(joints.get("sub_jhmdb"), joints.SUB_JHMDB)
        with self.assertRaisesRegex(ValueError, "unknown joint set 'coco'"):
            joints.get("coco")

    def test_flip_pairs_swap_left_and_right_of_the_same_part(self):
        for js in joints.JOINT_SETS.values():
            with self.subTest(js.name):
                self.assertLen(js.flip_pairs, 6)  # shoulders, elbows, wrists, hips, knees, ankles
                for a, b in js.flip_pairs:
                    self.assertEqual(js.names[a], "l_" + js.names[b][2:])
                    self.assertTrue(js.names[b].startswith("r_"))
                perm = js.flip_permutation()
                self.assertEqual([perm[p] for p in perm], list(range(js.num_joints)))
                unpaired = [js.names[i] for i in range(js.num_joints) if perm[i] == i]
                self.assertFalse([n for n in unpaired if n[:2] in ("l_", "r_")])

    def test_skeleton_connects_every_joint(self):
        for js in joints.JOINT_SETS.values():
            with self.subTest(js.name):
                reached, frontier = {0}, [0]
                for a, b in js.edges:
                    self.assertNotEqual(a, b)
                    self.assertTrue(0 <= a < js.num_joints and 0 <= b < js.num_joints)
                while frontier:
                    i = frontier.pop()
                    for a, b in js.edges:
                        for u, v in ((a, b), (b, a)):
                            if u == i and v not in reached:
                                reached.add(v)
                                frontier.append(v)
                self.assertEqual(reached, set(range(js.num_joints)))

    def test_paper_groups_and_torso(self):
        penn, sub = joints.PENN_ACTION, joints.SUB_JHMDB
        self.assertEqual(tuple(penn.groups), joints.GROUP_NAMES)
        self.assertEqual(_names(penn, penn.groups["Head"]), {"head"})
        self.assertEqual(_names(penn, penn.groups["Wri."]), {"l_wrist", "r_wrist"})
        self.assertEqual(_names(penn, penn.torso), {"r_shoulder", "l_hip"})
        self.assertEqual([penn.names[i] for i in penn.torso], ["r_shoulder", "l_hip"])
        self.assertEqual(penn.evaluated, tuple(range(13)))
        # Sub-JHMDB: 13 evaluated joints (neck and belly dropped), face is the Head column.
        self.assertEqual([sub.names[i] for i in sub.torso], ["l_shoulder", "r_hip"])
        self.assertLen(sub.evaluated, 13)
        self.assertNotIn("neck", _names(sub, sub.evaluated))
        self.assertNotIn("belly", _names(sub, sub.evaluated))
        self.assertEqual(_names(sub, sub.groups["Head"]), {"face"})
        for js in joints.JOINT_SETS.values():
            grouped = [i for g in joints.GROUP_NAMES for i in js.groups[g]]
            self.assertEqual(sorted(grouped), sorted(js.evaluated), js.name)  # each joint once

    def test_manifest_form_round_trips(self):
        for js in joints.JOINT_SETS.values():
            data = js.to_json()
            rebuilt = joints.JointSet(
                data["name"], tuple(data["names"]), tuple(map(tuple, data["edges"])),
                tuple(map(tuple, data["flip_pairs"])),
                {k: tuple(v) for k, v in data["groups"].items()}, tuple(data["torso"]),
                tuple(data["evaluated"]))
            self.assertEqual(rebuilt, js)


if __name__ == "__main__":
    tf.test.main()
