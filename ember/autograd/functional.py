"""Derivatives of whole functions, as in ``torch.autograd.functional``: ``vjp``, ``jacobian``
and ``jvp``.

Each takes a function of one tensor or a tuple of tensors, runs it on detached copies of the
inputs that require grad, and differentiates with ember's reverse mode: ``vjp`` in one backward
pass, ``jacobian`` in one backward pass per output element (on the same retained graph), and
``jvp`` as the Jacobian's product with ``v``, exact but at the Jacobian's cost (PyTorch's
double-backward trick needs gradients of gradients). Results follow PyTorch's structure: a
tensor where the function took or returned a tensor, a tuple where it took or returned a
tuple, and a tuple of tuples (output-major) for a Jacobian of several outputs and inputs.

``hessian``, ``hvp`` and ``vhp`` need second derivatives (``create_graph=True``), which ember's
autograd does not compute; they raise NotImplementedError, as ``create_graph=True`` does here.
"""

from .. import _tensor
from ..ops.creation import zeros_like
from ..ops.shape import stack
from . import grad as autograd_grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_NO_CREATE_GRAPH = ("ember does not support higher-order gradients (create_graph=True), "
                    "which {} needs")


def _as_tuple(value, arg_name: str, fn_name: str):
    """(whether ``value`` was a tuple, ``value`` as a tuple), each element checked a Tensor."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for index, item in enumerate(values):
        if not isinstance(item, _tensor.Tensor):
            where = (f"value at index {index}" if is_tuple else f"given {arg_name}")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the {where} has type {type(item)}.")
    return is_tuple, values


def _zeros_like(tensor):
    return zeros_like(tensor).detach()


def _unpack(result, is_tuple: bool):
    return result if is_tuple else result[0]


def _validate_v(v, other, is_other_tuple: bool) -> None:
    """``v`` (a tuple) must match ``other`` (outputs for vjp, inputs for jvp) in number and
    shapes."""
    if len(v) != len(other):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for index, (item, reference) in enumerate(zip(v, other)):
        if item.shape != reference.shape:
            prefix = f"Entry {index} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {reference.shape} but "
                               f"got {item.shape}.")


def _check_outputs_require_grad(outputs, strict: bool) -> None:
    if not strict:
        return
    for index, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(f"Output {index} of the user-provided function does not require "
                               "gradients. The outputs must be computed in a differentiable "
                               "manner from the input when running in strict mode.")


def _run(func, inputs, fn_name: str):
    """Call ``func`` on detached copies of ``inputs`` that require grad, with grad mode on;
    (is_inputs_tuple, inputs, is_outputs_tuple, outputs)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = tuple(item.detach().requires_grad_(True) for item in inputs)
    with enable_grad():
        outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          fn_name)
    return is_inputs_tuple, inputs, is_outputs_tuple, outputs


