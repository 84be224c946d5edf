"""What a model's frames cost, measured in one run: `python -m dkd_tf.bench` is its command.

benchmark() builds (or loads) the model, exports its initializer and stepper (TFLite, and ONNX
when asked), and reports per graph: multiply-adds, parameters, latency (median and p90 of
interleaved runs on one runtime and thread count), frames per second of the stream, peak memory;
optionally the stepper's parts and published peers timed in the same loop (dkd_tf.core.
tflite_graphs). format_report prints it as the paper's cost tables.
"""
from __future__ import annotations

import dataclasses
import os

from dkd_tf.core import output_paths
from dkd_tf.pretrained import peers as peers_lib
from dkd_tf.serving import manifest as manifest_lib


class BenchError(Exception):
    pass


def check_inputs(export_dir: str = "", peers=(), out_json: str = "") -> None:
    """Before any model is built or loaded (file reads only, no TensorFlow): --out_json can be
    written and is no input, --export_dir holds a verified manifest, each --peer is a published
    peer's name or an existing file. Each once failed only after a model had been built and
    exported (15-20 s), and --out_json after the whole benchmark."""
    if out_json:
        output_paths.check_file(out_json, inputs=[export_dir], flag="--out_json")
    if export_dir:
        manifest_lib.read(export_dir)
    for value in peers or ():
        if value not in peers_lib.PEERS and not os.path.isfile(value):
            raise BenchError(f"{value}: no such TFLite file")  # nor a peer's name (PEERS)


def resolve_peers(values) -> list[str]:
    """--peer values -> .tflite paths: a published peer's name (dkd_tf.pretrained.peers.PEERS:
    fetched, checked, MoveNet converted once) or a .tflite file."""
    return [peers_lib.tflite_file(v, log=print) if v in peers_lib.PEERS else v
            for v in values or ()]


def is_trained(model_dir: str) -> bool:
    """Whether model_dir holds a trained model (else the flags' architecture is benchmarked)."""
    from dkd_tf.serving import graphs as graphs_lib
    return bool(model_dir) and graphs_lib.is_model_dir(model_dir)


def load_or_build(cfg, model_dir: str):
    """(model, cfg, source): the trained model in model_dir, or cfg's architecture untrained."""
    from dkd_tf.data.datasets import joint_set_of
    from dkd_tf.serving import graphs as graphs_lib
    from dkd_tf.training import run_state, trainer
    if is_trained(model_dir):
        model, cfg = graphs_lib.load_model_dir(model_dir)
        return model, cfg, f"trained model {model_dir}"
    # Cost does not depend on weights: skip ImageNet downloads and pretrained-model files. The
    # discriminator is training-only: eta = 0 leaves it unbuilt (same inference graphs).
    arch = dataclasses.replace(run_state.unseeded(cfg), eta=0.0)
    model = trainer.build_model(arch, joint_set_of(cfg.dataset).num_joints)
    missing = f"no trained model in {model_dir} (model.keras + config.json): " if model_dir else ""
    return model, cfg, missing + "architecture from the flags (random weights)"


def export_architecture(model, cfg, input_size: int, backend: str, root: str) -> str:
    """root/export: the untrained `model` saved as a model directory and exported to `backend`
    (fp32, the exporters' default rewrites, verified as every export is), so that an
    architecture's TFLite or ONNX latency needs only its flags, as its Keras latency does."""
    from dkd_tf.training import trainer
    model_dir, export_dir = os.path.join(root, "model"), os.path.join(root, "export")
    os.makedirs(model_dir)
    trainer.save_inference_model(model, os.path.join(model_dir, trainer.MODEL_FILE),
                                  input_size)
    dataclasses.replace(cfg, model_dir=model_dir, input_size=input_size).save(model_dir)
    quiet = lambda *_: None  # noqa: E731
    if backend == "tflite":
        from dkd_tf.serving import tflite_export
        tflite_export.export_tflite(model_dir, export_dir, "none", log=quiet)
    else:
        from dkd_tf.serving import onnx_export
        onnx_export.export_onnx(model_dir, export_dir, log=quiet)
    return export_dir


PEAK_SHAPE = (256, 1024, 1024)  # the fp32 throughput probe: x [m, k] @ W [k, n]
OTHER_FORMAT = {"tflite": "onnx", "onnx": "tflite"}


