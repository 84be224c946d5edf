"""The Fig. 3-style strip: a tiny model streamed over a distractor-crossing clip."""
import os
import subprocess
import sys

import cv2
import numpy as np
import tensorflow as tf

from dkd_tf.evaluation import figures
from dkd_tf.data import tags as tags_lib
from tests.helpers import make_model_dir, tiny_synthetic

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class StripTest(tf.test.TestCase):

    def test_picks_the_crossing_clip_and_writes_the_strip(self):
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn"), videos=4, frames=5)  # test video 0004
        self.assertEqual(figures.pick_crossing_clip(data), "0004")
        overlap = tags_lib.read_tags(data, "0004").frame["distractor_overlap"]
        self.assertEqual(overlap.tolist(), [True, True, True, False, False])
        self.assertEqual(figures.pick_frames(5, 3, overlap), [0, 2, 4])
        self.assertEqual(figures.pick_frames(40, 3, np.arange(40) == 20), [18, 20, 22])
        self.assertEqual(figures.resolve_joint("l_wri"), 5)
        with self.assertRaisesRegex(ValueError, "--joint 'l_': ambiguous"):
            figures.resolve_joint("l_")
        a = make_model_dir(os.path.join(tmp, "a"), seed=0, data_dir=data)
        b = make_model_dir(os.path.join(tmp, "b"), seed=1, data_dir=data)
        out = os.path.join(tmp, "strip.png")
        res = figures.write_strip([a, b], ["DKD", "Baseline"], data, out, "l_wri",
                                  num_frames=3)
        self.assertEqual((res["video"], res["frames"], res["joint"]),
                         ("0004", [0, 2, 4], "l_wrist"))
        img = cv2.imread(out)
        self.assertIsNotNone(img)
        self.assertGreater(img.shape[0], 400)  # 4 rows (2 per model)
        self.assertGreater(img.shape[1], 500)  # 3 columns

    def test_cli_errors_are_one_line(self):
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn2"), videos=4, frames=5)
        a = make_model_dir(os.path.join(tmp, "m"), seed=0, data_dir=data)
        proc = subprocess.run([sys.executable, "-m", "dkd_tf.figures", "strip",
                               f"--model_dir={a}", f"--data_dir={data}", "--video=9",
                               f"--out={tmp}/s.png"], cwd=REPO, capture_output=True, text=True,
                              timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        self.assertNotIn("Traceback", proc.stderr)
        self.assertIn("error: " + os.path.join(data, "labels", "0009.mat") + ": label file is "
                      "missing", proc.stderr)


if __name__ == "__main__":
    tf.test.main()
