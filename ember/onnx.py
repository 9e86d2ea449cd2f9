"""``ember.onnx``: present so that programs importing ``torch.onnx`` run; ember cannot export
ONNX models.

Example:
    >>> import ember.onnx  # as ``import torch.onnx``; export raises NotImplementedError
"""


def export(model, args=(), f=None, **kwargs):
    """Raises NotImplementedError: ember records no graph that ONNX could be written from
    (save the weights with ``ember.save(model.state_dict(), path)`` instead)."""
    raise NotImplementedError("ember cannot export ONNX models (ember.onnx.export): save the "
                              "weights with ember.save(model.state_dict(), path) and export "
                              "from PyTorch")
