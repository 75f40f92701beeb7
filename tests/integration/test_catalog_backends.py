"""The catalog on both of its backends: SQLite (FTS5) and a real PostgreSQL server (tsvector).

Each catalog test runs once per backend, on a fresh database; the PostgreSQL server is started
once per session from the Debian binaries (tests/postgres.py). Migrations are tested from an
empty database, from a catalog made before migrations existed, and down and up again.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DataError, IntegrityError

from heimdex_lab import Library
from heimdex_lab.check import check
from heimdex_lab.errors import HeimdexError, NotFound
from heimdex_lab.search.fusion import rank
from heimdex_lab.store import migrations
from heimdex_lab.store.catalog import Catalog, database_url
from heimdex_lab.store.schema import Base, FaceRow, PersonPhotoRow, PersonRow
from heimdex_lab.types import Scene, ScreenLine, Segment, VideoInfo, VideoState, Word
from tests.postgres import PostgresServer
from tests.server import _free_port

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
GIB = 1024**3
SPACE_TALK = [
    "The rocket launch was delayed because the budget ran out.",
    "The astronaut described her first flight into orbit.",
    "Telescopes show galaxies that are billions of years old.",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture()
def catalog(url: str) -> Iterator[Catalog]:
    cat = Catalog(url)
    yield cat
    cat.close()


def add_video(
    catalog: Catalog,
    owner: str,
    video_id: str,
    texts: Sequence[str],
    state: str = VideoState.READY,
    size_bytes: int = 1000,
) -> list[Scene]:
    """An accepted video whose scenes (5 s each, one per text) are committed as one stage."""
    info = VideoInfo(f"{video_id}.mp4", "mp4", 5.0 * len(texts), 640, 360, 25.0, True, size_bytes)
    sha = hashlib.sha256(video_id.encode()).hexdigest()
    catalog.for_owner(owner).videos.add_accepted(
        video_id, f"{video_id}.mp4", sha, info, f"{sha}.mp4"
    )
    scenes = [
        Scene(f"{video_id}:{n}", video_id, n, 5.0 * n, 5.0 * n + 5.0, t, (f"kf/{video_id}.jpg",))
        for n, t in enumerate(texts)
    ]
    catalog.set_stage(video_id, VideoState.DETECTING_SCENES)
    catalog.commit_stage(
        video_id,
        VideoState.DETECTING_SCENES,
        state,
        lambda s: catalog.for_owner(owner).scenes.replace(s, video_id, scenes),
        models={"scenes": "content"},
    )
    return scenes


def fulltext_rows(catalog: Catalog, video_id: str) -> int:
    """Index entries of a video's scenes: FTS5 rows, or scenes with a tsvector."""
    sql = {
        "sqlite": "SELECT count(*) FROM scene_fts WHERE video_id = :v",
        "postgresql": "SELECT count(*) FROM scenes WHERE video_id = :v AND ts IS NOT NULL",
    }[catalog.dialect]
    with catalog.session() as s:
        return int(s.scalar(text(sql), {"v": video_id}) or 0)


def schema_diff(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the models (nothing, we want)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": migrations.include_object}
        )
        return list(compare_metadata(context, Base.metadata))


# Catalog behaviour --------------------------------------------------------------------------


def test_a_new_catalog_is_at_the_newest_revision_and_matches_the_models(catalog: Catalog) -> None:
    assert migrations.current(catalog.engine) == migrations.HEAD
    assert schema_diff(catalog.engine) == []
    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    walked = [s.revision for s in scripts.walk_revisions()]
    assert tuple(reversed(walked)) == migrations.REVISIONS


