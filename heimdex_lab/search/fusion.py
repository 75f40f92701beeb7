"""Fusion of search signals: reciprocal-rank fusion and convex fusion of z-scores.
See docs/architecture.md §5.

Pure functions over ``{id: score}`` maps; nothing here knows about scenes, stores or models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

Signals = Mapping[str, Mapping[str, float]]

DEFAULT_RRF_K = 60
# How far an exact match is lifted above the best looser one: any positive margin orders them;
# one that survives the 6-decimal rounding of reported scores keeps the order visible.
EXACT_GAP = 0.01


def rank(scores: Mapping[str, float]) -> list[str]:
    """Ids by score, best first; equal scores in id order so pages never overlap or skip."""
    return sorted(scores, key=lambda id_: (-scores[id_], id_))


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[str]],
    k: int = DEFAULT_RRF_K,
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Sum over signals of ``weight / (k + rank)``, rank counted from 1 (Cormack et al., 2009).

    Without ``weights`` every signal weighs 1; with them, a signal whose weight is absent or 0
    is left out, so its ids do not enter the result. An id repeated in one ranking counts once,
    at its first (best) position.
    """
    if k < 0:
        raise ValueError(f"RRF k must be 0 or more (got {k})")
    used = _used_weights(rankings, weights)
    fused: dict[str, float] = {}
    for name, weight in used.items():
        seen: set[str] = set()
        for position, id_ in enumerate(rankings[name], start=1):
            if id_ in seen:
                continue
            seen.add(id_)
            fused[id_] = fused.get(id_, 0.0) + weight / (k + position)
    return fused


def zscore(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores of one signal as (score - mean) / std, population std.

    A signal with no spread (one candidate, or all scores equal) cannot order its candidates but
    did choose them: each gets 1.0, one unit above where ``convex_fusion`` puts ids the signal
    left out. A lone candidate and a tie of several are the same case, so they score the same.
    """
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    std = float(values.std())
    if std == 0.0:
        return dict.fromkeys(scores, 1.0)
    mean = float(values.mean())
    return {id_: (float(score) - mean) / std for id_, score in scores.items()}


def convex_fusion(signals: Signals, weights: Mapping[str, float]) -> dict[str, float]:
    """Weighted mean of the signals' z-scores over every id that some used signal returned.

    Signals whose weight is absent or 0, and signals with no candidates, are left out; the
    weights of the rest are divided by their sum, so they need not add up to 1. An id that a
    signal did not return gets that signal's lowest z (capped at 0 for a signal with no spread),
    so a missing signal never helps an id.
    """
    used = {name: w for name, w in _used_weights(signals, weights).items() if signals[name]}
    if not used:
        return {}
    total = sum(used.values())
    normalised: dict[str, dict[str, float]] = {name: zscore(signals[name]) for name in used}
    missing = {name: min(0.0, *z.values()) for name, z in normalised.items()}
    ids = sorted({id_ for z in normalised.values() for id_ in z})
    return {
        id_: sum(weight * normalised[name].get(id_, missing[name]) for name, weight in used.items())
        / total
        for id_ in ids
    }


def _rrf(signals: Signals, weights: Mapping[str, float], rrf_k: int) -> dict[str, float]:
    rankings = {name: rank(scores) for name, scores in signals.items()}
    return reciprocal_rank_fusion(rankings, k=rrf_k, weights=weights)


def _convex(signals: Signals, weights: Mapping[str, float], rrf_k: int) -> dict[str, float]:
    return convex_fusion(signals, weights)


def exact_first(
    scores: Mapping[str, float], tiers: Mapping[str, int], gap: float = EXACT_GAP
) -> dict[str, float]:
    """``scores`` lifted so that a higher tier always ranks above a lower one.

    ``tiers`` grades ids by how exactly they match the query (0 or absent: not at all; see
    ``exact.match_tier``). Each tier above 0 is shifted up, as a block, just far enough that its
    lowest id scores ``gap`` above the best id of every lower tier; order within a tier is kept,
    tier 0 keeps its scores, and ids of ``tiers`` that are not in ``scores`` are ignored. So a
    ranking by the result lists exact matches first, each group still in fused order.
    """
    if gap <= 0:
        raise ValueError(f"gap must be positive (got {gap})")
    out = dict(scores)
    levels = sorted({tiers.get(id_, 0) for id_ in scores})
    for level in levels:
        if level <= 0:
            continue
        members = [id_ for id_ in scores if tiers.get(id_, 0) == level]
        below = [out[id_] for id_ in scores if tiers.get(id_, 0) < level]
        if not below:
            continue
        lift = max(0.0, max(below) + gap - min(scores[id_] for id_ in members))
        for id_ in members:
            out[id_] = scores[id_] + lift
    return out


FUSIONS: dict[str, Callable[[Signals, Mapping[str, float], int], dict[str, float]]] = {
    "convex": _convex,
    "rrf": _rrf,
}


def fuse(
    method: str,
    signals: Signals,
    weights: Mapping[str, float] | None = None,
    rrf_k: int = DEFAULT_RRF_K,
) -> dict[str, float]:
    """Fuse ``{signal: {id: score}}`` by ``method`` ("convex" or "rrf"); no weights: all equal."""
    try:
        fusion = FUSIONS[method]
    except KeyError:
        raise ValueError(f"unknown fusion {method!r} (choose from: {', '.join(FUSIONS)})") from None
    return fusion(signals, dict.fromkeys(signals, 1.0) if weights is None else weights, rrf_k)


def _used_weights(
    signals: Mapping[str, object], weights: Mapping[str, float] | None
) -> dict[str, float]:
    """The signals that take part, with their weights.

    A negative weight, or signals of which none has a positive weight, is a caller's mistake.
    """
    if weights is None:
        return dict.fromkeys(signals, 1.0)
    negative = {name: w for name, w in weights.items() if w < 0}
    if negative:
        raise ValueError(f"fusion weights must be 0 or more (got {negative})")
    used = {name: float(weights[name]) for name in signals if weights.get(name, 0.0) > 0}
    if signals and not used:
        # Fusing with every signal switched off would silently find nothing.
        raise ValueError(
            f"no signal has a positive weight (signals: {', '.join(signals)}; weights: "
            f"{dict(weights)})"
        )
    return used