def _open_export(backend, export_dir, num_threads, allow_unverified, graphs):
    from dkd_tf.serving import runtimes
    runner = runtimes.open_runner(backend, export_dir, num_threads,
                                  allow_unverified=allow_unverified)
    if (runner.state_shape != graphs.state_shape
            or runner.heatmap_shape != graphs.heatmap_shape):
        raise BenchError(f"{export_dir}: the export takes state {runner.state_shape} and "
                         f"gives heatmaps {runner.heatmap_shape}; the model at input "
                         f"{graphs.input_size} has {graphs.state_shape} and "
                         f"{graphs.heatmap_shape} (pass the model the export was made from, or "
                         "its --input_size)")
    return runner


def _part_graphs(model, input_size, num_threads):
    """({part name: TFLiteGraph}, None) of the stepper's parts, or ({}, why not)."""
    from dkd_tf.benchmarks import stepper_parts
    from dkd_tf.core import tflite_graphs
    try:
        parts = stepper_parts.stepper_parts(model, input_size)
    except stepper_parts.PartsUnavailable as e:
        return {}, str(e)
    return {p.name: tflite_graphs.TFLiteGraph(tflite_graphs.convert_function(p.concrete()),
                                              p.name, num_threads) for p in parts}, None


def _rate(macs, latency, peak):
    """{'gflops', 'of_peak'} of a graph of `macs` at its latency, peak: GFLOP/s or None."""
    from dkd_tf.benchmarks import costs as bm
    rate = bm.gflops(macs, latency["median_ms"])
    return {"gflops": None if rate is None else round(rate, 2),
            "of_peak": round(rate / peak, 4) if rate and peak else None}