def test_videos_stages_and_jobs_round_trip(catalog: Catalog) -> None:
    alice = catalog.for_owner("alice")
    bob = catalog.for_owner("bob")
    scenes = add_video(catalog, "alice", "v1", SPACE_TALK, size_bytes=5 * GIB)
    alice.videos.add_rejected("bad", "notes.txt", "not a video file")
    add_video(catalog, "alice", "v2", ["half done"], state=VideoState.KEYFRAMES)
    add_video(catalog, "bob", "v3", ["bob's"])

    video = alice.videos.get("v1")
    assert (video.state, video.size_bytes, video.has_audio) == ("ready", 5 * GIB, True)
    assert alice.videos.find_by_sha(str(video.sha256)).id == "v1"  # type: ignore[union-attr]
    assert bob.videos.find_by_sha(str(video.sha256)) is None
    assert catalog.video_owner("v3") == "bob"
    with pytest.raises(NotFound):
        bob.videos.get("v1")
    assert [v.id for v in alice.videos.all()] == ["v1", "bad", "v2"]  # oldest first
    assert alice.videos.get("bad").error == "not a video file"
    assert [v.id for v in alice.videos.unfinished()] == ["v2"]
    assert catalog.state_counts() == {"ready": 2, "rejected": 1, "keyframes": 1}

    jobs = {j.stage: j for j in catalog.jobs("v1")}
    assert set(jobs) == {"validating", "detecting_scenes"}
    assert jobs["detecting_scenes"].models == {"scenes": "content"}
    assert jobs["detecting_scenes"].progress == 1.0 and jobs["detecting_scenes"].finished_at

    catalog.set_stage("v2", VideoState.KEYFRAMES)
    catalog.set_progress("v2", VideoState.KEYFRAMES, 0.25)
    assert alice.videos.progress()["v2"] == 0.25
    catalog.set_failed("v2", VideoState.KEYFRAMES, "disk full")
    assert (alice.videos.get("v2").state, alice.videos.get("v2").error) == ("failed", "disk full")

    segments = [Segment(0.5, 4.3, "The rocket launch", (Word(0.5, 0.9, "The"),))]
    with catalog.session() as s:
        catalog.replace_segments(s, "v1", segments)
        catalog.set_keyframes(s, {"v1:0": ["kf/a.jpg", "kf/b.jpg"]})
    assert catalog.segments("v1") == segments
    assert alice.scenes.of_video("v1")[0].keyframes == ("kf/a.jpg", "kf/b.jpg")
    assert alice.scenes.of_video("v1")[1:] == scenes[1:]
    assert alice.scenes.counts() == {"v1": 3, "v2": 1}

    # The same bytes twice for one owner: the pipeline relies on this constraint in races.
    info = VideoInfo("x.mp4", "mp4", 1.0, 1, 1, 1.0, False, 1)
    with pytest.raises(IntegrityError):
        alice.videos.add_accepted("v9", "again.mp4", str(video.sha256), info, "m.mp4")


def test_keyword_scores_rank_the_scene_with_the_words_first(catalog: Catalog) -> None:
    alice = catalog.for_owner("alice")
    bob = catalog.for_owner("bob")
    add_video(catalog, "alice", "v1", SPACE_TALK)
    add_video(catalog, "alice", "v2", ["A launch party with cake.", "Nothing to see here."])
    add_video(catalog, "bob", "v3", ["rocket launch, rocket launch, rocket launch"])

    scores = alice.scenes.keyword_scores(["rocket", "launch"], [], 10)
    assert rank(scores)[0] == "v1:0"  # both words beat one
    assert set(scores) == {"v1:0", "v2:0"}  # another owner's scene never appears
    assert all(score > 0 for score in scores.values())

    assert set(alice.scenes.keyword_scores(["launches"], [], 10)) == {"v1:0", "v2:0"}
    assert set(alice.scenes.keyword_scores(["galaxy"], [], 10)) == {"v1:2"}  # stemmed
    assert set(alice.scenes.keyword_scores(["rocket", "launch"], ["v2"], 10)) == {"v2:0"}
    assert list(alice.scenes.keyword_scores(["rocket", "launch"], [], 1)) == ["v1:0"]
    assert alice.scenes.keyword_scores(['rocket"', "launch'"], [], 10)  # no query syntax
    assert alice.scenes.keyword_scores([], [], 10) == {}
    assert alice.scenes.keyword_scores(["zeppelin"], [], 10) == {}
    assert set(bob.scenes.keyword_scores(["rocket"], [], 10)) == {"v3:0"}


