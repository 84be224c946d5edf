"""`dkd_tf.evaluate --by_tag` and the coherence lines, end to end on tiny untrained models."""
import json
import os

import tensorflow as tf

from dkd_tf.evaluation import metrics, tag_scores
from dkd_tf.data import tags as tags_lib
from dkd_tf.data.records import DatasetError
from tests.helpers import make_model_dir, tiny_synthetic
from tests.test_evaluate import run_evaluate


class ByTagCliTest(tf.test.TestCase):

    def test_by_tag_rows_intervals_plot_and_coherence(self):
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn"), videos=4, frames=5)  # 1 test video
        a = make_model_dir(os.path.join(tmp, "a"), seed=0, data_dir=data)
        b = make_model_dir(os.path.join(tmp, "b"), seed=1, data_dir=data)
        out_dir = os.path.join(tmp, "eval")
        plain = run_evaluate(f"--model_dir={a},{b}", "--names=A,B", "--bootstrap=20")
        stdout = run_evaluate(f"--model_dir={a},{b}", "--names=A,B", "--bootstrap=20",
                              "--by_tag", f"--output_dir={out_dir}")
        # The existing lines stay as they were; the coherence table follows the PCK table.
        self.assertTrue(stdout.startswith(plain))
        self.assertIn("Temporal coherence", plain)
        self.assertIn("PCK@0.2 by situation tag, normalized by person size", stdout)
        self.assertIn("A - B (95 % interval)", stdout)
        doc = json.load(open(os.path.join(out_dir, "pck.json")))
        self.assertEqual(list(doc), ["A", "B"])
        self.assertEqual(list(doc["A"]["by_tag"]), list(tag_scores.TAGS))
        self.assertIn("B", doc["A"]["by_tag"]["clean"]["minus"])
        for name in "AB":
            self.assertEqual(doc[name]["coherence"]["num_videos"], 1)
            self.assertIn("acceleration_error", doc[name]["coherence"])
        # Every tag scores frames of the one 5-frame test video; clean ones are untagged.
        for tag in tag_scores.TAGS:
            self.assertBetween(doc["A"]["by_tag"][tag]["frames"], 0, 5)
        self.assertTrue(os.path.exists(os.path.join(out_dir, tag_scores.PLOT_FILE)))
        # A set without tags: one error naming the missing file.
        os.remove(tags_lib.tag_path(data, "0004"))
        with self.assertRaisesRegex(DatasetError, "tags/0004.json: tags file is missing"):
            run_evaluate(f"--model_dir={a}", "--by_tag")
        self.assertIn("PCK", metrics.format_paper_table({"A": doc["A"]}))


if __name__ == "__main__":
    tf.test.main()
