"""ember: PyTorch's programming model on NumPy (and CuPy).

``import ember as torch`` runs PyTorch programs: tensors with autograd, ``nn``, ``optim`` and
data loading, printing the same numbers.
"""

from . import _blas, _dtype, _malloc
from ._backend import device, get_default_device, set_default_device
from ._parallel import (get_num_interop_threads, get_num_threads, set_num_interop_threads,
                        set_num_threads)
from ._dtype import (bfloat16, bool, complex64, complex128, double, dtype, finfo, float,
                     float16, float32, float64, get_default_dtype, half, iinfo, int, int8, int16,
                     int32, int64, long, promote_types, set_default_dtype, short, uint8)
from ._size import Size
from ._tensor import Tensor
from ._tensor_str import set_printoptions
from ._tensor_types import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                            HalfTensor, IntTensor, LongTensor, ShortTensor, channels_last,
                            channels_last_3d, contiguous_format, memory_format, preserve_format)
from .functional import broadcast_shapes
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                 set_grad_enabled)
from .ops.creation import (arange, as_tensor, bernoulli, empty, empty_like, empty_strided, eye,
                           from_numpy, full, full_like, linspace, multinomial, normal, ones,
                           ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor,
                           tril_indices, triu_indices, zeros, zeros_like)
from .ops.elementwise import (abs, acos, acosh, add, addcdiv, addcmul, arccos, arccosh, arcsin,
                              arcsinh, arctan, arctan2, arctanh, asin, asinh, atan, atan2, atanh,
                              bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,
                              bitwise_right_shift, bitwise_xor, ceil, clamp, clamp_max, clamp_min,
                              cos, cosh, deg2rad, div, eq, erf, erfc, erfinv, exp, exp2, expm1, fix,
                              floor, floor_divide, fmod, frac, ge, gt, hypot, isclose, isfinite,
                              isinf, isnan, le, lerp, log, log10, log1p, log2, logaddexp,
                              logical_and, logical_not, logical_or, logical_xor, logit, lt, maximum,
                              minimum, mul, nan_to_num, ne, neg, pow, rad2deg, reciprocal, relu,
                              remainder, result_type, round, rsqrt, sgn, sigmoid, sign, sin, sinc,
                              sinh, sqrt, sub, tan, tanh, true_divide, trunc, where, xlogy)
from .ops.elementwise import write_out as _write_out
from .ops.indexing import (gather, index_add, index_fill, index_select, masked_fill,
                            masked_scatter, masked_select, narrow, scatter, scatter_add,
                            scatter_reduce, select, take_along_dim)
from .ops.linalg import legacy_svd as svd
from .ops.linalg import (addmm, addmv, baddbmm, bmm, cdist, dot, einsum, kron, logdet, matmul,
                         mm, mv)
from .ops.linalg import torch_cross as cross
from .ops.reduction import (all, amax, amin, aminmax, any, argmax, argmin, bincount, count_nonzero,
                            histc, logsumexp, max, mean, min, nanmean, nansum, norm, prod, std,
                            std_mean, sum, var, var_mean)
from .ops.scan import cummax, cummin, cumprod, cumsum, logcumsumexp
from .ops.shape import (atleast_1d, atleast_2d, atleast_3d, block_diag, broadcast_tensors,
                        broadcast_to, cartesian_prod, cat, chunk, clone, column_stack, diag,
                        diagonal, diff, dstack, flatten, flip, fliplr, flipud, hstack, meshgrid,
                        moveaxis, movedim, outer, permute, ravel, repeat_interleave, reshape, roll,
                        rot90, split, squeeze, stack, swapaxes, swapdims, t, tensor_split, tile,
                        trace, transpose, tril, triu, unbind, unflatten, unsqueeze, vstack)
from .ops.sorting import (argsort, argwhere, bucketize, isin, kthvalue, median, nonzero,
                          quantile, searchsorted, sort, topk, unique, unique_consecutive)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

# The subpackages come after Tensor and the ops, which they import.
from . import autograd, cuda, linalg, nn, optim, utils  # noqa: E402
from . import (accelerator, amp, backends, cpu, distributed, mps, onnx,  # noqa: E402
               version)
