"""placement_ilp.plot and ``placement-ilp plot``: pictures of paper and generated placements."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("matplotlib", reason='plots need matplotlib: pip install "placement-ilp[plot]"')

from placement_ilp import cli
from placement_ilp.experiments import plot  # noqa: E402
from placement_ilp.evaluation.maxload import evaluate  # noqa: E402
from placement_ilp.workloads.generators import layered_dag  # noqa: E402
from placement_ilp.io import load_instance, save_instance, save_placement  # noqa: E402
from placement_ilp.baselines.latency import greedy_latency  # noqa: E402
from placement_ilp.evaluation.latency import evaluate_latency  # noqa: E402
from placement_ilp.solving import solve  # noqa: E402
from placement_ilp.data.topology import Device  # noqa: E402

from .conftest import paper_path  # noqa: E402

KB = 1024


def _check_file(path, min_kb: float) -> None:
    assert path.is_file()
    size = path.stat().st_size
    assert size > min_kb * KB, f"{path.name} is only {size} bytes"
    if path.suffix == ".svg":
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
    else:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A generated training instance, its DP placement and the files of both."""
    folder = tmp_path_factory.mktemp("plot")
    instance = layered_dag(5, 3, seed=4, training=True)
    placement = solve(instance, method="dp").placement
    save_instance(instance, folder / "small.json")
    save_placement(instance, placement, folder / "small_dp.json")
    return instance, placement, folder


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    """The paper's ResNet-50 layer graph (throughput) with its DP placement."""
    path = paper_path("throughput/LayerGraphs/resnet50_inference.json")
    instance = load_instance(path)
    placement = solve(instance, method="dp").placement
    folder = tmp_path_factory.mktemp("resnet")
    save_placement(instance, placement, folder / "dp.json")
    return instance, placement, str(path), folder


@pytest.mark.parametrize("kind", ["graph", "loads", "all"])
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_paper_instance_every_kind(resnet, kind, suffix, tmp_path):
    instance, placement, _, _ = resnet
    out = plot.save_plot(instance, placement, tmp_path / f"resnet_{kind}{suffix}", kind=kind)
    _check_file(out, 15)


def test_paper_latency_timeline(tmp_path):
    instance = load_instance(paper_path("latency/LayerGraphs/gnmt_inference.json"))
    placement = greedy_latency(instance)
    for kind, suffix in (("timeline", ".png"), ("all", ".svg")):
        out = plot.save_plot(instance, placement, tmp_path / f"gnmt_{kind}{suffix}", kind=kind, objective="latency")
        _check_file(out, 15)


def test_paper_operator_graph_is_fast_enough(tmp_path):
    """The largest paper graph (2,012 nodes) draws in a few seconds at most."""
    import time

    instance = load_instance(paper_path("throughput/OperatorGraphs/bert_L-12_training.json"))
    placement = solve(instance, method="pipedream").placement
    start = time.perf_counter()
    out = plot.save_plot(instance, placement, tmp_path / "bert.png", kind="graph")
    assert time.perf_counter() - start < 10
    _check_file(out, 50)


@pytest.mark.parametrize("kind", ["graph", "loads", "all"])
def test_generated_instance(small, kind, tmp_path):
    instance, placement, _ = small
    for suffix in (".png", ".svg"):
        _check_file(plot.save_plot(instance, placement, tmp_path / f"small{suffix}", kind=kind), 8)


def test_generated_latency_timeline(tmp_path):
    instance = layered_dag(5, 3, seed=1)
    placement = greedy_latency(instance)
    _check_file(plot.save_plot(instance, placement, tmp_path / "t.svg", kind="timeline", objective="latency"), 8)