def benchmark(model, cfg, input_size: int, backend: str = "keras", export_dir: str = "",
              runs: int = 30, warmup: int = 2, video_length: int = 100,
              num_threads: int | None = None, allow_unverified: bool = False, peers=(),
              parts: bool = False, peak: bool = False, beside: bool = False,
              peak_shape=PEAK_SHAPE, name: str = "") -> dict:
    """Every number of the report as a dict (see the module docstring). cfg: the model's
    TrainConfig (its data set names the joint set).

    peers: .tflite files timed in the same loop (random inputs of their own shapes). parts: time
    the stepper's parts (dkd_tf/benchmarks/stepper_parts.py) as their own TFLite graphs. peak: time a
    FULLY_CONNECTED of peak_shape for this machine's fp32 throughput. beside: with --backend
    tflite|onnx, also time the export's other format when its manifest lists it."""
    from dkd_tf.benchmarks import costs as bm
    from dkd_tf.core import tflite_graphs
    from dkd_tf.data.datasets import joint_set_of
    from dkd_tf.serving import graphs as graphs_lib
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.serving import runtimes
    manifest = manifest_lib.build(model, cfg, joint_set_of(cfg.dataset), input_size,
                                  model_sha256="", model_dir="")
    peer_graphs = [tflite_graphs.TFLiteGraph(p, num_threads=num_threads) for p in peers]
    files, file_macs, runners = {}, {}, {}
    if backend == "keras":
        runner = runtimes.KerasRunner(model, manifest, "batch-1 tf.functions")
        graphs = runner.graphs
    else:
        if not export_dir:
            raise BenchError(f"--backend {backend} times exported graphs: pass --export_dir")
        graphs = graphs_lib.build_graphs(model, input_size)
        runner = _open_export(backend, export_dir, num_threads, allow_unverified, graphs)
        entry = manifest_lib.format_entry(runner.manifest, backend, export_dir)
        files = {g: os.path.getsize(os.path.join(export_dir, entry[g]["file"]))
                 for g in manifest_lib.GRAPHS}
        if backend == "tflite":
            file_macs = {g: tflite_graphs.file_macs(os.path.join(export_dir, entry[g]["file"]))
                         for g in manifest_lib.GRAPHS}
    beside_out = None
    other = OTHER_FORMAT.get(backend)
    if beside and other and other in runner.manifest.get("formats", {}):
        try:
            runners[other] = _open_export(other, export_dir, num_threads, allow_unverified,
                                          graphs)
        except manifest_lib.ManifestError as e:
            beside_out = {"backend": other, "skipped": str(e)}
    costs = bm.graph_costs(graphs)
    frame_shape = graphs.frame_shape[1:]
    callables = dict(bm.streaming_callables(*bm.runner_callables(runner), frame_shape))
    for fmt, r in runners.items():
        for g, fn in bm.streaming_callables(*bm.runner_callables(r), frame_shape).items():
            callables[f"{fmt} {g}"] = fn
    part_graphs, parts_skipped = (_part_graphs(model, input_size, num_threads) if parts
                                  else ({}, None))
    names = {}  # timed name -> TFLiteGraph
    names.update({f"peer {i} {g.name}": g for i, g in enumerate(peer_graphs)})
    names.update({f"part {n}": g for n, g in part_graphs.items()})
    peak_graph = None
    if peak:
        content, description = tflite_graphs.matmul_peak_graph(*peak_shape)
        peak_graph = tflite_graphs.TFLiteGraph(content, description, num_threads)
        names["fp32 peak"] = peak_graph
    callables.update(names)
    latency = bm.time_interleaved(callables, runs, warmup)

    peak_out, peak_rate = None, None
    if peak_graph is not None:
        lat = latency["fp32 peak"]
        # A peak is what the machine can do: the fastest round (a long graph is the likeliest
        # to be preempted by another process), while every graph's own rate is of its median.
        peak_rate = bm.gflops(peak_graph.macs, lat["min_ms"])
        peak_out = {"graph": peak_graph.name, "macs": peak_graph.macs, "latency": lat,
                    "gflops": round(peak_rate, 2) if peak_rate else None,
                    "median_gflops": round(bm.gflops(peak_graph.macs, lat["median_ms"]), 2),
                    "note": "gflops from the fastest round; each graph's of_peak is its median "
                            "GFLOP/s over this"}
    init, stepper = costs["initializer"], costs["stepper"]
    graphs_out = {}
    for g, cost in costs.items():
        graphs_out[g] = {**cost.to_json(), "latency": latency[g],
                         **_rate(cost.macs, latency[g], peak_rate)}
        if g in files:
            graphs_out[g]["file_mb"] = round(files[g] / 2 ** 20, 3)
        if g in file_macs:  # export rewrites may change the count (e.g. deconv as 2x2 conv)
            graphs_out[g]["file_macs"] = file_macs[g]
    step_ms = latency["stepper"]["median_ms"]
    for fmt, r in runners.items():
        beside_out = {"backend": fmt, "runtime": r.describe(), "graphs": {
            g: {"latency": latency[f"{fmt} {g}"],
                **_rate(costs[g].macs, latency[f"{fmt} {g}"], peak_rate)}
            for g in costs}}
    peers_out = []
    for i, g in enumerate(peer_graphs):
        lat = latency[f"peer {i} {g.name}"]
        peers_out.append({**g.describe(), "latency": lat, **_rate(g.macs, lat, peak_rate),
                          "stepper_to_peer": (round(step_ms / lat["median_ms"], 4)
                                              if lat["median_ms"] else None)})
    parts_out = {"skipped": parts_skipped} if parts_skipped else None
    if part_graphs:
        rows = [{"part": n, "macs": g.macs, "gmacs": round(g.macs / 1e9, 4),
                 "latency": latency[f"part {n}"], **_rate(g.macs, latency[f"part {n}"], peak_rate)}
                for n, g in part_graphs.items()]
        total_ms = sum(r["latency"]["median_ms"] for r in rows)
        total_macs = sum(r["macs"] for r in rows)
        for r in rows:
            r["share_of_time"] = round(r["latency"]["median_ms"] / total_ms, 4)
            r["share_of_macs"] = round(r["macs"] / max(total_macs, 1), 4)
        parts_out = {"runtime": "tflite fp32, each part its own batch-1 graph converted from "
                                "the Keras layers",
                     "rows": rows, "sum_macs": total_macs, "stepper_macs": stepper.macs,
                     "sum_median_ms": round(total_ms, 3), "stepper_median_ms": step_ms}
    mean_macs = bm.per_frame_macs(init.macs, stepper.macs, video_length)
    out = {
        "name": name,
        "model": {k: v for k, v in manifest["model"].items() if k not in ("sha256", "model_dir")},
        "input_size": input_size, "runtime": runner.describe(), "num_threads": num_threads,
        "graphs": graphs_out,
        "video_length": video_length, "per_frame_gmacs": round(mean_macs / 1e9, 4),
        "stepper_to_initializer_macs": round(stepper.macs / max(init.macs, 1), 4),
        "stepper_to_initializer_latency": round(
            step_ms / latency["initializer"]["median_ms"], 4),
        "peak_rss_mb": round(bm.peak_rss_mb(), 1),
        "macs_note": "multiply-adds of Conv2D, depthwise, transposed conv and MatMul ops "
                     "(BN, ReLU, pooling and elementwise ops excluded)",
        "timing_note": f"medians of {runs} interleaved rounds (every graph once per round) "
                       f"after {warmup} warm-up rounds",
    }
    for key, value in (("beside", beside_out), ("peers", peers_out), ("parts", parts_out),
                       ("fp32_peak", peak_out)):
        if value:
            out[key] = value
    return out


def _pct(v):
    return f"{100 * v:5.1f}%" if v is not None else "    -"


