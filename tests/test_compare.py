"""placement_ilp.compare: the method-comparison table, locally and on a Dask cluster."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from placement_ilp.experiments import compare as cmp
from placement_ilp.cli import Parser
from placement_ilp.errors import InputError
from placement_ilp.workloads.generators import layered_dag
from placement_ilp.io import save_instance, save_placement
from placement_ilp.solving import solve

from .conftest import REPO

DEFAULT = str(REPO / "instances" / "default.json")
METHODS = ["dp", "milp", "milp-none", "pipedream", "local-search", "partition", "one-accelerator"]
BASELINE_STATUSES = {"feasible", "infeasible"}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("instances") / "small.json"
    save_instance(layered_dag(4, 2, seed=1), path)
    return str(path)


@pytest.fixture(scope="module")
def table(small):
    return cmp.compare([DEFAULT, small], METHODS, workers=2, progress=False)


def test_rows_and_columns(table):
    assert list(table.columns) == list(cmp.COLUMNS)
    assert list(table.instance) == ["default"] * 7 + ["small"] * 7
    assert list(table.method) == METHODS * 2
    for row in table.itertuples():
        if row.method in ("dp", "milp", "milp-none"):
            assert row.status == "optimal", row
            assert row.gap <= 1e-6 and row.bound <= row.objective * (1 + 1e-6)
        else:
            assert row.status in BASELINE_STATUSES, row
        assert row.seconds >= 0
        assert math.isnan(row.ratio) == math.isnan(row.objective)


def test_ratio_and_exact_methods_agree(table):
    for name, rows in table.groupby("instance"):
        by = rows.set_index("method")
        best = rows.objective.min()
        assert rows.ratio.min() == 1.0
        assert (rows.loc[rows.objective == best, "ratio"] == 1.0).all()
        assert (rows.ratio.dropna() >= 1.0).all()
        assert by.objective["dp"] == pytest.approx(by.objective["milp"], rel=1e-6), name
        assert by.objective["milp-none"] <= by.objective["milp"] * (1 + 1e-6), name
        assert rows.loc[rows.objective.notna(), "ratio"].tolist() == pytest.approx(
            (rows.objective.dropna() / best).tolist()
        )
    # the default instance is one where dropping contiguity pays
    default = table[table.instance == "default"].set_index("method")
    assert default.objective["milp-none"] < default.objective["milp"]
    assert default.ratio["milp-none"] == 1.0


def test_expert_missing_file_and_error_rows(small, tmp_path, capsys):
    missing = str(tmp_path / "absent.json")
    got = cmp.compare([small, missing], ["dp", "expert"], workers=1, progress=True)
    rows = {(r.instance, r.method): r for r in got.itertuples()}
    assert rows[("small", "dp")].status == "optimal"
    assert rows[("small", "expert")].status == "n/a"
    assert math.isnan(rows[("small", "expert")].objective)
    for method in ("dp", "expert"):
        row = rows[("absent", method)]
        assert row.status == f"error: {missing}: no such file"
        assert math.isnan(row.objective) and math.isnan(row.ratio)
    err = capsys.readouterr().err
    assert "[4/4]" in err and "absent dp error" in err


def test_expert_with_a_split_file(small, tmp_path):
    from placement_ilp.io import load_instance

    instance = load_instance(small)
    placement = solve(instance, method="pipedream").placement
    save_placement(instance, placement, tmp_path / "small_expert.json")
    got = cmp.compare([small], ["pipedream", "expert"], workers=1, expert_dir=str(tmp_path))
    assert got.status.tolist() == ["feasible", "feasible"]
    assert got.objective[0] == pytest.approx(got.objective[1])


def test_bad_arguments():
    with pytest.raises(InputError, match="valid: milp, milp-none, milp-convex, dp"):
        cmp.compare([DEFAULT], ["dp", "simplex"])
    with pytest.raises(InputError, match="no method"):
        cmp.parse_methods(" , ")
    with pytest.raises(InputError, match="workers"):
        cmp.compare([DEFAULT], ["dp"], workers=0)
    with pytest.raises(InputError, match="time limit"):
        cmp.compare([DEFAULT], ["dp"], time_limit=0)
    with pytest.raises(InputError, match="no instance"):
        cmp.compare([], ["dp"])
    assert cmp.parse_methods("dp, milp,dp") == ["dp", "milp"]


def test_scheduler_without_distributed(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(InputError, match=r"pip install 'placement-ilp\[cluster\]'"):
        cmp.compare([DEFAULT], ["dp"], scheduler="tcp://127.0.0.1:1")


def _cli(argv):
    parser = Parser(prog="placement-ilp")
    cmp.register(parser.add_subparsers(dest="command", required=True, parser_class=Parser))
    args = parser.parse_args(argv)
    return args.run(args)


def test_cli_table_csv_and_overwrite_refusal(small, tmp_path, capsys):
    out = tmp_path / "table.csv"
    assert _cli(["compare", small, "--methods", "dp,pipedream", "--workers", "1", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "instance" in printed and "pipedream" in printed
    written = pd.read_csv(out)
    assert list(written.columns) == list(cmp.COLUMNS)
    assert written.method.tolist() == ["dp", "pipedream"]
    assert written.ratio.min() == 1.0

    before = out.read_text()
    with pytest.raises(InputError, match="refusing to overwrite"):
        _cli(["compare", small, "--methods", "dp", "--csv", str(out)])
    assert out.read_text() == before
    assert _cli(["compare", small, "--methods", "dp", "--csv", str(out), "--force", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| instance | method | objective | status | bound | gap | seconds | ratio |"
    assert lines[2].startswith("| small | dp | 49.043 | optimal |")
    assert pd.read_csv(out).method.tolist() == ["dp"]

    with pytest.raises(InputError, match="unknown method 'milp-fast'"):
        _cli(["compare", small, "--methods", "dp,milp-fast"])


def test_dask_cluster_gives_the_local_table(table, small):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = cmp.compare([DEFAULT, small], METHODS, scheduler=cluster.scheduler_address, progress=False)
    pd.testing.assert_frame_equal(remote.drop(columns="seconds"), table.drop(columns="seconds"))
    assert remote.seconds.notna().all()
