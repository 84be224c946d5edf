"""Ship the real-world video preset (DKD and its Baseline from two trained runs), or --rescore
it (--refresh_exports: its TFLite manifests remade first), or write only its model card again
(--card_only).

    python -m dkd_tf.make_video_preset --dkd_dir runs/real_dkd_c32_passers \
        --baseline_dir runs/real_baseline_passers \
        --test_dirs runs/photo_clips_test,runs/real_clips_test_tb,runs/vtest_test_tb,runs/outdoor_test_tb \
        --find_dirs runs/real_clips_test_tb,runs/outdoor_test_tb \
        --people_dirs runs/people/test_cam04_a,runs/people/test_cam04_b,runs/people/test_outdoor_b \
        --verify_video runs/vtest_test_tb

See dkd_tf.experiments.video_preset for what it exports, scores and writes.
"""
from __future__ import annotations

from absl import flags

from dkd_tf.experiments.video_preset import NAME, rescore, rewrite_card, ship


def main(argv):
    del argv
    if FLAGS.card_only:
        print(f"wrote {rewrite_card(NAME)}")
        return
    if FLAGS.rescore:
        rescore(NAME, FLAGS.test_dirs, FLAGS.find_dirs, FLAGS.verify_video,
                num_threads=FLAGS.num_threads, calibration_data=FLAGS.calibration_data or None,
                refresh_exports=FLAGS.refresh_exports, people_dirs=FLAGS.people_dirs)
        return
    ship(FLAGS.dkd_dir, FLAGS.baseline_dir, FLAGS.test_dirs, FLAGS.find_dirs, FLAGS.verify_video,
         num_threads=FLAGS.num_threads, calibration_data=FLAGS.calibration_data or None,
         people_dirs=FLAGS.people_dirs)


FLAGS = flags.FLAGS

if __name__ == "__main__":
    flags.DEFINE_string("dkd_dir", "runs/real_dkd_c32_passers", "The trained DKD run "
                        "(configs/real_dkd_passers.flags).")
    flags.DEFINE_string("baseline_dir", "runs/real_baseline_passers", "The trained Baseline "
                        "run (configs/real_baseline_passers.flags).")
    flags.DEFINE_list("test_dirs", ["runs/photo_clips_test", "runs/real_clips_test_tb",
                                    "runs/vtest_test_tb", "runs/outdoor_test_tb"],
                      "Held-out Penn Action format clip dirs to score on (docs/real_video_data.md "
                      "makes them).")
    flags.DEFINE_list("find_dirs", ["runs/real_clips_test_tb", "runs/outdoor_test_tb"],
                      "Held-out clip dirs also streamed with no first box (as dkd_tf.stream "
                      "without --bbox: the whole first frame, then follow; re-initializing "
                      "below the stream's default confidence).")
    flags.DEFINE_list("people_dirs", [], "Labels of the other people in the --find_dirs "
                      "clips (dkd_tf.label_video --start_box, one dir per person; "
                      "docs/real_video_data.md): the no-box rows are also scored against the "
                      "person each row picked on a clip's first frame ('one of them').")
    flags.DEFINE_string("verify_video", "runs/vtest_test_tb", "Parity clip of the exports "
                        "(export.tflite --verify_video): a Penn Action format data dir of real "
                        "people (labelled-box crops) or a video.")
    flags.DEFINE_bool("card_only", False, "Only write the shipped preset's model card again "
                      "from its preset.json (after the card's wording changed; no number "
                      "changes).")
    flags.DEFINE_bool("rescore", False, "Score the shipped preset again (same model files, "
                      "verified; results and card rewritten) instead of shipping the runs.")
    flags.DEFINE_bool("refresh_exports", False, "With --rescore: export the shipped TFLite "
                      "members again from the shipped Keras ones first (graphs byte for byte "
                      "as shipped), so their manifests carry this preset's current tracker "
                      "settings and decoding rule (video_preset.TRACKER, DECODING).")
    flags.DEFINE_integer("num_threads", 1, "LiteRT threads for streaming and latency.")
    flags.DEFINE_string("calibration_data", "", "Penn Action format clips that calibrate the "
                        "(unshipped, scored) int8 export of DKD; default: the DKD run's "
                        "training data.")
    from dkd_tf.cli import errors
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
