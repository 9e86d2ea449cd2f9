"""``SummaryWriter``: TensorBoard event files, written without TensorFlow, protobuf or the
``tensorboard`` package.

An event file is a sequence of TFRecords, each framing one serialized ``Event`` message:

    uint64 length | uint32 masked CRC32C of length | data | uint32 masked CRC32C of data

(little-endian). The first event holds ``file_version = "brain.Event:2"``; each later one a
``Summary`` of tagged values at a wall time and step. The few messages needed are encoded here
by hand from their field numbers in TensorFlow's ``event.proto``, ``summary.proto`` and
``tensor.proto``: a protobuf field is a key (field number << 3 | wire type) followed by a varint,
a fixed 8- or 4-byte number, or a length-prefixed byte string.

Writes are synchronous: each record goes into the file's buffer as it is added, and the buffer
reaches the disk every ``max_queue`` records, after ``flush_secs`` seconds (checked at the next
add), and on ``flush()`` and ``close()``. PyTorch's writer does the same from a thread.
"""

import itertools
import os
import socket
import struct
import time
from datetime import datetime

import numpy as np

from ... import _tensor

# --- protobuf wire format -------------------------------------------------------------------

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def _varint(value: int) -> bytes:
    """``value`` as a protobuf varint: 7 bits a byte, low first; negatives as 64-bit."""
    value &= (1 << 64) - 1
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _int_field(field: int, value: int) -> bytes:
    return _key(field, _VARINT) + _varint(int(value))


def _double_field(field: int, value: float) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<d", value)


def _float_field(field: int, value: float) -> bytes:
    return _key(field, _FIXED32) + struct.pack("<f", value)


def _bytes_field(field: int, data: bytes) -> bytes:
    return _key(field, _LENGTH) + _varint(len(data)) + data


def _packed_doubles_field(field: int, values) -> bytes:
    return _bytes_field(field, np.asarray(values, dtype="<f8").tobytes())


# --- CRC32C (Castagnoli) and the TFRecord framing ------------------------------------------

def _crc32c_table() -> list:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # reflected polynomial
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """The CRC32C checksum of ``data`` (the one TFRecord uses): ``crc32c(b"123456789")`` is
    ``0xE3069283``."""
    table = _CRC32C_TABLE
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """CRC32C rotated right by 15 bits plus a constant, as TFRecord stores it (a CRC of data
    that holds CRCs is then no longer trivially zero)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """``data`` framed as one TFRecord."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


# --- the messages ---------------------------------------------------------------------------

def _event(wall_time: float, step=None, *, file_version=None, summary=None,
           session_log_status=None, source_writer=None) -> bytes:
    """An ``Event``: wall_time = 1, step = 2, file_version = 3, summary = 5, session_log = 7,
    source_metadata = 10 (``SourceMetadata.writer`` = 1)."""
    out = _double_field(1, wall_time)
    if step:  # proto3 leaves a zero step out
        out += _int_field(2, step)
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    if summary is not None:
        out += _bytes_field(5, summary)
    if session_log_status is not None:
        out += _bytes_field(7, _int_field(1, session_log_status))
    if source_writer is not None:
        out += _bytes_field(10, _bytes_field(1, source_writer.encode()))
    return out


def _summary(*values: bytes) -> bytes:
    """A ``Summary``: repeated Value value = 1."""
    return b"".join(_bytes_field(1, value) for value in values)


