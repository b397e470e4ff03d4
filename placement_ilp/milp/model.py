"""A solver-neutral mixed-integer linear model, built vectorised.

A :class:`Model` holds

* named blocks of columns (:class:`VarBlock`), each a numpy-shaped array of
  column indices with per-column bounds and one integrality flag;
* named constraint *families*: whole groups of rows appended at once from COO
  triplets ``(local row id, column id, coefficient)`` plus row bounds
  ``lower <= a_i x <= upper`` (either side may be infinite);
* a linear objective with a constant offset and a sense.

Nothing here imports a solver.  The backends in :mod:`placement_ilp.milp.backends`
turn a model into a solver call; :meth:`Model.to_csr` gives the constraint
matrix row-wise.  Every method works on whole arrays: there are no per-row
Python loops, so a model with 10^5 rows and 10^6 nonzeros builds in well under
a second.

Example -- a two-item knapsack::

    >>> m = Model()
    >>> x = m.add_variables("x", 2, binary=True)
    >>> m.add_constraints("cap", x.cols[None, :], [[3.0, 4.0]], "<=", 5.0)
    range(0, 1)
    >>> m.set_objective(x.cols, [2.0, 3.0], sense="max")
    >>> m.num_rows, m.num_cols
    (1, 2)
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .backends import write_model

__all__ = ["Model", "VarBlock", "INF"]

INF = math.inf

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Words that LP-file readers treat as keywords; a name that is exactly one of
# them (a scalar block; indexed names get a suffix) would not survive an .lp file.
_LP_KEYWORDS = frozenset(
    """st subject such bound bounds bin binary binaries gen general generals int
    integer integers semi semis semicontinuous free inf infinity end min max
    minimize maximize minimise maximise minimum maximum sos sos1 sos2 obj
    """.split()
)

_SENSES = {"min": "min", "minimize": "min", "minimise": "min",
           "max": "max", "maximize": "max", "maximise": "max"}


def _check_name(kind: str, name: str, taken: Iterable[str], alone: bool = False) -> str:
    """Validate a block/family name; ``alone``: it will be used without a suffix."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            f"{kind} name {name!r} must match [A-Za-z_][A-Za-z0-9_]* "
            "(it becomes part of LP/MPS names)"
        )
    if alone and name.lower() in _LP_KEYWORDS:
        raise ValueError(f"{kind} name {name!r} is an LP-file keyword")
    if name in taken:
        raise ValueError(f"{kind} name {name!r} is already used in this model")
    return name


def _int_array(a, what: str) -> np.ndarray:
    """``a`` as a 1-D int64 array; reject floats that are not whole numbers."""
    arr = np.asarray(a)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False).ravel()
    if arr.dtype.kind == "b":
        raise ValueError(f"{what} must be integer indices, not booleans")
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64).ravel()
    raise ValueError(f"{what} must be integer indices, got dtype {arr.dtype}")


