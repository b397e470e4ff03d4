"""Tests for the solver-neutral model (placement_ilp.model) and its backends."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from placement_ilp.milp.backends import solve_model
from placement_ilp.milp.backends.highs import read_file_and_solve, solve_highs, write_model
from placement_ilp.milp.backends.pulp_backend import solve_pulp, to_pulp
from placement_ilp.errors import InputError
from placement_ilp.milp.model import Model
from placement_ilp.milp.result import SolveResult, Status, relative_gap

INF = np.inf


# ---------------------------------------------------------------- fixtures
def knapsack_assignment() -> tuple[Model, float]:
    """3 items into 2 bins (capacity), plus a bonus knapsack; known optimum.

    x[i, b] = item i goes to bin b (each item at most once), bin capacities,
    y = integer 0..3 "extra units" with a ranged row, z continuous.
    Objective (max): values of placed items + 1.5 y - z + offset 10.
    """
    m = Model("knap")
    x = m.add_variables("x", (3, 2), binary=True)
    y = m.add_variables("y", (), ub=3, integer=True)
    z = m.add_variables("z", (), lb=0.0, ub=5.0)
    weight = np.array([4.0, 3.0, 2.0])
    value = np.array([10.0, 7.0, 4.0])
    # each item at most once: rows over x[i, :]
    m.add_constraints("once", x.cols, 1.0, "<=", 1.0)
    # capacities of bins (5 and 3): rows over x[:, b]
    m.add_constraints("cap", x.cols.T, weight[None, :], "<=", [5.0, 3.0])
    # ranged row 1 <= y + z <= 2.5 with y <= 2 z  (COO form, two families)
    m.add_rows("yz", [0, 0], [y.index(), z.index()], [1.0, 1.0], lower=1.0, upper=2.5,
               num_rows=1)
    m.add_rows("link", [0, 0], [y.index(), z.index()], [1.0, -2.0], upper=[0.0])
    # a free row (ignored by every solver)
    m.add_rows("free", [0], [z.index()], [1.0], num_rows=1)
    m.set_objective(x.cols.ravel(), np.repeat(value, 2), sense="max", offset=10.0)
    m.add_objective([y.index(), z.index()], [1.5, -1.0])
    return m, brute_force(m)


def brute_force(m: Model) -> float:
    """Optimum of a tiny model with binaries x, integer y and continuous z
    (z enters linearly: try a fine grid that contains the optimum)."""
    best = -INF
    nx = m.blocks["x"].size
    for bits in itertools.product([0.0, 1.0], repeat=nx):
        for y in range(4):
            for z in np.arange(0, 5.0001, 0.25):
                v = np.array(list(bits) + [y, z])
                if m.max_violation(v) <= 1e-9:
                    best = max(best, m.objective_value(v))
    return best


def multi_knapsack(n=60, rows=30, seed=1) -> Model:
    rng = np.random.default_rng(seed)
    m = Model("mkp")
    x = m.add_variables("x", n, binary=True)
    w = rng.integers(10, 100, (rows, n))
    m.add_constraints("cap", np.broadcast_to(x.cols, (rows, n)), w, "<=", w.sum(1) / 2)
    m.set_objective(x.cols, rng.integers(10, 100, n), sense="max")
    return m


def infeasible_model() -> Model:
    m = Model("inf")
    x = m.add_variables("x", 3, binary=True)
    m.add_constraints("atleast", x.cols[None, :], 1.0, ">=", 2.0)
    m.add_constraints("atmost", x.cols[None, :2], 1.0, "<=", 0.0)
    m.add_rows("last", [0], [x.index(2)], [1.0], upper=0.0, num_rows=1)
    m.set_objective(x.cols, 1.0)
    return m


# ------------------------------------------------------------------ model
def test_varblock_indexing():
    m = Model()
    a = m.add_variables("a", 4)
    x = m.add_variables("x", (2, 3), lb=-1, ub=[[1, 2, 3]])
    s = m.add_variables("s")
    assert (a.start, a.size, a.shape) == (0, 4, (4,))
    assert (x.start, x.size, x.shape, x.stop) == (4, 6, (2, 3), 10)
    assert x.cols.shape == (2, 3) and x.cols[1, 2] == 9 and x[0, 0] == 4
    assert x.index(1, 0) == 7 and isinstance(x.index(1, 0), int)
    assert x.cols[[0, 1], [2, 0]].tolist() == [6, 7]
    assert s.shape == () and s.index() == 10 and s.size == 1
    assert m.num_cols == 11 and list(m.blocks) == ["a", "x", "s"]
    assert m.col_upper[4:10].tolist() == [1, 2, 3, 1, 2, 3]
    assert m.col_lower[4] == -1 and m.col_upper[0] == INF
    assert m.col_names()[4:7] == ["x_0_0", "x_0_1", "x_0_2"] and m.col_names()[10] == "s"
    assert x.values(np.arange(11.0)).tolist() == [[4, 5, 6], [7, 8, 9]]
    with pytest.raises(ValueError):
        x.cols[0, 0] = 3  # read-only


def test_csr_hand_example():
    m = Model()
    m.add_variables("x", 4)
    # family "a": 3 rows given out of order, with a duplicate (r1, c2) and a
    # cancelling pair (r2, c0); row 2 ends up empty
    fam = m.add_rows("a", rows=[1, 0, 1, 2, 1, 2, 0], cols=[2, 3, 0, 0, 2, 0, 1],
                     coefs=[1.0, 5.0, 2.0, 7.0, 3.0, -7.0, 4.0],
                     lower=[-INF, 1.0, 0.0], upper=[3.0, INF, 0.0])
    fam2 = m.add_constraints("b", np.array([[3, -1], [1, 2]]), [[1.0, 9.0], [2.0, 3.0]],
                             ">=", 1.0)
    assert fam == range(0, 3) and fam2 == range(3, 5)
    assert m.families == {"a": range(0, 3), "b": range(3, 5)}
    indptr, indices, data = m.to_csr()
    assert indptr.tolist() == [0, 2, 4, 4, 5, 7]
    assert indices.tolist() == [1, 3, 0, 2, 3, 1, 2]
    assert data.tolist() == [4.0, 5.0, 2.0, 4.0, 1.0, 2.0, 3.0]
    assert m.row_lower.tolist() == [-INF, 1.0, 0.0, 1.0, 1.0]
    assert m.row_upper.tolist() == [3.0, INF, 0.0, INF, INF]
    assert m.row_names() == ["a_0", "a_1", "a_2", "b_0", "b_1"]
    assert m.family_of(4) == ("b", 1)
    dense = np.zeros((5, 4))
    for i in range(5):
        dense[i, indices[indptr[i]:indptr[i + 1]]] = data[indptr[i]:indptr[i + 1]]
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.allclose(m.row_activity(x), dense @ x)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_csr_matches_dense(data):
    nr = data.draw(st.integers(0, 6))
    nc = data.draw(st.integers(1, 5))
    k = data.draw(st.integers(0, 20)) if nr else 0
    rows = data.draw(st.lists(st.integers(0, max(nr - 1, 0)), min_size=k, max_size=k))
    cols = data.draw(st.lists(st.integers(0, nc - 1), min_size=k, max_size=k))
    vals = data.draw(st.lists(st.integers(-3, 3).map(float), min_size=k, max_size=k))
    m = Model()
    m.add_variables("x", nc)
    m.add_rows("f", rows, cols, vals, num_rows=nr)
    dense = np.zeros((nr, nc))
    np.add.at(dense, (np.array(rows, dtype=int), np.array(cols, dtype=int)), vals)
    indptr, indices, vals_out = m.to_csr()
    rebuilt = np.zeros((nr, nc))
    for i in range(nr):
        seg = slice(indptr[i], indptr[i + 1])
        assert np.all(np.diff(indices[seg]) > 0)  # sorted, no duplicates
        rebuilt[i, indices[seg]] = vals_out[seg]
    assert np.array_equal(rebuilt, dense)
    assert np.all(vals_out != 0)


def test_objective_and_senses():
    m = Model()
    x = m.add_variables("x", 3)
    m.set_objective([0, 2, 0], [1.0, 2.0, 3.0], sense="maximize", offset=1.5)
    assert m.objective.tolist() == [4.0, 0.0, 2.0] and m.sense == "max"
    m.add_objective(x.cols, 1.0, offset=0.5)
    assert m.objective.tolist() == [5.0, 1.0, 3.0] and m.objective_offset == 2.0
    m.set_objective([1], [1.0])
    assert m.objective.tolist() == [0.0, 1.0, 0.0] and m.sense == "min"
    assert m.objective_value([0, 3, 0]) == 3.0
    fam = m.add_constraints("e", x.cols[None, :], 1.0, "==", 2.0)
    assert m.row_lower[fam.start] == m.row_upper[fam.start] == 2.0


def test_binary_bounds_and_is_mip():
    m = Model()
    m.add_variables("c", 2, lb=-5, ub=5)
    assert not m.is_mip
    b = m.add_variables("b", 2, lb=-3, ub=7, binary=True)
    assert m.is_mip and b.integer
    assert m.col_lower[2:].tolist() == [0, 0] and m.col_upper[2:].tolist() == [1, 1]


@pytest.mark.parametrize("call", [
    lambda m: m.add_variables("x", 2),                     # duplicate block name
    lambda m: m.add_variables("bad name", 2),              # not an identifier
    lambda m: m.add_variables("free"),                      # LP keyword
    lambda m: m.add_variables("w", 2, lb=3, ub=1),          # lb > ub
    lambda m: m.add_variables("w", 2, lb=np.nan),           # NaN bound
    lambda m: m.add_rows("r", [0], [7], [1.0], upper=1.0),  # unknown column
    lambda m: m.add_rows("r", [1], [0], [1.0], upper=[1.0]),  # row id >= num_rows
    lambda m: m.add_rows("r", [0], [0], [np.inf], upper=1.0),  # infinite coefficient
    lambda m: m.add_rows("r", [0], [0.5], [1.0], upper=1.0),   # fractional index
    lambda m: m.add_rows("r", [0, 0], [0], [1.0], upper=1.0),  # length mismatch
    lambda m: m.add_rows("r", [0], [0], [1.0], lower=2.0, upper=1.0),  # lower > upper
    lambda m: m.add_rows("r", [0], [0], [1.0], lower=INF),              # lower = +inf
    lambda m: m.add_constraints("r", [0, 1], 1.0, "<=", 1.0),         # cols not 2-D
    lambda m: m.add_constraints("r", [[0, 1]], 1.0, "<", 1.0),         # bad sense
    lambda m: m.set_objective([0], [1.0], sense="up"),
    lambda m: m.set_objective([9], [1.0]),
])
def test_model_rejects_bad_input(call):
    m = Model()
    m.add_variables("x", 2)
    with pytest.raises(ValueError):
        call(m)


def test_duplicate_family_and_name_collision():
    m = Model()
    m.add_variables("x", 2)
    m.add_rows("r", [0], [0], [1.0], upper=1.0)
    with pytest.raises(ValueError):
        m.add_rows("r", [0], [0], [1.0], upper=1.0)
    m.add_variables("x_1")  # same generated name as element 1 of block x
    with pytest.raises(ValueError, match="x_1"):
        m.col_names()


def test_max_violation():
    m, _ = knapsack_assignment()
    good = np.array([1, 0, 0, 1, 0, 0, 1, 0.5])
    assert m.max_violation(good) == 0.0
    bad = good.copy()
    bad[6] = 0.5  # fractional integer
    assert m.max_violation(bad) == pytest.approx(0.5)


# ---------------------------------------------------------------- solving
@pytest.mark.parametrize("backend", ["highs", "pulp"])
def test_knapsack_both_backends_optimal(backend):
    m, best = knapsack_assignment()
    r = solve_model(m, backend)
    assert isinstance(r, SolveResult) and r.status is Status.OPTIMAL and r.has_solution
    assert r.objective == pytest.approx(best)
    assert r.values.shape == (m.num_cols,)
    assert m.max_violation(r.values) <= 1e-6
    assert m.objective_value(r.values) == pytest.approx(best)
    assert r.bound == pytest.approx(best) and r.gap == pytest.approx(0.0, abs=1e-6)
    assert r.solve_seconds >= 0 and r.message


def test_both_backends_agree_on_assignment():
    rng = np.random.default_rng(7)
    n = 5
    m = Model("assign")
    x = m.add_variables("x", (n, n), binary=True)
    m.add_constraints("row", x.cols, 1.0, "==", 1.0)
    m.add_constraints("col", x.cols.T, 1.0, "==", 1.0)
    cost = rng.integers(1, 20, (n, n)).astype(float)
    m.set_objective(x.cols.ravel(), cost.ravel())
    best = min(cost[np.arange(n), list(p)].sum() for p in itertools.permutations(range(n)))
    rh, rp = solve_highs(m), solve_pulp(m)
    assert rh.objective == pytest.approx(best) and rp.objective == pytest.approx(best)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6))
@example(seed=6509)  # CBC with preprocessing on reported 34 as optimal (true optimum 34.5)
def test_random_milps_agree(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(2, 7)), int(rng.integers(1, 5))
    m = Model()
    x = m.add_variables("x", n, ub=rng.integers(1, 4, n), integer=True)
    y = m.add_variables("y", 2, ub=3.0)
    cols = np.concatenate([x.cols, y.cols])
    a = rng.integers(-3, 6, (k, n + 2)).astype(float)
    m.add_constraints("c", np.broadcast_to(cols, (k, n + 2)), a, "<=",
                      rng.integers(0, 10, k))
    m.set_objective(cols, rng.integers(-5, 6, n + 2), sense=rng.choice(["min", "max"]))
    rh, rp = solve_highs(m), solve_pulp(m)
    assert rh.status is rp.status is Status.OPTIMAL  # x = 0, y = 0 is always feasible
    # HiGHS may return points within its 1e-6 feasibility tolerance
    assert rh.objective == pytest.approx(rp.objective, abs=1e-5)


@pytest.mark.parametrize("backend", ["highs", "pulp", "cbc"])
def test_infeasible_both_backends(backend):
    r = solve_model(infeasible_model(), backend)
    assert r.status is Status.INFEASIBLE
    assert not r.has_solution and r.values is None and r.objective is None


def test_infeasible_lp_and_unbounded():
    m = Model()
    m.add_variables("x", 2, lb=-INF)
    m.add_rows("r", [0, 0, 1, 1], [0, 1, 0, 1], [1.0, 1.0, 1.0, 1.0],
               lower=[3.0, -INF], upper=[INF, 1.0])
    assert solve_highs(m).status is Status.INFEASIBLE
    assert solve_pulp(m).status is Status.INFEASIBLE
    u = Model()
    y = u.add_variables("y", 2, lb=-INF)
    u.add_constraints("r", y.cols[None, :], 1.0, "<=", 1.0)
    u.set_objective(y.cols, [1.0, 0.0])
    for r in (solve_highs(u), solve_pulp(u)):
        assert r.status is Status.NO_SOLUTION and r.values is None


def test_lp_bound_is_objective():
    m = Model()
    x = m.add_variables("x", 2, ub=4.0)
    m.add_constraints("r", x.cols[None, :], [[1.0, 2.0]], "<=", 5.0)
    m.set_objective(x.cols, [1.0, 1.0], sense="max", offset=-1.0)
    r = solve_highs(m)
    assert r.status is Status.OPTIMAL and r.objective == pytest.approx(3.5)
    assert r.bound == r.objective and r.gap == 0.0


@pytest.mark.parametrize("backend", ["highs", "pulp"])
def test_time_limit_returns_a_result(backend):
    m = multi_knapsack()
    for tl in (0.0, 0.01):
        r = solve_model(m, backend, time_limit=tl)
        assert r.status in (Status.OPTIMAL, Status.TIME_LIMIT, Status.NO_SOLUTION)
        assert r.has_solution == (r.values is not None)
        if r.has_solution:
            assert m.max_violation(r.values) <= 1e-6
            assert r.objective == pytest.approx(m.objective_value(r.values))
        else:
            assert r.objective is None


def test_highs_time_limit_zero_has_no_incumbent():
    r = solve_highs(multi_knapsack(), time_limit=0.0)
    assert r.status is Status.NO_SOLUTION and r.message == "Time limit reached"


def test_mip_start_accepted(tmp_path):
    m = multi_knapsack()
    opt = solve_highs(m)
    assert opt.status is Status.OPTIMAL
    # with the optimum as start and no time at all, HiGHS still returns it
    log = tmp_path / "highs.log"
    r = solve_highs(m, mip_start=opt.values, time_limit=0.0, log_file=log)
    assert r.status is Status.TIME_LIMIT and r.objective == pytest.approx(opt.objective)
    assert np.array_equal(np.round(r.values), np.round(opt.values))
    assert "MIP start solution is feasible" in log.read_text()
    # a partial start (NaN = unknown) and a full start with a normal solve
    part = opt.values.copy()
    part[::2] = np.nan
    assert solve_highs(m, mip_start=part).objective == pytest.approx(opt.objective)
    assert solve_highs(m, mip_start=np.zeros(m.num_cols)).objective == pytest.approx(
        opt.objective)
    rp = solve_pulp(m, mip_start=opt.values)
    assert rp.status is Status.OPTIMAL and rp.objective == pytest.approx(opt.objective)
    with pytest.raises(InputError):
        solve_highs(m, mip_start=np.zeros(3))


def test_cutoff_and_options():
    m = multi_knapsack(n=20, rows=5)
    opt = solve_highs(m, threads=1, mip_rel_gap=0.0)
    assert opt.status is Status.OPTIMAL
    # minimisation copy: a cutoff below the optimum leaves no solution
    mn = Model()
    x = mn.add_variables("x", 3, binary=True)
    mn.add_constraints("c", x.cols[None, :], 1.0, ">=", 2.0)
    mn.set_objective(x.cols, [1.0, 2.0, 3.0])
    assert solve_highs(mn, cutoff=2.5).status is Status.NO_SOLUTION
    assert solve_highs(mn, cutoff=10.0).objective == pytest.approx(3.0)


def test_dispatcher_errors():
    m, _ = knapsack_assignment()
    with pytest.raises(InputError, match="unknown solver backend"):
        solve_model(m, "gurobi")
    with pytest.raises(InputError, match="cutoff"):
        solve_model(m, "pulp", cutoff=3.0)
    with pytest.raises(InputError):
        solve_model(m, "highs", time_limit=-1)


def test_to_pulp_structure():
    m, _ = knapsack_assignment()
    prob = to_pulp(m)
    names = {c.name for c in prob.constraints()}
    # ranged row split in two, free row skipped
    assert {"yz_0__lo", "yz_0__hi", "link_0", "once_2", "cap_1"} <= names
    assert "free_0" not in names
    assert prob.numVariables() == m.num_cols


# ----------------------------------------------------------------- export
@pytest.mark.parametrize("ext", [".lp", ".mps"])
def test_export_round_trip(tmp_path, ext):
    m, best = knapsack_assignment()
    path = tmp_path / f"model{ext}"
    write_model(m, path)
    text = path.read_text()
    assert "x_2_1" in text and "cap_1" in text
    r = read_file_and_solve(path)
    assert r.status is Status.OPTIMAL and r.objective == pytest.approx(best)
    # Model.write goes the same way
    m2 = multi_knapsack(n=15, rows=4)
    path2 = tmp_path / f"mkp{ext}"
    m2.write(path2)
    assert read_file_and_solve(path2).objective == pytest.approx(solve_highs(m2).objective)


def test_export_infeasible_round_trip(tmp_path):
    path = tmp_path / "inf.lp"
    write_model(infeasible_model(), path)
    assert read_file_and_solve(path).status is Status.INFEASIBLE


def test_export_bad_extension(tmp_path):
    m, _ = knapsack_assignment()
    for name in ("model.txt", "model", "model.lp.bak"):
        with pytest.raises(InputError):
            write_model(m, tmp_path / name)
    with pytest.raises(InputError):
        read_file_and_solve(tmp_path / "missing.lp")


# ----------------------------------------------------------------- result
def test_relative_gap_and_status():
    assert relative_gap(100.0, 95.0) == pytest.approx(0.05)
    assert relative_gap(-100.0, -105.0) == pytest.approx(0.05)
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(0.0, 1e-9) == pytest.approx(1.0)
    assert relative_gap(None, 1.0) is None and relative_gap(1.0, -INF) is None
    assert Status("time_limit") is Status.TIME_LIMIT and Status.OPTIMAL == "optimal"
    r = SolveResult(Status.TIME_LIMIT, np.zeros(2), 1.0, 0.5, 0.5, 0.1, "highs", "Time limit")
    assert r.has_solution and "gap 50.000%" in r.summary()
    assert not SolveResult(Status.NO_SOLUTION, None, None, None, None, 0.0, "x").has_solution