def test_keyword_scores_find_words_inside_cjk_text(catalog: Catalog) -> None:
    alice = catalog.for_owner("alice")
    add_video(catalog, "alice", "zh", ["火箭发射因为预算推迟了。", "宇航员第一次进入轨道。"])
    add_video(catalog, "alice", "ja", ["東京タワーに行きました。"])
    add_video(catalog, "alice", "ko", ["로켓 발사가 예산 때문에 연기되었습니다."])
    assert set(alice.scenes.keyword_scores(["预算"], [], 10)) == {"zh:0"}  # "budget"
    assert set(alice.scenes.keyword_scores(["进入轨道"], [], 10)) == {"zh:1"}  # "into orbit"
    assert set(alice.scenes.keyword_scores(["タワー"], [], 10)) == {"ja:0"}
    assert set(alice.scenes.keyword_scores(["발사"], [], 10)) == {"ko:0"}  # "launch"
    # A phrase of pairs: both characters of a term, next to each other, not just one of them.
    assert alice.scenes.keyword_scores(["潜水艇"], [], 10) == {}
    assert alice.scenes.keyword_scores(["火车"], [], 10) == {}  # 火 and 车, never together

    # A library whose CJK text was indexed whole (SQLite before revision 0005, PostgreSQL
    # before 0006) is indexed again.
    if catalog.is_sqlite:
        migrations.downgrade(catalog.engine, "0004_screen_text")
        with catalog.session() as s:
            s.execute(
                text("UPDATE scene_fts SET text = '東京タワーに行きました。' WHERE video_id = 'ja'")
            )
    else:
        migrations.downgrade(catalog.engine, "0005_video_language")
    assert alice.scenes.keyword_scores(["タワー"], [], 10) == {}
    migrations.upgrade(catalog.engine)
    assert set(alice.scenes.keyword_scores(["タワー"], [], 10)) == {"ja:0"}


def test_keyword_scores_ignore_accents(catalog: Catalog) -> None:
    alice = catalog.for_owner("alice")
    add_video(catalog, "alice", "es", ["El cohete se retrasó por el presupuesto.", "Un café."])
    add_video(catalog, "alice", "de", ["Die Straße ist nass.", "Über den Wolken."])
    for term in ("retrasó", "retraso", "RETRASÓ"):
        assert set(alice.scenes.keyword_scores([term], [], 10)) == {"es:0"}, term
    assert set(alice.scenes.keyword_scores(["cafe"], [], 10)) == {"es:1"}
    assert set(alice.scenes.keyword_scores(["uber"], [], 10)) == {"de:1"}
    assert set(alice.scenes.keyword_scores(["Straße"], [], 10)) == {"de:0"}
    assert alice.scenes.keyword_scores(["retrase"], [], 10) == {}  # another word

    # Screen text too; a scene whose screen text goes away leaves the index.
    def show(texts: dict[str, str]) -> None:
        lines = [ScreenLine(sid, 0, t, ((0, 0), (1, 0), (1, 1), (0, 1)), 0.9)
                 for sid, t in texts.items()]  # fmt: skip
        with catalog.session() as s:
            alice.scenes.replace_screen_lines(s, "es", lines, texts)

    show({"es:0": "Menú del día", "es:1": "Añadir azúcar"})
    assert set(alice.scenes.keyword_scores(["menu"], [], 10, field="screen")) == {"es:0"}
    assert set(alice.scenes.keyword_scores(["AZUCAR"], [], 10, field="screen")) == {"es:1"}
    show({"es:1": "Añadir azúcar"})
    assert alice.scenes.keyword_scores(["menu"], [], 10, field="screen") == {}


def test_replacing_scenes_replaces_their_full_text(catalog: Catalog) -> None:
    alice = catalog.for_owner("alice")
    add_video(catalog, "alice", "v1", SPACE_TALK)
    new = [Scene("v1:0", "v1", 0, 0.0, 15.0, "A submarine dives under the ice.")]
    with catalog.session() as s:
        alice.scenes.replace(s, "v1", new)
    assert alice.scenes.keyword_scores(["rocket", "astronaut"], [], 10) == {}
    assert set(alice.scenes.keyword_scores(["submarine"], [], 10)) == {"v1:0"}
    assert fulltext_rows(catalog, "v1") == 1


