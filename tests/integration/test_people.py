"""Faces and people on the sample videos: enrol from a photo, find the person's scenes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
import skimage.data
from PIL import Image
from typer.testing import CliRunner

from heimdex_lab import Library
from heimdex_lab.cli import app
from heimdex_lab.errors import NotFound, UsageError
from heimdex_lab.people import InvalidPhoto, face_picture

EILEEN, GRACE = "Eileen Collins", "Grace Hopper"


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real photos shipped in packages; the videos show cropped, zoomed, re-encoded copies."""
    folder = tmp_path_factory.mktemp("photos")
    astronaut = Image.fromarray(skimage.data.astronaut())
    grace = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    paths = {
        "astronaut": folder / "astronaut.jpg",
        "grace": folder / "grace.jpg",
        "rocket": folder / "rocket.jpg",
        "two": folder / "two.jpg",
        "tiny": folder / "tiny.jpg",
        "text": folder / "notes.jpg",
    }
    astronaut.save(paths["astronaut"])
    grace.convert("RGB").save(paths["grace"])
    Image.fromarray(skimage.data.rocket()).save(paths["rocket"])
    both = Image.new("RGB", (1024, 600))
    both.paste(astronaut, (0, 0))
    both.paste(grace.convert("RGB").resize((512, 600)), (512, 0))
    both.save(paths["two"])
    # The face is ~36 px wide: found by the detector, too small to recognise reliably.
    astronaut.resize((200, 200)).save(paths["tiny"])
    paths["text"].write_text("not an image")
    return paths


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, sample_paths: list[Path]) -> Path:
    """A library of the samples with faces found and nobody enrolled (vision off: faster)."""
    folder = tmp_path_factory.mktemp("people-base")
    lib = Library.open(folder)
    assert [r.state for r in lib.ingest(sample_paths, progress=False)] == ["ready"] * 3
    lib.close()
    return folder


@pytest.fixture()
def lib(base: Path, tmp_path: Path) -> Library:
    """A private copy of the base library per test, so enrolments do not leak between tests."""
    shutil.copytree(base, tmp_path / "lib")
    return Library.open(tmp_path / "lib")


def _scene(lib: Library, filename: str, no: int) -> str:
    videos = lib.videos().frame
    video_id = videos.filter(videos["filename"] == filename)["video_id"][0]
    return f"{video_id}:{no}"


def _people_by_scene(lib: Library) -> dict[str, list[str]]:
    out = {}
    for video_id in lib.videos().frame["video_id"]:
        for row in lib.scenes(video_id).frame.iter_rows(named=True):
            out[row["scene_id"]] = row["people"]
    return out


def test_enrolled_people_are_found_in_their_scenes_and_nowhere_else(
    lib: Library, photos: dict[str, Path]
) -> None:
    eileen = lib.add_person(EILEEN, [photos["astronaut"]])
    grace = lib.add_person(GRACE, [photos["grace"]])
    assert (eileen.photos, eileen.faces_found) == (1, 1)
    assert (grace.photos, grace.faces_found) == (1, 1)
    expected = {
        _scene(lib, "space_talk.mp4", 1): [EILEEN],
        _scene(lib, "kitchen_cat.mkv", 2): [GRACE],
    }
    found = {sid: people for sid, people in _people_by_scene(lib).items() if people}
    assert found == expected
    assert lib.people_frame().select("name", "photos", "scenes").rows() == [
        (EILEEN, 1, 1), (GRACE, 1, 1)]  # fmt: skip


def test_person_filter_in_search(lib: Library, photos: dict[str, Path]) -> None:
    lib.add_person(EILEEN, [photos["astronaut"]])
    lib.add_person(GRACE, [photos["grace"]])
    listing = lib.search("", people=[GRACE])
    assert [h.scene_id for h in listing.hits] == [_scene(lib, "kitchen_cat.mkv", 2)]
    assert listing.hits[0].people == (GRACE,)
    hits = lib.search("orbit flight", people=[EILEEN]).hits
    assert [h.scene_id for h in hits] == [_scene(lib, "space_talk.mp4", 1)]
    assert lib.search("coffee", people=[EILEEN, GRACE]).total == 0  # nobody shares a scene
    with pytest.raises(NotFound, match="no person named 'Ada'"):
        lib.search("coffee", people=["Ada"])


@pytest.mark.parametrize(
    ("photo", "reason"),
    [
        ("rocket", "no face found"),
        ("two", "2 faces found; use a photo with exactly one face"),
        ("tiny", "the face is too small"),
        ("text", "not an image file"),
    ],
)
def test_a_photo_without_exactly_one_clear_face_is_refused(
    lib: Library, photos: dict[str, Path], photo: str, reason: str
) -> None:
    with pytest.raises(InvalidPhoto) as info:
        lib.add_person(EILEEN, [photos["astronaut"], photos[photo]])
    assert str(info.value).startswith(f"{photos[photo]}: {reason}")
    assert lib.people_frame().height == 0, "nothing is enrolled when one photo is bad"


