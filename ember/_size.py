"""Size: the shape of a tensor, a tuple that prints as PyTorch prints it."""


class Size(tuple):
    """The shape of a tensor, e.g. ``ember.Size([6, 1, 3, 3])``.

    Example:
        >>> import ember
        >>> ember.zeros(6, 1, 3, 3).size()
        ember.Size([6, 1, 3, 3])
    """

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def __getitem__(self, key):
        result = tuple.__getitem__(self, key)
        return Size(result) if isinstance(key, slice) else result

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __reduce__(self):
        return (Size, (tuple(self),))
