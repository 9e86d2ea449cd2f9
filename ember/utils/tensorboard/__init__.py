"""TensorBoard logging, as ``torch.utils.tensorboard``: ``SummaryWriter`` writes event files
that TensorBoard reads, with no dependency beyond NumPy (ember encodes the records itself).

Example:
    >>> from ember.utils.tensorboard import SummaryWriter
    >>> with SummaryWriter(log_dir="runs/demo") as writer:  # doctest: +SKIP
    ...     writer.add_scalar("Loss/train", 0.5, 1)
"""

from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
