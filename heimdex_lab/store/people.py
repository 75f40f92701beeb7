"""One owner's people and the faces found in their videos.

Opened through ``Catalog.for_owner(user).people``; the owner is bound at construction. Enrolling,
renaming and merging (which also touch face crops and vectors) are ``heimdex_lab.people``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from heimdex_lab.errors import NotFound
from heimdex_lab.store.schema import FaceRow, PersonPhotoRow, PersonRow

if TYPE_CHECKING:
    from heimdex_lab.store.catalog import Catalog


class PersonRepository:
    """The people of one owner, and the faces in the owner's videos."""

    def __init__(self, catalog: Catalog, owner: str) -> None:
        self.catalog = catalog
        self.owner = owner

    def by_name(self, name: str) -> PersonRow:
        with self.catalog.session() as s:
            row = s.scalar(
                select(PersonRow).where(PersonRow.owner == self.owner, PersonRow.name == name)
            )
        if row is None:
            raise NotFound(f"no person named {name!r}")
        return row

    def all(self) -> list[PersonRow]:
        """Every person, by name."""
        with self.catalog.session() as s:
            return list(
                s.scalars(
                    select(PersonRow).where(PersonRow.owner == self.owner).order_by(PersonRow.name)
                )
            )

    def counts(self) -> list[tuple[str, str, int, int]]:
        """(person id, name, photos, scenes they were matched in), by name; counted in SQL."""
        photos = (
            select(PersonPhotoRow.person_id, func.count().label("n"))
            .group_by(PersonPhotoRow.person_id)
            .subquery()
        )
        scenes = (
            select(FaceRow.person_id, func.count(func.distinct(FaceRow.scene_id)).label("n"))
            .where(FaceRow.owner == self.owner, FaceRow.person_id.is_not(None))
            .group_by(FaceRow.person_id)
            .subquery()
        )
        with self.catalog.session() as s:
            rows = s.execute(
                select(
                    PersonRow.id,
                    PersonRow.name,
                    func.coalesce(photos.c.n, 0),
                    func.coalesce(scenes.c.n, 0),
                )
                .outerjoin(photos, photos.c.person_id == PersonRow.id)
                .outerjoin(scenes, scenes.c.person_id == PersonRow.id)
                .where(PersonRow.owner == self.owner)
                .order_by(PersonRow.name)
            )
            return [(pid, name, int(p), int(n)) for pid, name, p, n in rows]

    def pictures(self) -> dict[str, str]:
        """Per person: a picture of their face (path relative to the library): the crop of
        their closest matched face in a video, else their first reference photo."""
        with self.catalog.session() as s:
            faces = s.execute(
                select(FaceRow.person_id, FaceRow.crop)
                .where(FaceRow.owner == self.owner, FaceRow.person_id.is_not(None))
                .order_by(FaceRow.person_id, FaceRow.score, FaceRow.id)
            )
            pictures: dict[str, str] = {}
            for person_id, crop in faces:
                if person_id is not None:
                    pictures.setdefault(person_id, crop)
            photos = s.execute(
                select(PersonPhotoRow.person_id, PersonPhotoRow.path)
                .join(PersonRow, PersonRow.id == PersonPhotoRow.person_id)
                .where(PersonRow.owner == self.owner)
                .order_by(PersonPhotoRow.id)
            )
            for person_id, path in photos:
                pictures.setdefault(person_id, path)
        return pictures

    def refs(self, backend: str) -> tuple[list[str], list[list[float]]]:
        """Every reference face vector of ``backend``, with its person id."""
        with self.catalog.session() as s:
            rows = s.execute(
                select(PersonPhotoRow.person_id, PersonPhotoRow.vector)
                .join(PersonRow, PersonRow.id == PersonPhotoRow.person_id)
                .where(PersonRow.owner == self.owner, PersonPhotoRow.backend == backend)
                .order_by(PersonPhotoRow.id)
            )
            pairs = [(pid, vec) for pid, vec in rows]
        return [p for p, _ in pairs], [v for _, v in pairs]

    def faces(self, video_id: str | None = None) -> list[FaceRow]:
        """The faces found in the owner's videos (in one video if given)."""
        with self.catalog.session() as s:
            query = select(FaceRow).where(FaceRow.owner == self.owner)
            if video_id is not None:
                query = query.where(FaceRow.video_id == video_id)
            return list(s.scalars(query.order_by(FaceRow.id)))

    def by_scene(self, scene_ids: Sequence[str]) -> dict[str, list[str]]:
        """Names of the people matched in each scene, sorted."""
        if not scene_ids:
            return {}
        with self.catalog.session() as s:
            rows = s.execute(
                select(FaceRow.scene_id, PersonRow.name)
                .join(PersonRow, PersonRow.id == FaceRow.person_id)
                .where(FaceRow.owner == self.owner, FaceRow.scene_id.in_(list(scene_ids)))
                .distinct()
            )
            out: dict[str, list[str]] = {}
            for scene_id, name in rows:
                out.setdefault(scene_id, []).append(name)
        return {k: sorted(v) for k, v in out.items()}

    def scenes_with(self, person_ids: Sequence[str]) -> set[str]:
        """Scenes in which every one of ``person_ids`` was matched."""
        with self.catalog.session() as s:
            rows = s.scalars(
                select(FaceRow.scene_id)
                .where(FaceRow.owner == self.owner, FaceRow.person_id.in_(list(person_ids)))
                .group_by(FaceRow.scene_id)
                .having(func.count(func.distinct(FaceRow.person_id)) == len(set(person_ids)))
            )
            return set(rows)
