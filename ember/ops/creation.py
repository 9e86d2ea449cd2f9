"""Tensor creation: tensor, zeros/ones/full/empty, arange/linspace, rand/randn/randint, *_like."""

import numpy as np

from .. import _backend, _dtype, random
from .._tensor import Tensor
from ..autograd import inplace
from ..autograd.function import Function
from .elementwise import write_out
from .shape import sizes_from


def _device(device) -> _backend.device:
    """The device a new tensor goes to: ``device``, or else the default device."""
    return _backend.default_device if device is None else _backend.device(device)


def _finish(array, dtype=None, device=None, requires_grad=False):
    if dtype is not None and array.dtype != dtype.numpy:
        array = array.astype(dtype.numpy)
    if device is not None or _backend.default_device is not _backend.CPU:
        array = _backend.move(array, _device(device))
    tensor = Tensor._wrap(array)
    if requires_grad:
        if array.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        tensor._requires_grad = True
    return tensor


def _numpy_dtype(dtype):
    return (dtype or _dtype.get_default_dtype()).numpy


def _infer_array(data, dtype=None):
    """A NumPy array from nested Python data, with PyTorch's dtype inference.

    A given ``dtype`` is applied while converting: going through float32 first would lose
    float64 values (1e-300 would become 0).
    """
    if isinstance(data, Tensor):
        return data._data.copy(order="K")
    if isinstance(data, np.ndarray):  # keeps the strides' order, as torch.tensor does
        return data.copy(order="K")
    if isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as in PyTorch
        return np.array(data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        data = [x.tolist() if isinstance(x, Tensor) else x for x in data]
    try:
        if dtype is not None and not isinstance(data, (str, bytes)):
            return np.array(data, dtype=dtype.numpy)
        array = np.array(data)
    except ValueError:
        _raise_ragged(data)
        raise
    if array.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if array.dtype.kind == "f":
        return array.astype(_dtype.get_default_dtype().numpy)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "c":
        return array.astype(np.complex64)
    if array.dtype.kind in "US":
        raise TypeError(f"new(): invalid data type '{array.dtype.kind == 'U' and 'str'}'")
    return array


def _raise_ragged(data, dim: int = 0) -> None:
    """PyTorch's ValueError for nested lists whose lengths differ at some depth."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    lengths = [len(x) if isinstance(x, (list, tuple)) else None for x in data]
    for length in lengths[1:]:
        if length != lengths[0]:
            if lengths[0] is None or length is None:
                raise TypeError("not a sequence")
            raise ValueError(f"expected sequence of length {lengths[0]} at dim {dim + 1} "
                             f"(got {length})")
    for item in data:
        _raise_ragged(item, dim + 1)


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays).

    Example:
        >>> import ember
        >>> ember.tensor([[1, 2], [3, 4]])
        tensor([[1, 2],
                [3, 4]])
    """
    return _finish(_infer_array(data, dtype), dtype, device, requires_grad)


def as_tensor(data, *, dtype=None, device=None):
    """Like ``tensor``, but shares memory with a NumPy array or tensor when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray):
        return _finish(from_numpy(data)._data, dtype, device)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: np.ndarray):
    """A tensor sharing memory with ``ndarray``: a change to one shows in the other.

    Example:
        >>> import ember, numpy as np
        >>> a = np.ones(2); t = ember.from_numpy(a); a[0] = 5; t
        tensor([5., 1.], dtype=ember.float64)
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if any(stride < 0 for stride in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    _dtype.from_numpy(ndarray.dtype)
    return Tensor._wrap(ndarray)


def _filled(fill, size, dtype, device, requires_grad):
    shape = sizes_from(size)
    xp = _backend.module_for(_device(device))
    return _finish(fill(xp, shape, _numpy_dtype(dtype)), None, device, requires_grad)


def _into(name: str, make, out, dtype, requires_grad: bool):
    """PyTorch's ``out=`` for factory functions: ``make(dtype)`` written into ``out``, which is
    resized (silently) to the result's shape and keeps its dtype; without ``out``, the result.

    Example:
        >>> import ember
        >>> buffer = ember.empty(0, dtype=ember.float64)
        >>> ember.ones(2, out=buffer)
        tensor([1., 1.], dtype=ember.float64)
    """
    if out is None:
        return make(dtype)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if dtype is not None and dtype != out.dtype:
        raise RuntimeError(f"dtype {_dtype.type_name(dtype.numpy)} does not match dtype of out "
                           f"parameter ({_dtype.type_name(out._data.dtype)})")
    if requires_grad or out._grad_recorded:
        raise RuntimeError(f"aten::{name}(): functions with out=... arguments don't support "
                           f"automatic differentiation, but one of the arguments requires grad.")
    result = make(out.dtype)._data
    if out._data.shape != result.shape:
        out._data = _backend.array_module(out._data).empty(result.shape, out._data.dtype)
        out._base = None
        out._version = [out._version[0]]
    out._data[...] = _backend.move(result, out.device)
    inplace.bump_version(out)
    return out


def zeros(*size, out=None, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of zeros of the given size (into ``out`` when given)."""
    return _into("zeros", lambda dtype: _filled(lambda xp, s, d: xp.zeros(s, d), size, dtype,
                                                device, requires_grad),
                 out, dtype, requires_grad)


def ones(*size, out=None, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of ones of the given size (into ``out`` when given)."""
    return _into("ones", lambda dtype: _filled(lambda xp, s, d: xp.ones(s, d), size, dtype,
                                               device, requires_grad),
                 out, dtype, requires_grad)


def empty(*size, out=None, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of the given size with unspecified values: ``empty(2, 3)``, ``empty((2, 3))``
    and ``empty(0)`` as in PyTorch (``out``, when given, is resized to the size).

    Example:
        >>> import ember
        >>> ember.empty((2, 3), dtype=ember.int32).shape
        ember.Size([2, 3])
    """
    return _into("empty", lambda dtype: _filled(lambda xp, s, d: xp.empty(s, d), size, dtype,
                                                device, requires_grad),
                 out, dtype, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of ``size`` with unspecified values laid out with the given element
    ``stride``s (a view of a buffer just large enough).

    Example:
        >>> import ember
        >>> ember.empty_strided((2, 3), (1, 2)).stride()
        (1, 2)
    """
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of "
                           f"strides ({len(stride)})")
    numpy_dtype = _numpy_dtype(dtype)
    xp = _backend.module_for(_device(device))
    extent = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    buffer = xp.empty(extent, numpy_dtype)
    itemsize = np.dtype(numpy_dtype).itemsize
    array = xp.lib.stride_tricks.as_strided(buffer, size, tuple(s * itemsize for s in stride))
    return _finish(array, None, None, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of the given size filled with ``fill_value`` (its dtype follows the value)."""
    if out is not None:
        return _into("full", lambda dtype: full(size, fill_value, dtype=dtype, device=device),
                     out, dtype, requires_grad)
    if dtype is None:
        dtype = _dtype.from_numpy(np.asarray(fill_value).dtype)
        if dtype.is_floating_point:
            dtype = _dtype.get_default_dtype()
        elif not dtype.is_floating_point and dtype is not _dtype.bool:
            dtype = _dtype.int64
    return _filled(lambda xp, s, d: xp.full(s, fill_value, d), (size,), dtype, device,
                   requires_grad)


def eye(n: int, m: "int | None" = None, *, out=None, dtype=None, device=None,
        requires_grad: bool = False):
    """The identity matrix (n x m)."""
    return _into("eye", lambda dtype: _finish(np.eye(n, m, dtype=_numpy_dtype(dtype)), None,
                                              device, requires_grad),
                 out, dtype, requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, device=None,
           requires_grad: bool = False):
    """Values from ``start`` up to (not including) ``end`` in steps of ``step``.

    Integers give int64, any float gives the default float dtype.
    """
    if out is not None:
        return _into("arange", lambda dtype: arange(start, end, step, dtype=dtype,
                                                    device=device), out, dtype, requires_grad)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        integral = all(isinstance(v, int) for v in (start, end, step))
        dtype = _dtype.int64 if integral else _dtype.get_default_dtype()
    if dtype.is_floating_point:
        values = np.arange(start, end, step, dtype=np.float64)
    else:
        # PyTorch counts the elements in floating point, then steps by the step cast to an
        # integer: arange(0, 3.5, 1.5) of int64 is [0, 1, 2], and a step below 1 is an error.
        length = max(int(np.ceil((end - start) / step)), 0)
        if int(step) == 0:
            raise ValueError("step must be nonzero")
        values = int(start) + np.arange(length, dtype=np.int64) * int(step)
    return _finish(values, dtype, device, requires_grad)


def linspace(start, end, steps: int, *, out=None, dtype=None, device=None,
             requires_grad: bool = False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _into("linspace", lambda dtype: _finish(np.linspace(start, end, steps),
                                                   dtype or _dtype.get_default_dtype(), device,
                                                   requires_grad),
                 out, dtype, requires_grad)


def rand(*size, generator=None, out=None, dtype=None, device=None,
         requires_grad: bool = False):
    """Uniform samples from [0, 1) (into ``out`` when given)."""
    def make(dtype):
        array = random.uniform(sizes_from(size), 0.0, 1.0, _numpy_dtype(dtype),
                               _device(device), generator)
        return _finish(array, None, None, requires_grad)
    return _into("rand", make, out, dtype, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, device=None,
          requires_grad: bool = False):
    """Standard normal samples (into ``out`` when given)."""
    def make(dtype):
        array = random.normal(sizes_from(size), 0.0, 1.0, _numpy_dtype(dtype),
                              _device(device), generator)
        return _finish(array, None, None, requires_grad)
    return _into("randn", make, out, dtype, requires_grad)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, device=None,
            requires_grad: bool = False):
    """Integers from [low, high) (``randint(high, size)`` starts at 0)."""
    if out is not None:
        return _into("randint", lambda dtype: randint(low, high, size, generator=generator,
                                                      dtype=dtype, device=device),
                     out, dtype, requires_grad)
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=size)
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    values = random._rng(generator).integers(low, high, size=tuple(size), dtype=np.int64)
    return _finish(values, dtype, device, requires_grad)


def randperm(n: int, *, generator=None, out=None, dtype=None, device=None,
             requires_grad: bool = False):
    """A random permutation of 0 … n-1."""
    return _into("randperm", lambda dtype: _finish(
        random._rng(generator).permutation(n).astype(np.int64), dtype, device, requires_grad),
        out, dtype, requires_grad)


def normal(mean: float, std: float, size, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False):
    """Normal samples of mean ``mean`` and standard deviation ``std`` (numbers), of ``size``."""
    array = random.normal(sizes_from((size,)), mean, std, _numpy_dtype(dtype),
                          _device(device), generator)
    return _finish(array, None, None, requires_grad)


def _like(make):
    def like(input, *, dtype=None, device=None, requires_grad: bool = False):
        return make(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                    requires_grad=requires_grad)
    like.__name__ = make.__name__ + "_like"
    like.__doc__ = f"``{make.__name__}`` with the shape (and default dtype, device) of ``input``."
    return like


def _random_like(make):
    def like(input, *, generator=None, dtype=None, device=None, requires_grad: bool = False):
        return make(*input.shape, generator=generator, dtype=dtype or input.dtype,
                    device=device or input.device, requires_grad=requires_grad)
    like.__name__ = make.__name__ + "_like"
    like.__doc__ = f"``{make.__name__}`` with the shape (and default dtype, device) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _random_like(rand)
randn_like = _random_like(randn)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad: bool = False):
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


class Multinomial(Function):
    """Category indices drawn from the rows of non-negative weights, given the random draws:
    uniform ones (with replacement, inverted through each row's cumulative weights) or
    exponential ones (without: the ``k`` largest ``weight / draw`` are a weighted sample
    without replacement, the exponential race)."""

    differentiable = False

    @staticmethod
    def forward(ctx, weights, draws, replacement, num_samples):
        xp = _backend.array_module(weights)
        shape = weights.shape[:-1] + (num_samples,)
        weights = weights.astype(np.float64).reshape(-1, weights.shape[-1])
        draws = draws.reshape(weights.shape[0], -1)
        rows, categories = weights.shape
        if replacement:
            cumulative = xp.cumsum(weights, axis=-1)
            cumulative /= cumulative[:, -1:]
            # One searchsorted for every row: row r's values are shifted into [2r, 2r + 1].
            shift = 2.0 * xp.arange(rows)[:, None]
            # 'right': a draw lands after every category whose cumulative weight is <= it, so
            # the empty intervals of zero weights are never chosen.
            chosen = xp.searchsorted((cumulative + shift).reshape(-1),
                                     (draws + shift).reshape(-1), side="right")
            chosen = chosen.reshape(rows, -1) - categories * xp.arange(rows)[:, None]
            chosen = xp.minimum(chosen, categories - 1)
        else:
            chosen = xp.argsort(-(weights / draws), axis=-1, kind="stable")[:, :num_samples]
        return chosen.astype(np.int64).reshape(shape)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None,
                out=None):
    """``num_samples`` category indices drawn from each row of ``input``, whose (non-negative,
    not necessarily normalized) weights give the probabilities; without ``replacement`` no
    index repeats within a row.

    Example:
        >>> import ember
        >>> ember.multinomial(ember.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
        tensor([1, 1])
    """
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtype.type_name(data.dtype)}")
    if data.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = data.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    xp = _backend.array_module(data)
    if data.size and bool((~xp.isfinite(data) | (data < 0)).any()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not data.size or bool((data.sum(axis=-1) <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = random._rng(generator)
    rows = data.shape[:-1]
    if replacement:
        draws = rng.random(rows + (num_samples,))
    else:
        draws = rng.exponential(size=rows + (categories,))
    draws = _backend.move(draws, input.device)
    result = Multinomial.apply(input, draws, replacement, num_samples)
    return write_out("multinomial", result, out)


# ---- random values written in place: bernoulli_, random_, exponential_ -----------------------

def bernoulli_values(tensor, p, generator=None):
    """0/1 draws shaped like ``tensor``, 1 with probability ``p`` (a number or a tensor that
    broadcasts), in ``tensor``'s dtype."""
    probabilities = _backend.move(p._data, _backend.CPU) if isinstance(p, Tensor) else p
    draws = random._rng(generator).random(tensor._data.shape) < probabilities
    return _backend.move(draws.astype(tensor._data.dtype), tensor.device)


def integer_values(tensor, low=0, high=None, generator=None):
    """Integers from [low, high) shaped like ``tensor``; ``random_(high)`` starts at 0, and
    without bounds they run to the largest integer the dtype holds exactly (2^24 for float32,
    as PyTorch)."""
    if high is None:
        low, high = (0, low) if low else (0, _largest_exact(tensor._data.dtype) + 1)
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    draws = random._rng(generator).integers(low, high, size=tensor._data.shape)
    return _backend.move(draws.astype(tensor._data.dtype), tensor.device)


def _largest_exact(dtype) -> int:
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1)
    if dtype.kind == "b":
        return 1
    return int(np.iinfo(dtype).max)


def exponential_values(tensor, lambd=1.0, generator=None):
    """Exponential draws of rate ``lambd`` shaped like ``tensor``."""
    draws = random._rng(generator).exponential(1.0 / lambd, size=tensor._data.shape)
    return _backend.move(draws.astype(tensor._data.dtype), tensor.device)


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws, each 1 with the probability in ``input`` (or ``p``), in ``input``'s dtype.

    Example:
        >>> import ember
        >>> ember.bernoulli(ember.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    probabilities = input if p is None else p
    data = input._data if p is None else None
    if data is not None and data.size and bool(((data < 0) | (data > 1)).any()):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    result = Tensor._wrap(bernoulli_values(input, probabilities, generator))
    return write_out("bernoulli", result, out)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None):
    """The (row, column) indices of the lower triangle of a ``row`` x ``col`` matrix (on and
    below the diagonal ``offset``), as a 2 x n tensor in row-major order.

    Example:
        >>> import ember
        >>> ember.tril_indices(2, 2)
        tensor([[0, 1, 1],
                [0, 0, 1]])
    """
    rows, columns = np.tril_indices(row, offset, col)
    return _finish(np.stack([rows, columns]).astype(np.int64), dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None):
    """The (row, column) indices of the upper triangle of a ``row`` x ``col`` matrix (on and
    above the diagonal ``offset``), as a 2 x n tensor in row-major order.

    Example:
        >>> import ember
        >>> ember.triu_indices(2, 2)
        tensor([[0, 0, 1],
                [0, 1, 1]])
    """
    rows, columns = np.triu_indices(row, offset, col)
    return _finish(np.stack([rows, columns]).astype(np.int64), dtype, device)