def test_layout_points_every_edge_forward_and_packs_side_chains():
    instance = layered_dag(6, 3, seed=3, training=True)
    layout = plot.layered_layout(instance)
    graph = instance.graph
    x = dict(zip(layout.ids, layout.x))
    assert all(x[e.source] < x[e.target] for e in graph.edges)
    for v in graph.ids:  # every node with consumers sits right before its first one
        if graph.successors(v):
            assert x[v] == min(x[w] for w in graph.successors(v)) - 1
    assert layout.layers == int(max(layout.x)) + 1
    for layer in range(layout.layers):  # positions in a layer: distinct, centred on 0
        ys = sorted(y for xi, y in zip(layout.x, layout.y) if xi == layer)
        if ys:
            assert ys == [i - (len(ys) - 1) / 2 for i in range(len(ys))]
    assert layout.width == max(list(layout.x).count(float(i)) for i in range(layout.layers))


def test_loads_bars_are_the_evaluators_numbers(small):
    instance, placement, _ = small
    fig = plot.plot_loads(instance, placement)
    ev = evaluate(instance, placement)
    bars = [p for p in fig.axes[0].patches if p.get_width() == pytest.approx(0.7)]
    n = len(ev.devices)
    assert len(bars) == 2 * n
    assert [b.get_height() for b in bars[:n]] == pytest.approx([r.compute for r in ev.devices])
    assert [b.get_height() for b in bars[n:]] == pytest.approx([r.communication for r in ev.devices])
    assert [b.get_y() for b in bars[n:]] == pytest.approx([r.compute for r in ev.devices])
    line = fig.axes[0].lines[0]
    assert line.get_ydata()[0] == pytest.approx(ev.max_load)


def test_timeline_bars_are_the_schedule():
    instance = layered_dag(5, 3, seed=1)
    placement = greedy_latency(instance)
    report = evaluate_latency(instance, placement, max_subgraphs=1)
    fig = plot.plot_timeline(instance, placement, max_subgraphs=1)
    starts = sorted(round(p.get_x(), 9) for p in fig.axes[0].patches if p.get_height() == pytest.approx(0.6))
    for s in report.subgraphs:
        assert round(s.start, 9) in starts
    assert fig.axes[0].lines[0].get_xdata()[0] == pytest.approx(report.latency)


def test_device_colours_distinct_for_accelerators(small):
    instance, placement, _ = small
    colours = plot.device_colours(instance, placement)
    accs = [colours[d] for d in instance.topology.devices() if d.cls != "cpu"]
    assert len(set(accs)) == len(accs)
    merged = plot.device_colours(instance, placement, merge_cpus=True)
    assert "cpu" in merged and Device("cpu", 0) not in merged


# --------------------------------------------------------------------- CLI
def test_cli_writes_and_refuses_to_overwrite(small, capsys):
    _, _, folder = small
    inst, place, out = str(folder / "small.json"), str(folder / "small_dp.json"), folder / "cli.png"
    assert cli.main(["plot", inst, place, "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    _check_file(out, 8)
    before = out.read_bytes()
    assert cli.main(["plot", inst, place, "-o", str(out), "--kind", "graph"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "exists" in err and "--force" in err
    assert out.read_bytes() == before
    assert cli.main(["plot", inst, place, "-o", str(out), "--kind", "graph", "--force"]) == 0
    assert out.read_bytes() != before


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-o", "{folder}/x.jpg"], "plots are written as .png or .svg"),
        (["-o", "{folder}/x"], "plots are written as .png or .svg"),
        (["-o", "{folder}/x.png", "--kind", "timeline"], "use it with --objective latency"),
        (["-o", "{folder}/x.png", "--kind", "loads", "--objective", "latency"], "the loads plot shows max-load"),
        (["-o", "{folder}/x.png", "--kind", "pie"], "invalid choice"),
    ],
)
def test_cli_bad_input_is_one_line(small, capsys, extra, message):
    _, _, folder = small
    args = ["plot", str(folder / "small.json"), str(folder / "small_dp.json")]
    assert cli.main(args + [a.format(folder=folder) for a in extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not (folder / "x.png").exists()


def test_cli_without_matplotlib(small, capsys, monkeypatch):
    _, _, folder = small
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes "import matplotlib" fail
    out = folder / "none.png"
    assert cli.main(["plot", str(folder / "small.json"), str(folder / "small_dp.json"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "placement-ilp[plot]"' in err
    assert not out.exists()
