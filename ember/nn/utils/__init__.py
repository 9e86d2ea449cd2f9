"""Helpers around a model's parameters (gradient clipping, flattening into one vector) and
sequence batches for recurrent layers (``rnn``: padding and packing)."""

from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "rnn",
           "vector_to_parameters"]
