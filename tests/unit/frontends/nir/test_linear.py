"""NIR linear nodes -> sparse matrices, against naive references written from the definitions.

Inputs, weights and biases are small integers, so every sum is exact in float64 and the sparse
product must equal the plain-loop reference exactly (no tolerance). The references pad the input
explicitly and slide the (dilated) window over it, as torch documents conv and pooling; the
module instead computes which taps fall in the padding, so the two are written differently."""
from __future__ import annotations

import itertools
import math
import zlib

import nir
import numpy as np
import pytest
import scipy.sparse
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nmcompile.frontends.nir.errors import NodeProblem
from nmcompile.frontends.nir.linear import LINEAR_NODES, LinearMap, linear_map


def rng(*seed_parts) -> np.random.Generator:
    """A generator seeded by the test's parameters (crc32: str hashes differ between runs)."""
    return np.random.default_rng(zlib.crc32(repr(seed_parts).encode()))


def ints(generator, shape, low=-5, high=5) -> np.ndarray:
    return generator.integers(low, high + 1, size=shape).astype(np.float64)


def apply(lm: LinearMap, x: np.ndarray) -> np.ndarray:
    """The map applied to one unbatched input, checking the matrix's form on the way."""
    out_size = math.prod(lm.out_shape)
    assert isinstance(lm.matrix, scipy.sparse.csr_array)
    assert lm.matrix.dtype == np.float64
    assert lm.matrix.shape == (out_size, x.size)
    assert lm.matrix.has_canonical_format  # sorted, no duplicates
    assert np.all(lm.matrix.data != 0)     # explicit zeros eliminated
    y = lm.matrix @ x.ravel()
    if lm.bias is not None:
        assert lm.bias.shape == (out_size,) and lm.bias.dtype == np.float64
        assert np.any(lm.bias != 0)
        y = y + lm.bias
    return y.reshape(lm.out_shape)