def _float_array(a, n: int, what: str) -> np.ndarray:
    """``a`` (scalar or length-``n`` array) as a length-``n`` float64 array."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    arr = arr.ravel()
    if arr.shape[0] != n:
        raise ValueError(f"{what} has {arr.shape[0]} entries, expected {n}")
    return arr


def _check_bounds(lower: np.ndarray, upper: np.ndarray, what: str) -> None:
    if np.isnan(lower).any() or np.isnan(upper).any():
        raise ValueError(f"{what}: bounds contain NaN")
    if (lower == INF).any():
        raise ValueError(f"{what}: a lower bound is +inf")
    if (upper == -INF).any():
        raise ValueError(f"{what}: an upper bound is -inf")
    bad = np.flatnonzero(lower > upper)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{what}: lower bound {lower[i]} > upper bound {upper[i]} at position {i}"
        )


@dataclass(frozen=True, eq=False)
class VarBlock:
    """A named block of consecutive model columns, shaped like a numpy array.

    ``cols`` is a read-only int64 array of shape ``shape`` holding the global
    column index of every element, so builders use numpy fancy indexing:
    ``x.cols[v, d]``, ``x.cols[:, 0]``, ``x.cols[mask]``.  ``x[v, d]`` is the
    same as ``x.cols[v, d]``.

    Example::

        >>> m = Model(); _ = m.add_variables("a", 3); x = m.add_variables("x", (2, 3))
        >>> x.start, x.size, x.shape, int(x.cols[1, 2]), x.index(1, 2)
        (3, 6, (2, 3), 8, 8)
    """

    name: str
    start: int
    shape: tuple
    integer: bool

    @property
    def size(self) -> int:
        """Number of columns in the block."""
        return math.prod(self.shape)

    @property
    def stop(self) -> int:
        """One past the last column of the block."""
        return self.start + self.size

    @functools.cached_property
    def cols(self) -> np.ndarray:
        """Global column indices, an int64 array of shape ``shape`` (read-only). O(size)."""
        c = np.arange(self.start, self.stop, dtype=np.int64).reshape(self.shape)
        c.flags.writeable = False
        return c

    def index(self, *idx):
        """Global column of element ``idx`` (ints give an int, arrays an array).

        ``x.index(2, 1)`` is ``int(x.cols[2, 1])``; negative indices count from
        the end as in numpy.  O(1) for scalars.
        """
        out = self.cols[idx]
        return int(out) if np.ndim(out) == 0 else out

    def __getitem__(self, idx):
        return self.cols[idx]

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 1

    def values(self, solution: np.ndarray) -> np.ndarray:
        """This block's slice of a full column vector, reshaped to ``shape``. O(size).

        >>> m = Model(); x = m.add_variables("x", (1, 2))
        >>> x.values(np.array([4.0, 5.0])).tolist()
        [[4.0, 5.0]]
        """
        return np.asarray(solution)[self.start:self.stop].reshape(self.shape)

    def names(self) -> list:
        """LP/MPS-safe column names, ``x_3_1`` for element (3, 1) of block ``x``,
        in column order; a scalar block is just ``x``.  O(size) Python strings."""
        if not self.shape:
            return [self.name]
        ranges = [range(n) for n in self.shape]
        return [self.name + "_" + "_".join(map(str, t)) for t in itertools.product(*ranges)]


@dataclass
class _Parts:
    """Append-only list of array chunks, concatenated on demand."""

    chunks: list = field(default_factory=list)

    def cat(self, dtype) -> np.ndarray:
        if not self.chunks:
            return np.zeros(0, dtype=dtype)
        return np.concatenate(self.chunks).astype(dtype, copy=False)


class Model:
    """A mixed-integer linear program assembled from whole arrays.

    Columns come in named :class:`VarBlock` s (``blocks``), rows in named
    families (``families``: name -> ``range`` of global row ids).  Row ``i``
    reads ``row_lower[i] <= sum_j A[i, j] x_j <= row_upper[i]``; repeated
    ``(row, column)`` entries are summed and exact zeros dropped in
    :meth:`to_csr`.

    Example::

        >>> m = Model("demo")
        >>> x = m.add_variables("x", (2, 2), binary=True)
        >>> m.add_constraints("one", x.cols, 1.0, "==", 1.0)   # each row of x sums to 1
        range(0, 2)
        >>> m.set_objective(x.cols.ravel(), [1, 2, 3, 1])
        >>> indptr, indices, data = m.to_csr()
        >>> indptr.tolist(), indices.tolist()
        ([0, 2, 4], [0, 1, 2, 3])
    """

    def __init__(self, name: str = "model"):
        self.name = name
        self.blocks: dict = {}
        self.families: dict = {}
        self.sense = "min"
        self.objective_offset = 0.0
        self._num_cols = 0
        self._num_rows = 0
        self._col_lower = _Parts()
        self._col_upper = _Parts()
        self._col_integer = _Parts()
        self._row_lower = _Parts()
        self._row_upper = _Parts()
        self._a_rows = _Parts()
        self._a_cols = _Parts()
        self._a_vals = _Parts()
        self._obj_cols = _Parts()
        self._obj_vals = _Parts()
        self._cache: dict = {}

    # ------------------------------------------------------------------ sizes
    @property
    def num_cols(self) -> int:
        """Number of columns (variables)."""
        return self._num_cols

    @property
    def num_rows(self) -> int:
        """Number of rows (constraints)."""
        return self._num_rows

    @property
    def num_entries(self) -> int:
        """Number of stored matrix triplets (before duplicates are summed). O(#families)."""
        return sum(len(c) for c in self._a_rows.chunks)

    @property
    def is_mip(self) -> bool:
        """True when some column is integer. O(#blocks)."""
        return any(b.integer and b.size for b in self.blocks.values())

    def _cached(self, key, make):
        """Memoise a derived value until the model changes; arrays come back read-only."""
        if key not in self._cache:
            value = make()
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            self._cache[key] = value
        return self._cache[key]

    # -------------------------------------------------------------- columns
    def add_variables(self, name: str, shape=(), lb=0.0, ub=INF,
                      integer: bool = False, binary: bool = False) -> VarBlock:
        """Append a block of ``prod(shape)`` columns and return its :class:`VarBlock`.

        ``shape`` is an int or a tuple (``()`` for one scalar column).  ``lb``
        and ``ub`` are scalars or arrays broadcastable to ``shape`` (``-inf``/
        ``inf`` allowed).  ``binary=True`` makes the block integer and clips
        its bounds into [0, 1].  Columns are numbered in C (row-major) order.
        O(size).

        >>> m = Model(); y = m.add_variables("y", 3, ub=[1, 2, 3], integer=True)
        >>> y.cols.tolist(), m.col_upper.tolist()
        ([0, 1, 2], [1.0, 2.0, 3.0])
        """
        if np.ndim(shape) == 0 and not isinstance(shape, tuple):
            shape = (int(shape),)
        else:
            shape = tuple(int(s) for s in shape)
        _check_name("variable block", name, self.blocks, alone=not shape)
        if any(s < 0 for s in shape):
            raise ValueError(f"block {name!r}: negative dimension in shape {shape}")
        size = math.prod(shape)
        lower = np.broadcast_to(np.asarray(lb, dtype=np.float64), shape).ravel().copy()
        upper = np.broadcast_to(np.asarray(ub, dtype=np.float64), shape).ravel().copy()
        integer = bool(integer or binary)
        if binary:
            np.maximum(lower, 0.0, out=lower)
            np.minimum(upper, 1.0, out=upper)
        _check_bounds(lower, upper, f"block {name!r}")
        block = VarBlock(name=name, start=self._num_cols, shape=shape, integer=integer)
        self._col_lower.chunks.append(lower)
        self._col_upper.chunks.append(upper)
        self._col_integer.chunks.append(np.full(size, integer, dtype=bool))
        self._num_cols += size
        self.blocks[name] = block
        self._cache.clear()
        return block

    @property
    def col_lower(self) -> np.ndarray:
        """Column lower bounds, float64[num_cols]."""
        return self._cached("col_lower", lambda: self._col_lower.cat(np.float64))

    @property
    def col_upper(self) -> np.ndarray:
        """Column upper bounds, float64[num_cols]."""
        return self._cached("col_upper", lambda: self._col_upper.cat(np.float64))

    @property
    def col_integer(self) -> np.ndarray:
        """Integrality flags, bool[num_cols]."""
        return self._cached("col_integer", lambda: self._col_integer.cat(bool))

    def col_names(self) -> list:
        """LP/MPS-safe names of all columns in order (``x_3_1`` style). O(num_cols).

        Raises ValueError if two generated names coincide (e.g. a block ``x``
        of shape (2,) next to a scalar block ``x_1``).
        """
        def make():
            names = [n for b in self.blocks.values() for n in b.names()]
            if len(set(names)) != len(names):
                dup = next(n for n, c in _counts(names) if c > 1)
                raise ValueError(f"column name {dup!r} is generated twice; rename a block")
            return names
        return self._cached("col_names", make)

    # ----------------------------------------------------------------- rows
    def add_rows(self, name: str, rows, cols, coefs, lower=-INF, upper=INF,
                 num_rows: int | None = None) -> range:
        """Append a constraint family given as COO triplets; return its global row range.

        Row ``k`` of the family (``0 <= k < num_rows``) is
        ``lower[k] <= sum_{t: rows[t] == k} coefs[t] * x[cols[t]] <= upper[k]``.
        ``rows`` are *local* ids, ``cols`` global column ids (``block.cols[...]``),
        ``coefs`` an array or scalar.  ``lower``/``upper`` are scalars or
        length-``num_rows`` arrays, ``-inf``/``inf`` for a missing side.  The
        number of rows is ``num_rows`` if given, else the length of an array
        bound, else ``max(rows) + 1``.  Rows without entries are allowed.
        Repeated (row, col) pairs are summed.  O(nnz + num_rows), all numpy.

        >>> m = Model(); x = m.add_variables("x", 3)
        >>> m.add_rows("r", [0, 0, 1], [0, 1, 2], [1.0, 1.0, 2.0], upper=[4.0, 6.0])
        range(0, 2)
        """
        _check_name("constraint family", name, self.families)
        rows = _int_array(rows, f"family {name!r}: rows")
        cols = _int_array(cols, f"family {name!r}: cols")
        if rows.shape != cols.shape:
            raise ValueError(
                f"family {name!r}: rows has {rows.size} entries but cols has {cols.size}")
        vals = _float_array(coefs, rows.size, f"family {name!r}: coefs")
        if num_rows is None:
            for b in (lower, upper):
                if np.ndim(b) > 0:
                    num_rows = int(np.size(b))
                    break
            else:
                num_rows = int(rows.max()) + 1 if rows.size else 0
        num_rows = int(num_rows)
        lo = _float_array(lower, num_rows, f"family {name!r}: lower")
        up = _float_array(upper, num_rows, f"family {name!r}: upper")
        _check_bounds(lo, up, f"family {name!r}")
        if rows.size:
            if rows.min() < 0 or rows.max() >= num_rows:
                raise ValueError(f"family {name!r}: local row id outside [0, {num_rows})")
            if cols.min() < 0 or cols.max() >= self._num_cols:
                raise ValueError(
                    f"family {name!r}: column id outside [0, {self._num_cols})")
            if not np.isfinite(vals).all():
                raise ValueError(f"family {name!r}: a coefficient is NaN or infinite")
        start = self._num_rows
        self._a_rows.chunks.append(rows + start)
        self._a_cols.chunks.append(cols)
        self._a_vals.chunks.append(vals)
        self._row_lower.chunks.append(lo)
        self._row_upper.chunks.append(up)
        self._num_rows += num_rows
        fam = range(start, self._num_rows)
        self.families[name] = fam
        self._cache.clear()
        return fam

    def add_constraints(self, name: str, cols, coefs, sense: str, rhs) -> range:
        """Append ``m`` rows ``sum_j coefs[i, j] * x[cols[i, j]]  (<= | >= | ==)  rhs[i]``.

        ``cols`` is an int array of shape ``(m, k)`` -- row ``i`` uses the
        columns ``cols[i, :]``; entries ``< 0`` are padding and skipped, so rows
        may have different lengths.  ``coefs`` broadcasts to ``(m, k)``,
        ``rhs`` to ``(m,)``.  ``sense`` is ``"<="``, ``">="`` or ``"=="``.
        Returns the global row range.  O(m k), all numpy.

        >>> m = Model(); x = m.add_variables("x", (2, 3), binary=True)
        >>> m.add_constraints("assign", x.cols.T, 1.0, "==", 1.0)   # every column of x sums to 1
        range(0, 3)
        >>> m.add_constraints("cap", x.cols, [[1, 2, 3]], "<=", [4, 5])
        range(3, 5)
        """
        c = np.asarray(cols)
        if c.ndim != 2:
            raise ValueError(f"family {name!r}: cols must have shape (rows, terms), got {c.shape}")
        m, k = c.shape
        a = np.broadcast_to(np.asarray(coefs, dtype=np.float64), (m, k))
        b = np.broadcast_to(np.asarray(rhs, dtype=np.float64), (m,))
        c = _int_array(c, f"family {name!r}: cols").reshape(m, k)
        keep = (c >= 0).ravel()
        rows = np.repeat(np.arange(m, dtype=np.int64), k)[keep]
        if sense in ("<=", "=<"):
            lo, up = -INF, b
        elif sense in (">=", "=>"):
            lo, up = b, INF
        elif sense in ("==", "="):
            lo, up = b, b
        else:
            raise ValueError(f"family {name!r}: sense must be '<=', '>=' or '==', got {sense!r}")
        return self.add_rows(name, rows, c.ravel()[keep], a.ravel()[keep], lo, up, num_rows=m)

    @property
    def row_lower(self) -> np.ndarray:
        """Row lower bounds, float64[num_rows] (``-inf`` where absent)."""
        return self._cached("row_lower", lambda: self._row_lower.cat(np.float64))

    @property
    def row_upper(self) -> np.ndarray:
        """Row upper bounds, float64[num_rows] (``inf`` where absent)."""
        return self._cached("row_upper", lambda: self._row_upper.cat(np.float64))

    def row_names(self) -> list:
        """Names of all rows in order: ``family_k`` for local row k. O(num_rows)."""
        return self._cached("row_names", lambda: [
            f"{fam}_{k}" for fam, r in self.families.items() for k in range(len(r))])

    def family_of(self, row: int) -> tuple:
        """``(family name, local index)`` of global row ``row``. O(#families)."""
        for fam, r in self.families.items():
            if row in r:
                return fam, row - r.start
        raise IndexError(f"row {row} outside [0, {self._num_rows})")

    def to_csr(self):
        """The constraint matrix in CSR form: ``(indptr, indices, data)``.

        ``indptr`` int64[num_rows + 1], ``indices`` int64[nnz] (column ids,
        ascending within each row), ``data`` float64[nnz].  Duplicate (row, col)
        triplets are summed and exact zeros removed.  One stable argsort of
        the triplets: O(nnz log nnz); cached until the model changes.

        >>> m = Model(); x = m.add_variables("x", 3)
        >>> _ = m.add_rows("r", [1, 0, 1, 1], [2, 1, 0, 2], [1.0, 5.0, 2.0, 3.0])
        >>> [a.tolist() for a in m.to_csr()]
        [[0, 1, 3], [1, 0, 2], [5.0, 2.0, 4.0]]
        """
        return self._cached("csr", self._build_csr)

    def _build_csr(self):
        r = self._a_rows.cat(np.int64)
        c = self._a_cols.cat(np.int64)
        v = self._a_vals.cat(np.float64)
        nr, nc = self._num_rows, self._num_cols
        if r.size:
            if nr * nc < 2**62:
                order = np.argsort(r * nc + c, kind="stable")
            else:
                order = np.lexsort((c, r))
            r, c, v = r[order], c[order], v[order]
            first = np.empty(r.size, dtype=bool)
            first[0] = True
            np.logical_or(r[1:] != r[:-1], c[1:] != c[:-1], out=first[1:])
            if not first.all():
                starts = np.flatnonzero(first)
                v = np.add.reduceat(v, starts)
                r, c = r[starts], c[starts]
            nz = v != 0.0
            if not nz.all():
                r, c, v = r[nz], c[nz], v[nz]
        indptr = np.zeros(nr + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=nr), out=indptr[1:])
        for a in (indptr, c, v):
            a.flags.writeable = False
        return indptr, c, v

    # ------------------------------------------------------------ objective
    def set_objective(self, cols, coefs, sense: str = "min", offset: float = 0.0) -> None:
        """Replace the objective by ``offset + sum_t coefs[t] * x[cols[t]]``.

        ``sense`` is ``"min"`` or ``"max"``; repeated columns add up; columns
        not mentioned cost 0.  O(len(cols)).

        >>> m = Model(); x = m.add_variables("x", 2)
        >>> m.set_objective(x.cols, [1.0, -1.0], sense="max", offset=2.0)
        >>> m.objective.tolist(), m.objective_offset, m.sense
        ([1.0, -1.0], 2.0, 'max')
        """
        if sense not in _SENSES:
            raise ValueError(f"objective sense must be 'min' or 'max', got {sense!r}")
        self._obj_cols = _Parts()
        self._obj_vals = _Parts()
        self.sense = _SENSES[sense]
        self.objective_offset = float(offset)
        self._cache.pop("objective", None)
        self.add_objective(cols, coefs)

    def add_objective(self, cols, coefs, offset: float = 0.0) -> None:
        """Add ``offset + sum_t coefs[t] * x[cols[t]]`` to the current objective. O(len(cols)).

        >>> m = Model(); x = m.add_variables("x", 2)
        >>> m.add_objective(x.cols, 1.0); m.add_objective([1], [4.0])
        >>> m.objective.tolist()
        [1.0, 5.0]
        """
        cols = _int_array(cols, "objective cols")
        vals = _float_array(coefs, cols.size, "objective coefs")
        if cols.size and (cols.min() < 0 or cols.max() >= self._num_cols):
            raise ValueError(f"objective: column id outside [0, {self._num_cols})")
        if not np.isfinite(vals).all() or not math.isfinite(offset):
            raise ValueError("objective: a coefficient is NaN or infinite")
        self._obj_cols.chunks.append(cols)
        self._obj_vals.chunks.append(vals)
        self.objective_offset += float(offset)
        self._cache.pop("objective", None)

    @property
    def objective(self) -> np.ndarray:
        """Dense objective coefficients, float64[num_cols] (offset not included)."""
        return self._cached("objective", lambda: np.bincount(
            self._obj_cols.cat(np.int64), weights=self._obj_vals.cat(np.float64),
            minlength=self._num_cols).astype(np.float64))

    # ------------------------------------------------------------ solutions
    def objective_value(self, x) -> float:
        """``offset + c @ x`` for a full column vector ``x``. O(num_cols)."""
        return float(self.objective @ np.asarray(x, dtype=np.float64)) + self.objective_offset

    def row_activity(self, x) -> np.ndarray:
        """``A @ x`` for a full column vector ``x``, float64[num_rows]. O(nnz).

        >>> m = Model(); x = m.add_variables("x", 2)
        >>> _ = m.add_rows("r", [0, 0], [0, 1], [1.0, 2.0])
        >>> m.row_activity([3.0, 1.0]).tolist()
        [5.0]
        """
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self._num_cols,):
            raise ValueError(f"solution has shape {x.shape}, expected ({self._num_cols},)")
        indptr, indices, data = self.to_csr()
        row_of = np.repeat(np.arange(self._num_rows), np.diff(indptr))
        return np.bincount(row_of, weights=data * x[indices], minlength=self._num_rows)

    def max_violation(self, x) -> float:
        """Largest absolute violation of a row bound, column bound or integrality by ``x``. O(nnz).

        >>> m = Model(); x = m.add_variables("x", 2, binary=True)
        >>> _ = m.add_constraints("r", x.cols[None, :], 1.0, "<=", 1.0)
        >>> m.max_violation([1.0, 1.0]), m.max_violation([0.0, 1.0])
        (1.0, 0.0)
        """
        x = np.asarray(x, dtype=np.float64)
        act = self.row_activity(x)
        worst = 0.0
        for v in (self.row_lower - act, act - self.row_upper,
                  self.col_lower - x, x - self.col_upper):
            if v.size:
                worst = max(worst, float(np.max(v)))
        xi = x[self.col_integer]
        if xi.size:
            worst = max(worst, float(np.max(np.abs(xi - np.round(xi)))))
        return worst

    def write(self, path) -> None:
        """Write the model to ``path`` (``.lp`` or ``.mps``) through HiGHS.

        Same as :func:`placement_ilp.milp.backends.write_model`, which loads HiGHS on
        first use, so this module stays free of solver imports.
        """
        write_model(self, path)

    def __repr__(self) -> str:
        return (f"Model({self.name!r}: {self._num_cols} cols in {len(self.blocks)} blocks, "
                f"{self._num_rows} rows in {len(self.families)} families, "
                f"{self.num_entries} entries, {self.sense})")


def _counts(items):
    seen: dict = {}
    for it in items:
        seen[it] = seen.get(it, 0) + 1
    return seen.items()
