"""One sparse matrix per NIR linear node, with torch semantics (docs/design.md §7).

Every linear node maps the flat (C-order) input vector to the flat output vector, out = M @ x
(+ bias), so the graph layer can fuse chains of them by matrix products. The matrices are built
sparse from index arithmetic over output positions: a conv layer's dense (out x in) matrix would
not fit in memory for event-camera sized inputs. Convolutions follow torch (cross-correlation,
"same" padding puts the odd extra pixel on the right); Conv1d and the pools are expressed as
Conv2d (a unit height, a depthwise kernel of ones), so one routine holds the index arithmetic.

Parameters may come straight from the user's nir objects or from an HDF5 file, where ints are
numpy scalars or arrays and strings may be bytes; every reader here accepts all of these."""
from __future__ import annotations

import math
from dataclasses import dataclass

import nir
import numpy as np
import scipy.sparse

from nmcompile.frontends.nir.errors import NodeProblem


@dataclass(frozen=True)
class LinearMap:
    """out_flat = matrix @ in_flat (+ bias); out_shape is the shape the next node sees."""
    matrix: scipy.sparse.csr_array  # (out_size, in_size) float64, no explicit zeros
    bias: np.ndarray | None         # (out_size,) float64; None when absent or all zero
    out_shape: tuple[int, ...]


# -- parameter readers --------------------------------------------------------------------------
def _floats(value, name: str) -> np.ndarray:
    """A finite float64 array: a NaN or inf weight would poison every fused weight downstream."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NodeProblem(f"{name} is not numeric: {value!r}") from None
    if not np.all(np.isfinite(array)):
        raise NodeProblem(f"{name} has non-finite values")
    return array


def _ints(value, count: int, name: str, minimum: int | None = None) -> tuple[int, ...]:
    """`count` ints from an int, a 1-element or `count`-element sequence or array (torch allows
    both `stride=2` and `stride=(2, 2)`; Conv1d modules carry 1-tuples)."""
    try:
        array = np.asarray(value, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise NodeProblem(f"{name} must be {count} integer(s), got {value!r}") from None
    if array.size == 1:
        array = np.repeat(array, count)
    if array.size != count or not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise NodeProblem(f"{name} must be {count} integer(s), got {_show(value)}")
    if minimum is not None and np.any(array < minimum):
        raise NodeProblem(f"{name} must be >= {minimum}, got {_show(value)}")
    return tuple(int(v) for v in array)


def _show(value) -> str:
    """A parameter as the user wrote it, numpy arrays as plain lists."""
    return str(np.asarray(value).tolist()) if isinstance(value, (np.ndarray, np.generic)) else repr(value)


def _padding_word(padding) -> str | None:
    """"same" / "valid" when the padding is a string (str, bytes, or numpy string scalar or
    0-d array as HDF5 gives it back), None when it is numeric."""
    if isinstance(padding, np.ndarray) and padding.dtype.kind in "SUO" and padding.size == 1:
        padding = padding.item()
    if isinstance(padding, bytes):
        padding = padding.decode("utf-8", errors="replace")
    if not isinstance(padding, str):
        return None
    if padding not in ("same", "valid"):
        raise NodeProblem(f"padding must be 'same', 'valid' or integers, got {padding!r}")
    return padding


def _shape(value) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(value).ravel())


def _bias(value, size: int, name: str = "bias") -> np.ndarray | None:
    """The bias broadcast to `size` values, None when there is none or it is all zero (the spec:
    a bias of zeros is no bias)."""
    if value is None:
        return None
    bias = _floats(value, name)
    try:
        bias = np.broadcast_to(bias, (size,))
    except ValueError:
        raise NodeProblem(f"{name} has shape {bias.shape}, expected ({size},)") from None
    return np.array(bias) if np.any(bias != 0) else None


# -- convolution (Conv1d, Conv2d, pools) ---------------------------------------------------------
def _out_len(size: int, pads: tuple[int, int], kernel: int, dilation: int, stride: int) -> int:
    """torch's output length along one axis (floor mode)."""
    reach = dilation * (kernel - 1) + 1
    if size + sum(pads) < reach:
        raise NodeProblem(f"output size < 1: input length {size} padded by {pads} is shorter than "
                          f"the (dilated) kernel {reach}")
    return (size + sum(pads) - reach) // stride + 1


