"""Neural-network building blocks: Module, Parameter, layers, losses, init, functional."""

from . import functional, init, modules, utils
from .modules import *  # noqa: F403  (every layer, as listed in modules.__all__)
from .parameter import Parameter

__all__ = ["functional", "init", "utils", "Parameter", *modules.__all__]
