"""The real-world recipe's one command: its steps in order, resuming from the first unfinished
one, refusing a step done with other flags, and failing loudly (stub commands, no footage)."""
import os
from unittest import mock

import tensorflow as tf

from dkd_tf.experiments import real_video_recipe as recipe


class RealVideoRecipeTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.work = self.get_temp_dir()
        self.data = os.path.join(self.work, "data")
        os.makedirs(os.path.join(self.data, "lsp"), exist_ok=True)
        self.patch = mock.patch.object(recipe, "link_footage", return_value={})
        self.patch.start()
        self.addCleanup(self.patch.stop)

    def test_steps_run_in_order_and_resume_after_a_failure(self):
        ran = []

        def runner(argv):
            ran.append(argv[0])
            return 3 if "--flagfile=configs/real_dkd_passers.flags" in argv else 0

        names = [s.name for s in recipe.steps(self.work, self.data)]
        self.assertEqual(names[-3:], ["train_baseline", "train_dkd", "ship"])
        with self.assertRaisesRegex(recipe.RecipeError, "step train_dkd failed .*rerun"):
            recipe.run(self.work, self.data, log=lambda *_: None, runner=runner)
        self.assertEqual(len(ran), names.index("train_dkd") + 1)
        # The rerun starts at the failed step: the data steps and the Baseline are done.
        again = []
        done = recipe.run(self.work, self.data, log=lambda *_: None,
                          runner=lambda argv: again.append(argv[0]) or 0)
        self.assertEqual([s.name for s in done], ["train_dkd", "ship"])
        self.assertEqual(again, ["dkd_tf.train", "dkd_tf.make_video_preset"])
        self.assertEqual(recipe.run(self.work, self.data, log=lambda *_: None,
                                    runner=lambda argv: 1 / 0), [])  # all done: nothing runs

    def test_a_step_done_with_other_flags_is_refused_and_dry_run_runs_nothing(self):
        lines = []
        todo = recipe.run(self.work, self.data, dry_run=True, log=lines.append,
                          runner=lambda argv: 1 / 0)
        self.assertLen(todo, len(recipe.steps(self.work, self.data)))
        self.assertIn("to do  $ python -m dkd_tf.make_photo_clips", lines[0])
        first = recipe.steps(self.work, self.data)[0]
        os.makedirs(os.path.join(self.work, recipe.MARKER_DIR), exist_ok=True)
        with open(recipe.marker(self.work, first), "w") as f:
            f.write("python -m dkd_tf.make_photo_clips --clips=5\n")
        with self.assertRaisesRegex(recipe.RecipeError, "photo_clips_passers.done: made by "
                                                        "`python -m dkd_tf.make_photo_clips "
                                                        "--clips=5`"):
            recipe.run(self.work, self.data, log=lambda *_: None)
        # The command says it in one line, as a known error, not an unexpected one.
        from dkd_tf.cli import errors
        with self.assertRaises(recipe.RecipeError) as caught:
            recipe.run(self.work, self.data, log=lambda *_: None)
        text = errors.describe(caught.exception)
        self.assertTrue(text.startswith(f"{recipe.marker(self.work, first)}: made by"), text)
        self.assertNotIn("unexpected", text)

    def test_without_the_photos_it_stops_before_any_work(self):
        with self.assertRaisesRegex(recipe.RecipeError, "no lsp/"):
            recipe.run(self.work, os.path.join(self.work, "nothing"), log=lambda *_: None,
                       runner=lambda argv: 1 / 0)


if __name__ == "__main__":
    tf.test.main()
