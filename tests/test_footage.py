"""Real footage fetched by package managers (dkd_tf.data.footage): a failed download or a file
whose sha256 is not the pinned one is refused with a line naming the file, and nothing is kept
(stub package managers; the real fetch runs in tests/test_teacher_labels.py)."""
import os
import re
import subprocess
from unittest import mock

import tensorflow as tf

from dkd_tf.data import footage
from dkd_tf.pretrained import fetch


class FootageTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.cache = self.get_temp_dir()
        patcher = mock.patch.dict(os.environ, {"DKD_TF_CACHE": self.cache})
        patcher.start()
        self.addCleanup(patcher.stop)

    def _manager(self, returncode, content=b"not the pinned file"):
        """A stub of subprocess.run that 'downloads' `content` under the expected name."""
        def run(argv, cwd=None, capture_output=False, text=False):
            if argv[0] == "apt-get":
                with open(os.path.join(cwd, footage.OPENCV_DOC_DEB), "wb") as f:
                    f.write(content)
            else:
                with open(os.path.join(argv[argv.index("-d") + 1], footage.POSE2SIM_WHEEL),
                          "wb") as f:
                    f.write(content)
            return subprocess.CompletedProcess(argv, returncode, "", "E: no network here")
        return mock.patch.object(footage.subprocess, "run", side_effect=run)

    def test_a_file_that_is_not_the_pinned_one_is_refused(self):
        for fetcher, name in ((footage.vtest_video, footage.OPENCV_DOC_DEB),
                              (footage.pose2sim_video, footage.POSE2SIM_WHEEL)):
            with self.subTest(name), self._manager(0):
                with self.assertRaisesRegex(fetch.FetchError, f"downloaded {re.escape(name)} "
                                                              "has sha256 .* pinned .*; "
                                                              "refusing it"):
                    fetcher()
        leftovers = [f for _, _, files in os.walk(self.cache) for f in files]
        self.assertEmpty(leftovers)  # nothing unverified is kept

    def test_a_failed_download_names_the_command_and_its_last_line(self):
        with self._manager(100):
            with self.assertRaisesRegex(fetch.FetchError, "vtest.avi: apt-get download "
                                        "opencv-doc=.* failed: E: no network here"):
                footage.vtest_video()


if __name__ == "__main__":
    tf.test.main()
