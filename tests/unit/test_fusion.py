"""Fusion of search signals: hand-computed RRF and convex scores, ties, missing ids, dispatch."""

from __future__ import annotations

import math

import pytest

from heimdex_lab.search.fusion import (
    FUSIONS,
    convex_fusion,
    fuse,
    rank,
    reciprocal_rank_fusion,
    zscore,
)

SQRT_3_2 = math.sqrt(1.5)  # |z| of 1 and 3 in {1, 2, 3}: mean 2, population std sqrt(2/3)


# rank ---------------------------------------------------------------------------------------


def test_rank_orders_by_score_descending() -> None:
    assert rank({"a": 0.1, "b": 0.9, "c": 0.5}) == ["b", "c", "a"]


def test_rank_breaks_ties_by_id_ascending_whatever_the_insertion_order() -> None:
    assert rank({"d": 1.0, "b": 2.0, "c": 1.0, "a": 1.0}) == ["b", "a", "c", "d"]
    assert rank({"a": 1.0, "c": 1.0, "d": 1.0, "b": 2.0}) == ["b", "a", "c", "d"]


def test_rank_of_nothing_is_empty() -> None:
    assert rank({}) == []


# reciprocal_rank_fusion ---------------------------------------------------------------------


def test_rrf_sums_reciprocal_ranks_counted_from_one() -> None:
    fused = reciprocal_rank_fusion({"dense": ["a", "b", "c"], "bm25": ["c", "a"]}, k=1)
    # a = 1/(1+1) + 1/(1+2) = 0.8333; b = 1/(1+2) = 0.3333; c = 1/(1+3) + 1/(1+1) = 0.75
    assert fused == pytest.approx({"a": 5 / 6, "b": 1 / 3, "c": 0.75})


def test_rrf_default_k_is_60() -> None:
    # one ranking, first place: 1 / (60 + 1)
    assert reciprocal_rank_fusion({"dense": ["a", "b"]}) == pytest.approx(
        {"a": 1 / 61, "b": 1 / 62}
    )


def test_rrf_weights_scale_each_signal() -> None:
    fused = reciprocal_rank_fusion(
        {"dense": ["a", "b"], "bm25": ["b", "a"]}, k=0, weights={"dense": 2.0, "bm25": 1.0}
    )
    # a = 2/1 + 1/2 = 2.5; b = 2/2 + 1/1 = 2.0
    assert fused == pytest.approx({"a": 2.5, "b": 2.0})


def test_rrf_leaves_out_signals_with_zero_or_no_weight() -> None:
    fused = reciprocal_rank_fusion(
        {"dense": ["a"], "bm25": ["b"], "image": ["c"]}, k=0, weights={"dense": 1.0, "bm25": 0.0}
    )
    assert fused == {"a": 1.0}


def test_rrf_counts_a_repeated_id_once_at_its_first_position() -> None:
    # a at 1 (its repeat at 3 ignored), b at 2: a = 1/1, b = 1/2
    assert reciprocal_rank_fusion({"dense": ["a", "b", "a"]}, k=0) == {"a": 1.0, "b": 0.5}


def test_rrf_of_no_rankings_is_empty() -> None:
    assert reciprocal_rank_fusion({}) == {}
    assert reciprocal_rank_fusion({"dense": []}) == {}


def test_rrf_rejects_negative_k_and_negative_weights() -> None:
    with pytest.raises(ValueError, match="k must be"):
        reciprocal_rank_fusion({"dense": ["a"]}, k=-1)
    with pytest.raises(ValueError, match="0 or more"):
        reciprocal_rank_fusion({"dense": ["a"]}, weights={"dense": -0.5})


# zscore -------------------------------------------------------------------------------------


def test_zscore_uses_the_population_std() -> None:
    # mean 2, population std sqrt(((1-2)^2 + 0 + (3-2)^2) / 3) = sqrt(2/3); (3-2)/sqrt(2/3) = 1.2247
    # (the sample std, 1.0, would give exactly -1, 0, 1)
    assert zscore({"a": 1.0, "b": 2.0, "c": 3.0}) == pytest.approx(
        {"a": -SQRT_3_2, "b": 0.0, "c": SQRT_3_2}
    )


def test_zscore_is_unchanged_by_shifting_and_scaling_a_signal() -> None:
    raw = {"a": 0.31, "b": 0.77, "c": 0.42, "d": 0.90}
    moved = {id_: 40.0 * s - 7.0 for id_, s in raw.items()}
    assert zscore(moved) == pytest.approx(zscore(raw))


def test_zscore_gives_a_lone_candidate_and_a_tie_one_each() -> None:
    # No spread to measure, but the signal chose these ids: they count, and all alike.
    assert zscore({"a": 0.2}) == {"a": 1.0}
    assert zscore({"a": 7.0, "b": 7.0, "c": 7.0}) == {"a": 1.0, "b": 1.0, "c": 1.0}


def test_zscore_of_nothing_is_empty() -> None:
    assert zscore({}) == {}


# convex_fusion ------------------------------------------------------------------------------


def test_convex_fusion_hand_computed_with_missing_ids() -> None:
    signals = {"text": {"a": 1.0, "b": 2.0, "c": 3.0}, "keyword": {"a": 10.0, "d": 0.0}}
    fused = convex_fusion(signals, {"text": 0.9, "keyword": 0.1})
    # text z: a -1.2247, b 0, c +1.2247, d missing -> text's lowest z, -1.2247
    # keyword z: a +1, d -1, b and c missing -> keyword's lowest z, -1
    # a = 0.9 * -1.2247 + 0.1 * 1 = -1.0022     b = 0.9 * 0 + 0.1 * -1 = -0.1
    # c = 0.9 * 1.2247 + 0.1 * -1 = 1.0022      d = 0.9 * -1.2247 + 0.1 * -1 = -1.2022
    assert fused == pytest.approx(
        {
            "a": -0.9 * SQRT_3_2 + 0.1,
            "b": -0.1,
            "c": 0.9 * SQRT_3_2 - 0.1,
            "d": -0.9 * SQRT_3_2 - 0.1,
        }
    )
    assert rank(fused) == ["c", "b", "a", "d"]