# -- references --------------------------------------------------------------------------------
def same_pads(kernel: int, dilation: int) -> tuple[int, int]:
    """torch padding="same": total dilation*(k-1), the odd pixel on the right."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def ref_conv2d(x, weight, bias, stride, pads, dilation, groups):
    """torch.nn.functional.conv2d on one (C, H, W) input: zero-pad, then slide the window."""
    c_in, height, width = x.shape
    c_out, cin_g, kh, kw = weight.shape
    (pt, pb), (pl, pr) = pads
    padded = np.zeros((c_in, height + pt + pb, width + pl + pr))
    padded[:, pt:pt + height, pl:pl + width] = x
    out_h = (padded.shape[1] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (padded.shape[2] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((c_out, out_h, out_w))
    for co in range(c_out):
        group = co // (c_out // groups)
        for oy in range(out_h):
            for ox in range(out_w):
                total = 0.0 if bias is None else bias[co]
                for cl in range(cin_g):
                    for ky in range(kh):
                        for kx in range(kw):
                            total += weight[co, cl, ky, kx] * padded[
                                group * cin_g + cl, oy * stride[0] + ky * dilation[0],
                                ox * stride[1] + kx * dilation[1]]
                out[co, oy, ox] = total
    return out


def ref_conv1d(x, weight, bias, stride, pads, dilation, groups):
    """torch.nn.functional.conv1d on one (C, N) input."""
    c_in, length = x.shape
    c_out, cin_g, k = weight.shape
    padded = np.zeros((c_in, length + pads[0] + pads[1]))
    padded[:, pads[0]:pads[0] + length] = x
    out_n = (padded.shape[1] - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((c_out, out_n))
    for co in range(c_out):
        group = co // (c_out // groups)
        for o in range(out_n):
            total = 0.0 if bias is None else bias[co]
            for cl in range(cin_g):
                for j in range(k):
                    total += weight[co, cl, j] * padded[group * cin_g + cl, o * stride + j * dilation]
            out[co, o] = total
    return out


def ref_sum_pool(x, kernel, stride, padding):
    c, height, width = x.shape
    padded = np.zeros((c, height + 2 * padding[0], width + 2 * padding[1]))
    padded[:, padding[0]:padding[0] + height, padding[1]:padding[1] + width] = x
    out_h = (padded.shape[1] - kernel[0]) // stride[0] + 1
    out_w = (padded.shape[2] - kernel[1]) // stride[1] + 1
    out = np.zeros((c, out_h, out_w))
    for ch, oy, ox in itertools.product(range(c), range(out_h), range(out_w)):
        out[ch, oy, ox] = sum(padded[ch, oy * stride[0] + ky, ox * stride[1] + kx]
                              for ky in range(kernel[0]) for kx in range(kernel[1]))
    return out


def ref_dense(x, weight, bias):
    """torch.nn.Linear on the last axis of x."""
    n_out, n_in = weight.shape
    out = np.zeros((*x.shape[:-1], n_out))
    for lead in np.ndindex(*x.shape[:-1]):
        for o in range(n_out):
            out[lead + (o,)] = sum(weight[o, i] * x[lead + (i,)] for i in range(n_in)) + (
                0.0 if bias is None else bias[o])
    return out


# -- Conv2d ------------------------------------------------------------------------------------
PADDINGS_2D = {  # the node's padding value -> (before, after) per axis for a (3, 2) kernel
    "int": (1, lambda dil: ((1, 1), (1, 1))),
    "numpy int": (np.int64(1), lambda dil: ((1, 1), (1, 1))),
    "tuple": ((2, 1), lambda dil: ((2, 2), (1, 1))),
    "array": (np.array([0, 2]), lambda dil: ((0, 0), (2, 2))),
    "same": ("same", lambda dil: (same_pads(3, dil[0]), same_pads(2, dil[1]))),
    "same bytes": (b"same", lambda dil: (same_pads(3, dil[0]), same_pads(2, dil[1]))),
    "valid": ("valid", lambda dil: ((0, 0), (0, 0))),
    "valid bytes": (b"valid", lambda dil: ((0, 0), (0, 0))),
}
GROUPS = {"dense": (4, 1), "two groups": (4, 2), "depthwise": (4, 4)}  # (C_in, groups)


def conv_cases(paddings: dict) -> list[tuple]:
    """Every padding form x stride 1, 2 x dilation 1, 2 x groups x bias, but "same" only with
    stride 1 (the only stride torch allows it; the refusal is tested below)."""
    return [case for case in itertools.product(paddings, [1, 2], [1, 2], GROUPS, [True, False])
            if not (case[0].startswith("same") and case[1] != 1)]


@pytest.mark.parametrize("padding_name, stride, dilation, groups_name, with_bias", conv_cases(PADDINGS_2D))
def test_conv2d_matches_reference(padding_name, stride, dilation, groups_name, with_bias):
    padding, pads_of = PADDINGS_2D[padding_name]
    c_in, groups = GROUPS[groups_name]
    g = rng(padding_name, stride, dilation, groups_name, with_bias)
    weight = ints(g, (2 * groups, c_in // groups, 3, 2))
    bias = ints(g, 2 * groups) if with_bias else np.zeros(2 * groups)
    node = nir.Conv2d(input_shape=(7, 6), weight=weight, stride=stride, padding=padding,
                      dilation=dilation, groups=groups, bias=bias)
    node.padding = padding  # as written, before nir's __post_init__ turned an int into a tuple
    x = ints(g, (c_in, 7, 6), -9, 9)
    pads = pads_of((dilation, dilation))
    expected = ref_conv2d(x, weight, bias if with_bias else None, (stride, stride), pads,
                          (dilation, dilation), groups)
    lm = linear_map(node, (c_in, 7, 6))
    assert lm.out_shape == expected.shape
    np.testing.assert_array_equal(apply(lm, x), expected)
    assert (lm.bias is None) == (not with_bias or not np.any(bias))
    if padding_name.startswith("same"):
        assert lm.out_shape[1:] == (7, 6)


@st.composite
def conv2d_cases(draw):
    groups = draw(st.integers(1, 3))
    cin_g, cout_g = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (cin_g * groups, draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.one_of(st.just("same"), st.just("valid"), st.integers(0, 3),
                             st.tuples(st.integers(0, 3), st.integers(0, 3))))
    if padding == "same":
        stride = (1, 1)
    return groups, cout_g * groups, shape, kernel, stride, dilation, padding, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=30, derandomize=True, deadline=None)
@given(case=conv2d_cases())
def test_conv2d_random_shapes(case):
    groups, c_out, shape, kernel, stride, dilation, padding, seed = case
    if padding == "same":
        pads = tuple(same_pads(k, d) for k, d in zip(kernel, dilation))
    elif padding == "valid":
        pads = ((0, 0), (0, 0))
    else:
        pads = tuple((p, p) for p in np.broadcast_to(padding, 2))
    g = np.random.default_rng(seed)
    weight = ints(g, (c_out, shape[0] // groups, *kernel))
    bias = ints(g, c_out)
    node = nir.Conv2d(input_shape=shape[1:], weight=weight, stride=stride, padding=padding,
                      dilation=dilation, groups=groups, bias=bias)
    fits = all(size + sum(p) >= d * (k - 1) + 1
               for size, p, k, d in zip(shape[1:], pads, kernel, dilation))
    if not fits:
        with pytest.raises(NodeProblem, match="output size < 1"):
            linear_map(node, shape)
        return
    x = ints(g, shape, -9, 9)
    lm = linear_map(node, shape)
    np.testing.assert_array_equal(apply(lm, x), ref_conv2d(x, weight, bias, stride, pads, dilation, groups))


def test_conv2d_zero_weights_are_not_stored():
    weight = np.zeros((2, 1, 3, 3))
    weight[0, 0, 1, 1] = 2.0
    node = nir.Conv2d(input_shape=(4, 4), weight=weight, stride=1, padding=1, dilation=1,
                      groups=1, bias=np.zeros(2))
    lm = linear_map(node, (1, 4, 4))
    assert lm.matrix.nnz == 16  # the centre tap of channel 0, once per output pixel
    assert lm.bias is None


def test_conv2d_without_input_shape_takes_the_incoming_shape():
    node = nir.Conv2d(input_shape=None, weight=np.ones((1, 1, 2, 2)), stride=1, padding=0,
                      dilation=1, groups=1, bias=np.ones(1))
    assert linear_map(node, (1, 5, 3)).out_shape == (1, 4, 2)


# -- Conv1d ------------------------------------------------------------------------------------
PADDINGS_1D = {
    "int": (2, lambda dil: (2, 2)),
    "1-tuple": ((1,), lambda dil: (1, 1)),
    "same": ("same", lambda dil: same_pads(3, dil)),
    "same bytes": (np.bytes_(b"same"), lambda dil: same_pads(3, dil)),
    "valid": ("valid", lambda dil: (0, 0)),
}


@pytest.mark.parametrize("padding_name, stride, dilation, groups_name, with_bias", conv_cases(PADDINGS_1D))
def test_conv1d_matches_reference(padding_name, stride, dilation, groups_name, with_bias):
    padding, pads_of = PADDINGS_1D[padding_name]
    c_in, groups = GROUPS[groups_name]
    g = rng(padding_name, stride, dilation, groups_name, with_bias, 1)
    weight = ints(g, (2 * groups, c_in // groups, 3))
    bias = ints(g, 2 * groups) if with_bias else np.zeros(2 * groups)
    node = nir.Conv1d(input_shape=9, weight=weight, stride=stride, padding=padding,
                      dilation=dilation, groups=groups, bias=bias)
    x = ints(g, (c_in, 9), -9, 9)
    expected = ref_conv1d(x, weight, bias if with_bias else None, stride, pads_of(dilation),
                          dilation, groups)
    lm = linear_map(node, (c_in, 9))
    assert lm.out_shape == expected.shape
    np.testing.assert_array_equal(apply(lm, x), expected)
    assert (lm.bias is None) == (not with_bias or not np.any(bias))


# -- pools -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel, stride, padding", [
    ((2, 2), (2, 2), (0, 0)),
    ((2, 2), (2, 2), (1, 1)),
    ((3, 2), (1, 2), (1, 0)),
    ((2, 3), (3, 1), (0, 1)),
])
def test_sum_pool_matches_reference(kernel, stride, padding):
    x = ints(rng(3), (3, 7, 6), -9, 9)
    node = nir.SumPool2d(kernel_size=np.array(kernel), stride=np.array(stride), padding=np.array(padding))
    lm = linear_map(node, x.shape)
    expected = ref_sum_pool(x, kernel, stride, padding)
    assert lm.out_shape == expected.shape and lm.bias is None
    np.testing.assert_array_equal(apply(lm, x), expected)


@pytest.mark.parametrize("kernel, stride, padding", [((2, 2), (2, 2), (1, 1)), ((3, 2), (1, 2), (1, 0))])
def test_avg_pool_is_sum_pool_over_window_size(kernel, stride, padding):
    """torch count_include_pad=True: every window divides by kh*kw, padded corners included."""
    arrays = dict(kernel_size=np.array(kernel), stride=np.array(stride), padding=np.array(padding))
    summed = linear_map(nir.SumPool2d(**arrays), (3, 7, 6))
    averaged = linear_map(nir.AvgPool2d(**arrays), (3, 7, 6))
    assert averaged.out_shape == summed.out_shape
    np.testing.assert_array_equal(averaged.matrix.indptr, summed.matrix.indptr)
    np.testing.assert_array_equal(averaged.matrix.indices, summed.matrix.indices)
    assert np.all(averaged.matrix.data == 1.0 / (kernel[0] * kernel[1]))


def test_avg_pool_matches_reference():
    """A 2x2 window: dividing by 4 is exact, so the product equals the reference exactly."""
    x = ints(rng(4), (2, 5, 5), -9, 9)
    node = nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([1, 1]))
    lm = linear_map(node, x.shape)
    np.testing.assert_array_equal(apply(lm, x), ref_sum_pool(x, (2, 2), (2, 2), (1, 1)) / 4)


# -- Affine, Linear --------------------------------------------------------------------------
@pytest.mark.parametrize("in_shape", [(5,), (3, 5), (2, 3, 5)])
def test_affine_on_last_axis(in_shape):
    g = rng(5)
    weight, bias = ints(g, (4, 5)), ints(g, 4)
    weight[1, 2] = 0.0
    x = ints(g, in_shape, -9, 9)
    lm = linear_map(nir.Affine(weight=weight, bias=bias), in_shape)
    assert lm.out_shape == (*in_shape[:-1], 4)
    np.testing.assert_array_equal(apply(lm, x), ref_dense(x, weight, bias))


def test_affine_takes_a_mismatched_input_flattened():
    g = rng(6)
    weight, bias = ints(g, (4, 6)), ints(g, 4)
    x = ints(g, (2, 3), -9, 9)
    lm = linear_map(nir.Affine(weight=weight, bias=bias), (2, 3))
    assert lm.out_shape == (4,)
    np.testing.assert_array_equal(apply(lm, x), ref_dense(x.ravel(), weight, bias))


def test_affine_zero_bias_is_no_bias():
    lm = linear_map(nir.Affine(weight=np.eye(3), bias=np.zeros(3)), (3,))
    assert lm.bias is None


@pytest.mark.parametrize("in_shape", [(5,), (3, 5)])
def test_linear(in_shape):
    g = rng(7)
    weight = ints(g, (2, 5))
    x = ints(g, in_shape, -9, 9)
    lm = linear_map(nir.Linear(weight=weight), in_shape)
    assert lm.out_shape == (*in_shape[:-1], 2) and lm.bias is None
    np.testing.assert_array_equal(apply(lm, x), ref_dense(x, weight, None))


def test_affine_weight_from_a_file_as_ints():
    lm = linear_map(nir.Affine(weight=np.array([[1, 2], [3, 0]]), bias=np.array([0, 1])), (2,))
    np.testing.assert_array_equal(apply(lm, np.array([5.0, 7.0])), [19.0, 16.0])


# -- Scale, Flatten --------------------------------------------------------------------------
@pytest.mark.parametrize("scale_shape", [(2, 3, 4), (3, 1), (4,), ()])
def test_scale_broadcasts_to_the_input(scale_shape):
    g = rng(8)
    scale = ints(g, scale_shape)
    x = ints(g, (2, 3, 4), -9, 9)
    lm = linear_map(nir.Scale(scale=scale), x.shape)
    expected = np.zeros(x.shape)
    full = np.broadcast_to(scale, x.shape)
    for index in np.ndindex(*x.shape):
        expected[index] = full[index] * x[index]
    assert lm.out_shape == x.shape and lm.bias is None
    np.testing.assert_array_equal(apply(lm, x), expected)


@pytest.mark.parametrize("start_dim, end_dim, out_shape", [
    (0, -1, (24,)),
    (1, -1, (2, 12)),
    (0, 1, (6, 4)),
    (1, 1, (2, 3, 4)),
    (-2, -1, (2, 12)),
    (3, -1, (24,)),   # past the batchless dims: an exporter that counted a batch dim
    (1, 3, (24,)),
])
def test_flatten_is_identity_with_new_shape(start_dim, end_dim, out_shape):
    x = ints(rng(9), (2, 3, 4), -9, 9)
    lm = linear_map(nir.Flatten(input_type=None, start_dim=start_dim, end_dim=end_dim), x.shape)
    assert lm.out_shape == out_shape and lm.bias is None
    np.testing.assert_array_equal(apply(lm, x).ravel(), x.ravel())
    assert (lm.matrix != scipy.sparse.eye_array(24)).nnz == 0


def test_flatten_start_dim_1_on_a_vector_flattens_everything():
    """snnTorch's Flatten(start_dim=1) written for (batch, N) reaches us on an (N,) signal."""
    lm = linear_map(nir.Flatten(input_type=None, start_dim=1), (7,))
    assert lm.out_shape == (7,)