def test_threshold_decides_at_the_boundary(lib: Library, photos: dict[str, Path]) -> None:
    lib.add_person(EILEEN, [photos["astronaut"]])
    (face,) = [f for f in lib.store.people.faces() if f.person_id is not None]
    distance = face.score
    assert distance is not None and 0.0 < distance < 0.6
    for limit, matched in ((distance - 0.005, 0), (distance + 0.005, 1)):
        strict = Library.open(lib.path, face_match_threshold=limit)
        assert strict.people.rematch() == matched


def test_unknown_faces_are_grouped_and_a_group_can_be_named(lib: Library) -> None:
    groups = lib.people.groups()
    assert sorted(len(g.face_ids) for g in groups) == [1, 1]
    grace_scene = _scene(lib, "kitchen_cat.mkv", 2)
    (group,) = [g for g in groups if g.scene_ids == (grace_scene,)]
    assert (lib.path / group.crop).is_file()
    result = lib.people.name_group(group.group_id, GRACE)
    assert result.faces_found == 1
    assert lib.search("", people=[GRACE]).hits[0].scene_id == grace_scene
    assert [len(g.face_ids) for g in lib.people.groups()] == [1]  # only Eileen is left


def test_rename_merge_and_remove_rematch_without_reingesting(
    lib: Library, photos: dict[str, Path]
) -> None:
    lib.add_person("E. Collins", [photos["astronaut"]])
    lib.people.rename("E. Collins", EILEEN)
    assert lib.search("", people=[EILEEN]).total == 1
    lib.add_person("Astronaut", [photos["astronaut"]])
    merged = lib.people.merge("Astronaut", EILEEN)
    assert (merged.photos, merged.faces_found) == (2, 1)
    lib.people.remove(EILEEN)
    assert lib.people_frame().height == 0
    assert all(f.person_id is None for f in lib.store.people.faces())


def test_cli_people_add_and_list(lib: Library, photos: dict[str, Path]) -> None:
    runner = CliRunner()
    base = ["--library", str(lib.path)]
    added = runner.invoke(app, [*base, "people", "add", GRACE, str(photos["grace"]), "--json"])
    assert added.exit_code == 0, added.stderr
    doc = json.loads(added.stdout)
    assert list(doc) == ["person_id", "name", "photos", "faces_found"]
    assert (doc["name"], doc["photos"], doc["faces_found"]) == (GRACE, 1, 1)
    listed = json.loads(runner.invoke(app, [*base, "people", "list", "--json"]).stdout)
    assert listed == [{"person_id": doc["person_id"], "name": GRACE, "photos": 1, "scenes": 1}]
    bad = runner.invoke(app, [*base, "people", "add", "Nobody", str(photos["rocket"])])
    assert bad.exit_code == 1
    reason = "no face found; use a clear, front-facing photo of one person"
    assert bad.stderr.strip() == f"heimdex: error: {photos['rocket']}: {reason}"


def test_face_crops_and_vectors_are_stored(lib: Library) -> None:
    faces = lib.store.people.faces()
    assert len(faces) == 2
    for face in faces:
        with Image.open(lib.path / face.crop) as crop:
            assert max(crop.size) <= 112
        assert face.box[2] >= 40
    vectors = lib.people.face_vectors([f.id for f in faces])
    assert vectors.shape == (2, 128) and np.all(np.isfinite(vectors))


def test_each_person_has_a_face_picture_and_videos_a_cover(
    lib: Library, photos: dict[str, Path]
) -> None:
    eileen = lib.add_person(EILEEN, [photos["astronaut"]])
    ada = lib.add_person("Ada", [photos["grace"]])
    (face,) = [f for f in lib.store.people.faces() if f.person_id == eileen.person_id]
    pictures = lib.person_faces()
    # Matched in a video: that face's crop. Ada's photo is Grace's face, also matched in a video.
    assert pictures[eileen.person_id] == lib.path / face.crop
    # The face cut from each enrolment photo is kept next to it, small, whatever the matching.
    for photo in (lib.path / "people" / ada.person_id).glob("*.jpg"):
        if not photo.name.endswith(".face.jpg"):
            with Image.open(face_picture(photo)) as crop:
                assert max(crop.size) <= 112
    nobody = lib.people.create("Nobody")
    assert nobody.person_id not in lib.person_faces()  # no photo, no face: no picture
    covers = lib.covers()
    assert set(covers) == {v.video_id for v in lib.videos()}
    for video_id, (scene_id, path) in covers.items():
        assert scene_id.startswith(f"{video_id}:") and path.is_file()
        assert path.parent == lib.path / "keyframes" / video_id


def test_several_people_merge_into_one(lib: Library, photos: dict[str, Path]) -> None:
    for name in ("E. Collins", "Astronaut", EILEEN):
        lib.add_person(name, [photos["astronaut"]])
    merged = lib.merge_people(["E. Collins", EILEEN, "Astronaut"], into=EILEEN)
    assert (merged.name, merged.photos, merged.faces_found) == (EILEEN, 3, 1)
    assert lib.people_frame()["name"].to_list() == [EILEEN]
    with pytest.raises(UsageError, match="at least two"):
        lib.merge_people([EILEEN], into=EILEEN)
