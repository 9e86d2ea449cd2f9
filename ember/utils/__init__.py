"""Utilities that sit beside the tensor library, as in ``torch.utils``: data loading and
activation checkpointing."""

import importlib

__all__ = ["checkpoint", "data"]


def __getattr__(name: str):
    # ``data`` and ``checkpoint`` are attributes as in torch.utils, loaded on first use so that
    # importing ember does not pay for them (the DataLoader brings Python's multiprocessing).
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