def test_delete_video_removes_its_rows_and_full_text(catalog: Catalog) -> None:
    alice = catalog.for_owner("alice")
    add_video(catalog, "alice", "v1", SPACE_TALK)
    add_video(catalog, "alice", "v2", ["Another rocket, on another day."])
    with catalog.session() as s:
        catalog.replace_segments(s, "v1", [Segment(0.5, 4.3, "The rocket launch", ())])
        catalog.replace_faces(s, "v1", [face("v1:0:0", "v1:0", "v1", "alice")])
    assert fulltext_rows(catalog, "v1") == 3

    catalog.delete_video("v1")
    with pytest.raises(NotFound):
        alice.videos.get("v1")
    assert alice.scenes.of_video("v1") == [] and catalog.segments("v1") == []
    assert catalog.jobs("v1") == [] and alice.people.faces("v1") == []
    assert fulltext_rows(catalog, "v1") == 0
    assert set(alice.scenes.keyword_scores(["rocket"], [], 10)) == {"v2:0"}
    assert not catalog.media_in_use(f"{hashlib.sha256(b'v1').hexdigest()}.mp4")
    assert catalog.media_in_use(f"{hashlib.sha256(b'v2').hexdigest()}.mp4")


def face(face_id: str, scene_id: str, video_id: str, owner: str) -> FaceRow:
    return FaceRow(id=face_id, scene_id=scene_id, video_id=video_id, owner=owner, t=1.0,
                   box=[10, 20, 30, 40], crop=f"faces/{face_id}.jpg")  # fmt: skip


def test_people_faces_and_matches(catalog: Catalog) -> None:
    alice = catalog.for_owner("alice")
    bob = catalog.for_owner("bob")
    add_video(catalog, "alice", "v1", SPACE_TALK)
    with catalog.session() as s:
        s.add_all([PersonRow(id="ada", owner="alice", name="Ada"),
                   PersonRow(id="bo", owner="alice", name="Bo"),
                   PersonRow(id="ada2", owner="bob", name="Ada")])  # fmt: skip
        s.flush()
        s.add_all([PersonPhotoRow(id=f"{p}:1", person_id=p, path=f"people/{p}.jpg",
                                  vector=[0.5, -0.25], backend="dlib", source="me.jpg")
                   for p in ("ada", "bo")])  # fmt: skip
        catalog.replace_faces(s, "v1", [face("f0", "v1:0", "v1", "alice"),
                                        face("f1", "v1:0", "v1", "alice"),
                                        face("f2", "v1:1", "v1", "alice")])  # fmt: skip
    catalog.set_matches({"f0": ("ada", 0.31), "f1": ("bo", 0.4), "f2": ("ada", 0.2)})

    assert alice.people.by_name("Ada").id == "ada"
    assert [p.name for p in alice.people.all()] == ["Ada", "Bo"]
    assert alice.people.counts() == [("ada", "Ada", 1, 2), ("bo", "Bo", 1, 1)]
    assert alice.people.by_scene(["v1:0", "v1:1", "v1:2"]) == {
        "v1:0": ["Ada", "Bo"],
        "v1:1": ["Ada"],
    }
    assert alice.people.scenes_with(["ada"]) == {"v1:0", "v1:1"}
    assert alice.people.scenes_with(["ada", "bo"]) == {"v1:0"}
    assert alice.people.refs("dlib") == (["ada", "bo"], [[0.5, -0.25]] * 2)
    assert [f.box for f in alice.people.faces("v1")] == [[10, 20, 30, 40]] * 3
    assert bob.people.by_scene(["v1:0"]) == {}

    with pytest.raises(IntegrityError), catalog.session() as s:
        s.add(PersonRow(id="ada3", owner="alice", name="Ada"))
    with catalog.session() as s:  # a person goes: photos with them, faces become unnamed
        s.delete(s.get(PersonRow, "ada"))
    assert {f.id: f.person_id for f in alice.people.faces()} == {"f0": None, "f1": "bo",
                                                                   "f2": None}  # fmt: skip
    assert alice.people.refs("dlib") == (["bo"], [[0.5, -0.25]])


def test_users_and_tokens(catalog: Catalog) -> None:
    accounts = catalog.accounts
    assert not accounts.has_users()
    accounts.set_password("ann", "hash-1")
    accounts.set_password("ann", "hash-2")
    assert accounts.has_users() and accounts.password_hash("ann") == "hash-2"
    assert accounts.password_hash("nobody") is None
    for n in range(2):
        accounts.add_token("ann", f"{n:064d}")
    accounts.add_token("cid", "f" * 64)
    assert accounts.token_user(f"{1:064d}") == "ann"
    assert accounts.token_user("e" * 64) is None
    assert accounts.revoke_tokens("ann") == 2
    assert accounts.token_user(f"{1:064d}") is None and accounts.token_user("f" * 64) == "cid"


