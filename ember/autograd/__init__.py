"""Reverse-mode automatic differentiation: ``backward``, ``grad``, ``Function``, ``gradcheck``."""

import importlib

from .. import _dtype, _tensor
from . import engine
from .function import FunctionCtx
from .function import UserFunction as Function
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck

__all__ = ["Function", "FunctionCtx", "backward", "grad", "gradcheck", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "functional", "profiler"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _initial_grads(outputs, grad_outputs):
    """One gradient array per output; ones for a one-element output given none."""
    grads = []
    for index, (output, grad) in enumerate(zip(outputs, grad_outputs)):
        if not output.requires_grad:
            raise RuntimeError(f"element {index} of tensors does not require grad and does not "
                               "have a grad_fn")
        if grad is None:
            if output.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            xp = _tensor.array_module(output._data)
            grads.append(xp.ones(output._data.shape, output._data.dtype))
            continue
        data = grad._data if isinstance(grad, _tensor.Tensor) else grad
        if tuple(data.shape) != tuple(output._data.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                               f"{_tensor.Size(data.shape)} and output[0] has a shape of "
                               f"{output.shape}.")
        dtype = output._data.dtype
        if data.dtype != dtype:
            # As PyTorch's engine: a gradient of another dtype is cast to the output's (each
            # backward formula then meets the dtype it was written for), but not to or from
            # complex, which would drop or invent an imaginary part.
            if data.dtype.kind == "c" or dtype.kind == "c":
                raise RuntimeError(
                    "For complex Tensors, both grad_output and output are required to have the "
                    f"same dtype. Mismatch in dtype: grad_output[{index}] has a dtype of "
                    f"{_dtype.from_numpy(data.dtype)} and output[{index}] has a dtype of "
                    f"{_dtype.from_numpy(dtype)}.")
            data = data.astype(dtype)
        grads.append(data)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             inputs=None) -> None:
    """Accumulate into the leaves' ``.grad`` the gradient of ``tensors``.

    Example:
        >>> import ember
        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> ember.autograd.backward((x * 3).sum())
        >>> x.grad
        tensor([3., 3.])
    """
    if create_graph:
        raise NotImplementedError("ember does not support higher-order gradients "
                                  "(create_graph=True)")
    outputs = _as_list(tensors)
    grad_outputs = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(outputs)
    grads = _initial_grads(outputs, grad_outputs)
    if inputs is not None:
        inputs = _as_list(inputs)
        results = engine.run_backward(outputs, grads, bool(retain_graph), capture=inputs)
        for tensor, grad in zip(inputs, results):
            if grad is None:
                continue
            if tensor.grad_fn is None:
                tensor._edge()[0].accumulate(grad)
            else:
                tensor._accumulate_retained(grad)
        return
    engine.run_backward(outputs, grads, bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    Example:
        >>> import ember
        >>> x = ember.tensor(3.0, requires_grad=True)
        >>> ember.autograd.grad(x * x, x)
        (tensor(6.),)
    """
    if create_graph:
        raise NotImplementedError("ember does not support higher-order gradients "
                                  "(create_graph=True)")
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    grads = _initial_grads(outputs, grad_outputs)
    for tensor in inputs:
        if not tensor.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    results = engine.run_backward(outputs, grads, bool(retain_graph), capture=inputs)
    gradients = []
    for index, (tensor, result) in enumerate(zip(inputs, results)):
        if result is None:
            if materialize_grads:
                result = _tensor.array_module(tensor._data).zeros_like(tensor._data)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {index} appears to not "
                                   "have been used in the graph. Set allow_unused=True if this "
                                   "is the desired behavior.")
        gradients.append(None if result is None else _tensor.Tensor._wrap(result))
    return tuple(gradients)


def __getattr__(name: str):
    # ``functional`` and ``profiler`` are attributes as in torch.autograd, loaded on first use
    # so that importing ember does not pay for them.
    if name in ("functional", "profiler"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
