"""One failure mechanism for every command line: `error: <file>: <problem>`, exit status 1, the
traceback only on request (issue 10, item 8)."""
import contextlib
import io
import os
from unittest import mock

import tensorflow as tf

from dkd_tf.cli import errors
from dkd_tf.training import run_state
from dkd_tf.data.records import DatasetError


def call(main, env=None):
    err = io.StringIO()
    with mock.patch.dict(os.environ, env or {}, clear=False), contextlib.redirect_stderr(err):
        status = errors.guarded(main)([])
    return status, err.getvalue()


def raising(error):
    def main(argv):
        raise error
    return main


class CliErrorsTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        os.environ.pop(errors.TRACEBACK_ENV, None)

    def test_project_errors_print_one_line_and_exit_1(self):
        status, err = call(raising(DatasetError("data/labels/0001.mat", "missing field 'x'")))
        self.assertEqual(status, 1)
        self.assertEqual(err, "error: data/labels/0001.mat: missing field 'x'\n")
        status, err = call(raising(FileNotFoundError("runs/x/model.keras: no trained model")))
        self.assertEqual((status, err), (1, "error: runs/x/model.keras: no trained model\n"))

    def test_details_follow_indented(self):
        error = run_state.RunStateError("runs/x/config.json", "differs:\n  a  1  2\nb  3  4")
        _, err = call(raising(error))
        self.assertEqual(err.splitlines(), ["error: runs/x/config.json: differs:", "  a  1  2",
                                            "  b  3  4"])

    def test_os_errors_name_their_file(self):
        def main(argv):
            open("/no/such/file.json")
        _, err = call(main)
        self.assertEqual(err, "error: /no/such/file.json: No such file or directory\n")

    def test_unexpected_errors_are_one_line_too_and_say_how_to_see_more(self):
        status, err = call(raising(RuntimeError("boom")))
        self.assertEqual(status, 1)
        self.assertTrue(err.startswith("error: RuntimeError: boom\n"), err)
        self.assertIn(errors.TRACEBACK_ENV, err)
        self.assertNotIn("Traceback", err)

    def test_traceback_on_request(self):
        with self.assertRaisesRegex(DatasetError, "bad"):
            call(raising(DatasetError("f", "bad")), env={errors.TRACEBACK_ENV: "1"})
        self.assertEqual(call(lambda argv: 0)[0], 0)

    def test_interrupts_and_exits_pass_through(self):
        with self.assertRaises(KeyboardInterrupt):
            call(raising(KeyboardInterrupt()))
        with self.assertRaises(SystemExit):
            call(raising(SystemExit(3)))


if __name__ == "__main__":
    tf.test.main()