def test_convex_fusion_divides_by_the_sum_of_used_weights() -> None:
    signals = {"text": {"a": 1.0, "b": 2.0, "c": 3.0}, "keyword": {"a": 10.0, "d": 0.0}}
    # 9 : 1 is 0.9 : 0.1 once divided by their sum, 10
    assert convex_fusion(signals, {"text": 9.0, "keyword": 1.0}) == pytest.approx(
        convex_fusion(signals, {"text": 0.9, "keyword": 0.1})
    )


def test_a_missing_signal_never_helps() -> None:
    signals = {"text": {"a": 1.0, "b": 1.0, "c": 2.0}, "keyword": {"a": 1.0, "c": 5.0}}
    fused = convex_fusion(signals, {"text": 1.0, "keyword": 1.0})
    # b is absent from keyword, a is its worst: b gets a's keyword z (-1), not 0, so no edge.
    assert fused["b"] == pytest.approx(fused["a"])
    assert rank(fused) == ["c", "a", "b"]


def test_a_lone_keyword_match_is_lifted_over_absent_ids() -> None:
    signals = {"text": {"a": 0.9, "b": 0.8}, "keyword": {"b": 3.0}}
    fused = convex_fusion(signals, {"text": 0.3, "keyword": 0.7})
    # text z: a +1, b -1; keyword z: b 1.0 (lone), a missing -> min(0, 1.0) = 0
    # a = 0.3 * 1 + 0.7 * 0 = 0.3; b = 0.3 * -1 + 0.7 * 1 = 0.4
    assert fused == pytest.approx({"a": 0.3, "b": 0.4})


def test_convex_fusion_ignores_zero_weight_and_unweighted_signals() -> None:
    signals = {"text": {"a": 1.0, "b": 3.0}, "keyword": {"c": 9.0}, "image": {"d": 0.5}}
    fused = convex_fusion(signals, {"text": 2.0, "keyword": 0.0})
    # only text: z of 1 and 3 is -1 and +1; c and d come from ignored signals only
    assert fused == pytest.approx({"a": -1.0, "b": 1.0})


def test_convex_fusion_leaves_out_a_signal_without_candidates() -> None:
    fused = convex_fusion({"text": {"a": 1.0, "b": 3.0}, "image": {}}, {"text": 1.0, "image": 1.0})
    # were the empty image signal in the divisor, scores would be halved to -0.5 and 0.5
    assert fused == pytest.approx({"a": -1.0, "b": 1.0})


def test_convex_fusion_of_nothing_is_empty() -> None:
    assert convex_fusion({}, {"text": 1.0}) == {}
    assert convex_fusion({"text": {}}, {"text": 1.0}) == {}


def test_convex_fusion_rejects_negative_weights() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        convex_fusion({"text": {"a": 1.0}}, {"text": 1.0, "keyword": -1.0})


def test_fusion_refuses_to_switch_off_every_signal() -> None:
    # all weights 0 would find nothing without saying why
    with pytest.raises(ValueError, match="no signal has a positive weight"):
        convex_fusion({"text": {"a": 1.0}, "keyword": {"a": 2.0}}, {"text": 0.0, "image": 1.0})
    with pytest.raises(ValueError, match="no signal has a positive weight"):
        fuse("rrf", {"text": {"a": 1.0}}, {"text": 0.0})


# fuse ---------------------------------------------------------------------------------------


def test_fuse_rrf_ranks_each_signal_by_its_scores() -> None:
    signals = {"dense": {"a": 0.9, "b": 0.5, "c": 0.7}, "bm25": {"c": 2.0, "b": 1.0}}
    fused = fuse("rrf", signals, {"dense": 1.0, "bm25": 1.0}, rrf_k=0)
    # dense ranks a, c, b; bm25 ranks c, b
    # a = 1/1 = 1; c = 1/2 + 1/1 = 1.5; b = 1/3 + 1/2 = 0.8333
    assert fused == pytest.approx({"a": 1.0, "b": 5 / 6, "c": 1.5})


def test_fuse_rrf_orders_tied_scores_by_id() -> None:
    # b and a tie in dense; rank() puts a first: a = 1/1, b = 1/2
    assert fuse("rrf", {"dense": {"b": 0.5, "a": 0.5}}, rrf_k=0) == {"a": 1.0, "b": 0.5}


def test_fuse_convex_is_convex_fusion() -> None:
    signals = {"text": {"a": 1.0, "b": 2.0, "c": 3.0}, "keyword": {"a": 10.0, "d": 0.0}}
    weights = {"text": 0.9, "keyword": 0.1}
    assert fuse("convex", signals, weights) == convex_fusion(signals, weights)


def test_fuse_without_weights_weighs_signals_equally() -> None:
    signals = {"text": {"a": 1.0, "b": 3.0}, "keyword": {"a": 5.0, "b": 1.0}}
    # text z: a -1, b +1; keyword z: a +1, b -1; equal weights cancel out
    assert fuse("convex", signals) == pytest.approx({"a": 0.0, "b": 0.0})


def test_fuse_rejects_an_unknown_method_naming_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'rank_sum'.*convex, rrf"):
        fuse("rank_sum", {"text": {"a": 1.0}}, {"text": 1.0})
    assert set(FUSIONS) == {"convex", "rrf"}