def _num(v, fmt):
    return format(v, fmt) if v is not None else "-"


def format_report(out: dict, source: str) -> str:
    m = out["model"]
    if m["temporal"]:
        arch = (f"P {m['initializer_backbone']} (width {m['initializer_width']}), "
                f"F {m['encoder_backbone']} (width {m['encoder_width']}), "
                f"S={m['kernel_size']}, C={m['kernel_channels']}")
    else:
        arch = f"single-frame {m['encoder_backbone']} (width {m['encoder_width']})"
    threads = out.get("num_threads") or "default"
    lines = [f"{m['variant']}: {arch}, deconv {m['deconv_filters']}, {m['num_joints']} joints, "
             f"input {out['input_size']}x{out['input_size']}",
             f"  {source}; timed on {out['runtime']}, threads: {threads}; "
             f"{out.get('timing_note', '')}",
             f"  {'graph':12s} {'GMACs':>8s} {'params':>10s} {'fp32 MB':>8s} "
             f"{'median ms':>10s} {'p90 ms':>8s} {'runs':>5s} {'GFLOP/s':>8s} {'of peak':>8s}"]
    for g_name, g in out["graphs"].items():
        lat = g["latency"]
        lines.append(f"  {g_name:12s} {g['gmacs']:8.3f} {g['params'] / 1e6:9.2f}M "
                     f"{g['fp32_weights_mb']:8.1f} {lat['median_ms']:10.2f} {lat['p90_ms']:8.2f} "
                     f"{lat['runs']:5d} {_num(g.get('gflops'), '8.1f'):>8s} "
                     f"{_pct(g.get('of_peak')):>8s}"
                     + (f"   file {g['file_mb']:.1f} MB" if "file_mb" in g else ""))
    beside = out.get("beside")
    if beside and "skipped" in beside:
        lines.append(f"  {beside['backend']}: not timed ({beside['skipped']})")
    elif beside:
        lines.append(f"  beside it, {beside['runtime']}:")
        for g_name, g in beside["graphs"].items():
            lat = g["latency"]
            lines.append(f"  {g_name:12s} {'':8s} {'':10s} {'':8s} {lat['median_ms']:10.2f} "
                         f"{lat['p90_ms']:8.2f} {lat['runs']:5d} "
                         f"{_num(g.get('gflops'), '8.1f'):>8s} {_pct(g.get('of_peak')):>8s}")
    for p in out.get("peers", []):
        lat = p["latency"]
        lines.append(f"  peer {p['name']}: {p['gmacs']:.3f} GMACs, median {lat['median_ms']:.2f} "
                     f"ms, p90 {lat['p90_ms']:.2f} ms, {_num(p.get('gflops'), '.1f')} GFLOP/s "
                     f"({_pct(p.get('of_peak')).strip()} of peak); our stepper takes "
                     f"{_num(p['stepper_to_peer'], '.2f')}x its time")
    peak = out.get("fp32_peak")
    if peak:
        lines.append(f"  fp32 peak of this interpreter: {_num(peak['gflops'], '.1f')} GFLOP/s "
                     f"({peak['graph']}, fastest round {peak['latency']['min_ms']:.2f} ms; "
                     f"median {peak['median_gflops']:.1f} GFLOP/s)")
    lines.append(f"  per frame over a {out['video_length']}-frame video: "
                 f"{out['per_frame_gmacs']:.3f} GMACs (stepper = "
                 f"{out['stepper_to_initializer_macs']:.2f}x the initializer's MACs, "
                 f"{out['stepper_to_initializer_latency']:.2f}x its time)")
    parts = out.get("parts")
    if parts and "skipped" in parts:
        lines.append(f"  part breakdown: not available ({parts['skipped']})")
    elif parts:
        lines.append(f"  stepper parts ({parts['runtime']}): sum {parts['sum_median_ms']:.2f} ms "
                     f"against the whole stepper's {parts['stepper_median_ms']:.2f} ms")
        lines.append(f"    {'part':12s} {'GMACs':>8s} {'of MACs':>8s} {'median ms':>10s} "
                     f"{'of time':>8s} {'GFLOP/s':>8s} {'of peak':>8s}")
        for r in parts["rows"]:
            lines.append(f"    {r['part']:12s} {r['gmacs']:8.4f} {_pct(r['share_of_macs']):>8s} "
                         f"{r['latency']['median_ms']:10.3f} {_pct(r['share_of_time']):>8s} "
                         f"{_num(r.get('gflops'), '8.1f'):>8s} {_pct(r.get('of_peak')):>8s}")
    lines.append(f"  peak resident memory of this process: {out['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)