def _taps(out_len: int, in_len: int, stride: int, pad_before: int, kernel: int,
          dilation: int) -> tuple[np.ndarray, np.ndarray]:
    """Along one axis, (out_len, kernel) arrays: the input position each (output position,
    kernel offset) reads, and whether it is inside the input rather than in the zero padding."""
    in_pos = (np.arange(out_len)[:, None] * stride - pad_before
              + np.arange(kernel)[None, :] * dilation)
    return in_pos, (in_pos >= 0) & (in_pos < in_len)


def _conv2d_map(weight: np.ndarray, bias: np.ndarray | None, in_chw: tuple[int, int, int],
                stride: tuple[int, int], pads: tuple[tuple[int, int], tuple[int, int]],
                dilation: tuple[int, int], groups: int) -> LinearMap:
    """torch conv2d on an unbatched (C, H, W) input; `pads` are (before, after) per axis.

    out[co, oy, ox] = sum over (cl, ky, kx) of w[co, cl, ky, kx] * in[ci, iy, ix], with
    ci = group(co) * cin_g + cl and iy = oy*sy - pad_top + ky*dy (likewise x). Enumerating the
    terms over axes (co, oy, ox, cl, ky, kx) lists the rows in order and, within a row, the
    columns strictly increasing (ci, iy, ix all grow with cl, ky, kx), so the arrays are
    already canonical CSR: no sort, no duplicates (that would need dilation 0)."""
    c_in, height, width = in_chw
    c_out, cin_g, kh, kw = weight.shape
    out_h = _out_len(height, pads[0], kh, dilation[0], stride[0])
    out_w = _out_len(width, pads[1], kw, dilation[1], stride[1])
    n_rows, n_cols = c_out * out_h * out_w, c_in * height * width

    iy, inside_y = _taps(out_h, height, stride[0], pads[0][0], kh, dilation[0])
    ix, inside_x = _taps(out_w, width, stride[1], pads[1][0], kw, dilation[1])
    # Everything below is broadcast over the term axes (co, oy, ox, cl, ky, kx).
    in_ch = (np.arange(c_out)[:, None] // (c_out // groups)) * cin_g + np.arange(cin_g)[None, :]
    index = np.int32 if max(n_cols, weight.size * out_h * out_w) < 2**31 else np.int64
    cols = np.empty((c_out, out_h, out_w, cin_g, kh, kw), dtype=index)  # summed in place:
    np.add(in_ch.astype(index)[:, None, None, :, None, None] * (height * width),  # no temporaries
           iy.astype(index)[None, :, None, None, :, None] * width, out=cols)
    cols += ix.astype(index)[None, None, :, None, None, :]
    values = np.broadcast_to(weight[:, None, None], cols.shape)  # a read-only view
    inside = inside_y[None, :, None, None, :, None] & inside_x[None, None, :, None, None, :]
    if inside.all():
        cols, values = cols.ravel(), np.array(values, order="C").ravel()
    else:
        inside = np.broadcast_to(inside, cols.shape)
        cols, values = cols[inside], values[inside]
    per_row = cin_g * inside_y.sum(axis=1)[:, None] * inside_x.sum(axis=1)[None, :]
    indptr = np.concatenate(([0], np.cumsum(np.tile(per_row.ravel(), c_out)))).astype(index)
    matrix = scipy.sparse.csr_array((values, cols, indptr), shape=(n_rows, n_cols))
    matrix.eliminate_zeros()
    bias_flat = None if bias is None else np.repeat(bias, out_h * out_w)
    return LinearMap(matrix, bias_flat, (c_out, out_h, out_w))


def _conv_padding(padding, kernel: tuple[int, ...], dilation: tuple[int, ...],
                  stride: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial axis; "same" as torch: total dilation*(k-1), the odd one right."""
    word = _padding_word(padding)
    if word == "valid":
        return tuple((0, 0) for _ in kernel)
    if word == "same":
        if any(s != 1 for s in stride):
            raise NodeProblem(f"padding 'same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _ints(padding, len(kernel), "padding", minimum=0))


def _conv(node, in_shape: tuple[int, ...], spatial: int) -> LinearMap:
    """Conv1d (spatial=1) and Conv2d (spatial=2), both through _conv2d_map."""
    kind = f"Conv{spatial}d"
    weight = _floats(node.weight, "weight")
    if weight.ndim != 2 + spatial:
        raise NodeProblem(f"weight must have {2 + spatial} dims (C_out, C_in/groups, "
                          f"{'K' if spatial == 1 else 'KH, KW'}), got shape {weight.shape}")
    if weight.size == 0:
        raise NodeProblem(f"weight has an empty dimension: shape {weight.shape}")
    if len(in_shape) != 1 + spatial:
        raise NodeProblem(f"{kind} needs a {'(C, N)' if spatial == 1 else '(C, H, W)'} input, "
                          f"got shape {in_shape}")
    if node.input_shape is not None and _shape(node.input_shape) != in_shape[1:]:
        raise NodeProblem(f"input_shape {_shape(node.input_shape)} disagrees with the incoming "
                          f"shape {in_shape} (spatial {in_shape[1:]})")
    groups = _ints(node.groups, 1, "groups", minimum=1)[0]
    c_out, cin_g = weight.shape[:2]
    c_in = in_shape[0]
    if c_in % groups or c_out % groups:
        raise NodeProblem(f"groups {groups} does not divide the channels (in {c_in}, out {c_out})")
    if cin_g * groups != c_in:
        raise NodeProblem(f"weight expects {cin_g * groups} input channels ({cin_g} per group x "
                          f"{groups} groups), the input {in_shape} has {c_in}")
    stride = _ints(node.stride, spatial, "stride", minimum=1)
    dilation = _ints(node.dilation, spatial, "dilation", minimum=1)
    pads = _conv_padding(node.padding, weight.shape[2:], dilation, stride)
    bias = _bias(node.bias, c_out)
    if spatial == 2:
        return _conv2d_map(weight, bias, in_shape, stride, pads, dilation, groups)
    # Conv1d is Conv2d on a (C, 1, N) input with a (1, K) kernel: the flat order is unchanged.
    plane = _conv2d_map(weight[:, :, None, :], bias, (c_in, 1, in_shape[1]), (1, *stride),
                        ((0, 0), *pads), (1, *dilation), groups)
    return LinearMap(plane.matrix, plane.bias, (plane.out_shape[0], plane.out_shape[2]))


def _pool(node, in_shape: tuple[int, ...], average: bool) -> LinearMap:
    """SumPool2d / AvgPool2d: a depthwise conv with a kernel of ones (or 1/(kh*kw): torch's
    count_include_pad=True divides by the full window even where it overlaps the padding)."""
    kind = "AvgPool2d" if average else "SumPool2d"
    if len(in_shape) != 3:
        raise NodeProblem(f"{kind} needs a (C, H, W) input, got shape {in_shape}")
    kernel = _ints(node.kernel_size, 2, "kernel_size", minimum=1)
    stride = _ints(node.stride, 2, "stride", minimum=1)
    padding = _ints(node.padding, 2, "padding", minimum=0)
    channels = in_shape[0]
    weight = np.full((channels, 1, *kernel), 1.0 / math.prod(kernel) if average else 1.0)
    return _conv2d_map(weight, None, in_shape, stride, tuple((p, p) for p in padding), (1, 1), channels)


# -- dense and elementwise nodes ----------------------------------------------------------------
def _dense(weight_value, bias_value, in_shape: tuple[int, ...]) -> LinearMap:
    """Affine / Linear like torch.nn.Linear: along the last axis, (..., in) -> (..., out); an
    input whose last dim differs but whose size is `in` is taken flattened (out,)."""
    weight = _floats(weight_value, "weight")
    if weight.ndim != 2:
        raise NodeProblem(f"weight must have 2 dims (out, in), got shape {weight.shape}")
    n_out, n_in = weight.shape
    size = math.prod(in_shape)
    if in_shape and in_shape[-1] == n_in:
        leading = in_shape[:-1]
    elif size == n_in:
        leading = ()
    else:
        raise NodeProblem(f"weight {weight.shape} takes {n_in} inputs; the input has shape "
                          f"{in_shape} (last dim {in_shape[-1] if in_shape else None}, size {size})")
    copies = math.prod(leading)
    block = scipy.sparse.csr_array(weight)  # stores the nonzeros only
    matrix = block if copies == 1 else scipy.sparse.kron(
        scipy.sparse.eye_array(copies, format="csr"), block, format="csr")
    bias = _bias(bias_value, n_out)
    return LinearMap(matrix, None if bias is None else np.tile(bias, copies), (*leading, n_out))


def _scale(node, in_shape: tuple[int, ...]) -> LinearMap:
    """y = scale * x, the scale broadcast to the input shape: a diagonal matrix."""
    scale = _floats(node.scale, "scale")
    try:
        diagonal = np.broadcast_to(scale, in_shape).ravel()
    except ValueError:
        raise NodeProblem(f"scale of shape {scale.shape} does not broadcast to the input "
                          f"shape {in_shape}") from None
    matrix = scipy.sparse.diags_array(diagonal, format="csr")
    matrix.eliminate_zeros()
    return LinearMap(matrix, None, in_shape)


def _flatten(node, in_shape: tuple[int, ...]) -> LinearMap:
    """Identity on the flat vector; the shape merges dims start_dim..end_dim (negative end_dim
    counts from the end, as in torch).

    A dim at or past the end of the (batchless) input shape can only come from an exporter that
    counted a batch dim (torch.nn.Flatten's default start_dim=1 on a batched tensor): that
    flatten meant "everything but the batch", so it flattens everything, giving (size,)."""
    declared = node.input_type.get("input") if isinstance(node.input_type, dict) else None
    batched = declared is not None and _shape(declared) == (1, *in_shape)  # a batch dim of 1
    if declared is not None and _shape(declared) != in_shape and not batched:
        raise NodeProblem(f"input_type {_shape(declared)} disagrees with the incoming shape {in_shape}")
    ndim = len(in_shape)
    dims = [_ints(node.start_dim, 1, "start_dim")[0], _ints(node.end_dim, 1, "end_dim")[0]]
    if batched:  # dims counted with the batch: the first (start_dim 0) flattens it away too
        dims = [max(d - 1, 0) if d >= 0 else d for d in dims]
    start, end = (d + ndim if d < 0 else d for d in dims)
    size = math.prod(in_shape)
    if start >= ndim or end >= ndim:
        out_shape = (size,)
    elif start < 0 or end < 0 or start > end:
        raise NodeProblem(f"start_dim {node.start_dim} / end_dim {node.end_dim} do not name a "
                          f"range of dims of the input shape {in_shape}")
    else:
        out_shape = (*in_shape[:start], math.prod(in_shape[start:end + 1]), *in_shape[end + 1:])
    return LinearMap(scipy.sparse.eye_array(size, format="csr", dtype=np.float64), None, out_shape)


_BUILDERS = {
    nir.Affine: lambda node, shape: _dense(node.weight, node.bias, shape),
    nir.Linear: lambda node, shape: _dense(node.weight, None, shape),
    nir.Scale: _scale,
    nir.Conv1d: lambda node, shape: _conv(node, shape, spatial=1),
    nir.Conv2d: lambda node, shape: _conv(node, shape, spatial=2),
    nir.SumPool2d: lambda node, shape: _pool(node, shape, average=False),
    nir.AvgPool2d: lambda node, shape: _pool(node, shape, average=True),
    nir.Flatten: _flatten,
}

LINEAR_NODES: tuple[type, ...] = tuple(_BUILDERS)


def linear_map(node, in_shape: tuple[int, ...]) -> LinearMap:
    """The node's matrix for an input of shape `in_shape` (no batch dim). NodeProblem when the
    node's parameters are malformed or do not fit the input."""
    builder = _BUILDERS.get(type(node))
    if builder is None:
        raise TypeError(f"{type(node).__name__} is not a linear NIR node")
    return builder(node, tuple(int(d) for d in in_shape))
