"""The paper's ablations (Tables 1 and 2) on the synthetic set: every row trained, then scored.

train_rows trains (or resumes; finished runs are skipped) the recipe's pretraining and Baseline,
then every row of dkd_tf.training.recipes.ABLATIONS from the same seeds and schedule as DKD.
score_rows streams the held-out videos through each row (ground-truth crops) and prints PCK by
both normalizations and per group, each row's paired-bootstrap interval against the Baseline,
the temporal coherence, PCK per situation tag (when the set has tags) and the stepper's GMACs at
the recipe's input size; it writes ablations.json, pck.json and pck_curve.png (and
pck_by_tag.png) to its eval_dir.

The command: python -m dkd_tf.ablations (dkd_tf/ablations.py).
"""
from __future__ import annotations

import json
import os

from dkd_tf.data import datasets
from dkd_tf.data import tags as tags_lib
from dkd_tf.evaluation import coherence, metrics, protocol, tag_scores
from dkd_tf.experiments import run_steps
from dkd_tf.training import recipes


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
    by_graph = costs.graph_costs(graphs_lib.build_graphs(model, input_size))
    return by_graph[graphs_lib.STEPPER].macs / 1e9


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