def test_scene_lookup_and_listing_are_per_owner(catalog: Catalog) -> None:
    alice = catalog.for_owner("alice")
    bob = catalog.for_owner("bob")
    add_video(catalog, "alice", "v1", SPACE_TALK)
    add_video(catalog, "alice", "v2", ["not ready yet"], state=VideoState.EMBEDDING)
    add_video(catalog, "bob", "v3", ["bob's scene"])
    catalog.set_vision("v1", True)

    found = alice.scenes.by_id(["v1:1", "v3:0", "nope"])
    assert list(found) == ["v1:1"] and found["v1:1"][1] == "v1.mp4"
    with pytest.raises(NotFound):
        alice.scenes.get("v3:0")
    total, page = alice.scenes.listing([], offset=1, limit=1)
    assert total == 3 and [s.scene_id for s, _ in page] == ["v1:1"]
    assert alice.scenes.listing(["v1"], 0, 10, only={"v1:2"})[0] == 1
    assert alice.videos.ready_ids() == {"v1"}
    assert alice.videos.any_vision() and not bob.videos.any_vision()


# Migrations -----------------------------------------------------------------------------------

# The schema as create_all made it before migrations (commit 3fcfd23), in SQL; `{timestamp}` is
# DATETIME on SQLite, TIMESTAMP WITH TIME ZONE on PostgreSQL (what create_all wrote on each).
LEGACY_TABLES = {
    "users": """CREATE TABLE users (id VARCHAR(64) NOT NULL, name VARCHAR(128) NOT NULL,
        password_hash VARCHAR(256), PRIMARY KEY (id), UNIQUE (name))""",
    "api_tokens": """CREATE TABLE api_tokens (token_sha256 VARCHAR(64) NOT NULL,
        "user" VARCHAR(128) NOT NULL, created_at {timestamp} NOT NULL, PRIMARY KEY (token_sha256));
        CREATE INDEX ix_api_tokens_user ON api_tokens ("user")""",
    "videos": """CREATE TABLE videos (id VARCHAR(64) NOT NULL, owner VARCHAR(128) NOT NULL,
        filename TEXT NOT NULL, sha256 VARCHAR(64), container VARCHAR(16), duration_s FLOAT,
        width INTEGER, height INTEGER, fps FLOAT, has_audio BOOLEAN, size_bytes INTEGER,
        media_name VARCHAR(128), vision BOOLEAN, state VARCHAR(32) NOT NULL, stage VARCHAR(32),
        error TEXT, created_at {timestamp} NOT NULL, PRIMARY KEY (id),
        CONSTRAINT uq_videos_owner_sha256 UNIQUE (owner, sha256));
        CREATE INDEX ix_videos_owner ON videos (owner);
        CREATE INDEX ix_videos_state ON videos (state);
        CREATE INDEX ix_videos_sha256 ON videos (sha256)""",
    "people": """CREATE TABLE people (id VARCHAR(64) NOT NULL, owner VARCHAR(128) NOT NULL,
        name VARCHAR(256) NOT NULL, created_at {timestamp} NOT NULL, PRIMARY KEY (id),
        CONSTRAINT uq_people_owner_name UNIQUE (owner, name));
        CREATE INDEX ix_people_owner ON people (owner)""",
    "jobs": """CREATE TABLE jobs (video_id VARCHAR(64) NOT NULL, stage VARCHAR(32) NOT NULL,
        progress FLOAT NOT NULL, started_at {timestamp}, finished_at {timestamp}, models JSON,
        PRIMARY KEY (video_id, stage),
        FOREIGN KEY(video_id) REFERENCES videos (id) ON DELETE CASCADE)""",
    "segments": """CREATE TABLE segments (id VARCHAR(96) NOT NULL, video_id VARCHAR(64) NOT NULL,
        no INTEGER NOT NULL, start FLOAT NOT NULL, "end" FLOAT NOT NULL, text TEXT NOT NULL,
        words JSON NOT NULL, PRIMARY KEY (id),
        FOREIGN KEY(video_id) REFERENCES videos (id) ON DELETE CASCADE);
        CREATE INDEX ix_segments_video_id ON segments (video_id)""",
    "scenes": """CREATE TABLE scenes (id VARCHAR(96) NOT NULL, video_id VARCHAR(64) NOT NULL,
        owner VARCHAR(128) NOT NULL, no INTEGER NOT NULL, start FLOAT NOT NULL,
        "end" FLOAT NOT NULL, text TEXT NOT NULL, keyframes JSON NOT NULL, PRIMARY KEY (id),
        FOREIGN KEY(video_id) REFERENCES videos (id) ON DELETE CASCADE);
        CREATE INDEX ix_scenes_owner ON scenes (owner);
        CREATE INDEX ix_scenes_video_id ON scenes (video_id)""",
    "person_photos": """CREATE TABLE person_photos (id VARCHAR(96) NOT NULL,
        person_id VARCHAR(64) NOT NULL, path TEXT NOT NULL, vector JSON NOT NULL,
        backend VARCHAR(32) NOT NULL, source TEXT NOT NULL, PRIMARY KEY (id),
        FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE);
        CREATE INDEX ix_person_photos_person_id ON person_photos (person_id)""",
    "faces": """CREATE TABLE faces (id VARCHAR(128) NOT NULL, scene_id VARCHAR(96) NOT NULL,
        video_id VARCHAR(64) NOT NULL, owner VARCHAR(128) NOT NULL, t FLOAT NOT NULL,
        box JSON NOT NULL, crop TEXT NOT NULL, person_id VARCHAR(64), score FLOAT,
        PRIMARY KEY (id), FOREIGN KEY(video_id) REFERENCES videos (id) ON DELETE CASCADE,
        FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE SET NULL);
        CREATE INDEX ix_faces_scene_id ON faces (scene_id);
        CREATE INDEX ix_faces_person_id ON faces (person_id);
        CREATE INDEX ix_faces_video_id ON faces (video_id);
        CREATE INDEX ix_faces_owner ON faces (owner)""",
}
LEGACY_FTS = (
    "CREATE VIRTUAL TABLE scene_fts USING fts5(scene_id UNINDEXED, video_id UNINDEXED, "
    "owner UNINDEXED, text, tokenize='porter unicode61')"
)
LEGACY_ROWS = [
    "INSERT INTO videos (id, owner, filename, sha256, size_bytes, media_name, state, stage, "
    "created_at) VALUES ('old', 'alice', 'talk.mp4', 'abc', 1000, 'abc.mp4', 'ready', 'ready', "
    "'2026-01-02 03:04:05')",
    'INSERT INTO scenes (id, video_id, owner, no, start, "end", text, keyframes) VALUES '
    "('old:0', 'old', 'alice', 0, 0.0, 5.0, 'The rocket launch was delayed.', '[]')",
]


