"""Random number generators: one default generator, seeded by ``ember.manual_seed``.

ember draws from NumPy's PCG64 (and CuPy's generator for GPU tensors), so a seed gives the same
numbers on every run, but not the numbers PyTorch's Mersenne Twister gives for that seed.
"""

import functools

import numpy as np

from . import _backend, _recording

_DEFAULT_SEED = 67280421310721  # fixed, so that an unseeded program is reproducible too


class Generator:
    """A source of random numbers with its own state, for reproducible shuffling and init.

    Example:
        >>> import ember
        >>> g = ember.Generator().manual_seed(0)
        >>> ember.randperm(4, generator=g).tolist() == ember.randperm(
        ...     4, generator=ember.Generator().manual_seed(0)).tolist()
        True
    """

    def __init__(self, device="cpu") -> None:
        self.device = _backend.device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state) -> None:
        self.rng.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and CuPy's, when present)."""
    default_generator.manual_seed(seed)
    if _backend.cupy is not None and _backend.cuda_available():
        _backend.cupy.random.seed(int(seed) % (2 ** 32))
    return default_generator


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


def _rng(generator):
    if _recording.recorder is not None:  # a draw outside the functions marked _drawn_again
        _recording.recorder.unsupported("draws random numbers that a replay would repeat")
    return (generator or default_generator).rng


def _drawn_again(draw):
    """Mark ``draw``, a function that returns a new array of random numbers: while
    ``ember.compile`` captures a step the call is recorded, and each replay draws afresh (from
    the generator's state then, so a replay gives the numbers the eager step would)."""

    @functools.wraps(draw)
    def draw_or_record(*args, **kwargs):
        if _recording.recorder is None:
            return draw(*args, **kwargs)
        return _recording.recorder.draw(draw, *args, **kwargs)

    return draw_or_record


@_drawn_again
def uniform(shape, low, high, dtype, device, generator=None):
    """An array of uniform samples in [low, high), drawn on the CPU and moved to ``device``."""
    values = _rng(generator).random(shape, dtype=np.float64) * (high - low) + low
    return _backend.move(values.astype(dtype, copy=False), device)


@_drawn_again
def normal(shape, mean, std, dtype, device, generator=None):
    """An array of normal samples, drawn on the CPU and moved to ``device``."""
    values = _rng(generator).standard_normal(shape, dtype=np.float32 if dtype == np.float32
                                             else np.float64)
    if std != 1 or mean != 0:
        values = values * std + mean
    return _backend.move(values.astype(dtype, copy=False), device)


def uniform_array(tensor, low, high, generator=None):
    """Uniform samples shaped like ``tensor`` (for ``Tensor.uniform_``)."""
    return uniform(tensor._data.shape, low, high, tensor._data.dtype, tensor.device, generator)


def normal_array(tensor, mean, std, generator=None):
    """Normal samples shaped like ``tensor`` (for ``Tensor.normal_``)."""
    return normal(tensor._data.shape, mean, std, tensor._data.dtype, tensor.device, generator)


@_drawn_again
def dropout_mask(shape, p: float, dtype, device, generator=None):
    """What dropout multiplies by: 0 with probability ``p``, else ``1 / (1 - p)`` (``p < 1``)."""
    keep = uniform(shape, 0.0, 1.0, np.float32, device, generator) >= p
    return keep.astype(dtype) * (1.0 / (1.0 - p))
