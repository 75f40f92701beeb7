"""People: enrol from photos, match stored faces, group unknown faces, name the groups.

Enrolling, renaming, merging or removing a person re-matches the stored faces (from their
vectors); no video is ingested again.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from heimdex_lab.config import Settings
from heimdex_lab.embed.face import (
    FaceBackend,
    FaceBox,
    cluster,
    face_backend,
    match_faces,
    threshold,
)
from heimdex_lab.errors import HeimdexError, NotFound, UsageError
from heimdex_lab.ingest.faces import crop, usable
from heimdex_lab.store.catalog import Catalog
from heimdex_lab.store.schema import FaceRow, PersonPhotoRow, PersonRow
from heimdex_lab.store.vectors import FACES, VectorStore

# Enrolment photos are scaled down to this before detection: bounds the cost of a huge photo.
_PHOTO_MAX_SIDE = 1600


def face_picture(photo: Path) -> Path:
    """Where the crop of an enrolment photo's face is kept, next to the photo."""
    return photo.with_suffix(".face.jpg")


class InvalidPhoto(HeimdexError):
    """An enrolment photo that does not hold exactly one usable face."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


MAX_NAME = 256  # the catalog's column (PostgreSQL enforces it)


def person_name(name: str) -> str:
    """A usable person name (trimmed), or a UsageError saying why not."""
    name = name.strip()
    if not name:
        raise UsageError("a person needs a name")
    if len(name) > MAX_NAME or not name.isprintable():
        raise UsageError(f"a person's name is printable text of at most {MAX_NAME} characters")
    return name


@dataclass(frozen=True)
class PersonResult:
    person_id: str
    name: str
    photos: int
    faces_found: int

    def to_dict(self) -> dict[str, object]:
        return {
            "person_id": self.person_id,
            "name": self.name,
            "photos": self.photos,
            "faces_found": self.faces_found,
        }


@dataclass(frozen=True)
class FaceGroup:
    """Unnamed faces that look alike; ``group_id`` is its first face's id (stable)."""

    group_id: str
    face_ids: tuple[str, ...]
    scene_ids: tuple[str, ...]
    crop: str