def _gradients(outputs, inputs, grad_outputs, retain_graph: bool = False) -> tuple:
    """``autograd.grad`` over the outputs that require grad (None per input when none does,
    and for inputs the outputs do not depend on)."""
    pairs = [(output, grad) for output, grad in zip(outputs, grad_outputs)
             if output.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return autograd_grad([output for output, _ in pairs], inputs, [grad for _, grad in pairs],
                         retain_graph=retain_graph, allow_unused=True)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The outputs of ``func(*inputs)`` and the vector-Jacobian product ``v^T J`` (the gradient
    of ``sum(v * outputs)`` with respect to each input).

    Args:
        func: takes the inputs, returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors.
        v: one tensor per output, of its shape; may be None for a one-element output.
        create_graph: not supported (ember has no higher-order gradients).
        strict: raise if an output does not require grad or does not depend on an input,
            instead of giving zeros.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import vjp
        >>> vjp(lambda x: x ** 2, ember.tensor([1.0, 2.0]), ember.ones(2))
        (tensor([1., 4.]), tensor([2., 4.]))
    """
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH.format("vjp(create_graph=True)"))
    is_inputs_tuple, inputs, is_outputs_tuple, outputs = _run(func, inputs, "vjp")
    _check_outputs_require_grad(outputs, strict)
    if v is not None:
        v = tuple(item.detach() for item in _as_tuple(v, "v", "vjp")[1])
        _validate_v(v, outputs, is_outputs_tuple)
    elif len(outputs) != 1 or outputs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the user-provided function "
                           "returns a single Tensor with a single element.")
    else:
        v = (None,)
    grads = _gradients(outputs, inputs, v)
    result = []
    for index, (grad, item) in enumerate(zip(grads, inputs)):
        if grad is None:
            if strict:
                raise RuntimeError("The output of the user-provided function is independent "
                                   f"of input {index}. This is not allowed in strict mode.")
            grad = _zeros_like(item)
        result.append(grad)
    outputs = tuple(output.detach() for output in outputs)
    return _unpack(outputs, is_outputs_tuple), _unpack(tuple(result), is_inputs_tuple)


def _jacobians(outputs, inputs, strict: bool) -> tuple:
    """One tuple per output of its Jacobians (output shape + input shape) for every input,
    from one backward pass per output element."""
    jacobians = []
    for out_index, output in enumerate(outputs):
        rows = [[] for _ in inputs]
        for element in range(output.numel()):
            one_hot = _zeros_like(output)
            one_hot.view(-1)[element] = 1
            grads = _gradients((output,), inputs, (one_hot,), retain_graph=True)
            for in_index, (grad, item) in enumerate(zip(grads, inputs)):
                if grad is None:
                    if strict:
                        raise RuntimeError(f"Output {out_index} of the user-provided function "
                                           f"is independent of input {in_index}. This is not "
                                           "allowed in strict mode.")
                    grad = _zeros_like(item)
                rows[in_index].append(grad.reshape(-1))
        jacobians.append(tuple(stack(row).reshape(tuple(output.shape) + tuple(item.shape))
                               for row, item in zip(rows, inputs)))
    return tuple(jacobians)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j, a tensor of shape
    ``outputs[i].shape + inputs[j].shape`` holding d outputs[i] / d inputs[j].

    A tensor when ``func`` takes and returns a tensor; a tuple over inputs (or outputs) when
    one side is a tuple; a tuple of tuples ``[i][j]`` when both are. ``vectorize`` and
    ``strategy`` choose how PyTorch computes it; ember computes the same values in reverse
    mode, one backward pass per output element, either way.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import jacobian
        >>> jacobian(lambda x: x ** 2, ember.tensor([1.0, 3.0]))
        tensor([[2., 0.],
                [0., 6.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-"
                                      "reverse Hessian isonly implemented for "
                                      "`vectorize=True`.")
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH.format("jacobian(create_graph=True)"))
    is_inputs_tuple, inputs, is_outputs_tuple, outputs = _run(func, inputs, "jacobian")
    _check_outputs_require_grad(outputs, strict)
    if vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    jacobians = _jacobians(outputs, inputs, strict)
    if not is_inputs_tuple:
        jacobians = tuple(per_output[0] for per_output in jacobians)
    return _unpack(jacobians, is_outputs_tuple)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The outputs of ``func(*inputs)`` and the Jacobian-vector product ``J v`` (how the
    outputs change along ``v``), one tensor per output.

    Exact, computed as the Jacobian (one backward pass per output element) times ``v``.
    ``strict=True`` is not supported: PyTorch's check that a gradient depends on the inputs
    needs second derivatives.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import jvp
        >>> jvp(lambda x: x ** 2, ember.tensor([1.0, 2.0]), ember.ones(2))
        (tensor([1., 4.]), tensor([2., 4.]))
    """
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH.format("jvp(create_graph=True)"))
    if strict:
        raise NotImplementedError("jvp(strict=True) checks that gradients depend on the "
                                  "inputs, which needs higher-order gradients "
                                  "(create_graph=True); ember does not support them")
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    if v is not None:
        v = tuple(item.detach() for item in _as_tuple(v, "v", "jvp")[1])
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    else:
        v = (_zeros_like(inputs[0]) + 1,)
    _, inputs, is_outputs_tuple, outputs = _run(func, inputs, "jvp")
    jacobians = _jacobians(outputs, inputs, strict=False)
    products = []
    for output, per_input in zip(outputs, jacobians):
        total = _zeros_like(output).reshape(-1)
        for jacobian_ij, v_j in zip(per_input, v):
            total = total + jacobian_ij.reshape(output.numel(), -1).matmul(
                v_j.reshape(-1).to(jacobian_ij.dtype))
        products.append(total.reshape(output.shape))
    outputs = tuple(output.detach() for output in outputs)
    return _unpack(outputs, is_outputs_tuple), _unpack(tuple(products), is_outputs_tuple)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function: not available in ember, which has no higher-order
    gradients (PyTorch differentiates the gradient with ``create_graph=True``)."""
    raise NotImplementedError(_NO_CREATE_GRAPH.format("hessian"))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Hessian-vector product: not available in ember (needs higher-order gradients)."""
    raise NotImplementedError(_NO_CREATE_GRAPH.format("hvp"))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Hessian product: not available in ember (needs higher-order gradients)."""
    raise NotImplementedError(_NO_CREATE_GRAPH.format("vhp"))
