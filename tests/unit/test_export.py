"""The app's results export: files that spreadsheet and dataframe tools read back as they were."""

from __future__ import annotations

import io

import polars as pl

from heimdex_lab.types import Hit, SearchPage
from heimdex_lab.ui.export import export_name, to_csv, to_parquet

HITS = (
    Hit("v1:2", "v1", 'talk, "final".mp4', 5.0, 9.5, 1.25,
        {"text": 0.8, "keyword": None, "image": None, "screen": None},
        "she went, into orbit", "went into **orbit**", ("Eileen Collins", "Grace"), "kf/2_0.jpg",
        confidence="high"),
    Hit("v1:3", "v1", 'talk, "final".mp4', 9.5, 12.0, 0.5,
        {"text": 0.4, "keyword": 1.0, "image": None, "screen": None},
        "line one\nline two", "", (), None),
)  # fmt: skip


def test_csv_keeps_every_field_and_joins_people_into_one_cell() -> None:
    frame = SearchPage("orbit", 2, 1, 1000, HITS).frame
    back = pl.read_csv(io.BytesIO(to_csv(frame)))  # type: ignore[arg-type]
    assert back["scene_id"].to_list() == ["v1:2", "v1:3"]
    assert back["filename"][0] == 'talk, "final".mp4'  # commas and quotes survive
    assert back["text"][1] == "line one\nline two"
    assert back["people"].to_list() == ["Eileen Collins; Grace", ""]
    assert back["score_text"].to_list() == [0.8, 0.4]
    assert back["score_keyword"].to_list() == [None, 1.0]
    assert back["confidence"].to_list() == ["high", "low"]


def test_parquet_round_trips_the_frame_with_its_types() -> None:
    frame = SearchPage("orbit", 2, 1, 1000, HITS).frame
    back = pl.read_parquet(io.BytesIO(to_parquet(frame)))  # type: ignore[arg-type]
    assert back.equals(frame)  # type: ignore[arg-type]
    assert back["people"].to_list() == [["Eileen Collins", "Grace"], []]


def test_export_file_names_come_from_the_query_and_are_never_paths() -> None:
    assert export_name("Penguins on an iceberg!", "csv") == "heimdex-penguins-on-an-iceberg.csv"
    assert export_name("../../etc/passwd", "parquet") == "heimdex-etc-passwd.parquet"
    assert export_name("  ", "csv") == "heimdex-results.csv"
    assert len(export_name("word " * 50, "csv")) <= len("heimdex-.csv") + 40
