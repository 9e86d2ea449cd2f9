"""ember.utils.tensorboard.SummaryWriter: the event files it writes, read back by a decoder
written here from the formats' definitions (TFRecord framing, protobuf wire format), and
checksums against published CRC32C test vectors."""

import os
import socket
import struct

import numpy as np
import pytest

import ember
from ember.utils.tensorboard import SummaryWriter
from ember.utils.tensorboard import writer as tb_writer

# --- an independent reader ------------------------------------------------------------------

def crc32c_bitwise(data: bytes) -> int:
    """CRC32C one bit at a time (slow, obviously right), for cross-checking the table."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def unmask(masked: int) -> int:
    rotated = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rotated << 15) | (rotated >> 17)) & 0xFFFFFFFF


def read_records(path):
    """The payloads of a TFRecord file, each checked against both of its CRCs."""
    with open(path, "rb") as f:
        blob = f.read()
    records, pos = [], 0
    while pos < len(blob):
        header = blob[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", blob[pos + 8:pos + 12])
        assert unmask(header_crc) == crc32c_bitwise(header)
        data = blob[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", blob[pos + 12 + length:pos + 16 + length])
        assert unmask(data_crc) == crc32c_bitwise(data)
        records.append(data)
        pos += 16 + length
    return records


def parse(message: bytes) -> dict:
    """A protobuf message as {field number: [raw values]}: ints for varints, bytes for
    length-delimited fields, 8 or 4 raw bytes for fixed ones."""
    fields, pos = {}, 0

    def varint():
        nonlocal pos
        value, shift = 0, 0
        while True:
            byte = message[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while pos < len(message):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 1:
            value, pos = message[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = message[pos:pos + 4], pos + 4
        elif wire == 2:
            length = varint()
            value, pos = message[pos:pos + length], pos + length
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def read_events(path):
    """Each event as a dict: wall_time, step, and file_version or the summary's values."""
    events = []
    for record in read_records(path):
        fields = parse(record)
        event = {"wall_time": struct.unpack("<d", fields[1][0])[0],
                 "step": fields.get(2, [0])[0]}
        if 3 in fields:
            event["file_version"] = fields[3][0].decode()
        if 5 in fields:
            event["values"] = [parse(value) for value in parse(fields[5][0])[1]]
        if 7 in fields:
            event["session_status"] = parse(fields[7][0])[1][0]
        events.append(event)
    return events


def scalars(path):
    """(tag, step, value) for every simple_value in the file."""
    out = []
    for event in read_events(path):
        for value in event.get("values", []):
            if 2 in value:
                out.append((value[1][0].decode(), event["step"],
                            struct.unpack("<f", value[2][0])[0]))
    return out


def event_files(folder):
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.startswith("events.out.tfevents."))


# --- tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    (b"", 0x00000000),
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
])
def test_crc32c_known_vectors(data, expected):
    # The check value of CRC-32C and the vectors of RFC 3720 (iSCSI), appendix B.4.
    assert tb_writer.crc32c(data) == expected
    assert crc32c_bitwise(data) == expected


def test_add_scalar_reads_back(tmp_path):
    writer = SummaryWriter(log_dir=str(tmp_path))
    for step in range(4):
        writer.add_scalar("Loss/train", 1.0 / (step + 1), step)
    writer.add_scalar("Loss/test", ember.tensor(2.5), 10)
    writer.add_scalar("count", np.int64(3), 11, walltime=123.25)
    writer.flush()
    (path,) = event_files(str(tmp_path))
    events = read_events(path)
    assert events[0]["file_version"] == "brain.Event:2"
    assert scalars(path) == [("Loss/train", 0, 1.0), ("Loss/train", 1, 0.5),
                             ("Loss/train", 2, np.float32(1 / 3)), ("Loss/train", 3, 0.25),
                             ("Loss/test", 10, 2.5), ("count", 11, 3.0)]
    assert events[-1]["wall_time"] == 123.25
    writer.close()


def test_event_file_name(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path), filename_suffix=".v2") as writer:
        writer.add_scalar("x", 1.0, 0)
    (path,) = event_files(str(tmp_path))
    parts = os.path.basename(path).split(".")
    assert parts[:3] == ["events", "out", "tfevents"]
    assert len(parts[3]) == 10 and parts[3].isdigit()
    assert os.path.basename(path).endswith(f".{socket.gethostname()}.{os.getpid()}."
                                           f"{parts[-2]}.v2")


def test_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    log_dir = writer.get_logdir()
    assert os.path.dirname(log_dir) == "runs"
    assert log_dir.endswith("_" + socket.gethostname() + "_lr0.1")
    assert len(event_files(log_dir)) == 1
    writer.close()


