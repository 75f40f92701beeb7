"""Evaluation metrics: hand-computed values, edge cases, and agreement with trec_eval and jiwer."""

from __future__ import annotations

import math
import random

import ir_measures
import jiwer
import pytest
from ir_measures import RR, R, nDCG

from heimdex_lab.eval.metrics import (
    cut_f1,
    evaluate,
    mean,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    word_error_rate,
)

LOG2_3 = math.log2(3)  # discount at rank 2

# Recall@K -----------------------------------------------------------------------------------


def test_recall_at_k_counts_relevant_ids_in_the_first_k() -> None:
    ranked = ["a", "b", "c", "d"]
    relevant = {"b", "d", "x"}
    assert recall_at_k(ranked, relevant, 1) == 0.0
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(1 / 3)  # b
    assert recall_at_k(ranked, relevant, 4) == pytest.approx(2 / 3)  # b, d; x never retrieved


def test_recall_with_k_past_the_end_of_the_run_uses_the_whole_run() -> None:
    assert recall_at_k(["a", "b"], {"b", "z"}, 100) == 0.5


def test_recall_counts_a_repeated_id_once() -> None:
    # b three times is still one of the two relevant ids: 1/2, not 3/2
    assert recall_at_k(["b", "b", "b"], {"b", "d"}, 3) == 0.5


def test_recall_of_an_empty_run_is_zero() -> None:
    assert recall_at_k([], {"a"}, 5) == 0.0


def test_metrics_refuse_a_query_without_relevant_ids_or_k_below_one() -> None:
    with pytest.raises(ValueError, match="relevant ids are empty"):
        recall_at_k(["a"], set(), 1)
    with pytest.raises(ValueError, match="relevant ids are empty"):
        reciprocal_rank(["a"], [])
    with pytest.raises(ValueError, match="relevant ids are empty"):
        ndcg_at_k(["a"], ())
    with pytest.raises(ValueError, match="k must be at least 1"):
        recall_at_k(["a"], {"a"}, 0)
    with pytest.raises(ValueError, match="k must be at least 1"):
        ndcg_at_k(["a"], {"a"}, 0)


# MRR ----------------------------------------------------------------------------------------