def test_flatten_with_matching_input_type():
    lm = linear_map(nir.Flatten(input_type=np.array([2, 3]), start_dim=0), (2, 3))
    assert lm.out_shape == (6,)


# -- from an HDF5 file -----------------------------------------------------------------------
def test_nodes_read_back_from_a_file_give_the_same_maps(tmp_path):
    """nir.read returns numpy scalars and arrays where the user wrote ints and tuples."""
    g = rng(10)
    nodes = {
        "conv": nir.Conv2d(input_shape=(6, 5), weight=ints(g, (4, 1, 3, 2)), stride=(1, 2),
                           padding=1, dilation=(2, 1), groups=2, bias=ints(g, 4)),
        "same": nir.Conv2d(input_shape=(6, 5), weight=ints(g, (3, 2, 2, 2)), stride=1,
                           padding="same", dilation=1, groups=1, bias=ints(g, 3)),
        "pool": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 1]),
                              padding=np.array([1, 0])),
        "conv1": nir.Conv1d(input_shape=5, weight=ints(g, (2, 2, 3)), stride=1, padding="same",
                            dilation=2, groups=1, bias=ints(g, 2)),
        "flat": nir.Flatten(input_type=np.array([2, 6, 5]), start_dim=0),
    }
    in_shapes = {"conv": (2, 6, 5), "same": (2, 6, 5), "pool": (2, 6, 5), "conv1": (2, 5), "flat": (2, 6, 5)}
    path = tmp_path / "nodes.nir"
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=[], type_check=False))
    read = nir.read(path, type_check=False).nodes
    for name, shape in in_shapes.items():
        original, again = linear_map(nodes[name], shape), linear_map(read[name], shape)
        assert again.out_shape == original.out_shape, name
        assert (again.matrix != original.matrix).nnz == 0, name
        np.testing.assert_array_equal(again.bias, original.bias)