def _as_numpy(value) -> np.ndarray:
    """``value`` (a Tensor, an array or a Python/NumPy number) as a NumPy array, as PyTorch's
    writer accepts it."""
    if isinstance(value, np.ndarray):
        return value
    if np.isscalar(value):
        return np.array([value])
    if isinstance(value, _tensor.Tensor):
        return value.detach().cpu().numpy()
    raise NotImplementedError(f"Got {type(value)}, but numpy array or torch tensor are "
                              "expected.")


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False) -> bytes:
    """A ``Summary`` with one ``Value{tag = 1, simple_value = 2}``; ``new_style``: with a
    tensor instead, Value{tag = 1, tensor = 8, metadata = 9 (the "scalars" plugin)}, the
    tensor a TensorProto{dtype = 1 (DT_FLOAT or DT_DOUBLE), float_val = 5 or double_val = 6}."""
    array = _as_numpy(value).squeeze()
    if array.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given "
                             f"size: {array.size} and {array.ndim} dimensions.")
    if not new_style:
        return _summary(_bytes_field(1, tag.encode()) + _float_field(2, float(array)))
    if double_precision:
        tensor = _int_field(1, 2) + _bytes_field(6, struct.pack("<d", float(array)))
    else:
        tensor = _int_field(1, 1) + _bytes_field(5, struct.pack("<f", float(array)))
    metadata = _bytes_field(1, _bytes_field(1, b"scalars"))
    return _summary(_bytes_field(1, tag.encode()) + _bytes_field(8, tensor)
                    + _bytes_field(9, metadata))


def text(tag: str, text_string: str) -> bytes:
    """A ``Summary`` for the text plugin: Value{tag = 1 ("<tag>/text_summary"), metadata = 9
    (plugin_data = 1: plugin_name = 1 "text"), tensor = 8 (a DT_STRING tensor of shape [1])}."""
    metadata = _bytes_field(1, _bytes_field(1, b"text"))
    dt_string = 7
    shape = _bytes_field(2, _int_field(1, 1))  # TensorShapeProto{dim = 2: Dim{size = 1}}
    tensor = (_int_field(1, dt_string) + _bytes_field(2, shape)
              + _bytes_field(8, text_string.encode("utf_8")))
    value = (_bytes_field(1, (tag + "/text_summary").encode()) + _bytes_field(8, tensor)
             + _bytes_field(9, metadata))
    return _summary(value)


def _histogram_counts(values: np.ndarray, bins, max_bins):
    """The (counts, right bin limits) TensorBoard shows: empty bins at both ends dropped but
    one, whose right limit is the histogram's left edge."""
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        step = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % step)).reshape(-1, step).sum(axis=-1)
        limits = np.append(limits[:-1:step], limits[-1])
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    start, end = int(nonzero[0]), int(nonzero[-1]) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    return counts, limits[start:end + 1]


def histogram(tag: str, values, bins, max_bins=None) -> bytes:
    """A ``Summary`` with Value{tag = 1, histo = 5}: HistogramProto{min = 1, max = 2, num = 3,
    sum = 4, sum_squares = 5, bucket_limit = 6, bucket = 7}."""
    values = _as_numpy(values).astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, limits = _histogram_counts(values, bins, max_bins)
    fields = ((1, values.min()), (2, values.max()), (3, values.size), (4, values.sum()),
              (5, values.dot(values)))
    histo = b"".join(_double_field(number, float(x)) for number, x in fields if x)
    histo += _packed_doubles_field(6, limits) + _packed_doubles_field(7, counts)
    return _summary(_bytes_field(1, tag.encode()) + _bytes_field(5, histo))


def _plugin_summary(tag: str, plugin_name: str, content: bytes) -> bytes:
    """A ``Summary`` with one Value{tag = 1, metadata = 9} that only carries plugin data:
    SummaryMetadata{plugin_data = 1: PluginData{plugin_name = 1, content = 2}}."""
    plugin_data = _bytes_field(1, plugin_name.encode()) + _bytes_field(2, content)
    return _summary(_bytes_field(1, tag.encode()) + _bytes_field(9, _bytes_field(1, plugin_data)))


# The hparams plugin's messages: google.protobuf.Value{number_value = 2, string_value = 3,
# bool_value = 4}, ListValue{values = 1}; HParamInfo{name = 1, type = 4, domain_discrete = 5};
# MetricInfo{name = 1: MetricName{tag = 2}}; Experiment{hparam_infos = 4, metric_infos = 5};
# SessionStartInfo{hparams = 1: map entries {key = 1, value = 2}}; SessionEndInfo{status = 1};
# HParamsPluginData{experiment = 2, session_start_info = 3, session_end_info = 4}.
_DATA_TYPE_STRING, _DATA_TYPE_FLOAT64 = 1, 3
_STATUS_SUCCESS = 1


