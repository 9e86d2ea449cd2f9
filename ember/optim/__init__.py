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

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
