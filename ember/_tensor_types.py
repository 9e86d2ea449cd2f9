"""The legacy tensor types (``ember.FloatTensor``, ``LongTensor`` ...) and memory formats.

A legacy type is no class of its own: ``FloatTensor([1, 2])`` makes an ordinary ``Tensor``
of float32, and ``isinstance(t, FloatTensor)`` asks for a CPU tensor of that dtype, as PyTorch's
types (made by a metaclass) do.
"""

import numpy as np

from . import _dtype
from ._size import Size
from ._tensor import Tensor


class _LegacyTensorType(type):
    """The metaclass: ``isinstance`` checks the dtype and device, calling makes a Tensor."""

    def __instancecheck__(cls, instance) -> bool:
        return (isinstance(instance, Tensor) and instance._data.dtype == cls.dtype.numpy
                and instance.device.type == "cpu")

    def __call__(cls, *args, device=None):
        """``Type(2, 3)`` (a size: uninitialized), ``Type(Size)``, ``Type([1, 2])`` (data)."""
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0]._data.dtype != cls.dtype.numpy:
                raise TypeError(f"expected {cls.dtype.name} tensor (got "
                                f"{args[0].dtype.name} tensor)")
            return args[0]
        if all(isinstance(a, int) for a in args) or (len(args) == 1
                                                      and isinstance(args[0], Size)):
            return Tensor(*args, dtype=cls.dtype, device=device)
        if len(args) == 1:
            return Tensor(np.asarray(args[0], dtype=cls.dtype.numpy), device=device)
        raise TypeError(f"new(): invalid arguments {tuple(type(a).__name__ for a in args)}")

    def __repr__(cls) -> str:
        return f"<class 'ember.{cls.__name__}'>"


def _legacy_type(name: str, dtype) -> type:
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "ember",
                                        "__doc__": f"Legacy constructor of {dtype} tensors."})


FloatTensor = _legacy_type("FloatTensor", _dtype.float32)
DoubleTensor = _legacy_type("DoubleTensor", _dtype.float64)
HalfTensor = _legacy_type("HalfTensor", _dtype.float16)
LongTensor = _legacy_type("LongTensor", _dtype.int64)
IntTensor = _legacy_type("IntTensor", _dtype.int32)
ShortTensor = _legacy_type("ShortTensor", _dtype.int16)
CharTensor = _legacy_type("CharTensor", _dtype.int8)
ByteTensor = _legacy_type("ByteTensor", _dtype.uint8)
BoolTensor = _legacy_type("BoolTensor", _dtype.bool)

LEGACY_TYPES = {cls.__name__: cls for cls in (FloatTensor, DoubleTensor, HalfTensor, LongTensor,
                                              IntTensor, ShortTensor, CharTensor, ByteTensor,
                                              BoolTensor)}


def dtype_of_type(type_) -> "_dtype.dtype":
    """The dtype a ``Tensor.type(...)`` argument names: a dtype, a legacy type, or its name
    (``"torch.LongTensor"`` as PyTorch spells it, or ``"ember.LongTensor"``)."""
    if isinstance(type_, _dtype.dtype):
        return type_
    if isinstance(type_, _LegacyTensorType):
        return type_.dtype
    name = str(type_).rsplit(".", 1)[-1]
    if name not in LEGACY_TYPES:
        raise ValueError(f"invalid type: '{type_}'")
    return LEGACY_TYPES[name].dtype


class memory_format:
    """How a tensor's elements are laid out: ``ember.contiguous_format`` (C order),
    ``channels_last`` (NHWC strides for an NCHW tensor), ``channels_last_3d``, or
    ``preserve_format`` (the input's).

    Example:
        >>> import ember
        >>> ember.ones(1, 3, 2, 2).contiguous(memory_format=ember.channels_last).stride()
        (12, 1, 6, 3)
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
