"""FLOP formulas shared by the PyTorch and ONNX importers.

Both importers describe an operator by its *kind* and its tensor shapes and call
the functions here, so that one model counts the same through either route.

Conventions (docs/import.md gives the full table):

- a multiply-add is 2 FLOPs; matrix products and convolutions count
  ``2 * M * N * K`` (the convention of ``torch.utils.flop_counter``), and a bias
  added to their output one more FLOP per output element;
- element-wise operators count one FLOP per output element, whatever the
  function (an ``exp`` is one FLOP like an ``add``);
- softmax counts 5 per element (max, subtract, exp, sum, divide), a
  layer/group/instance normalisation 5 per element plus one for each of scale
  and shift, inference batch normalisation 2 per element plus scale and shift;
- pooling counts one FLOP per window element of each output, global and
  adaptive pooling one per input element, reductions one per input element;
- gathers, concatenations, pads, casts and layout operators count 0.

The *kinds*, which support lists in a topology may also name:
``matmul``, ``conv``, ``attention``, ``norm``, ``softmax``, ``elementwise``,
``reduction``, ``pool``, ``embedding``, ``copy``.
"""

from __future__ import annotations

import math
from typing import Sequence

KINDS = ("matmul", "conv", "attention", "norm", "softmax", "elementwise", "reduction", "pool", "embedding", "copy")

#: Kinds whose backward pass costs about twice the forward FLOPs (a gradient for
#: each of the two operands of the product); every other kind costs about once.
PRODUCT_KINDS = frozenset({"matmul", "conv", "attention"})

SOFTMAX_FLOPS_PER_ELEMENT = 5
NORM_FLOPS_PER_ELEMENT = 5
BATCH_NORM_INFERENCE_FLOPS_PER_ELEMENT = 2
RMS_NORM_FLOPS_PER_ELEMENT = 3

Shape = Sequence[int]


def numel(shape: Shape) -> int:
    """Number of elements of a tensor of ``shape`` (1 for a scalar).

    Example: ``numel((2, 3, 4)) == 24``; O(len(shape)).
    """
    return math.prod(int(d) for d in shape)


def matmul_flops(a: Shape, b: Shape, out: Shape) -> int:
    """FLOPs of a (batched, broadcast) matrix product ``a @ b`` giving ``out``.

    Every output element is a dot product of length K, the last dimension of
    ``a`` (its only one when ``a`` is a vector): ``2 * numel(out) * K``. This is
    what ``torch.utils.flop_counter`` counts once ``matmul`` is lowered to
    ``mm``/``bmm``. O(rank).

    Example: ``matmul_flops((4, 8), (8, 5), (4, 5)) == 2 * 4 * 5 * 8``.
    """
    k = int(a[-1]) if len(a) else 1
    return 2 * numel(out) * k


def conv_flops(x: Shape, w: Shape, out: Shape, transposed: bool = False) -> int:
    """FLOPs of an N-d convolution with input ``x`` (N, C, *spatial), weight ``w``
    and output ``out``, bias excluded.

    A direct convolution makes, for every output point, a dot product over
    ``w[1] * prod(kernel)`` inputs for each of ``w[0]`` output channels:
    ``2 * N * prod(out spatial) * w[0] * w[1] * prod(kernel)``. A transposed
    convolution scatters every *input* point through the whole kernel, so it
    uses the input's spatial size instead (the flop_counter convention). Groups
    are accounted for by the weight shape (``w[1]`` is channels per group).
    O(rank).

    Example: a 3x3 convolution 16 -> 32 channels on a 1x16x8x8 input with padding 1:
    ``conv_flops((1, 16, 8, 8), (32, 16, 3, 3), (1, 32, 8, 8)) == 2 * 64 * 32 * 16 * 9``.
    """
    batch = int(x[0])
    spatial = (x if transposed else out)[2:]
    return 2 * batch * numel(spatial) * int(w[0]) * int(w[1]) * numel(w[2:])


def attention_flops(q: Shape, k: Shape, v: Shape) -> tuple[int, int]:
    """(product FLOPs, other FLOPs) of scaled dot-product attention.

    ``q`` is (..., Lq, E), ``k`` (..., S, E), ``v`` (..., S, Ev), with leading
    dimensions broadcast (grouped-query attention repeats the key heads). The
    products ``q @ k^T`` and ``weights @ v`` cost ``2*B*Lq*S*E + 2*B*Lq*S*Ev``;
    scaling the scores and the softmax cost ``(1 + 5) * B*Lq*S`` more. O(rank).

    Example: ``attention_flops((2, 4, 8, 16), (2, 4, 8, 16), (2, 4, 8, 16))[0] == 4 * 2*4*8*8*16``.
    """
    lead = [max(int(a), int(b)) for a, b in zip(q[:-2], k[:-2])] if len(q) == len(k) else list(q[:-2])
    batch = numel(lead)
    lq, e = int(q[-2]), int(q[-1])
    s, ev = int(k[-2]), int(v[-1])
    scores = batch * lq * s
    product = 2 * scores * e + 2 * scores * ev
    return product, scores * (1 + SOFTMAX_FLOPS_PER_ELEMENT)


def einsum_flops(equation: str, shapes: Sequence[Shape]) -> int | None:
    """FLOPs of a two-operand ``einsum``: 2 times the product of the sizes of every
    index letter (each output element sums over the contracted letters). ``None``
    when the equation has another number of operands or an ellipsis. O(len(equation)).

    Example: ``einsum_flops("ij,jk->ik", [(4, 8), (8, 5)]) == 2 * 4 * 8 * 5``.
    """
    equation = equation.replace(" ", "")
    if "..." in equation or "->" not in equation:
        return None
    lhs, _ = equation.split("->", 1)
    terms = lhs.split(",")
    if len(terms) != 2 or len(shapes) != 2:
        return None
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        if len(term) != len(shape):
            return None
        for letter, dim in zip(term, shape):
            sizes[letter] = max(sizes.get(letter, 1), int(dim))
    return 2 * math.prod(sizes.values())


def pool_flops(out: Shape, kernel: Sequence[int]) -> int:
    """FLOPs of a windowed pooling: one comparison or addition per window element
    of each output element. O(rank).

    Example: 2x2 max pooling to a 1x16x4x4 output: ``pool_flops((1, 16, 4, 4), (2, 2)) == 256 * 4``.
    """
    return numel(out) * numel(kernel)


def norm_flops(shape: Shape, scale: bool, shift: bool, per_element: int = NORM_FLOPS_PER_ELEMENT) -> int:
    """FLOPs of a normalisation of a tensor of ``shape``: ``per_element`` per
    element (statistics and normalising), plus one per element for a scale and
    one for a shift. O(rank).

    Example: ``norm_flops((2, 8, 32), True, True) == 7 * 512``.
    """
    return numel(shape) * (per_element + int(scale) + int(shift))
