"""What the test files that compare an ember module with its PyTorch twin share: moving
tensors across, copying PyTorch's weights into ember, and the errors both libraries raise."""

import warnings

import numpy as np
import pytest
import torch

import ember


def to_ember(tensor: torch.Tensor, requires_grad: bool = False) -> ember.Tensor:
    return ember.tensor(tensor.detach().numpy(), requires_grad=requires_grad)


def as_numpy(tensor) -> np.ndarray:
    """An ember or PyTorch tensor's values (from the GPU too)."""
    return np.asarray(tensor.detach().cpu().numpy())


def copy_weights(ember_module, torch_module) -> None:
    """Load the PyTorch module's parameters and buffers into the ember module."""
    ember_module.load_state_dict({key: to_ember(value)
                                  for key, value in torch_module.state_dict().items()})


def check_parameter_grads(ember_module, torch_module, rtol: float = 1e-4,
                          atol: float = 1e-5) -> None:
    """Each parameter's gradient in ember is PyTorch's, parameters matched by name."""
    ember_parameters = dict(ember_module.named_parameters())
    for name, parameter in torch_module.named_parameters():
        np.testing.assert_allclose(as_numpy(ember_parameters[name].grad),
                                   as_numpy(parameter.grad), rtol=rtol, atol=atol, err_msg=name)


def errors_of(call):
    """The (type, message) each library raises for ``call(lib)``, PyTorch's with "torch" read
    as "ember"."""
    raised = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call(lib)
        raised.append((info.type, str(info.value).replace("torch", "ember")))
    return raised