def make_legacy_catalog(url: str, leave_out: Sequence[str] = ()) -> None:
    """A catalog as the code before migrations left it: tables, rows, no alembic_version."""
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    timestamp = "DATETIME" if sqlite else "TIMESTAMP WITH TIME ZONE"
    with engine.begin() as conn:
        for name, ddl in LEGACY_TABLES.items():
            if name not in leave_out:
                for statement in ddl.format(timestamp=timestamp).split(";"):
                    conn.exec_driver_sql(statement)
        for statement in LEGACY_ROWS:
            conn.exec_driver_sql(statement)
        if sqlite:
            conn.exec_driver_sql(LEGACY_FTS)
            conn.exec_driver_sql(
                "INSERT INTO scene_fts SELECT id, video_id, owner, text FROM scenes"
            )
    engine.dispose()


@pytest.mark.parametrize("leave_out", [(), ("api_tokens",)], ids=["current", "before-api-tokens"])
def test_a_catalog_made_before_migrations_is_adopted(url: str, leave_out: tuple[str]) -> None:
    make_legacy_catalog(url, leave_out)
    catalog = Catalog(url)
    alice = catalog.for_owner("alice")
    try:
        assert migrations.current(catalog.engine) == migrations.HEAD
        assert schema_diff(catalog.engine) == []
        assert alice.videos.get("old").filename == "talk.mp4"  # data kept
        assert set(alice.scenes.keyword_scores(["launch"], [], 10)) == {"old:0"}
        # The table a library made before 023da60 lacked:
        catalog.accounts.add_token("alice", "a" * 64)
        assert catalog.accounts.token_user("a" * 64) == "alice"
        add_video(catalog, "alice", "new", ["A second rocket launch."])
        assert rank(alice.scenes.keyword_scores(["launch"], [], 10)) == ["new:0", "old:0"]
    finally:
        catalog.close()


