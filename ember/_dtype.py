"""dtype objects: the names PyTorch uses, each backed by a NumPy dtype."""

import builtins

import numpy as np


class dtype:
    """A tensor element type, e.g. ``ember.float32``.

    Example:
        >>> import ember
        >>> ember.zeros(2, dtype=ember.float64).dtype
        ember.float64
    """

    __slots__ = ("name", "numpy", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, name: str, numpy_dtype) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.is_complex = self.numpy.kind == "c"
        self.is_signed = self.numpy.kind in "fic"
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def __setstate__(self, state):
        # dtypes are singletons shared by every tensor: a pickle must never change one.
        raise TypeError("dtype objects are immutable")


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128)


class _Unheld(dtype):
    """A PyTorch dtype that NumPy has no type for: it can be named, compared and printed, and
    any attempt to make or convert a tensor of it raises TypeError."""

    __slots__ = ()

    def __init__(self, name: str, itemsize: "int") -> None:
        self.name = name
        self.is_floating_point, self.is_complex, self.is_signed = True, False, True
        self.itemsize = itemsize

    @property
    def numpy(self):
        raise TypeError(f"ember has no {self.name} tensors: NumPy, which holds ember's data, "
                        f"has no {self.name} type (use float16 or float32)")


# bfloat16: programs name it (autocast, is_bf16_supported checks), but NumPy cannot hold it,
# and computing in float32 instead would silently change the numbers.
bfloat16 = _Unheld("bfloat16", 2)

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool, complex64, complex128)
_BY_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in (*ALL, bfloat16)}  # what unpickling a dtype finds it by


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy(numpy_dtype) -> dtype:
    """The ember dtype for a NumPy dtype; TypeError for one ember does not support."""
    try:
        return _BY_NUMPY[np.dtype(numpy_dtype)]
    except KeyError:
        raise TypeError(f"can't convert NumPy dtype {np.dtype(numpy_dtype)}: ember supports "
                        + ", ".join(d.name for d in ALL)) from None


