"""Neural-network building blocks: Module, Parameter, layers, losses, init, functional."""

from . import functional, init, modules, parallel, utils
from .modules import *  # noqa: F403  (every layer, as listed in modules.__all__)
from .parallel import DataParallel
from .parameter import Parameter

__all__ = ["functional", "init", "parallel", "utils", "DataParallel", "Parameter",
           *modules.__all__]
