"""The paper's ablations (Tables 1 and 2) on the synthetic set, trained and scored together.

    python -m dkd_tf.ablations --recipe quick --out_dir runs/ablations_quick
    python -m dkd_tf.ablations --recipe reference --out_dir runs/ablations   # hours on 2 CPUs

Trains (or resumes; finished runs are skipped) the recipe's pretraining and Baseline, then every
row of dkd_tf.training.recipes.ABLATIONS from the same seeds and schedule as DKD, then streams the held-out
videos through each row (ground-truth crops) and prints: PCK by both normalizations and per
group, each row's paired-bootstrap interval against the Baseline, and the stepper's GMACs at the
recipe's input size. Writes ablations.json, pck.json and pck_curve.png to --out_dir/eval.
Flags are dkd_tf.demo's (--recipe, --out_dir, --videos, --frames, --seed, --epoch_scale).
"""
from __future__ import annotations

import json
import os
import time

from absl import flags

from dkd_tf.cli import demo_flags
from dkd_tf.data import datasets
from dkd_tf.data import tags as tags_lib
from dkd_tf.evaluation import coherence, metrics, protocol, tag_scores
from dkd_tf.experiments import run_steps
from dkd_tf.training import recipes, trainer


demo_flags.define_flags()
FLAGS = flags.FLAGS


def train_rows(recipe: recipes.Recipe, out_dir: str, data_dir: str, videos: int, frames: int,
               epoch_scale: float = 1.0, seed: int = 0) -> tuple[dict, dict]:
    """Trains every row; returns ({row: TrainConfig}, {run: seconds})."""
    runs = recipes.ablation_runs(recipe, out_dir, data_dir, videos, frames, epoch_scale, seed)
    return {row: runs[row] for row in recipes.ABLATIONS}, run_steps.train_runs(runs)


def stepper_gmacs(model, input_size: int) -> float:
    """Multiply-adds of the row's per-frame graph (the stepper; the network itself for
    single-frame rows), counted on the graph the exporters convert."""
    from dkd_tf.benchmarks import costs
    from dkd_tf.serving import graphs as graphs_lib
    costs = costs.graph_costs(graphs_lib.build_graphs(model, input_size))
    return costs[graphs_lib.STEPPER].macs / 1e9


def score_rows(rows: dict, data_cfg, eval_dir: str) -> dict:
    """{label: PCKAccumulator} of the held-out videos streamed through each row; prints the
    tables (PCK, intervals against the Baseline, coherence, per situation tag when the set has
    tags, GMACs) and writes them to eval_dir."""
    joint_set, records = datasets.load(data_cfg, "test")
    labels = {row: recipes.ABLATION_LABELS[row] for row in rows}
    acc, coh, gmacs = {}, {}, {}
    for row, cfg in rows.items():
        label = labels[row]
        model = protocol.load_model(cfg.model_dir)
        acc[label], preds = protocol.evaluate_records(model, records, cfg.input_size, joint_set)
        coh[label] = coherence.score_records(joint_set, records, preds).to_json()
        gmacs[label] = stepper_gmacs(model, cfg.input_size)
    run_steps.say(f"\nHeld-out synthetic videos: {len(records)}, frames: "
              f"{sum(r.num_frames for r in records)}; streamed frame by frame, ground-truth "
              "crops.")
    run_steps.say(metrics.format_paper_table(acc))
    base = labels["baseline"]
    comparisons = {}
    for label in list(acc)[1:]:
        comparisons[label] = {norm: metrics.paired_bootstrap(acc[label], acc[base], norm)
                              for norm in metrics.NORMS}
        run_steps.say(metrics.format_bootstraps(label, base, comparisons[label].values()))
    run_steps.say("\n" + coherence.format_table(coh))
    by_tag = None
    if os.path.isdir(os.path.join(data_cfg.data_dir, tags_lib.TAGS_DIR)):
        video_tags = [tags_lib.read_tags(data_cfg.data_dir, r.video_id, r.num_frames)
                      for r in records]
        # Each row minus the Baseline, the sign of the PCK table's intervals above.
        by_tag = tag_scores.score_by_tag({base: acc[base], **acc}, video_tags,
                                         pairs=[(label, base) for label in acc if label != base])
        run_steps.say("\n" + tag_scores.format_table(by_tag))
    run_steps.say("\nPer-frame multiply-adds (GMACs, stepper at the recipe's input size): " +
              ", ".join(f"{k} {v:.3f}" for k, v in gmacs.items()))
    written = metrics.write_report(acc, eval_dir)
    doc = {"rows": {label: {norm: acc[label].result(norm=norm) for norm in metrics.NORMS}
                    for label in acc},
           "minus_baseline": comparisons, "coherence": coh, "by_tag": by_tag,
           "stepper_gmacs": gmacs}
    path = os.path.join(eval_dir, "ablations.json")
    with open(path, "w") as f:
        json.dump(metrics._json_safe(doc), f, indent=1)
    if by_tag:
        written.append(tag_scores.plot_by_tag(by_tag, os.path.join(eval_dir,
                                                                   tag_scores.PLOT_FILE)))
    run_steps.say(f"wrote {' and '.join(written + [path])}")
    return acc


def main(argv):
    del argv
    t0 = time.time()
    recipe = recipes.get(FLAGS.recipe)
    out = FLAGS.out_dir
    data_cfg = trainer.TrainConfig(dataset="synthetic", data_dir=os.path.join(out, "data"),
                                    synthetic_videos=FLAGS.videos,
                                    synthetic_frames=FLAGS.frames, seed=FLAGS.seed)
    run_steps.say(f"$ python -m dkd_tf.make_synthetic --out {data_cfg.data_dir} --videos "
              f"{FLAGS.videos} --frames {FLAGS.frames} --seed {FLAGS.seed}")
    datasets.ensure_synthetic(data_cfg)
    rows, seconds = train_rows(recipe, out, data_cfg.data_dir, FLAGS.videos, FLAGS.frames,
                               FLAGS.epoch_scale, FLAGS.seed)
    run_steps.say("\ntraining seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
    score_rows(rows, data_cfg, os.path.join(out, "eval"))
    run_steps.say(f"\nablations finished in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    errors.run(main)
