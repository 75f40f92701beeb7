"""One library, two owners: mallory guesses every id of the owner's data and gets nothing.

Through the Python API and the CLI's ``--user`` (the HTTP API and the app have their own tests
in tests/api and tests/app). Nothing of the owner's may be read, found, changed or removed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heimdex_lab import Library
from heimdex_lab.cli import app
from heimdex_lab.errors import HeimdexError, NotFound
from heimdex_lab.types import IngestResult


@pytest.fixture()
def owned(library: Library, copy_sample) -> tuple[Library, str, str]:
    """The owner's library: one video, a scene id, and the face group found in it."""
    (video,) = library.ingest([copy_sample("space_talk.mp4")], progress=False)
    assert video.state == "ready"
    scene_id = library.scenes(str(video.video_id)).frame["scene_id"][0]
    return library, str(video.video_id), scene_id


def test_python_api_keeps_each_owner_to_their_own(owned: tuple[Library, str, str]) -> None:
    lib, video_id, scene_id = owned
    groups = lib.people.groups()
    assert groups, "the sample's astronaut gives the owner a face group"
    mallory = Library.open(lib.path, user="mallory")

    assert mallory.videos().frame.is_empty()
    for mode in ("hybrid", "text", "keyword"):
        assert mallory.search("rocket launch budget", mode=mode).total == 0
    for attempt in (
        lambda: mallory.search("rocket", videos=[video_id]),  # as for an id that never existed
        lambda: mallory.search("", videos=[video_id]),
        lambda: mallory.scenes(video_id),
        lambda: mallory.scene(scene_id),
        lambda: mallory.media_path(video_id),
        lambda: mallory.delete_video(video_id),
        lambda: mallory.retry(video_id),
        lambda: mallory.reindex("text", video_id),
    ):
        with pytest.raises(NotFound):
            attempt()
    with pytest.raises(HeimdexError):  # the owner's face group is not hers to name
        mallory.people.name_group(groups[0].face_ids[0], "Eileen Collins")
    assert mallory.people.groups() == []

    # Nothing of the owner's moved.
    assert lib.videos().frame["state"].to_list() == ["ready"]
    assert lib.media_path(video_id).is_file()
    assert lib.search("rocket launch budget").hits[0].video_id == video_id
    assert [g.face_ids for g in lib.people.groups()] == [g.face_ids for g in groups]


def test_cli_user_flag_is_the_same_wall(owned: tuple[Library, str, str]) -> None:
    lib, video_id, scene_id = owned
    runner = CliRunner()

    def as_mallory(*args: str) -> tuple[int, str]:
        done = runner.invoke(app, ["--library", str(lib.path), "--user", "mallory", *args])
        return done.exit_code, done.stdout

    code, out = as_mallory("search", "rocket launch", "--json")
    assert code == 0 and json.loads(out)["total"] == 0
    assert as_mallory("search", "", "--video", video_id, "--json")[0] == 2
    assert as_mallory("scene", scene_id, "--json")[0] == 2
    assert as_mallory("scenes", video_id)[0] == 2
    assert as_mallory("people", "list", "--json") == (0, "[]\n")
    assert lib.videos().frame["state"].to_list() == ["ready"]


def test_same_bytes_from_two_owners_are_two_videos(
    library: Library, copy_sample, tmp_path: Path
) -> None:
    """Media is stored once by hash, but each owner gets their own video; deleting one owner's
    copy leaves the other's playable."""
    mine: IngestResult = library.ingest([copy_sample("silent_coins.webm")], progress=False)[0]
    other = Library.open(library.path, user="mallory")
    theirs = other.ingest([copy_sample("silent_coins.webm", "coins.webm")], progress=False)[0]
    assert mine.video_id != theirs.video_id
    assert library.media_path(str(mine.video_id)) == other.media_path(str(theirs.video_id))
    other.delete_video(str(theirs.video_id))
    assert library.media_path(str(mine.video_id)).is_file()
    assert library.search("", videos=[str(mine.video_id)]).total == 3
