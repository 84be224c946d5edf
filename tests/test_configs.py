"""Every flagfile parses, and its name says the Table row it trains."""
import glob
import json
import os
import re
import subprocess
import sys

import dataclasses

import tensorflow as tf
from absl import flags

from dkd_tf.cli import train_flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
train_flags.define_flags()


def resolved(flagfile):
    """The TrainConfig a flagfile gives, parsed in this process (as dkd_tf.train parses it)."""
    fv = flags.FLAGS
    fv.unparse_flags()
    fv(["dkd_tf.train", f"--flagfile={os.path.join(ROOT, flagfile)}"])
    try:
        return json.loads(json.dumps(dataclasses.asdict(train_flags.config_from_flags())))
    finally:
        fv.unparse_flags()


class ConfigsTest(tf.test.TestCase):

    def test_paper_recipe(self):
        for name, dataset in (("pennaction", "penn_action"), ("subjhmdb", "sub_jhmdb")):
            cfg = resolved(f"configs/{name}.flags")
            self.assertEqual(cfg["dataset"], dataset)
            self.assertEqual((cfg["input_size"], cfg["kernel_size"], cfg["kernel_channels"],
                              cfg["clip_length"], cfg["epochs"]), (256, 7, 256, 5, 40))
            self.assertEqual((cfg["learning_rate"], cfg["lr_decay_epochs"]), (5e-4, [15, 25]))
            self.assertEqual((cfg["initializer_backbone"], cfg["encoder_backbone"]),
                             ("resnet101", "resnet50"))

    def test_table_rows(self):
        files = sorted(glob.glob(os.path.join(ROOT, "configs", "penn_table*.flags")))
        self.assertEqual(len(files), 4 + 3 * 3 + 2)
        readme = open(os.path.join(ROOT, "configs", "README.md")).read()
        for path in files:
            name = os.path.basename(path)[:-len(".flags")]
            m = re.match(r"penn_table[12]_(dkd|baseline)_resnet(\d+)_?(wo_tat|wo_pkd|w_sat|w_lstm)?$",
                         name)
            self.assertIsNotNone(m, name)
            cfg = resolved(os.path.relpath(path, ROOT))
            kind, depth, ablation = m.groups()
            self.assertEqual(cfg["variant"], ablation or kind)
            self.assertEqual(cfg["encoder_backbone"], f"resnet{depth}")
            self.assertEqual(cfg["dataset"], "penn_action")
            self.assertIn(name.split("_resnet")[0], readme)

    def test_finetune_flagfiles_seed_from_the_shipped_members_alone(self):
        """The fine-tuning flagfiles are their preset's training files with every network seeded
        from the shipped member (--init_from, the other seeds cleared: both is an error)."""
        for name, member in (("real_dkd_finetune", "dkd"),
                             ("real_baseline_finetune", "baseline")):
            cfg = resolved(f"configs/{name}.flags")
            base = resolved(f"configs/real_{member}_passers.flags")
            self.assertEqual(cfg["init_from"],
                             f"dkd_tf/presets/dkd_movenet_video/{member}/model.keras")
            self.assertTrue(os.path.isfile(os.path.join(ROOT, cfg["init_from"])))
            self.assertEqual([cfg[f] for f in ("init_initializer_from", "init_encoder_from",
                                               "init_matcher_from")], ["", "", ""])
            changed = {k for k in cfg if cfg[k] != base[k]}  # nothing else of the recipe
            self.assertEqual(changed - {"model_dir", "init_from", "init_initializer_from",
                                        "init_encoder_from", "init_matcher_from", "epochs",
                                        "lr_decay_epochs"}, set())
            self.assertIn("init_from", changed)
            self.assertEqual((cfg["epochs"], cfg["lr_decay_epochs"]), (4, [3]))

    def test_cli_dry_run_prints_the_config(self):
        out = subprocess.run([sys.executable, "-m", "dkd_tf.train",
                              "--flagfile=configs/subjhmdb.flags", "--split=2", "--dry_run"],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
        self.assertEqual(out.returncode, 0, out.stderr[-2000:])
        cfg = json.loads(out.stdout[out.stdout.index("{"):])
        self.assertEqual(cfg, {**resolved("configs/subjhmdb.flags"), "split": 2})
