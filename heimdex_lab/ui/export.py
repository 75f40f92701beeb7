"""Download the current search's results as CSV or Parquet (`SearchPage.frame`, as notebooks
get it), from the Search tab."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import panel as pn
import polars as pl

from heimdex_lab.errors import HeimdexError
from heimdex_lab.types import SearchPage

if TYPE_CHECKING:
    from heimdex_lab.ui.app import SearchState

EXPORT_MAX = 1000  # results in one file: the best ones, across pages


def results_frame(search: SearchState, api: bool) -> pl.DataFrame:
    """The best ``EXPORT_MAX`` results of the search as it stands (query, mode, filters, and
    the weak ones only when the page shows them), one row per scene even when the page groups
    them by video. Under the HTTP API the keyframe is its URL there, not a path on the server."""
    page = search.lib.search(
        search.query,
        k=EXPORT_MAX,
        page=1,
        people=search.people,
        videos=search.videos,
        mode=search.mode,
        language=search.language or None,
        min_confidence=search.min_confidence,
    )
    frame: pl.DataFrame = page.frame
    if api:
        urls = [
            f"/api/v1/scenes/{quote(h.scene_id, safe=':')}/keyframe" if h.keyframe else None
            for h in page.hits
        ]
        frame = frame.with_columns(pl.Series("keyframe", urls, dtype=pl.String))
    return frame


def to_csv(frame: pl.DataFrame) -> bytes:
    """CSV has no lists: people become one cell, names joined by "; "."""
    flat = frame.with_columns(pl.col("people").list.join("; "))
    return flat.write_csv().encode("utf-8")


def to_parquet(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def export_name(query: str, suffix: str) -> str:
    """A file name from the query: letters, digits and dashes only (never a path)."""
    words = re.sub(r"[^\w]+", "-", query.lower(), flags=re.UNICODE).strip("-_")[:40]
    return f"heimdex-{words or 'results'}.{suffix}"


def export_buttons(search: SearchState, api: bool) -> pn.viewable.Viewable:
    """CSV and Parquet download buttons; each file is made when clicked."""

    def download(suffix: str) -> pn.widgets.FileDownload:
        def make() -> io.BytesIO:
            try:
                frame = results_frame(search, api)
            except HeimdexError:  # nothing to search for (yet): a file of no rows
                frame = SearchPage(search.query, 0, 1, EXPORT_MAX, ()).frame
            data = to_csv(frame) if suffix == "csv" else to_parquet(frame)
            button.filename = export_name(search.query, suffix)
            return io.BytesIO(data)

        button = pn.widgets.FileDownload(
            callback=make,
            filename=f"heimdex-results.{suffix}",
            label=f"⬇ {suffix.upper()}" if suffix == "csv" else "⬇ Parquet",
            button_type="light",
            width=110,
            css_classes=[f"heimdex-export-{suffix}"],
        )
        return button

    def hint(*_: Any) -> None:
        for button in buttons:
            button.disabled = not search.query.strip() and not (search.people or search.videos)

    buttons = [download("csv"), download("parquet")]
    search.param.watch(hint, ["query", "people", "videos"])
    hint()
    return pn.Row(*buttons)
