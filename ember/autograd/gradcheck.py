"""gradcheck: compare backward's gradients with central finite differences, in float64."""

import numpy as np

from .. import _backend


def numerical_jacobian(function, inputs, index, eps):
    """d(outputs)/d(inputs[index]) by central differences, one column per input element."""
    from .grad_mode import no_grad
    data = inputs[index]._data
    columns = []
    with no_grad():
        # Perturb the input's own memory element by element (C order, as gradients flatten);
        # a reshape(-1) of a non-contiguous input would perturb a copy instead.
        for position in np.ndindex(data.shape):
            original = data[position].item()
            data[position] = original + eps
            plus = _flat_outputs(function(*inputs))
            data[position] = original - eps
            minus = _flat_outputs(function(*inputs))
            data[position] = original
            columns.append((plus - minus) / (2 * eps))
    if not columns:  # an empty input: a Jacobian without columns
        return np.zeros((_flat_outputs(function(*inputs)).size, 0))
    return np.stack(columns, axis=1)


def _as_numpy(array):
    """A float64 NumPy copy of an array from any device."""
    return np.asarray(_backend.move(array, _backend.CPU), dtype=np.float64)


def _flat_outputs(outputs):
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return np.concatenate([_as_numpy(o._data).reshape(-1) for o in outputs
                           if o.dtype.is_floating_point])


def analytical_jacobian(function, inputs, index):
    """d(outputs)/d(inputs[index]) from backward, one row per output element."""
    from .._tensor import Tensor
    from . import grad as autograd_grad
    outputs = function(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    outputs = [o for o in outputs if o.dtype.is_floating_point]
    differentiable = [o for o in outputs if o.requires_grad]
    rows = []
    for output in outputs:
        for j in range(output.numel()):
            if not output.requires_grad:  # constant in every input: a row of zeros
                rows.append(np.zeros(inputs[index].numel()))
                continue
            xp = _backend.array_module(output._data)
            grad_outputs = [xp.zeros(o._data.shape, o._data.dtype) for o in differentiable]
            position = next(k for k, o in enumerate(differentiable) if o is output)
            grad_outputs[position].reshape(-1)[j] = 1.0
            (g,) = autograd_grad(differentiable, [inputs[index]],
                                 [Tensor._wrap(go) for go in grad_outputs],
                                 retain_graph=True, allow_unused=True)
            rows.append(np.zeros(inputs[index].numel()) if g is None
                        else _as_numpy(g._data).reshape(-1))
    if not rows:  # empty outputs: a Jacobian without rows
        return np.zeros((0, inputs[index].numel()))
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
