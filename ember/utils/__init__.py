"""Utilities that sit beside the tensor library, as in ``torch.utils``: data loading."""

from . import data

__all__ = ["data"]