class People:
    """One owner's people and faces."""

    def __init__(
        self, settings: Settings, catalog: Catalog, vectors: Callable[[], VectorStore]
    ) -> None:
        self.settings = settings
        self.owner = settings.user
        self.catalog = catalog
        self.store = catalog.for_owner(self.owner)  # every owned row is read through it
        self._vectors = vectors
        self.root = settings.library

    @property
    def backend(self) -> FaceBackend:
        return face_backend(self.settings)

    # Enrolment -----------------------------------------------------------------------------

    def face_of(self, photo: Path) -> tuple[np.ndarray, Image.Image, FaceBox]:
        """The one usable face of an enrolment photo (its vector, the photo, the face's box), or
        `InvalidPhoto` saying what is wrong."""
        name = str(photo)
        try:
            with Image.open(photo) as opened:
                image = ImageOps.exif_transpose(opened).convert("RGB")
        except FileNotFoundError:
            raise InvalidPhoto(name, "file not found") from None
        except (UnidentifiedImageError, OSError) as exc:
            raise InvalidPhoto(name, f"not an image file ({exc})") from None
        image.thumbnail((_PHOTO_MAX_SIDE, _PHOTO_MAX_SIDE))
        pixels = np.asarray(image)
        boxes = [
            b
            for b in self.backend.detect(pixels)
            if b.confidence >= self.settings.face_min_confidence
        ]
        if not boxes:
            raise InvalidPhoto(name, "no face found; use a clear, front-facing photo of one person")
        if len(boxes) > 1:
            raise InvalidPhoto(name, f"{len(boxes)} faces found; use a photo with exactly one face")
        if not usable(boxes, self.settings):
            size = min(boxes[0].width, boxes[0].height)
            raise InvalidPhoto(
                name, f"the face is too small ({size} px; at least {self.settings.face_min_px} px)"
            )
        return self.backend.embed(pixels, boxes)[0], image, boxes[0]

    def add(self, name: str, photos: Sequence[Path]) -> PersonResult:
        """Enrol ``name`` from photos (or add photos to them); every photo is checked first."""
        name = person_name(name)
        if not photos:
            raise UsageError(f"give at least one photo of {name}")
        faces = [self.face_of(Path(p)) for p in photos]  # all or nothing
        person = self._get_or_create(name)
        folder = self.root / "people" / person.id
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for photo, (vector, image, box) in zip(photos, faces, strict=True):
            photo_id = uuid.uuid4().hex[:12]
            target = folder / f"{photo_id}.jpg"
            image.save(target, "JPEG", quality=90)
            # The face alone, as the app shows the person (face_picture finds it by name).
            crop(image, box).save(face_picture(target), "JPEG", quality=90)
            rows.append(PersonPhotoRow(
                id=f"{person.id}:{photo_id}", person_id=person.id,
                path=target.relative_to(self.root).as_posix(), vector=vector.tolist(),
                backend=self.backend.name, source=Path(photo).name,
            ))  # fmt: skip
        with self.catalog.session() as s:
            s.add_all(rows)
        self.rematch()
        return self._result(person)

    def create(self, name: str) -> PersonResult:
        """A person with no photos yet (the HTTP API adds photos one request at a time)."""
        name = person_name(name)
        return self._result(self._get_or_create(name))

    def name_of(self, person_id: str) -> str:
        """The name of one of this owner's people (NotFound for another owner's id)."""
        for person in self.store.people.all():
            if person.id == person_id:
                return person.name
        raise NotFound(f"no person with id {person_id!r}")

    def _get_or_create(self, name: str) -> PersonRow:
        try:
            return self.store.people.by_name(name)
        except NotFound:
            row = PersonRow(id=uuid.uuid4().hex[:12], owner=self.owner, name=name)
            with self.catalog.session() as s:
                s.add(row)
            return row

    def _result(self, person: PersonRow) -> PersonResult:
        with self.catalog.session() as s:
            photos = s.query(PersonPhotoRow).filter(PersonPhotoRow.person_id == person.id).count()
            faces = s.query(FaceRow).filter(FaceRow.person_id == person.id).count()
        return PersonResult(person.id, person.name, photos, faces)

    # Changes -------------------------------------------------------------------------------

    def rename(self, old: str, new: str) -> PersonResult:
        person = self.store.people.by_name(old)
        new = person_name(new)
        if new != old and any(p.name == new for p in self.store.people.all()):
            raise UsageError(f"there is already a person named {new!r}; merge instead")
        with self.catalog.session() as s:
            s.get(PersonRow, person.id).name = new  # type: ignore[union-attr]
        person.name = new
        return self._result(person)

    def remove(self, name: str) -> None:
        person = self.store.people.by_name(name)
        with self.catalog.session() as s:
            s.query(PersonPhotoRow).filter(PersonPhotoRow.person_id == person.id).delete()
            s.delete(s.get(PersonRow, person.id))
        shutil.rmtree(self.root / "people" / person.id, ignore_errors=True)
        self.rematch()

    def merge(self, source: str, target: str) -> PersonResult:
        """Fold ``source`` into ``target``: its photos become the target's; source goes."""
        src = self.store.people.by_name(source)
        dst = self.store.people.by_name(target)
        if src.id == dst.id:
            raise UsageError("cannot merge a person into themselves")
        with self.catalog.session() as s:
            s.query(PersonPhotoRow).filter(PersonPhotoRow.person_id == src.id).update(
                {PersonPhotoRow.person_id: dst.id}
            )
            s.delete(s.get(PersonRow, src.id))
        self.rematch()
        return self._result(dst)

    # Matching and groups ---------------------------------------------------------------------

    def match(self, vectors: np.ndarray) -> list[tuple[str | None, float | None]]:
        """The matched person (and distance) of each face vector, against every reference."""
        person_ids, refs = self.store.people.refs(self.backend.name)
        if not refs or len(vectors) == 0:
            return [(None, None)] * len(vectors)
        distances = self.backend.distances(vectors, np.asarray(refs, dtype=np.float32))
        return match_faces(distances, person_ids, threshold(self.settings, self.backend))

    def face_vectors(self, face_ids: Sequence[str]) -> np.ndarray:
        if not face_ids:
            return np.zeros((0, self.backend.dim), dtype=np.float32)
        col = self._vectors().collection(FACES, self.backend.name, self.backend.dim)
        got = col.get(ids=list(face_ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([by_id[f] for f in face_ids], dtype=np.float32)

    def rematch(self) -> int:
        """Match every stored face again; returns how many faces belong to someone."""
        faces = self.store.people.faces()
        ids = [f.id for f in faces]
        matches = self.match(self.face_vectors(ids))
        self.catalog.set_matches(dict(zip(ids, matches, strict=True)))
        return sum(1 for person, _ in matches if person is not None)

    def groups(self) -> list[FaceGroup]:
        """Unmatched faces grouped by likeness, largest group first."""
        faces = [f for f in self.store.people.faces() if f.person_id is None]
        if not faces:
            return []
        vectors = self.face_vectors([f.id for f in faces])
        labels = cluster(
            self.backend.distances(vectors, vectors), threshold(self.settings, self.backend)
        )
        members: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            members.setdefault(label, []).append(i)
        groups = [
            FaceGroup(
                group_id=faces[idx[0]].id,
                face_ids=tuple(faces[i].id for i in idx),
                scene_ids=tuple(dict.fromkeys(faces[i].scene_id for i in idx)),
                crop=faces[idx[0]].crop,
            )
            for idx in members.values()
        ]
        return sorted(groups, key=lambda g: (-len(g.face_ids), g.group_id))

    def name_group(self, group_id: str, name: str) -> PersonResult:
        """Turn a group of unnamed faces into a person (new, or an existing one by name)."""
        group = next((g for g in self.groups() if group_id in g.face_ids), None)
        if group is None:
            raise NotFound(
                f"no unnamed face group {group_id!r} (list them again: they change "
                "as people are named)"
            )
        name = person_name(name)
        person = self._get_or_create(name)
        vectors = self.face_vectors(list(group.face_ids))
        faces = {f.id: f for f in self.store.people.faces()}
        with self.catalog.session() as s:
            s.add_all(
                PersonPhotoRow(
                    id=f"{person.id}:{face_id}", person_id=person.id, path=faces[face_id].crop,
                    vector=vector.tolist(), backend=self.backend.name, source=f"face:{face_id}",
                )
                for face_id, vector in zip(group.face_ids, vectors, strict=True)
            )  # fmt: skip
        self.rematch()
        return self._result(person)
