"""One owner's scenes: listings, look-ups by id, full-text scores and on-screen lines.

Opened through ``Catalog.for_owner(user).scenes``; the owner is bound at construction. Keyword
search is FTS5 (BM25) on SQLite and a tsvector column (``ts_rank``) on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from heimdex_lab.errors import NotFound
from heimdex_lab.store.fulltext import index_text, tsvector_text
from heimdex_lab.store.schema import (
    FULL_TEXT,
    TS_CONFIG,
    SceneRow,
    ScreenLineRow,
    VideoRow,
    scene_from_row,
)
from heimdex_lab.types import Scene, ScreenLine, VideoState

if TYPE_CHECKING:
    from heimdex_lab.store.catalog import Catalog


def _video_filter(videos: Sequence[str], params: dict[str, Any]) -> str:
    """`` AND video_id IN (:v0, …)`` for a raw full-text query (empty without ``videos``);
    the values go into ``params``."""
    if not videos:
        return ""
    params.update({f"v{i}": v for i, v in enumerate(videos)})
    return f" AND video_id IN ({', '.join(f':v{i}' for i in range(len(videos)))})"


class SceneRepository:
    """The scenes of one owner."""

    def __init__(self, catalog: Catalog, owner: str) -> None:
        self.catalog = catalog
        self.owner = owner

    def of_video(self, video_id: str) -> list[Scene]:
        """A video's scenes in time order (none for another owner's video)."""
        with self.catalog.session() as s:
            rows = s.scalars(
                select(SceneRow)
                .where(SceneRow.video_id == video_id, SceneRow.owner == self.owner)
                .order_by(SceneRow.no)
            )
            return [scene_from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Scenes per video id."""
        with self.catalog.session() as s:
            rows = s.execute(
                select(SceneRow.video_id, func.count())
                .where(SceneRow.owner == self.owner)
                .group_by(SceneRow.video_id)
            )
            return {vid: n for vid, n in rows}

    def covers(self) -> dict[str, tuple[str, str]]:
        """Per video: (scene id, keyframe path) of its middle scene's middle keyframe, the
        picture that stands for the video in the app's library grid."""
        with self.catalog.session() as s:
            rows = s.execute(
                select(SceneRow.video_id, SceneRow.id, SceneRow.keyframes)
                .where(SceneRow.owner == self.owner)
                .order_by(SceneRow.video_id, SceneRow.no)
            )
            framed: dict[str, list[tuple[str, list[str]]]] = {}
            for video_id, scene_id, keyframes in rows:
                if keyframes:
                    framed.setdefault(video_id, []).append((scene_id, keyframes))
        covers = {}
        for video_id, scenes in framed.items():
            scene_id, keyframes = scenes[len(scenes) // 2]
            covers[video_id] = (scene_id, keyframes[len(keyframes) // 2])
        return covers

    def by_id(self, ids: Sequence[str]) -> dict[str, tuple[Scene, str]]:
        """Scenes (with their video's file name) by id; ids of other owners are left out."""
        if not ids:
            return {}
        with self.catalog.session() as s:
            # By primary key; the owner is checked on the rows (an owner index here would make
            # SQLite walk all the owner's scenes).
            rows = s.execute(
                select(SceneRow, VideoRow.filename)
                .join(VideoRow, VideoRow.id == SceneRow.video_id)
                .where(SceneRow.id.in_(list(ids)))
            )
            return {
                row.id: (scene_from_row(row), filename)
                for row, filename in rows
                if row.owner == self.owner
            }

    def get(self, scene_id: str) -> tuple[Scene, str]:
        """The scene and its video's file name; NotFound for an unknown or another's id."""
        found = self.by_id([scene_id])
        if scene_id not in found:
            raise NotFound(f"no scene with id {scene_id!r}")
        return found[scene_id]

    def listing(
        self, videos: Sequence[str], offset: int, limit: int, only: set[str] | None = None
    ) -> tuple[int, list[tuple[Scene, str]]]:
        """Scenes of ready videos in video and time order: (total, one page)."""
        where = [SceneRow.owner == self.owner, VideoRow.state == VideoState.READY]
        if videos:
            where.append(SceneRow.video_id.in_(list(videos)))
        if only is not None:
            where.append(SceneRow.id.in_(sorted(only)))
        with self.catalog.session() as s:
            total = s.scalar(
                select(func.count())
                .select_from(SceneRow)
                .join(VideoRow, VideoRow.id == SceneRow.video_id)
                .where(*where)
            )
            rows = s.execute(
                select(SceneRow, VideoRow.filename)
                .join(VideoRow, VideoRow.id == SceneRow.video_id)
                .where(*where)
                .order_by(VideoRow.created_at, VideoRow.id, SceneRow.no)
                .offset(offset)
                .limit(limit)
            )
            return int(total or 0), [(scene_from_row(r), f) for r, f in rows]

    def screen_lines(self, scene_ids: Sequence[str]) -> list[ScreenLine]:
        """The on-screen lines of these scenes, keyframe by keyframe."""
        if not scene_ids:
            return []
        with self.catalog.session() as s:
            rows = s.scalars(
                select(ScreenLineRow)
                .where(ScreenLineRow.owner == self.owner, ScreenLineRow.scene_id.in_(scene_ids))
                .order_by(ScreenLineRow.scene_id, ScreenLineRow.keyframe, ScreenLineRow.id)
            )
            return [
                ScreenLine(r.scene_id, r.keyframe, r.text,
                           tuple((float(x), float(y)) for x, y in r.box), r.confidence)
                for r in rows
            ]  # fmt: skip

    # Full text -----------------------------------------------------------------------------

    def keyword_scores(
        self, terms: Sequence[str], videos: Sequence[str], limit: int, field: str = "text"
    ) -> dict[str, float]:
        """Full-text relevance of scenes to any of ``terms``: the best ``limit`` scenes (in
        ``videos`` if given), higher is better. ``field``: "text" (the transcript) or
        "screen" (the on-screen text).

        SQLite: FTS5's BM25. PostgreSQL: ``ts_rank`` of the scene's tsvector. The scales differ
        (BM25 about 0 to 20, ts_rank 0 to 1) and need not agree: fusion z-scores each signal or
        uses its ranks. Scenes of videos that are not ready are dropped by the caller, which
        knows them already.
        """
        if field not in FULL_TEXT:
            raise ValueError(f"unknown full-text field {field!r}")
        if not terms:
            return {}
        if self.catalog.is_sqlite:
            return self._fts5_scores(terms, videos, limit, FULL_TEXT[field][0])
        if self.catalog.dialect == "postgresql":
            return self._tsvector_scores(terms, videos, limit, FULL_TEXT[field][1])
        return {}

    def _fts5_scores(
        self, terms: Sequence[str], videos: Sequence[str], limit: int, table: str
    ) -> dict[str, float]:
        # Each term a quoted phrase (never query syntax); CJK runs as their bigrams' phrase.
        match = " OR ".join(
            '"' + " ".join(index_text(t).replace('"', "").split()) + '"' for t in terms
        )
        params: dict[str, Any] = {"q": match, "o": self.owner, "n": limit}
        video_clause = _video_filter(videos, params)
        # FTS5's own rank column (bm25, lower is better) sorts inside the index.
        sql = (
            f"SELECT scene_id, rank FROM {table} "
            f"WHERE {table} MATCH :q AND owner = :o{video_clause} ORDER BY rank LIMIT :n"
        )
        with self.catalog.session() as s:
            return {sid: -float(r) for sid, r in s.execute(text(sql), params)}

    def _tsvector_scores(
        self, terms: Sequence[str], videos: Sequence[str], limit: int, column: str
    ) -> dict[str, float]:
        # One tsquery per term, OR-ed (as the FTS5 query is): a term is never parsed as query
        # syntax. English stop words become empty queries, which match nothing. A term is
        # prepared as the indexed text was (folded accents; a CJK run as the phrase of its pairs).
        query = " || ".join(f"phraseto_tsquery('{TS_CONFIG}', :t{i})" for i in range(len(terms)))
        params: dict[str, Any] = {f"t{i}": tsvector_text(t) for i, t in enumerate(terms)}
        params.update({"o": self.owner, "n": limit})
        video_clause = _video_filter(videos, params)
        # Normalisation 1 divides by 1 + log(words in the scene): a long scene does not win by
        # length alone (BM25's length normalisation does the same job on SQLite).
        sql = (
            f"SELECT id, ts_rank({column}, q, 1) AS score "
            f"FROM scenes, (SELECT {query} AS q) AS query "
            f"WHERE {column} @@ q AND owner = :o{video_clause} ORDER BY score DESC, id LIMIT :n"
        )
        with self.catalog.session() as s:
            return {sid: float(r) for sid, r in s.execute(text(sql), params)}

    # Stage outputs (written inside the stage's transaction ``s``) ---------------------------

    def replace(self, s: Session, video_id: str, scenes: Sequence[Scene]) -> None:
        """A video's scenes and their full-text index."""
        s.execute(delete(SceneRow).where(SceneRow.video_id == video_id))
        s.add_all(
            SceneRow(
                id=sc.scene_id,
                video_id=video_id,
                owner=self.owner,
                no=sc.no,
                start=sc.start,
                end=sc.end,
                text=sc.text,
                keyframes=list(sc.keyframes),
            )
            for sc in scenes
        )
        self._replace_fts(s, "text", video_id, {sc.scene_id: sc.text for sc in scenes})

    def replace_screen_lines(
        self, s: Session, video_id: str, lines: Sequence[ScreenLine], screen_text: dict[str, str]
    ) -> None:
        """A video's on-screen lines and each scene's distinct screen text (and its index)."""
        s.execute(delete(ScreenLineRow).where(ScreenLineRow.video_id == video_id))
        counts: dict[tuple[str, int], int] = {}
        rows = []
        for line in lines:
            key = (line.scene_id, line.keyframe)
            n = counts[key] = counts.get(key, -1) + 1
            rows.append(ScreenLineRow(
                id=f"{line.scene_id}:{line.keyframe}:{n}", scene_id=line.scene_id,
                video_id=video_id, owner=self.owner, keyframe=line.keyframe, text=line.text,
                box=[list(point) for point in line.box], confidence=line.confidence,
            ))  # fmt: skip
        s.add_all(rows)
        s.execute(update(SceneRow).where(SceneRow.video_id == video_id).values(screen_text=""))
        for scene_id, value in screen_text.items():
            s.execute(update(SceneRow).where(SceneRow.id == scene_id).values(screen_text=value))
        self._replace_fts(s, "screen", video_id, screen_text)

    def _replace_fts(self, s: Session, field: str, video_id: str, texts: dict[str, str]) -> None:
        """A video's rows in the SQLite FTS5 table of ``field``, or its PostgreSQL tsvector
        column (scenes of the video not in ``texts`` get an empty one)."""
        if self.catalog.dialect == "postgresql":
            column = FULL_TEXT[field][1]
            s.flush()  # the scene rows added in this session, before they are updated
            s.execute(
                text(f"UPDATE scenes SET {column} = to_tsvector('{TS_CONFIG}', '') "
                     "WHERE video_id = :v"),
                {"v": video_id},
            )  # fmt: skip
            if texts:
                s.execute(
                    text(f"UPDATE scenes SET {column} = to_tsvector('{TS_CONFIG}', :t) "
                         "WHERE id = :id"),
                    [{"id": sid, "t": tsvector_text(t)} for sid, t in texts.items()],
                )  # fmt: skip
            return
        if not self.catalog.is_sqlite:
            return
        table = FULL_TEXT[field][0]
        s.execute(text(f"DELETE FROM {table} WHERE video_id = :v"), {"v": video_id})
        if texts:
            s.execute(
                text(
                    f"INSERT INTO {table}(scene_id, video_id, owner, text) VALUES (:id, :v, :o, :t)"
                ),
                [
                    {"id": sid, "v": video_id, "o": self.owner, "t": index_text(t)}
                    for sid, t in texts.items()
                ],
            )