def test_add_scalars_writes_one_folder_per_key(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        writer.add_scalars("loss/all", {"train": 1.5, "test": 2.0}, 5)
        writer.add_scalars("loss/all", {"train": 1.0, "test": 1.75}, 6)
    for key, values in (("train", [1.5, 1.0]), ("test", [2.0, 1.75])):
        (path,) = event_files(os.path.join(str(tmp_path), "loss_all_" + key))
        assert scalars(path) == [("loss/all", 5, values[0]), ("loss/all", 6, values[1])]


def test_add_text(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        writer.add_text("notes", "héllo *world*", 3)
    event = read_events(event_files(str(tmp_path))[0])[-1]
    (value,) = event["values"]
    assert value[1] == [b"notes/text_summary"]
    tensor = parse(value[8][0])
    assert tensor[1] == [7]  # DT_STRING
    assert tensor[8] == ["héllo *world*".encode()]
    assert parse(parse(value[9][0])[1][0])[1] == [b"text"]  # plugin_name
    assert event["step"] == 3


def test_add_histogram(tmp_path):
    values = np.random.RandomState(0).randn(500)
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        writer.add_histogram("weights", ember.tensor(values), 2, bins=10)
    (value,) = read_events(event_files(str(tmp_path))[0])[-1]["values"]
    histo = parse(value[5][0])
    number = {field: struct.unpack("<d", histo[field][0])[0] for field in (1, 2, 3, 4, 5)}
    assert number[1] == values.min() and number[2] == values.max() and number[3] == 500
    assert np.isclose(number[4], values.sum()) and np.isclose(number[5], values @ values)
    limits = np.frombuffer(histo[6][0], "<f8")
    counts = np.frombuffer(histo[7][0], "<f8")
    expected_counts, edges = np.histogram(values, bins=10)
    # An empty bin first, whose right limit is the left edge; then the right limits.
    np.testing.assert_array_equal(counts, [0, *expected_counts])
    np.testing.assert_array_equal(limits, edges)


def test_purge_step_writes_session_start(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path), purge_step=40) as writer:
        writer.add_scalar("x", 1.0, 40)
    events = read_events(event_files(str(tmp_path))[0])
    assert [e.get("session_status") for e in events] == [None, None, 1, None]
    assert [e["step"] for e in events] == [0, 40, 40, 40]


def test_negative_step_and_bad_value(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        writer.add_scalar("x", 1.0, -3)
        with pytest.raises(AssertionError, match="one element"):
            writer.add_scalar("x", np.ones(3), 0)
        with pytest.raises(NotImplementedError, match="numpy array or torch tensor"):
            writer.add_scalar("x", [1.0], 0)
    (tag, step, value), = scalars(event_files(str(tmp_path))[0])
    assert step == (1 << 64) - 3  # int64 -3 as protobuf's two's complement varint


def test_close_then_add_opens_a_new_file(tmp_path):
    writer = SummaryWriter(log_dir=str(tmp_path))
    writer.add_scalar("x", 1.0, 0)
    writer.close()
    writer.close()  # a second close does nothing
    writer.add_scalar("x", 2.0, 1)
    writer.close()
    files = event_files(str(tmp_path))
    assert len(files) == 2
    assert sorted(scalars(path) for path in files) == [[("x", 0, 1.0)], [("x", 1, 2.0)]]


def plugin_content(value):
    """(plugin name, content) of a Summary.Value's metadata."""
    plugin_data = parse(parse(value[9][0])[1][0])
    return plugin_data[1][0].decode(), plugin_data.get(2, [b""])[0]


def test_add_hparams(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        writer.add_hparams({"lr": 0.1, "opt": "adam", "bs": 32, "skip": None},
                           {"hparam/acc": 0.75}, hparam_domain_discrete={"bs": [16, 32]},
                           run_name="run1", global_step=4)
    events = read_events(event_files(str(tmp_path / "run1"))[0])[1:]
    tags = [event["values"][0][1][0].decode() for event in events]
    assert tags == ["_hparams_/experiment", "_hparams_/session_start_info",
                    "_hparams_/session_end_info", "hparam/acc"]
    assert all(event["step"] == 4 for event in events)
    contents = [plugin_content(event["values"][0]) for event in events[:3]]
    assert all(name == "hparams" for name, _ in contents)
    experiment = parse(parse(contents[0][1])[2][0])
    infos = [parse(info) for info in experiment[4]]
    assert [(i[1][0], i[4][0]) for i in infos] == [(b"lr", 3), (b"opt", 1), (b"bs", 3)]
    domain = [parse(v) for v in parse(infos[2][5][0])[1]]
    assert [struct.unpack("<d", v[2][0])[0] for v in domain] == [16.0, 32.0]
    assert parse(parse(experiment[5][0])[1][0])[2] == [b"hparam/acc"]
    start = {}
    for entry in parse(parse(contents[1][1])[3][0])[1]:
        entry = parse(entry)
        start[entry[1][0].decode()] = parse(entry[2][0])
    assert start["opt"][3] == [b"adam"]
    assert struct.unpack("<d", start["lr"][2][0])[0] == 0.1 and "skip" not in start
    assert parse(parse(contents[2][1])[4][0])[1] == [1]  # STATUS_SUCCESS
    assert scalars(event_files(str(tmp_path / "run1"))[0]) == [("hparam/acc", 4, 0.75)]
    with pytest.raises(TypeError, match="should be dictionary"):
        writer.add_hparams([("lr", 0.1)], {})
    with pytest.raises(ValueError, match="one of int, float, str, bool"):
        writer.add_hparams({"lr": [0.1]}, {})


def test_add_scalar_new_style(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        writer.add_scalar("a", 1.5, 1, new_style=True)
        writer.add_scalar("b", 2.5, 2, new_style=True, double_precision=True)
    values = [event["values"][0] for event in read_events(event_files(str(tmp_path))[0])[1:]]
    assert [plugin_content(value) for value in values] == [("scalars", b""), ("scalars", b"")]
    float_tensor, double_tensor = (parse(value[8][0]) for value in values)
    assert float_tensor[1] == [1] and struct.unpack("<f", float_tensor[5][0]) == (1.5,)
    assert double_tensor[1] == [2] and struct.unpack("<d", double_tensor[6][0]) == (2.5,)