def _struct_value(value) -> bytes:
    if isinstance(value, str):
        return _bytes_field(3, value.encode())
    return _double_field(2, float(value))


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None) -> tuple:
    """The three ``Summary`` messages of TensorBoard's hparams plugin: the experiment (names
    and types of the hyperparameters, names of the metrics), the session start (the values)
    and the session end (success).

    Numbers, bools (as PyTorch does, recorded as numbers) and one-element tensors are
    FLOAT64 hyperparameters, strings STRING ones; None values are left out.
    """
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing "
                        "logged.")
    for key, domain in hparam_domain_discrete.items():
        if (key not in hparam_dict or not isinstance(domain, list)
                or not all(isinstance(d, type(hparam_dict[key])) for d in domain)):
            raise TypeError(f"parameter: hparam_domain_discrete[{key}] should be a list of same "
                            f"type as hparam_dict[{key}].")
    infos, entries = b"", b""
    for key, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, _tensor.Tensor):
            value = float(_as_numpy(value).reshape(-1)[0])
            domain = None
        elif isinstance(value, (int, float, str)):
            domain = hparam_domain_discrete.get(key)
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        data_type = _DATA_TYPE_STRING if isinstance(value, str) else _DATA_TYPE_FLOAT64
        entries += _bytes_field(1, _bytes_field(1, key.encode())
                                + _bytes_field(2, _struct_value(value)))
        info = _bytes_field(1, key.encode()) + _int_field(4, data_type)
        if domain is not None:
            info += _bytes_field(5, b"".join(_bytes_field(1, _struct_value(d)) for d in domain))
        infos += _bytes_field(4, info)
    metrics = b"".join(_bytes_field(5, _bytes_field(1, _bytes_field(2, key.encode())))
                       for key in metric_dict)
    experiment = _plugin_summary("_hparams_/experiment", "hparams",
                                 _bytes_field(2, infos + metrics))
    start = _plugin_summary("_hparams_/session_start_info", "hparams", _bytes_field(3, entries))
    end = _plugin_summary("_hparams_/session_end_info", "hparams",
                          _bytes_field(4, _int_field(1, _STATUS_SUCCESS)))
    return experiment, start, end


# --- writers --------------------------------------------------------------------------------

_file_numbers = itertools.count()  # the last part of each event file's name, process-wide

_SESSION_START = 1  # SessionLog.SessionStatus.START


class FileWriter:
    """One event file in ``log_dir``: ``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>``.

    ``add_event`` and ``add_summary`` take messages encoded by this module (bytes).
    """

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        self._log_dir = str(log_dir)
        os.makedirs(self._log_dir, exist_ok=True)
        name = "events.out.tfevents.%010d.%s.%s.%s" % (time.time(), socket.gethostname(),
                                                        os.getpid(), next(_file_numbers))
        self._path = os.path.join(self._log_dir, name + filename_suffix)
        self._file = open(self._path, "wb")
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._pending = 0
        self._last_flush = time.time()
        self._write(_event(time.time(), file_version="brain.Event:2",
                           source_writer="ember.utils.tensorboard"))
        self.flush()

    def get_logdir(self) -> str:
        """The folder the event file is in."""
        return self._log_dir

    def _write(self, event: bytes) -> None:
        if self._file is None:
            raise RuntimeError(f"the event file {self._path} is closed")
        self._file.write(tfrecord(event))
        self._pending += 1
        if (self._pending >= self._max_queue
                or time.time() - self._last_flush >= self._flush_secs):
            self.flush()

    def add_summary(self, summary: bytes, global_step=None, walltime=None) -> None:
        """Write an encoded ``Summary`` as an event at ``global_step`` and ``walltime``."""
        wall_time = time.time() if walltime is None else walltime
        step = None if global_step is None else int(global_step)
        self._write(_event(wall_time, step, summary=summary))

    def add_session_start(self, step: int) -> None:
        """Write the two events that tell TensorBoard to drop what was logged from ``step`` on
        (a run restarted from a checkpoint, ``purge_step``)."""
        self._write(_event(time.time(), step, file_version="brain.Event:2"))
        self._write(_event(time.time(), step, session_log_status=_SESSION_START))

    def flush(self) -> None:
        """Write what is buffered to disk."""
        if self._file is not None:
            self._file.flush()
        self._pending = 0
        self._last_flush = time.time()

    def close(self) -> None:
        """Flush and close the file (once; later calls do nothing)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _tensorflow_bins() -> list:
    """PyTorch's default histogram bins: +-1e-12 growing by 10 % up to 1e20, and 0."""
    bins, value = [], 1e-12
    while value < 1e20:
        bins.append(value)
        value *= 1.1
    return [-b for b in reversed(bins)] + [0] + bins


