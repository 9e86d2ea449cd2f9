"""Optimizers and learning-rate schedulers, as in ``torch.optim``.

Example:
    >>> import ember
    >>> w = ember.tensor([1.0, 2.0], requires_grad=True)
    >>> optimizer = ember.optim.SGD([w], lr=0.5)
    >>> optimizer.zero_grad()
    >>> (w * w).sum().backward()
    >>> optimizer.step()
    >>> w
    tensor([0., 0.], requires_grad=True)
"""

import importlib

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["ASGD", "Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "LBFGS", "NAdam",
           "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam", "lr_scheduler"]


def __getattr__(name: str):
    # ``lr_scheduler`` is an attribute as in torch.optim, loaded on first use so that importing
    # ember does not pay for its twenty schedulers.
    if name == "lr_scheduler":
        return importlib.import_module(f"{__name__}.lr_scheduler")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"lr_scheduler"})