def test_reciprocal_rank_is_one_over_the_first_relevant_rank() -> None:
    assert reciprocal_rank(["a", "b", "c"], {"c"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x", "r1", "r2"], {"r2", "r1"}) == 0.5  # first relevant at rank 2
    assert reciprocal_rank(["a"], {"a"}) == 1.0


def test_reciprocal_rank_without_a_relevant_result_is_zero() -> None:
    assert reciprocal_rank(["a", "b"], {"z"}) == 0.0
    assert reciprocal_rank([], {"z"}) == 0.0


# nDCG ---------------------------------------------------------------------------------------


def test_ndcg_hand_computed() -> None:
    # DCG = 1/log2(2) + 1/log2(4) = 1.5 (a at 1, c at 3); ideal = 1 + 1/log2(3) = 1.6309
    assert ndcg_at_k(["a", "b", "c"], {"a", "c"}) == pytest.approx(1.5 / (1 + 1 / LOG2_3))


def test_ndcg_ideal_uses_at_most_k_relevant_ids() -> None:
    # three relevant, k = 2: the ideal is two hits, which the run achieves
    assert ndcg_at_k(["a", "b", "c"], {"a", "b", "c"}, k=2) == pytest.approx(1.0)
    # (were all three in the ideal: 1.6309 / (1 + 0.6309 + 0.5) = 0.77)
    assert ndcg_at_k(["x", "a"], {"a", "b", "c"}, k=1) == 0.0  # the one slot holds a miss


def test_ndcg_ignores_hits_past_k() -> None:
    assert ndcg_at_k(["x", "y", "a"], {"a"}, k=2) == 0.0
    assert ndcg_at_k(["x", "y", "a"], {"a"}, k=3) == pytest.approx(0.5)  # 1/log2(4)


def test_ndcg_counts_a_repeated_relevant_id_once() -> None:
    # [a, a]: DCG = 1 (the repeat gains nothing); ideal for {a, b} = 1 + 1/log2(3) = 1.6309
    assert ndcg_at_k(["a", "a"], {"a", "b"}) == pytest.approx(1 / (1 + 1 / LOG2_3))


# evaluate -----------------------------------------------------------------------------------


def test_evaluate_averages_over_judged_queries_with_missing_runs_as_zero() -> None:
    runs = {"q1": ["a", "b"], "q2": ["c", "d"]}
    qrels = {"q1": {"b"}, "q2": {"c"}, "q3": {"e"}}  # q3 has no run
    result = evaluate(runs, qrels)
    assert list(result) == ["recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"]
    # recall@1: q1 0, q2 1, q3 0 -> 1/3;  recall@5 and @10: 1, 1, 0 -> 2/3
    # mrr: 1/2, 1, 0 -> 1/2;  ndcg@10: 1/log2(3) = 0.6309, 1, 0 -> 0.5436
    assert result == pytest.approx(
        {
            "recall@1": 1 / 3,
            "recall@5": 2 / 3,
            "recall@10": 2 / 3,
            "mrr": 0.5,
            "ndcg@10": (1 / LOG2_3 + 1) / 3,
        }
    )


def test_evaluate_does_not_score_runs_of_unjudged_queries() -> None:
    qrels = {"q1": {"a"}}
    assert evaluate({"q1": ["a"], "q9": ["z"]}, qrels, ks=(1,)) == evaluate(
        {"q1": ["a"]}, qrels, ks=(1,)
    )
    assert evaluate({"q1": ["a"], "q9": ["z"]}, qrels, ks=(1,))["recall@1"] == 1.0


def test_evaluate_refuses_empty_qrels_and_naming_queries_without_relevant_ids() -> None:
    with pytest.raises(ValueError, match="qrels is empty"):
        evaluate({"q1": ["a"]}, {})
    with pytest.raises(ValueError, match="q2, q3"):
        evaluate({}, {"q1": {"a"}, "q3": set(), "q2": []})


def test_mean_refuses_no_values() -> None:
    assert mean([1.0, 2.0, 4.0]) == pytest.approx(7 / 3)
    with pytest.raises(ValueError):
        mean([])


def test_retrieval_metrics_agree_with_trec_eval_on_random_runs() -> None:
    rng = random.Random(20240611)
    pool = [f"s{i:02d}" for i in range(30)]
    runs: dict[str, list[str]] = {}
    qrels: dict[str, set[str]] = {}
    for q in range(50):
        query = f"q{q:02d}"
        runs[query] = rng.sample(pool, rng.randint(1, 20))
        # Up to 14 relevant ids, so the ideal DCG is sometimes cut at 10.
        qrels[query] = set(rng.sample(pool, rng.randint(1, 14)))
    # Strictly falling scores, so trec_eval keeps our order (it breaks score ties by doc id).
    run_rows = [
        ir_measures.ScoredDoc(query, doc, float(len(ranked) - i))
        for query, ranked in runs.items()
        for i, doc in enumerate(ranked)
    ]
    # Judged non-relevant rows (relevance 0) must not count as relevant on either side.
    qrel_rows = [
        ir_measures.Qrel(query, doc, 1 if doc in qrels[query] else 0)
        for query in qrels
        for doc in pool[:12] + sorted(qrels[query])
    ]
    measures = [R @ 1, R @ 5, R @ 10, RR, nDCG @ 10]
    theirs = {
        (m.query_id, str(m.measure)): m.value
        for m in ir_measures.iter_calc(measures, qrel_rows, run_rows)
    }
    assert len(theirs) == 50 * len(measures)
    for query, ranked in runs.items():
        relevant = qrels[query]
        ours = {
            "R@1": recall_at_k(ranked, relevant, 1),
            "R@5": recall_at_k(ranked, relevant, 5),
            "R@10": recall_at_k(ranked, relevant, 10),
            "RR": reciprocal_rank(ranked, relevant),
            "nDCG@10": ndcg_at_k(ranked, relevant, 10),
        }
        for name, value in ours.items():
            assert value == pytest.approx(theirs[(query, name)], abs=1e-6), (query, name)
    means = evaluate(runs, qrels)
    aggregate = ir_measures.calc_aggregate(measures, qrel_rows, run_rows)
    assert means["recall@5"] == pytest.approx(aggregate[R @ 5], abs=1e-6)
    assert means["mrr"] == pytest.approx(aggregate[RR], abs=1e-6)
    assert means["ndcg@10"] == pytest.approx(aggregate[nDCG @ 10], abs=1e-6)


# WER ----------------------------------------------------------------------------------------


def test_wer_counts_substitutions_deletions_and_insertions() -> None:
    # sat -> sit (substitution), "the" before mat dropped (deletion): 2 errors / 6 words
    assert word_error_rate("the cat sat on the mat", "the cat sit on mat") == pytest.approx(2 / 6)
    # x inserted: 1 / 2
    assert word_error_rate("a b", "a x b") == 0.5


def test_wer_ignores_case_and_punctuation() -> None:
    assert word_error_rate("Hello, World! It's “fine”.", "hello world its fine") == 0.0


def test_wer_can_exceed_one_and_is_one_for_an_empty_hypothesis() -> None:
    assert word_error_rate("a", "b c d") == 3.0  # 1 substitution + 2 insertions over 1 word
    assert word_error_rate("two words", "") == 1.0


def test_wer_refuses_a_reference_without_words() -> None:
    with pytest.raises(ValueError, match="reference has no words"):
        word_error_rate(" ... ", "anything")


WER_PAIRS = [
    ("The quick brown fox jumps over the lazy dog.", "the quick brown fox jumped over a lazy dog"),
    ("We'll meet at noon, near the old bridge.", "we will meet at noon near old bridge"),
    ("Search your videos by what is said.", "search videos by what is said and shown in them"),
    ("Is this the right scene?", "this is the right scene"),
    ("Ein Satz, auf Deutsch: schön!", "ein satz auf deutsch schon"),
    ("one two three four five", "five four three two one"),
]


@pytest.mark.parametrize(("reference", "hypothesis"), WER_PAIRS)
def test_wer_agrees_with_jiwer(reference: str, hypothesis: str) -> None:
    normalise = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )
    expected = jiwer.wer(
        reference, hypothesis, reference_transform=normalise, hypothesis_transform=normalise
    )
    assert expected > 0  # every pair has errors, so agreeing on zero proves nothing
    assert word_error_rate(reference, hypothesis) == pytest.approx(expected)


# Cut F1 -------------------------------------------------------------------------------------


def test_cut_f1_hand_computed() -> None:
    # 1.0 ~ 1.02 and 2.05 ~ 2.0 match within 0.1 s; 5.0 and 3.0 do not: 2 of 3 each way
    p, r, f1 = cut_f1([1.0, 2.05, 5.0], [1.02, 2.0, 3.0], tolerance_s=0.1)
    assert (p, r, f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_cut_f1_matches_one_to_one() -> None:
    # two detections of one true cut: one is a false positive. F1 = 2 * 0.5 * 1 / 1.5
    assert cut_f1([2.0, 2.01], [2.0], tolerance_s=0.1) == pytest.approx((0.5, 1.0, 2 / 3))
    # one detection between two true cuts: it can serve only one of them
    assert cut_f1([2.0], [1.95, 2.05], tolerance_s=0.1) == pytest.approx((1.0, 0.5, 2 / 3))


def test_cut_f1_finds_the_largest_matching_not_the_closest_pairs() -> None:
    # Pairing 1.0 with its closest cut 1.5 would leave 0.0 and 2.4 unmatched (1 match);
    # 1.0 ~ 0.0 and 2.4 ~ 1.5 gives 2.
    assert cut_f1([1.0, 2.4], [0.0, 1.5], tolerance_s=1.0) == pytest.approx((1.0, 1.0, 1.0))


def test_cut_f1_tolerance_is_inclusive_despite_float_rounding() -> None:
    # In floats 0.7 + 0.1 < 0.8 and 9.39 - 0.04 > 9.35, yet each is exactly one tolerance away.
    assert cut_f1([0.8], [0.7], tolerance_s=0.1) == (1.0, 1.0, 1.0)
    assert cut_f1([9.35], [9.39], tolerance_s=0.04) == (1.0, 1.0, 1.0)
    assert cut_f1([0.81], [0.7], tolerance_s=0.1) == (0.0, 0.0, 0.0)
    assert cut_f1([9.34], [9.39], tolerance_s=0.04) == (0.0, 0.0, 0.0)


def test_cut_f1_with_empty_lists() -> None:
    assert cut_f1([], [], tolerance_s=0.1) == (1.0, 1.0, 1.0)  # no cuts, none claimed
    assert cut_f1([], [3.0], tolerance_s=0.1) == (1.0, 0.0, 0.0)  # nothing claimed, one missed
    assert cut_f1([3.0], [], tolerance_s=0.1) == (0.0, 1.0, 0.0)  # one false cut


def test_cut_f1_refuses_a_negative_tolerance() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        cut_f1([1.0], [1.0], tolerance_s=-0.1)


def _max_matching(predicted: list[float], truth: list[float], tolerance: float) -> int:
    """Largest one-to-one matching by augmenting paths (Kuhn), independent of the sweep."""
    owner: dict[int, int] = {}  # prediction index -> truth index

    def augment(t: int, visited: set[int]) -> bool:
        for p, time in enumerate(predicted):
            # same 1e-9 s slack as the package: "within tolerance" includes its rounded edge
            if abs(time - truth[t]) <= tolerance + 1e-9 and p not in visited:
                visited.add(p)
                if p not in owner or augment(owner[p], visited):
                    owner[p] = t
                    return True
        return False

    return sum(augment(t, set()) for t in range(len(truth)))


def test_cut_f1_matches_as_many_as_exhaustive_matching_on_random_cuts() -> None:
    rng = random.Random(7)
    for _ in range(200):
        # Quarter-second grid plus jitter: crowded enough for conflicting candidate pairs.
        truth = [round(rng.randint(0, 20) * 0.25 + rng.uniform(-0.1, 0.1), 3) for _ in range(6)]
        predicted = [round(rng.uniform(0, 5), 3) for _ in range(rng.randint(0, 7))]
        tolerance = rng.choice([0.1, 0.3, 0.6])
        best = _max_matching(predicted, truth, tolerance)
        p, r, _ = cut_f1(predicted, truth, tolerance)
        assert round(r * len(truth)) == best, (predicted, truth, tolerance)
        if predicted:
            assert round(p * len(predicted)) == best
