"""Containers: Sequential, ModuleList, ModuleDict and ParameterList.

Each stores its items in the registries of ``Module`` under the keys "0", "1", ... (or the
given names), so that parameters, ``state_dict`` keys and the printed form follow PyTorch's.
"""

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..._tensor import Tensor, type_name
from ..parameter import Parameter
from .module import Module, _addindent


def _position(index, size: int) -> int:
    """``index`` as a position in ``range(size)``; IndexError as PyTorch words it."""
    index = operator.index(index)
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of range")
    return index % size


def _renumber(container: Module, modules: list) -> None:
    """Make ``modules`` the children of ``container``, under the keys "0", "1", ..."""
    for key in list(container._modules):
        container._unregister(key)
    for index, module in enumerate(modules):
        container.add_module(str(index), module)


def _delete(container: Module, index) -> None:
    """Remove the child at ``index`` (or the children in a slice) from ``container``.

    The keys of those left become "0", "1", ... again, as PyTorch renumbers them.
    """
    modules = list(container._modules.values())
    if isinstance(index, slice):
        del modules[index]
    else:
        del modules[_position(index, len(modules))]
    _renumber(container, modules)


def _entry_repr(label, value, typename: bool = False) -> str:
    """ParameterList's and ParameterDict's line for one entry: a tensor's kind, dtype (its
    tensor type with ``typename``, as PyTorch prints a ParameterDict), size and CUDA device;
    any other object's type."""
    if not isinstance(value, Tensor):
        return f"  ({label}): Object of type: {type(value).__name__}"
    size = "x".join(str(n) for n in value.size())
    device = f" ({value.device})" if value.device.type == "cuda" else ""
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    dtype = type_name(value) if typename else value.dtype
    return f"  ({label}): {kind} containing: [{dtype} of size {size}{device}]"


class Sequential(Module):
    """A chain of modules: the output of each is the input of the next.

    Built from modules (named "0", "1", ...) or from an ``OrderedDict`` of named modules.

    Example:
        >>> import ember
        >>> from ember import nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> model(ember.ones(3, 4)).shape
        ember.Size([3, 2])
        >>> model[1:]
        Sequential(
          (1): ReLU()
          (2): Linear(in_features=8, out_features=2, bias=True)
        )
    """

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index) -> "Module | Sequential":
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_position(index, len(self._modules))]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[_position(index, len(self._modules))]
        setattr(self, key, module)

    def __delitem__(self, index) -> None:
        _delete(self, index)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, sequential: Iterable) -> "Sequential":
        """Add each module of ``sequential`` at the end."""
        for module in sequential:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> "Sequential":
        """Put ``module`` at position ``index``, moving the later ones up by one."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        size = len(self._modules)
        if not -size <= index <= size:
            raise IndexError(f"Index out of range: {index}")
        index = index + size if index < 0 else index
        modules = list(self._modules.values())
        modules.insert(index, module)
        _renumber(self, modules)
        return self

    def pop(self, index) -> Module:
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module


class ModuleList(Module):
    """A list of modules, registered so that their parameters belong to the owner.

    Example:
        >>> import ember
        >>> from ember import nn
        >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        >>> layers
        ModuleList(
          (0-2): 3 x Linear(in_features=4, out_features=4, bias=True)
        )
        >>> len(list(layers.parameters()))
        6
    """

    def __init__(self, modules: "Iterable[Module] | None" = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index) -> "Module | ModuleList":
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_position(index, len(self._modules)))]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, str(_position(index, len(self._modules))), module)

    def __delitem__(self, index) -> None:
        _delete(self, index)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other: Iterable) -> "ModuleList":
        return type(self)(list(self) + list(other))

    def append(self, module: Module) -> "ModuleList":
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable) -> "ModuleList":
        """Add each of ``modules`` at the end."""
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        _renumber(self, modules)

    def pop(self, index) -> Module:
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module

    def __repr__(self) -> str:
        # Runs of modules that print the same are shown once: "(0-2): 3 x Linear(...)".
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []  # [first index, last index, repr]
        for index, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = index
            else:
                runs.append([index, index, text])
        lines = []
        for first, last, text in runs:
            if first == last:
                line = f"({first}): {text}"
            else:
                line = f"({first}-{last}): {last - first + 1} x {text}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dictionary of modules, registered under their keys.

    Example:
        >>> from ember import nn
        >>> heads = nn.ModuleDict({"cls": nn.Linear(8, 10), "box": nn.Linear(8, 4)})
        >>> list(heads.keys())
        ['cls', 'box']
        >>> heads["box"]
        Linear(in_features=8, out_features=4, bias=True)
    """

    def __init__(self, modules: "Mapping[str, Module] | None" = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        self._unregister(key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self._modules):
            self._unregister(key)

    def pop(self, key: str) -> Module:
        """Remove the module under ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        """Add modules from a mapping, or from an iterable of (key, module) pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
            return
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value "
                            "pairs, but got " + type(modules).__name__)
        for number, pair in enumerate(modules):
            if not isinstance(pair, Iterable):
                raise TypeError(f"ModuleDict update sequence element #{number} should be "
                                f"Iterable; is {type(pair).__name__}")
            pair = list(pair)
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{number} has length "
                                 f"{len(pair)}; 2 is required")
            self[pair[0]] = pair[1]


