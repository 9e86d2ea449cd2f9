"""gradcheck: compare backward's gradients with central finite differences, in float64."""

import numpy as np


def numerical_jacobian(function, inputs, index, eps):
    """d(outputs)/d(inputs[index]) by central differences, one column per input element."""
    from .grad_mode import no_grad
    target = inputs[index]
    flat = target._data.reshape(-1)
    columns = []
    with no_grad():
        for i in range(flat.size):
            original = flat[i].item()
            flat[i] = original + eps
            plus = _flat_outputs(function(*inputs))
            flat[i] = original - eps
            minus = _flat_outputs(function(*inputs))
            flat[i] = original
            columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1)


def _flat_outputs(outputs):
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return np.concatenate([np.asarray(o._data, dtype=np.float64).reshape(-1) for o in outputs
                           if o.dtype.is_floating_point])


def analytical_jacobian(function, inputs, index):
    """d(outputs)/d(inputs[index]) from backward, one row per output element."""
    from . import grad as autograd_grad
    outputs = function(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    outputs = [o for o in outputs if o.dtype.is_floating_point]
    rows = []
    for k, output in enumerate(outputs):
        for j in range(output.numel()):
            seed = np.zeros(output._data.size)
            seed[j] = 1.0
            grad_outputs = [np.zeros(o._data.shape) for o in outputs]
            grad_outputs[k] = seed.reshape(output._data.shape)
            from .._tensor import Tensor
            (g,) = autograd_grad(outputs, [inputs[index]],
                                 [Tensor._wrap(go) for go in grad_outputs],
                                 retain_graph=True, allow_unused=True)
            rows.append(np.zeros(inputs[index].numel()) if g is None
                        else np.asarray(g._data, dtype=np.float64).reshape(-1))
    return np.stack(rows, axis=0)


def gradcheck(function, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """True when backward agrees with finite differences for every input that requires grad.

    Inputs must be float64 tensors: float32 differences are too coarse to compare.

    Example:
        >>> import ember
        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> ember.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for index, tensor in enumerate(inputs):
        if not getattr(tensor, "requires_grad", False):
            continue
        if tensor.dtype.name != "float64":
            raise ValueError("gradcheck expects float64 inputs; got "
                             f"{tensor.dtype} for input {index}")
        numerical = numerical_jacobian(function, inputs, index, eps)
        analytical = analytical_jacobian(function, inputs, index)
        if not np.allclose(analytical, numerical, atol=atol, rtol=rtol):
            if raise_exception:
                raise RuntimeError(f"Jacobian mismatch for output 0 with respect to input "
                                   f"{index},\nnumerical:{numerical}\nanalytical:{analytical}\n")
            return False
    return True