# -- malformed nodes -------------------------------------------------------------------------
def conv2d(**changes):
    """A 2->2 3x3 Conv2d for a (2, 5, 5) input, then `changes` set as raw attributes (nir's
    own __post_init__ would choke on some of them before we are asked)."""
    node = nir.Conv2d(input_shape=None, weight=np.ones((2, 2, 3, 3)), stride=1, padding=0,
                      dilation=1, groups=1, bias=np.zeros(2))
    for field, value in changes.items():
        setattr(node, field, value)
    return node


@pytest.mark.parametrize("node, in_shape, message", [
    (conv2d(weight=np.ones((2, 2, 3))), (2, 5, 5), r"weight must have 4 dims .* got shape \(2, 2, 3\)"),
    (conv2d(), (3, 5, 5), r"weight expects 2 input channels .* has 3"),
    (conv2d(), (5, 5), r"Conv2d needs a \(C, H, W\) input, got shape \(5, 5\)"),
    (conv2d(groups=3, weight=np.ones((3, 1, 3, 3)), bias=np.zeros(3)), (4, 5, 5),
     r"groups 3 does not divide the channels \(in 4, out 3\)"),
    (conv2d(groups=2, weight=np.ones((3, 1, 3, 3)), bias=np.zeros(3)), (2, 5, 5),
     r"groups 2 does not divide the channels \(in 2, out 3\)"),
    (conv2d(groups=0), (2, 5, 5), r"groups must be >= 1, got 0"),
    (conv2d(stride=0), (2, 5, 5), r"stride must be >= 1"),
    (conv2d(stride=(1, 1, 1)), (2, 5, 5), r"stride must be 2 integer\(s\), got \(1, 1, 1\)"),
    (conv2d(stride=1.5), (2, 5, 5), r"stride must be 2 integer\(s\), got 1.5"),
    (conv2d(dilation=0), (2, 5, 5), r"dilation must be >= 1"),
    (conv2d(padding=-1), (2, 5, 5), r"padding must be >= 0"),
    (conv2d(padding="same", stride=2), (2, 5, 5), r"padding 'same' needs stride 1, got stride \(2, 2\)"),
    (conv2d(dilation=3), (2, 5, 5), r"output size < 1: input length 5 .* kernel 7"),
    (conv2d(input_shape=(5, 6)), (2, 5, 5),
     r"input_shape \(5, 6\) disagrees with the incoming shape \(2, 5, 5\)"),
    (conv2d(weight=np.full((2, 2, 3, 3), np.nan)), (2, 5, 5), r"weight has non-finite values"),
    (conv2d(bias=np.array([0.0, np.inf])), (2, 5, 5), r"bias has non-finite values"),
    (conv2d(bias=np.zeros(3)), (2, 5, 5), r"bias has shape \(3,\), expected \(2,\)"),
    (conv2d(weight=np.ones((2, 2, 0, 3))), (2, 5, 5), r"weight has an empty dimension"),
    (nir.Conv1d(input_shape=7, weight=np.ones((1, 1, 3)), stride=1, padding=0, dilation=1, groups=1,
                bias=np.zeros(1)), (1, 6), r"input_shape \(7,\) disagrees with the incoming shape \(1, 6\)"),
    (nir.Conv1d(input_shape=None, weight=np.ones((1, 1, 3, 1)), stride=1, padding=0, dilation=1,
                groups=1, bias=np.zeros(1)), (1, 6), r"weight must have 3 dims"),
    (nir.Conv1d(input_shape=None, weight=np.ones((1, 1, 3)), stride=1, padding=0, dilation=1,
                groups=1, bias=np.zeros(1)), (1, 2), r"output size < 1: input length 2"),
    (nir.SumPool2d(kernel_size=np.array([0, 2]), stride=np.array([1, 1]), padding=np.array([0, 0])),
     (1, 4, 4), r"kernel_size must be >= 1"),
    (nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([0, 1]), padding=np.array([0, 0])),
     (1, 4, 4), r"stride must be >= 1"),
    (nir.SumPool2d(kernel_size=np.array([5, 2]), stride=np.array([1, 1]), padding=np.array([0, 0])),
     (1, 4, 4), r"output size < 1"),
    (nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([1, 1]), padding=np.array([0, 0])),
     (4, 4), r"SumPool2d needs a \(C, H, W\) input"),
    (nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)), (4,),
     r"takes 3 inputs; the input has shape \(4,\)"),
    (nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(4)), (3,), r"bias has shape \(4,\), expected \(2,\)"),
    (nir.Affine(weight=np.ones((1, 2, 3)), bias=np.zeros(2)), (3,), r"weight must have 2 dims"),
    (nir.Linear(weight=np.array([[1.0, np.nan]])), (2,), r"weight has non-finite values"),
    (nir.Scale(scale=np.ones(4)), (2, 3),
     r"scale of shape \(4,\) does not broadcast to the input shape \(2, 3\)"),
    (nir.Scale(scale=np.array([1.0, np.inf, 1.0])), (3,), r"scale has non-finite values"),
    (nir.Flatten(input_type=np.array([2, 4]), start_dim=0), (2, 3),
     r"input_type \(2, 4\) disagrees with the incoming shape \(2, 3\)"),
    (nir.Flatten(input_type=None, start_dim=1, end_dim=0), (2, 3), r"start_dim 1 / end_dim 0"),
    (nir.Flatten(input_type=None, start_dim=-5, end_dim=-1), (2, 3), r"start_dim -5 / end_dim -1"),
])
def test_malformed_nodes_are_refused(node, in_shape, message):
    with pytest.raises(NodeProblem, match=message) as caught:
        linear_map(node, in_shape)
    assert "\n" not in str(caught.value)


def test_bad_padding_words_are_refused():
    node = conv2d()
    node.padding = b"full"
    with pytest.raises(NodeProblem, match=r"padding must be 'same', 'valid' or integers, got 'full'"):
        linear_map(node, (2, 5, 5))


def test_every_linear_node_type_is_handled():
    assert set(LINEAR_NODES) == {nir.Affine, nir.Linear, nir.Scale, nir.Conv1d, nir.Conv2d,
                                 nir.SumPool2d, nir.AvgPool2d, nir.Flatten}
    with pytest.raises(TypeError, match="LIF is not a linear NIR node"):
        linear_map(nir.LIF(tau=np.ones(1), r=np.ones(1), v_leak=np.zeros(1),
                           v_threshold=np.ones(1), v_reset=np.zeros(1)), (1,))
