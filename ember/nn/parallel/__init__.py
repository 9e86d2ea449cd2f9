"""``ember.nn.parallel``: ``DataParallel`` (one device) and ``DistributedDataParallel`` (one
process per rank, on ``ember.distributed``: see ``distributed.py``).

Example:
    >>> import ember
    >>> model = ember.nn.DataParallel(ember.nn.Linear(2, 1))
    >>> model(ember.ones(3, 2)).shape
    ember.Size([3, 1])
"""

from ... import _backend
from ..modules.module import Module
from .distributed import DistributedDataParallel


class DataParallel(Module):
    """Runs ``module`` on its device. PyTorch splits each batch across its GPUs; with none it
    calls the module as is, and so does ember everywhere: it does not split a batch across
    GPUs (``device_ids`` naming more than one raises NotImplementedError).

    The wrapper's parameters are the module's, under ``module.`` (``state_dict`` keys
    ``module.weight``), as in PyTorch.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.dim = dim
        self.device_ids = []
        self.output_device = None
        if not _backend.cuda_available():
            return
        from ... import cuda
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        self.device_ids = [_backend.device(d).index or 0 for d in device_ids]
        if len(self.device_ids) > 1:
            raise NotImplementedError("ember's DataParallel runs a module on one device; it "
                                      f"cannot split batches across GPUs {self.device_ids}")
        self.output_device = self.device_ids[0] if output_device is None else output_device

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


__all__ = ["DataParallel", "DistributedDataParallel"]
