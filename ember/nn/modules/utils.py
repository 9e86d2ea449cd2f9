"""Helpers PyTorch keeps in ``torch.nn.modules.utils``."""


def consume_prefix_in_state_dict_if_present(state_dict, prefix: str) -> None:
    """Strip ``prefix`` from the keys that start with it, in place: a state dict saved from a
    ``DistributedDataParallel`` (keys ``module.…``) then loads into the plain model.

    Example:
        >>> from collections import OrderedDict
        >>> state = OrderedDict([("module.weight", 1), ("module.bias", 2)])
        >>> consume_prefix_in_state_dict_if_present(state, "module.")
        >>> list(state)
        ['weight', 'bias']
    """
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if key == prefix.rstrip(".") or key.startswith(prefix):
                new = "" if key == prefix.rstrip(".") else key[len(prefix):]
                metadata[new] = metadata.pop(key)
