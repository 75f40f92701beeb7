"""Quality metrics: retrieval (Recall@K, MRR, nDCG), transcription (WER) and scene cuts (F1).

Pure functions of ids, strings and times, so notebooks and tests score runs the same way.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence

# Without slack a cut exactly one tolerance away would miss by a rounding error: in floats
# 0.7 + 0.1 < 0.8, so a detection at 0.8 s would not match a true cut at 0.7 s within 0.1 s.
_TIME_SLACK_S = 1e-9


def _check(relevant: Collection[str], k: int | None = None) -> None:
    # A query without relevant ids has no right answer: any score for it would be made up.
    if not relevant:
        raise ValueError("relevant ids are empty: a query needs at least one relevant id")
    if k is not None and k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant ids found in the first ``k`` results (a repeated id counts once).

    Raises ``ValueError`` when ``relevant`` is empty (recall is undefined) or ``k < 1``.
    """
    _check(relevant, k)
    wanted = set(relevant)
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """1 / rank of the first relevant result (rank from 1), 0.0 when none is relevant."""
    _check(relevant)
    wanted = set(relevant)
    for position, id_ in enumerate(ranked, start=1):
        if id_ in wanted:
            return 1.0 / position
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int = 10) -> float:
    """nDCG@k with binary gains and a log2(rank + 1) discount; a repeated id gains only once."""
    _check(relevant, k)
    wanted = set(relevant)
    seen: set[str] = set()
    dcg = 0.0
    for position, id_ in enumerate(ranked[:k], start=1):
        if id_ in wanted and id_ not in seen:
            dcg += 1.0 / math.log2(position + 1)
        seen.add(id_)
    ideal = sum(1.0 / math.log2(position + 1) for position in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; ``ValueError`` for no values rather than a made-up 0."""
    items = list(values)
    if not items:
        raise ValueError("mean of no values")
    return math.fsum(items) / len(items)


def evaluate(
    runs: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Collection[str]],
    ks: Sequence[int] = (1, 5, 10),
    ndcg_k: int = 10,
) -> dict[str, float]:
    """Recall@k for each k, MRR and nDCG@``ndcg_k``, averaged over the queries of ``qrels``.

    A judged query with no run scores 0 on every metric; runs of unjudged queries are not
    scored (as trec_eval does). Raises ``ValueError`` when ``qrels`` is empty or a query in it
    has no relevant id.
    """
    if not qrels:
        raise ValueError("no judged queries: qrels is empty")
    empty = sorted(query for query, relevant in qrels.items() if not relevant)
    if empty:
        raise ValueError(f"queries without relevant ids: {', '.join(empty)}")
    per_query: dict[str, list[float]] = {f"recall@{k}": [] for k in ks}
    per_query["mrr"] = []
    per_query[f"ndcg@{ndcg_k}"] = []
    for query, relevant in qrels.items():
        ranked = runs.get(query, ())
        for k in ks:
            per_query[f"recall@{k}"].append(recall_at_k(ranked, relevant, k))
        per_query["mrr"].append(reciprocal_rank(ranked, relevant))
        per_query[f"ndcg@{ndcg_k}"].append(ndcg_at_k(ranked, relevant, ndcg_k))
    return {name: mean(values) for name, values in per_query.items()}


def _words(text: str) -> list[str]:
    """Lowercased words with punctuation (Unicode category P*) removed."""
    kept = "".join(ch for ch in text.lower() if not unicodedata.category(ch).startswith("P"))
    return kept.split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, case and punctuation ignored.

    Raises ``ValueError`` for a reference with no words (the rate would divide by zero).
    """
    ref = _words(reference)
    hyp = _words(hypothesis)
    if not ref:
        raise ValueError("reference has no words: word error rate is undefined")
    # Levenshtein distance over words, one row of the table at a time.
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            current.append(
                min(
                    previous[j] + 1,  # reference word deleted
                    current[j - 1] + 1,  # hypothesis word inserted
                    previous[j - 1] + (ref_word != hyp_word),  # substituted or matched
                )
            )
        previous = current
    return previous[-1] / len(ref)


def cut_f1(
    predicted: Sequence[float], truth: Sequence[float], tolerance_s: float
) -> tuple[float, float, float]:
    """(precision, recall, F1) of detected cut times, each true cut matched to at most one.

    Matching is greedy in time order: each true cut takes the earliest unmatched prediction
    within ``tolerance_s``. Windows of equal width on a line make this greedy match the largest
    one-to-one matching. With no predictions precision is 1.0 (nothing wrong was claimed); with
    no true cuts recall is 1.0 (nothing was missed); so two empty lists score 1.0 throughout.
    """
    if tolerance_s < 0:
        raise ValueError(f"tolerance must be 0 s or more (got {tolerance_s})")
    preds = sorted(predicted)
    matched = 0
    next_pred = 0
    for cut in sorted(truth):
        # Predictions too early for this cut are too early for every later cut as well.
        while next_pred < len(preds) and preds[next_pred] < cut - tolerance_s - _TIME_SLACK_S:
            next_pred += 1
        if next_pred < len(preds) and preds[next_pred] <= cut + tolerance_s + _TIME_SLACK_S:
            matched += 1
            next_pred += 1
    precision = matched / len(preds) if preds else 1.0
    recall = matched / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1
