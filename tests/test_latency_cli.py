"""The latency objective on the command line: same keys and exit codes as max-load."""

from __future__ import annotations

import json

import pytest

from placement_ilp.cli import main

from .conftest import paper_path

KEYS = {"objective", "status", "bound", "gap", "build_seconds", "solve_seconds", "method", "formulation", "placement"}


@pytest.mark.parametrize("q", [1, 2])
def test_latency_milp_beats_or_ties_greedy_and_dp_split(q, capsys, tmp_path):
    path = str(paper_path("latency/LayerGraphs/bert24_inference.json"))
    values = {}
    for method in ("milp", "greedy", "dp", "all-cpu"):
        out = tmp_path / f"{method}.json"
        argv = ["solve", path, "--objective", "latency", "--subgraphs-per-accelerator", str(q)]
        assert main(argv + ["--method", method, "--json", "-o", str(out), "--time-limit", "120"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert KEYS <= set(data)
        values[method] = data["objective"]
        # the written placement evaluates to the same latency
        assert main(["evaluate", path, str(out), "--objective", "latency", "--json",
                     "--subgraphs-per-accelerator", str(q)]) == 0
        assert json.loads(capsys.readouterr().out)["latency"] == pytest.approx(values[method], rel=1e-9)
    assert values["milp"] <= values["greedy"] + 1e-6
    assert values["milp"] <= values["dp"] + 1e-6
    assert values["milp"] <= values["all-cpu"] + 1e-6


def test_latency_rejects_training_graphs_in_one_line(capsys):
    path = str(paper_path("throughput/LayerGraphs/bert24_training.json"))
    assert main(["solve", path, "--objective", "latency"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_latency_refuses_max_load_baselines(capsys):
    assert main(["solve", "instances/default.json", "--objective", "latency", "--method", "pipedream"]) == 2
    assert "--objective latency takes --method" in capsys.readouterr().err


def test_latency_milp_starts_from_the_dp_split(capsys):
    path = str(paper_path("latency/OperatorGraphs/bert_l-3_inference.json"))
    assert main(["solve", path, "--objective", "latency", "--method", "dp", "--json"]) == 0
    dp_value = json.loads(capsys.readouterr().out)["objective"]
    argv = ["solve", path, "--objective", "latency", "--warm-start", "dp", "--time-limit", "5", "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["objective"] <= dp_value + 1e-6