class ParameterList(Module):
    """A list of parameters, registered under "0", "1", ... (tensors become Parameters).

    Example:
        >>> import ember
        >>> from ember import nn
        >>> weights = nn.ParameterList([nn.Parameter(ember.ones(2, 3)) for _ in range(2)])
        >>> weights
        ParameterList(
            (0): Parameter containing: [ember.float32 of size 2x3]
            (1): Parameter containing: [ember.float32 of size 2x3]
        )
    """

    def __init__(self, values: "Iterable | None" = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)([self[i] for i in range(len(self))[index]])
        return getattr(self, str(_position(index, self._size)))

    def __setitem__(self, index: int, value) -> None:
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, str(_position(index, self._size)), value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __iadd__(self, values: Iterable) -> "ParameterList":
        return self.extend(values)

    def append(self, value) -> "ParameterList":
        """Add ``value`` (a Parameter; a tensor is made one) at the end."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable) -> "ParameterList":
        """Add each of ``values`` at the end."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_repr(index, value) for index, value in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters, registered under their (string) keys; tensors become Parameters.

    Built from, or updated with, a plain dict, the keys are taken in sorted order (as in
    PyTorch); an OrderedDict, a ParameterDict or a sequence of pairs keeps its order.

    Example:
        >>> import ember
        >>> from ember import nn
        >>> scales = nn.ParameterDict({"gamma": ember.ones(3), "beta": ember.zeros(3)})
        >>> scales
        ParameterDict(
            (beta): Parameter containing: [ember.FloatTensor of size 3]
            (gamma): Parameter containing: [ember.FloatTensor of size 3]
        )
        >>> [name for name, _ in scales.named_parameters()]
        ['beta', 'gamma']
    """

    def __init__(self, parameters=None) -> None:
        super().__init__()
        self._keys: dict = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _check_key(key) -> None:
        if not isinstance(key, str):
            raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not "
                            f"a string (type is '{type(key).__name__}'). Open an issue on github "
                            f"if you need non-string keys.")

    def __getitem__(self, key: str):
        self._check_key(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._check_key(key)
        self._keys[key] = None
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, key, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def keys(self):
        """The keys, in order."""
        return self._keys.keys()

    def items(self):
        """``(key, parameter)`` pairs, in order."""
        return ((key, self[key]) for key in self._keys)

    def values(self):
        """The parameters, in order."""
        return (self[key] for key in self._keys)

    def get(self, key: str, default=None):
        """``self[key]`` if present, else ``default``."""
        return self[key] if key in self else default

    def pop(self, key: str):
        """Remove ``key`` and return its parameter."""
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def update(self, parameters) -> None:
        """Add or replace the entries of ``parameters`` (a mapping or a sequence of pairs)."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        elif isinstance(parameters, Iterable):
            pairs = []
            for index, pair in enumerate(parameters):
                if not isinstance(pair, Iterable) or len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{index} has "
                                     f"length {len(pair) if hasattr(pair, '__len__') else 1}; "
                                     f"2 is required")
                pairs.append(tuple(pair))
        else:
            raise TypeError("ParametersDict.update should be called with an iterable of "
                            f"key/value pairs, but got {type(parameters).__name__}")
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(_entry_repr(key, value, typename=True) for key, value in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