from .amp import autocast  # noqa: E402
from .compile import compile  # noqa: E402
from .backends import (are_deterministic_algorithms_enabled,  # noqa: E402
                       get_float32_matmul_precision,
                       is_deterministic_algorithms_warn_only_enabled,
                       set_float32_matmul_precision, use_deterministic_algorithms)
from .ops.activation import log_softmax_along as log_softmax  # noqa: E402
from .ops.activation import softmax_along as softmax  # noqa: E402

# Importing ember changes no process-wide setting unless the environment asks for it
# (EMBER_MALLOC_TUNING=1); ember scopes OpenBLAS's thread count to its own products.
from ._parallel import get_cpu_tuning, set_cpu_tuning  # noqa: E402
_malloc.tune_if_asked()

from .version import __version__  # noqa: E402
from . import __config__  # noqa: E402


def show_config() -> None:
    """Print how ember was built and what it runs on (``ember.__config__.show()``): whether
    the compiled CPU kernels are in use, thread counts, versions."""
    print(__config__.show(), end="")

clip = clamp
concat = cat
multiply = mul
subtract = sub
divide = div


def concatenate(tensors, axis: int = 0, out=None) -> Tensor:
    """``cat`` with NumPy's name for the dimension, as ``torch.concatenate`` has it."""
    return _write_out("concatenate", cat(tensors, axis), out)


def inverse(input: Tensor, *, out=None) -> Tensor:
    """``linalg.inv``: the inverse of each square matrix in ``input``."""
    return linalg.inv(input, out=out)


def det(input: Tensor) -> Tensor:
    """``linalg.det``: the determinant of each square matrix in ``input``."""
    return linalg.det(input)


def is_floating_point(input: Tensor) -> "bool":
    """True when ``input`` holds floating-point numbers."""
    return input.is_floating_point()


def is_complex(input: Tensor) -> "bool":
    """True when ``input`` holds complex numbers."""
    return input.is_complex()


def is_tensor(obj, /) -> "bool":
    """True when ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> "int":
    """The number of elements in ``input``."""
    return input.numel()


def equal(input: Tensor, other: Tensor) -> "bool":
    """True when both tensors have the same shape and elements."""
    return input.equal(other)


def allclose(input: Tensor, other: Tensor, rtol=1e-05, atol=1e-08, equal_nan=False) -> "bool":
    """True when all elements are close: ``|input - other| <= atol + rtol * |other|``."""
    return input.allclose(other, rtol, atol, equal_nan)


def square(input: Tensor, *, out=None) -> Tensor:
    """``input ** 2``, elementwise."""
    return _write_out("square", input ** 2, out)


# Names that load their module on first use (PEP 562), so that ``import ember`` pays only for
# what nearly every program uses at once: Tensor, the ops, nn, optim. These are as PyTorch has
# them after ``import torch`` (``vision`` is ember's torchvision), but each pulls in standard
# library modules or code most programs never run (zipfile and pickle for ``save``, Python's
# multiprocessing). ``import ember.x`` and ``from ember import x`` work as for any module.
# name -> (module, attribute of it or None for the module itself)
_LAZY = {
    "load": ("serialization", "load"),
    "multiprocessing": ("multiprocessing", None),
    "profiler": ("profiler", None),
    "save": ("serialization", "save"),
    "serialization": ("serialization", None),
    "vision": ("vision", None),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # found directly from now on
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


# PyTorch's top-level in-place forms: ``torch.sin_(t)`` is ``t.sin_()``.
_INPLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_",
    "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "index_put_", "log10_", "log1p_",
    "log2_", "log_", "logit_", "nan_to_num_", "neg_", "rad2deg_", "reciprocal_",
    "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_",
    "tan_", "tanh_", "trunc_", "xlogy_", "zero_")


def _inplace_function(name: str):
    def function(input: Tensor, *args, **kwargs) -> Tensor:
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)``: ``{name[:-1]}`` in place."
    return function


for _name in _INPLACE_FUNCTIONS:
    globals()[_name] = _inplace_function(_name)
del _name

# ``from ember import *`` gives every public name, the deferred ones that ``import ember`` once
# loaded included: without ``__all__`` a star import takes the module's globals and never asks
# ``__getattr__``. (``profiler`` and ``vision`` were never loaded by ``import ember``.)
__all__ = sorted([name for name in globals() if not name.startswith("_")]
                 + ["load", "multiprocessing", "save", "serialization"])
