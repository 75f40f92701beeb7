"""Sweep bookkeeping: the best setting by a hybrid metric, ties to the earlier, one row each."""

from __future__ import annotations

import pytest

from heimdex_lab.eval.queries import EvalReport
from heimdex_lab.eval.sweep import Sweep, SweepPoint


def report(r1: float, spoken_r1: float) -> EvalReport:
    hybrid = {"recall@1": r1, "mrr": r1}
    return EvalReport(
        k=10, queries=2, metrics={"hybrid": hybrid, "image": None},
        by_kind={"spoken": {"hybrid": {"recall@1": spoken_r1, "mrr": spoken_r1}}},
    )  # fmt: skip


def point(model: str, keyword: float, exact: bool = True) -> SweepPoint:
    return SweepPoint(model, "convex", {"text": 1.0, "keyword": keyword}, exact)


def test_best_by_kind_and_ties_go_to_the_earlier_setting() -> None:
    sweep = Sweep(
        [
            (point("small", 0.1), report(0.8, 0.5), 1.0),
            (point("large", 0.1), report(0.8, 0.9), 2.0),
            (point("large", 0.2, exact=False), report(0.7, 0.9), 2.0),
        ]
    )
    assert sweep.best("recall@1")[0] == point("small", 0.1)
    assert sweep.best("recall@1", kind="spoken")[0] == point("large", 0.1)
    with pytest.raises(ValueError, match="empty"):
        Sweep().best()


def test_table_has_a_row_per_setting_kind_and_signal_that_ran() -> None:
    sweep = Sweep([(point("small", 0.1), report(0.8, 0.5), 1.5)])
    table = sweep.table()
    assert table.height == 2  # hybrid over all queries and over spoken ones; image was off
    assert set(table["kind"]) == {"all", "spoken"}
    row = table.row(0, named=True)
    assert row["setting"] == "small convex text=1,keyword=0.1 exact"
    assert row["keyword_weight"] == 0.1 and row["eval_s"] == 1.5 and row["recall@1"] == 0.8


def test_scene_units_of_each_granularity() -> None:
    from heimdex_lab.eval.sweep import scene_units

    text = "One. Two. Three."
    assert scene_units(text, "sentence") == ["One.", "Two.", "Three."]
    assert scene_units(text, "window") == ["One. Two.", "One. Two. Three.", "Two. Three."]
    assert scene_units(text, "scene") == [text]
    assert scene_units("  ", "scene") == []
    with pytest.raises(ValueError, match="granularity"):
        scene_units(text, "paragraph")
