"""Live progress: HiGHS reports during a MILP solve, the CLI's live line, compare's bar."""

from __future__ import annotations

import io
import math
import sys

import pytest

from placement_ilp import cli
from placement_ilp.experiments import compare as cmp
from placement_ilp.milp.backends.highs import Progress, solve_highs
from placement_ilp.workloads.generators import layered_dag
from placement_ilp.io import save_instance
from placement_ilp.milp.model import Model
from placement_ilp.solving import build


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def instance():
    # about half a second for HiGHS, with a few dozen improving solutions and bounds
    return layered_dag(5, 3, seed=0)


@pytest.fixture(scope="module")
def instance_file(instance, tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "small.json"
    save_instance(instance, path)
    return str(path)


def _check_monotone(events: list[Progress], minimise: bool = True) -> None:
    sign = 1.0 if minimise else -1.0
    assert events and events[-1].final and not any(e.final for e in events[:-1])
    for before, after in zip(events, events[1:]):
        assert after.elapsed >= before.elapsed
        if before.incumbent is not None:
            assert after.incumbent is not None and sign * after.incumbent <= sign * before.incumbent
        if before.bound is not None:
            assert after.bound is not None and sign * after.bound >= sign * before.bound
    for e in events:
        assert e.elapsed >= 0
        if e.incumbent is not None and e.bound is not None:
            assert sign * e.bound <= sign * e.incumbent
            assert e.gap is not None and e.gap >= 0
        else:
            assert e.gap is None


def test_milp_progress_events_are_monotone_and_end_with_the_result(instance):
    problem = build(instance, contiguity="pipeline")
    events: list[Progress] = []
    result = problem.solve(progress=events.append)
    assert result.status == "optimal"
    _check_monotone(events)
    running = [e for e in events if not e.final]
    assert any(e.incumbent is not None for e in running), "no improving solution was reported while HiGHS ran"
    assert any(e.bound is not None for e in running)
    last = events[-1]
    assert last.incumbent == pytest.approx(result.solver_objective)
    assert last.bound == pytest.approx(result.bound)
    assert last.gap <= 1e-6
    assert last.elapsed <= result.solve_seconds + 0.5


def test_progress_leaves_the_answer_unchanged():
    instance = layered_dag(4, 2, seed=1)
    plain = build(instance, contiguity="none").solve()
    watched = build(instance, contiguity="none").solve(progress=lambda p: None)
    assert watched.objective == pytest.approx(plain.objective)
    assert watched.status == plain.status


def test_maximisation_reports_bound_above_incumbent():
    m = Model()
    x = m.add_variables("x", 12, binary=True)
    weights = [7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29]
    m.add_constraints("cap", x.cols[None, :], [weights], "<=", 101)
    m.set_objective(x.cols, [w + (i % 3) for i, w in enumerate(weights)], sense="max")
    events: list[Progress] = []
    result = solve_highs(m, progress=events.append)
    assert result.status.value == "optimal"
    _check_monotone(events, minimise=False)
    assert events[-1].incumbent == pytest.approx(result.objective)


def test_an_exception_in_the_callable_stops_the_solve(instance):
    problem = build(instance, contiguity="pipeline")
    calls = []

    def stop(p: Progress) -> None:
        calls.append(p)
        if p.incumbent is not None:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        problem.solve(progress=stop)
    assert calls and not any(p.final for p in calls)


def test_live_line_on_a_terminal_redraws_in_place_and_ends_the_line():
    stream = _Terminal()
    live = cli.LiveProgress(stream)
    live(Progress(0.1, None, None, None))
    live(Progress(0.2, 90.0, 10.0, 8 / 9))  # within 0.25 s of the first: not drawn
    live(Progress(0.3, 50.0, 49.0, 0.02, final=True))  # the final report always is
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "incumbent 50" in text and "bound 49" in text and "gap 2.00%" in text
    assert "incumbent 90" not in text
    live.close()  # nothing left open: no second newline
    assert stream.getvalue().count("\n") == 1


def test_cli_progress_flag(instance_file, capsys):
    assert cli.main(["solve", instance_file, "--progress"]) == 0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("milp ") for line in lines), err
    assert "incumbent" in lines[-1] and "bound" in lines[-1] and "gap 0.00%" in lines[-1]
    assert "status     optimal" in out
    # off by default when stderr is not a terminal, and with --no-progress
    assert cli.main(["solve", instance_file]) == 0
    assert capsys.readouterr().err == ""
    assert cli.main(["solve", instance_file, "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_cli_progress_default_on_a_terminal(instance_file, capsys, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["solve", instance_file]) == 0
    text = terminal.getvalue()
    assert text.startswith("\rmilp ") and text.endswith("\n") and "gap 0.00%" in text
    assert "status     optimal" in capsys.readouterr().out


def test_progress_bar_line():
    assert cmp.progress_bar(3, 12, 4.2, "default dp optimal") == (
        "[######------------------]  3/12  25%  4.2 s  default dp optimal"
    )
    assert cmp.progress_bar(0, 5, 0.0, width=10) == "[----------] 0/5   0%  0.0 s"
    assert cmp.progress_bar(5, 5, 61.0, "x", width=10).startswith("[##########] 5/5 100%")


def test_compare_progress_plain_lines_off_a_terminal(instance_file, capsys):
    cmp.compare([instance_file], ["dp", "pipedream"], workers=1, progress=True)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["[1/2]", "[2/2]"]
    assert sorted(line.split(" ", 1)[1] for line in lines) == ["small dp optimal", "small pipedream feasible"]
    assert "\r" not in err and "\x1b" not in err


def test_compare_progress_bar_on_a_terminal(instance_file, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    table = cmp.compare([instance_file], ["dp", "pipedream"], workers=1)  # default: on for a terminal
    assert not math.isnan(table.objective[0])
    text = terminal.getvalue()
    assert text.startswith("[------------------------] 0/2   0%")
    assert "\r[############------------] 1/2  50%" in text
    assert "\r[########################] 2/2 100%" in text
    assert text.endswith("\n") and text.count("\n") == 1


def test_cli_progress_for_the_latency_milp(instance_file, capsys):
    assert cli.main(["solve", instance_file, "--objective", "latency", "--progress"]) == 0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("milp ") for line in lines), err
    assert "incumbent" in lines[-1] and "gap 0.00%" in lines[-1]
    assert "status     optimal" in out
    # --warm-start auto / none mean the default heuristic starts for latency, not a file
    for spec in ("auto", "none"):
        assert cli.main(["solve", instance_file, "--objective", "latency", "--warm-start", spec]) == 0