def test_downgrade_and_upgrade_again_keep_the_data(url: str) -> None:
    catalog = Catalog(url)
    alice = catalog.for_owner("alice")
    add_video(catalog, "alice", "v1", SPACE_TALK, size_bytes=GIB)
    engine = catalog.engine
    if catalog.dialect == "postgresql":
        # A size that needs 64 bits cannot go back to INTEGER: the whole downgrade is undone.
        add_video(catalog, "alice", "big", ["huge"], size_bytes=3 * GIB)
        with pytest.raises(DataError):
            migrations.downgrade(engine, migrations.BASELINE)
        assert migrations.current(engine) == migrations.HEAD
        assert "ts" in {c["name"] for c in inspect(engine).get_columns("scenes")}
        catalog.delete_video("big")

    migrations.downgrade(engine, migrations.BASELINE)
    assert migrations.current(engine) == migrations.BASELINE
    scene_columns = {c["name"] for c in inspect(engine).get_columns("scenes")}
    assert "ts" not in scene_columns  # PostgreSQL's full-text column goes; SQLite never had it
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.HEAD
    assert schema_diff(engine) == []
    # The tsvector is generated again for rows that were already there.
    assert rank(alice.scenes.keyword_scores(["launch"], [], 10)) == ["v1:0"]
    assert alice.videos.get("v1").size_bytes == GIB

    migrations.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(engine)
    assert schema_diff(engine) == [] and alice.videos.all() == []
    add_video(catalog, "alice", "v1", SPACE_TALK)
    assert rank(alice.scenes.keyword_scores(["orbit"], [], 10)) == ["v1:1"]
    catalog.close()


def test_a_schema_newer_than_the_code_is_refused(url: str) -> None:
    Catalog(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    with pytest.raises(HeimdexError, match="upgraded by a newer version"):
        Catalog(url)


def test_processes_opening_a_new_catalog_at_once_all_succeed(url: str) -> None:
    code = "import sys; from heimdex_lab.store.catalog import Catalog; Catalog(sys.argv[1]).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(errors)
    catalog = Catalog(url)
    assert migrations.current(catalog.engine) == migrations.HEAD
    with catalog.session() as s:
        assert s.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    catalog.close()


def test_an_unreachable_database_is_a_clear_error() -> None:
    url = f"postgresql+psycopg://heimdex:secret@127.0.0.1:{_free_port()}/heimdex"
    with pytest.raises(HeimdexError, match="cannot open the catalog") as info:
        Catalog(url)
    assert "HEIMDEX_DATABASE_URL" in str(info.value) and "secret" not in str(info.value)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db.example:5432/app", "postgresql+psycopg://u:p@db.example:5432/app"),
        ("postgresql://u@localhost/app", "postgresql+psycopg://u@localhost/app"),
        ("postgresql+psycopg://u@localhost/app", "postgresql+psycopg://u@localhost/app"),
        ("sqlite:////tmp/catalog.sqlite", "sqlite:////tmp/catalog.sqlite"),
    ],
)
def test_postgres_urls_use_the_psycopg3_driver(given: str, used: str) -> None:
    assert database_url(given) == used


# End to end -------------------------------------------------------------------------------------


def test_a_library_on_postgres_finds_the_spoken_words_in_their_scene(
    postgres: PostgresServer, tmp_path: Path, tiny_clip: dict[str, Any]
) -> None:
    lib = Library.open(tmp_path / "library", database_url=postgres.create_database(), **tiny_clip)
    try:
        (result,) = lib.ingest([SAMPLES / "space_talk.mp4"], progress=False)
        assert result.ok and result.scenes == 3, result.error
        assert not (tmp_path / "library" / "catalog.sqlite").exists()

        for mode in ("hybrid", "keyword"):
            page = lib.search("rocket launch", mode=mode)
            hit = page.hits[0]
            # The first sentence is spoken from 0.5 to 4.3 s; the first cut is at 5.04 s.
            assert (hit.video_id, hit.start, round(hit.end, 1)) == (result.video_id, 0.0, 5.0)
            assert "**rocket** **launch**" in hit.snippet
            assert hit.scores["keyword"] is not None and hit.scores["keyword"] > 0
        assert lib.search("rocket launch", mode="keyword").total == 1  # no other scene says it
        assert lib.videos().frame["scenes"].to_list() == [3]
        assert check(lib)["ok"]
    finally:
        lib.close()