class SummaryWriter:
    """Write scalars, text, histograms and hyperparameters to event files in ``log_dir`` for
    TensorBoard.

    Args:
        log_dir: the folder; by default ``runs/<Mon>DD_HH-MM-SS_<hostname><comment>``.
        comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: TensorBoard hides events logged at this step and after in earlier runs.
        max_queue: records buffered before they are written to disk.
        flush_secs: the most seconds records stay buffered (checked when one is added).
        filename_suffix: appended to every event file's name.

    Example:
        >>> from ember.utils.tensorboard import SummaryWriter
        >>> writer = SummaryWriter(log_dir="runs/demo")  # doctest: +SKIP
        >>> for step in range(3):  # doctest: +SKIP
        ...     writer.add_scalar("y=2x", step * 2, step)
        >>> writer.close()  # doctest: +SKIP
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: float = 120, filename_suffix: str = "") -> None:
        if not log_dir:
            current_time = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", current_time + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.default_bins = _tensorflow_bins()
        self.file_writer = self.all_writers = None
        self._get_file_writer()

    def _new_file_writer(self, log_dir) -> FileWriter:
        return FileWriter(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)

    def _get_file_writer(self) -> FileWriter:
        """The main writer, made again after ``close()``."""
        if self.file_writer is None:
            self.file_writer = self._new_file_writer(self.log_dir)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_session_start(int(self.purge_step))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        """The folder event files are written in."""
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """Log one number (a float, int, 0-d or one-element Tensor or array) under ``tag``;
        ``new_style`` stores it as a one-element tensor (float64 with ``double_precision``)."""
        summary = scalar(tag, scalar_value, new_style, double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Log several numbers on one chart: each key gets its own writer in the folder
        ``<log_dir>/<main_tag with / as _>_<key>``, and every value is tagged ``main_tag``."""
        walltime = time.time() if walltime is None else walltime
        log_dir = self._get_file_writer().get_logdir()
        for tag, scalar_value in tag_scalar_dict.items():
            sub_dir = log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            if sub_dir not in self.all_writers:
                self.all_writers[sub_dir] = self._new_file_writer(sub_dir)
            self.all_writers[sub_dir].add_summary(scalar(main_tag, scalar_value), global_step,
                                                  walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Log a string (shown by TensorBoard's text tab, as Markdown)."""
        self._get_file_writer().add_summary(text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None) -> None:
        """Log a run's hyperparameters and final metrics for TensorBoard's HParams tab, in the
        folder ``<log_dir>/<run_name>`` (by default the current time); each metric is also
        logged as a scalar there."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        summaries = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        log_dir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=log_dir) as run_writer:
            for summary in summaries:
                run_writer.file_writer.add_summary(summary, global_step)
            for key, value in metric_dict.items():
                run_writer.add_scalar(key, value, global_step)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins=None) -> None:
        """Log the distribution of ``values``; ``bins`` as ``numpy.histogram`` takes it, or
        "tensorflow" for TensorBoard's exponential bins."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._get_file_writer().add_summary(histogram(tag, values, bins, max_bins),
                                            global_step, walltime)

    def flush(self) -> None:
        """Write everything buffered, in every writer, to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file; a later ``add_*`` opens a new one."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.close()