_default_dtype = float32


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors made from Python floats (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(d: dtype, /) -> None:
    """Set the default floating-point dtype (float32 or float64)."""
    global _default_dtype
    if d not in (float16, float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d


def _category(d: dtype) -> "int":
    """bool < integer < floating < complex, the order PyTorch promotes across."""
    return CATEGORY[d.numpy.kind]


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to safely, as ``torch.promote_types``."""
    a, b = type1, type2
    if a is b:
        return a
    # Across kinds the higher kind wins as is (int32 + float32 is float32, not NumPy's float64);
    # within a kind NumPy's rule (the wider type) is PyTorch's.
    if _category(a) != _category(b):
        return a if _category(a) > _category(b) else b
    return from_numpy(np.promote_types(a.numpy, b.numpy))


# ---- PyTorch's type promotion and the names its messages give scalar types ----------------

# NumPy's dtype kinds in PyTorch's order of promotion: bool < integer < floating < complex.
CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}

# PyTorch's names of scalar types, as its error messages print them ("Got Long").
TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
              "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
              "complex64": "ComplexFloat", "complex128": "ComplexDouble"}

# ... and the C++ names some of its messages print instead ("long int").
C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
                "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
                "complex128": "c10::complex<double>"}


def type_name(numpy_dtype) -> str:
    """PyTorch's name of a scalar type: ``Float`` for float32, ``Long`` for int64."""
    return TYPE_NAMES[np.dtype(numpy_dtype).name]


def _scalar_dtype(value):
    """The dtype PyTorch gives a Python number (here ``bool``, ``int``... name ember's dtypes,
    hence ``builtins``)."""
    if isinstance(value, builtins.bool):
        return np.dtype(np.bool_)
    if isinstance(value, builtins.int):
        return np.dtype(np.int64)
    if isinstance(value, builtins.complex):
        return np.dtype(np.complex64)
    if isinstance(value, builtins.float):
        return get_default_dtype().numpy
    raise TypeError(f"unsupported operand type(s): 'Tensor' and '{type(value).__name__}'")


def result_dtype(*operands):
    """PyTorch's type promotion: dimensioned tensors, then 0-d tensors, then Python scalars.

    The highest category (bool < integer < float < complex) among all operands decides the
    kind; the dtype comes from the first tier that holds an operand of that category.
    """
    tiers = ([], [], [])
    for operand in operands:
        if hasattr(operand, "dtype"):
            tiers[0 if operand.ndim else 1].append(operand.dtype)
        elif operand is not None:
            tiers[2].append(_scalar_dtype(operand))
    highest = max(CATEGORY[d.kind] for tier in tiers for d in tier)
    for tier in tiers:
        candidates = [d for d in tier if CATEGORY[d.kind] == highest]
        if candidates:
            result = candidates[0]
            for d in candidates[1:]:
                result = np.promote_types(result, d)
            return result
    raise AssertionError("unreachable")


# ---- finfo and iinfo: the numeric limits of a dtype ----------------------------------------

class finfo:
    """The limits of a floating-point dtype, as ``torch.finfo``: ``bits``, ``eps`` (the gap
    between 1 and the next number), ``max``, ``min``, ``tiny`` (= ``smallest_normal``),
    ``resolution`` (10 ** -decimal digits) and ``dtype`` (its name). A complex dtype gives its
    parts' limits; no argument gives the default dtype's.

    Example:
        >>> import ember
        >>> ember.finfo(ember.float16).max
        65504.0
        >>> ember.finfo(ember.float32)
        finfo(resolution=1e-06, min=-3.40282e+38, max=3.40282e+38, eps=1.19209e-07, \
smallest_normal=1.17549e-38, tiny=1.17549e-38, dtype=float32)
    """

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type: "dtype | None" = None) -> None:
        if type is None:
            type = get_default_dtype()
        if not isinstance(type, dtype):
            raise TypeError("finfo(): argument 'type' (position 1) must be ember.dtype, not "
                            f"{builtins.type(type).__name__}")
        if not (type.is_floating_point or type.is_complex):
            raise TypeError("ember.finfo() requires a floating point input type. Use "
                            "ember.iinfo to handle 'ember.finfo'")
        if type is bfloat16:
            # NumPy has no bfloat16: float32's exponent with 8 bits of significand.
            self.bits, self.eps, self.max = 16, 2.0 ** -7, (2 - 2.0 ** -7) * 2.0 ** 127
            self.tiny = self.smallest_normal = 2.0 ** -126
            self.resolution, self.dtype = 0.01, "bfloat16"
        else:
            info = np.finfo(type.numpy)
            self.bits, self.eps, self.max = info.bits, builtins.float(info.eps), \
                builtins.float(info.max)
            self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
            self.resolution, self.dtype = 10.0 ** -info.precision, info.dtype.name
        self.min = -self.max

    def __eq__(self, other) -> "bool":
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self) -> "int":
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min`` and
    ``dtype`` (its name).

    Example:
        >>> import ember
        >>> ember.iinfo(ember.uint8)
        iinfo(min=0, max=255, dtype=uint8)
        >>> ember.iinfo(ember.int64).max
        9223372036854775807
    """

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type: dtype) -> None:
        if not isinstance(type, dtype):
            raise TypeError("iinfo(): argument 'type' (position 1) must be ember.dtype, not "
                            f"{builtins.type(type).__name__}")
        if type is bool:
            raise TypeError("ember.bool is not supported by ember.iinfo")
        if type.is_floating_point or type.is_complex:
            raise TypeError("ember.iinfo() requires an integer input type. Use ember.finfo to "
                            "handle 'ember.iinfo'")
        info = np.iinfo(type.numpy)
        self.bits, self.max, self.min = info.bits, builtins.int(info.max), builtins.int(info.min)
        self.dtype = info.dtype.name

    def __eq__(self, other) -> "bool":
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self) -> "int":
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
