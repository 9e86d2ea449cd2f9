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
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                 set_grad_enabled)
from .ops.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,
                           full_like, linspace, normal, ones, ones_like, rand, rand_like, randint,
                           randn, randn_like, randperm, tensor, zeros, zeros_like)
from .ops.elementwise import (abs, add, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil,
                              clamp, cos, div, eq, exp, expm1, floor, floor_divide, ge, gt,
                              isclose, isfinite, isinf, isnan, le, lerp, log, log1p, log2, log10,
                              logical_not, lt, maximum, minimum, mul, ne, neg, pow, reciprocal,
                              relu, remainder, result_type, round, rsqrt, sigmoid, sign, sin,
                              sqrt, sub, tanh, true_divide, where)
from .ops.elementwise import write_out as _write_out
from .ops.indexing import gather, index_select, masked_fill
from .ops.linalg import addmm, bmm, dot, matmul, mm, mv
from .ops.reduction import (all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min,
                            norm, prod, std, sum, var)
from .ops.scan import cumprod, cumsum
from .ops.shape import (cat, chunk, clone, flatten, flip, permute, reshape, roll, split, squeeze,
                        stack, t, transpose, unbind, unsqueeze)
from .ops.sorting import argsort, sort, topk
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

# The subpackages come after Tensor and the ops, which they import.
from . import autograd, cuda, nn, optim, utils  # noqa: E402
from . import (accelerator, amp, backends, cpu, distributed, mps,  # noqa: E402
               multiprocessing, onnx, version)
from .amp import autocast  # noqa: E402
from .backends import (are_deterministic_algorithms_enabled,  # noqa: E402
                       get_float32_matmul_precision,
                       is_deterministic_algorithms_warn_only_enabled,
                       set_float32_matmul_precision, use_deterministic_algorithms)
from .ops.activation import log_softmax_along as log_softmax  # noqa: E402
from .ops.activation import softmax_along as softmax  # noqa: E402
from .serialization import load, save  # noqa: E402

# Importing ember changes no process-wide setting unless the environment asks for it
# (EMBER_MALLOC_TUNING=1); ember scopes OpenBLAS's thread count to its own products.
from ._parallel import get_cpu_tuning, set_cpu_tuning  # noqa: E402
_malloc.tune_if_asked()

from .version import __version__  # noqa: E402

clip = clamp
concat = cat
multiply = mul
subtract = sub
divide = div


def concatenate(tensors, axis: int = 0, out=None) -> Tensor:
    """``cat`` with NumPy's name for the dimension, as ``torch.concatenate`` has it."""
    return _write_out("concatenate", cat(tensors, axis), out)


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

