"""The wire format between the sandbox and the grader: round trips, and forged files refused."""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest

from autograder import wire


def forged(tmp_path, schema: dict, npz: bytes):
    (tmp_path / "out.json").write_text(json.dumps(schema))
    (tmp_path / "out.npz").write_bytes(npz)
    return tmp_path / "out"


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def archive(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_round_trip_of_nested_values(tmp_path):
    value = {"a": (np.arange(6.0).reshape(2, 3), [1, 2.5, None, "x", True]), 3: np.float32(2.0),
             "f": np.asfortranarray(np.ones((2, 3)))}
    wire.save(tmp_path / "v", value)
    back = wire.load(tmp_path / "v")
    assert np.array_equal(back["a"][0], value["a"][0]) and back["a"][1] == [1, 2.5, None, "x", True]
    assert back[3] == 2.0 and np.array_equal(back["f"], np.ones((2, 3)))


def test_a_symlink_is_not_followed(tmp_path):
    wire.save(tmp_path / "real", 1)
    os.symlink(tmp_path / "real.json", tmp_path / "out.json")
    os.symlink(tmp_path / "real.npz", tmp_path / "out.npz")
    with pytest.raises(OSError):
        wire.load(tmp_path / "out")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "out.json")
    with pytest.raises(ValueError, match="not a regular file"):
        wire.load(tmp_path / "out")


def test_oversized_files_are_refused(tmp_path):
    (tmp_path / "big.json").write_bytes(b" " * 100)
    with pytest.raises(ValueError, match="at most 10 bytes"):
        wire.read_regular(tmp_path / "big.json", limit=10)


def test_compressed_members_are_refused(tmp_path):
    """A deflated member could expand a small file into gigabytes in the grader."""
    path = forged(tmp_path, {"t": "array", "key": "a0", "cls": None},
                  archive({"a0.npy": npy(np.zeros(1000))}, zipfile.ZIP_DEFLATED))
    with pytest.raises(ValueError, match="unexpected member"):
        wire.load(path)


def test_a_header_claiming_more_data_than_it_holds_is_refused(tmp_path):
    """Without this check the grader would allocate what the header claims (here 80 GB) before reading."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**10,)})
    buffer.write(np.zeros(4).tobytes())
    path = forged(tmp_path, {"t": "array", "key": "a0", "cls": None}, archive({"a0.npy": buffer.getvalue()}))
    with pytest.raises(ValueError, match="fewer bytes"):
        wire.load(path)


def test_object_arrays_are_refused(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array([{}, None], dtype=object), allow_pickle=True)
    path = forged(tmp_path, {"t": "array", "key": "a0", "cls": None}, archive({"a0.npy": buffer.getvalue()}))
    with pytest.raises(ValueError):
        wire.load(path)


def test_a_schema_that_lies_about_a_type_is_refused(tmp_path):
    path = forged(tmp_path, {"t": "int", "v": [1, 2, 3]}, archive({}))
    with pytest.raises(ValueError, match="int that holds a list"):
        wire.load(path)
