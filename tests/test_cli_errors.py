"""Bad input: one line 'error: ...' naming the culprit, exit code 2, never a traceback."""

from __future__ import annotations

import copy
import re
import json
import subprocess
import sys

import pytest

from placement_ilp.cli import main


def _node(i, **kw):
    node = {"id": i, "supportedOnFpga": 1, "cpuLatency": 4.0, "fpgaLatency": 1.0, "isBackwardNode": 0, "size": 1.0}
    node.update(kw)
    return node


GOOD = {
    "maxSizePerFPGA": 10.0,
    "maxFPGAs": 2,
    "maxCPUs": 1,
    "nodes": [_node(1, colorClass=1), _node(2, colorClass=2), _node(3, colorClass=3)],
    "edges": [
        {"sourceId": 1, "destId": 2, "cost": 0.5},
        {"sourceId": 1, "destId": 3, "cost": 0.5},
        {"sourceId": 2, "destId": 3, "cost": 0.25},
    ],
}


def _instance_with(change):
    data = copy.deepcopy(GOOD)
    change(data)
    return data


def _run(tmp_path, capsys, argv_tail, instance=GOOD, placement=None, command="info"):
    ipath = tmp_path / "instance.json"
    ipath.write_text(instance if isinstance(instance, str) else json.dumps(instance))
    argv = [command, str(ipath)]
    if placement is not None:
        ppath = tmp_path / "placement.json"
        ppath.write_text(json.dumps(placement))
        argv.append(str(ppath))
    code = main(argv + argv_tail)
    captured = capsys.readouterr()
    return code, captured.err.strip()


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BAD_INSTANCES = {
    "cycle": (
        lambda d: d["edges"].append({"sourceId": 3, "destId": 1, "cost": 1.0}),
        r"cycle through node [123]",
    ),
    "unknown id": (
        lambda d: d["edges"].append({"sourceId": 2, "destId": 99, "cost": 0.25}),
        r"unknown node 99",
    ),
    "duplicate id": (lambda d: d["nodes"].append(_node(2)), r"duplicate node id 2"),
    "self-loop": (
        lambda d: d["edges"].append({"sourceId": 3, "destId": 3, "cost": 1.0}),
        r"self-loop on node 3",
    ),
    "negative": (_set(["nodes", 1, "cpuLatency"], -1.0), r"node 2: cpuLatency is negative"),
    "nan": (_set(["nodes", 2, "fpgaLatency"], float("nan")), r"node 3: fpgaLatency is NaN"),
    "infinite": (_set(["edges", 2, "cost"], float("inf")), r"edge 2->3: cost is infinite"),
    "unequal out-edge costs": (_set(["edges", 1, "cost"], 0.75), r"node 1: out-edges carry different costs"),
    "backward to forward edge": (
        lambda d: (
            d["nodes"].append(_node(4, isBackwardNode=1, colorClass=3)),
            d["edges"].append({"sourceId": 4, "destId": 3, "cost": 0.1}),
        ),
        r"backward-to-forward edge 4->3",
    ),
    "missing field": (lambda d: d["nodes"][0].pop("cpuLatency"), r"node 1: missing field 'cpuLatency'"),
    "missing top-level field": (lambda d: d.pop("maxCPUs"), r"instance: missing field 'maxCPUs'"),
    "flag not boolean": (_set(["nodes", 0, "supportedOnFpga"], 7), r"node 1: supportedOnFpga must be a boolean or 0/1"),
}


@pytest.mark.parametrize("case", sorted(BAD_INSTANCES))
def test_bad_instance(case, tmp_path, capsys):
    change, pattern = BAD_INSTANCES[case]
    code, err = _run(tmp_path, capsys, [], instance=_instance_with(change))
    assert code == 2
    assert err.count("\n") == 0 and err.startswith("error: ")
    assert re.search(pattern, err), err


def test_backward_only_colour_class_is_rejected_when_strict(tmp_path, capsys):
    data = _instance_with(lambda d: d["nodes"].append(_node(4, isBackwardNode=1, colorClass=77)))
    code, err = _run(tmp_path, capsys, ["--strict"], instance=data)
    assert code == 2 and err == "error: colour class 77 has only backward nodes"
    # without --strict it loads, as the paper's own training workloads need
    code, _ = _run(tmp_path, capsys, [], instance=data)
    assert code == 0


def test_not_json(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, [], instance="{not json")
    assert code == 2 and "not valid JSON" in err and "\n" not in err


def test_missing_file(tmp_path, capsys):
    assert main(["info", str(tmp_path / "absent.json")]) == 2
    assert "absent.json: no such file" in capsys.readouterr().err


def _placement(fpgas, cpus=((),)):
    return {"maxLoad": -1, "fpgas": [{"nodes": list(f)} for f in fpgas], "cpus": [{"nodes": list(c)} for c in cpus]}


BAD_PLACEMENTS = {
    "unknown node": (_placement([[1, 2, 3, 42], []]), r"placement names unknown node 42"),
    "unknown device": (_placement([[1], [2], [3]]), r"placement names unknown device acc:2 \(node 3\)"),
    "node left out": (_placement([[1, 2], []]), r"placement leaves node 3 out"),
    "node twice": (_placement([[1, 2, 3], [3]]), r"node 3 is placed twice"),
}


@pytest.mark.parametrize("case", sorted(BAD_PLACEMENTS))
def test_bad_placement(case, tmp_path, capsys):
    placement, pattern = BAD_PLACEMENTS[case]
    code, err = _run(tmp_path, capsys, [], placement=placement, command="evaluate")
    assert code == 2
    assert err.startswith("error: ") and "\n" not in err
    assert re.search(pattern, err), err


def test_good_placement_evaluates(tmp_path, capsys):
    code, _ = _run(tmp_path, capsys, ["--json"], placement=_placement([[1, 2], [3]]), command="evaluate")
    assert code == 0


def test_usage_error_is_one_line(capsys):
    assert main(["solve-everything"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err


def test_no_traceback_from_a_real_process(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_instance_with(BAD_INSTANCES["cycle"][0])))
    proc = subprocess.run(
        [sys.executable, "-m", "placement_ilp.cli", "info", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
