"""Tensor creation: tensor, zeros/ones/full/empty, arange/linspace, rand/randn/randint, *_like."""

import numpy as np

from .. import _backend, _dtype, random
from .._tensor import Tensor
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


def zeros(*size, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of zeros of the given size."""
    return _filled(lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of ones of the given size."""
    return _filled(lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of the given size with unspecified values."""
    return _filled(lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False):
    """A tensor of the given size filled with ``fill_value`` (its dtype follows the value)."""
    if dtype is None:
        dtype = _dtype.from_numpy(np.asarray(fill_value).dtype)
        if dtype.is_floating_point:
            dtype = _dtype.get_default_dtype()
        elif not dtype.is_floating_point and dtype is not _dtype.bool:
            dtype = _dtype.int64
    return _filled(lambda xp, s, d: xp.full(s, fill_value, d), (size,), dtype, device,
                   requires_grad)


def eye(n: int, m: "int | None" = None, *, dtype=None, device=None,
        requires_grad: bool = False):
    """The identity matrix (n x m)."""
    return _finish(np.eye(n, m, dtype=_numpy_dtype(dtype)), None, device, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False):
    """Values from ``start`` up to (not including) ``end`` in steps of ``step``.

    Integers give int64, any float gives the default float dtype.
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        integral = all(isinstance(v, int) for v in (start, end, step))
        dtype = _dtype.int64 if integral else _dtype.get_default_dtype()
    values = np.arange(start, end, step, dtype=np.float64 if dtype.is_floating_point
                       else np.int64)
    return _finish(values, dtype, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _finish(np.linspace(start, end, steps), dtype or _dtype.get_default_dtype(), device,
                   requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False):
    """Uniform samples from [0, 1)."""
    array = random.uniform(sizes_from(size), 0.0, 1.0, _numpy_dtype(dtype),
                           _device(device), generator)
    return _finish(array, None, None, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False):
    """Standard normal samples."""
    array = random.normal(sizes_from(size), 0.0, 1.0, _numpy_dtype(dtype),
                          _device(device), generator)
    return _finish(array, None, None, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False):
    """Integers from [low, high) (``randint(high, size)`` starts at 0)."""
    if size is None:
        low, high, size = 0, low, high
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    values = random._rng(generator).integers(low, high, size=tuple(size), dtype=np.int64)
    return _finish(values, dtype, device, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False):
    """A random permutation of 0 … n-1."""
    return _finish(random._rng(generator).permutation(n).astype(np.int64), dtype, device,
                   requires_grad)


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
