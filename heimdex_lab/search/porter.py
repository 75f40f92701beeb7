"""The Porter stemmer as SQLite FTS5's ``porter`` tokenizer applies it (pure functions).

Search decides whether a scene holds every word of a query in Python, on the same stems the
full-text index matched on, so "launches" in a query and "launch" in a transcript agree here
exactly when they agree in FTS5. Martin Porter's 1980 algorithm with the two changes of his
reference implementation (``-bli`` → ``-ble``, ``-logi`` → ``-log``); tokens shorter than three
letters or longer than 64 pass through unchanged, as in FTS5. Input is one lowercase token.
"""

from __future__ import annotations

import functools

_VOWELS = frozenset("aeiou")
_MAX_TOKEN = 64

# (suffix, replacement), longest first within a step's shared last-but-one letter; the first
# suffix that matches decides, whether or not its condition holds (as the algorithm says).
_STEP2 = (
    ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
    ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
    ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
    ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"),
    ("biliti", "ble"), ("logi", "log"),
)  # fmt: skip
_STEP3 = (
    ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"),
    ("ful", ""), ("ness", ""),
)  # fmt: skip
_STEP4 = (
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
    "ou", "ism", "ate", "iti", "ous", "ive", "ize",
)  # fmt: skip


def _consonant(word: str, i: int) -> bool:
    ch = word[i]
    if ch in _VOWELS:
        return False
    if ch == "y":
        return i == 0 or not _consonant(word, i - 1)
    return True


def _measure(stem: str) -> int:
    """m in [C](VC)^m[V]: how many vowel-consonant sequences the stem has."""
    pattern = "".join("c" if _consonant(stem, i) else "v" for i in range(len(stem)))
    collapsed = "".join(ch for i, ch in enumerate(pattern) if i == 0 or pattern[i - 1] != ch)
    return collapsed.count("vc")


def _has_vowel(stem: str) -> bool:
    return any(not _consonant(stem, i) for i in range(len(stem)))


def _cvc(stem: str) -> bool:
    """Ends consonant-vowel-consonant, the last not w, x or y (e.g. -hop, -fil)."""
    if len(stem) < 3 or stem[-1] in "wxy":
        return False
    n = len(stem)
    return _consonant(stem, n - 3) and not _consonant(stem, n - 2) and _consonant(stem, n - 1)


def _double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _consonant(word, len(word) - 1)


def _replace(word: str, rules: tuple[tuple[str, str], ...], min_measure: int) -> str:
    # Only suffixes shorter than the word: a suffix is never the whole word (as in FTS5).
    for suffix, replacement in rules:
        if word.endswith(suffix) and len(word) > len(suffix):
            stem = word[: -len(suffix)]
            return stem + replacement if _measure(stem) > min_measure else word
    return word


def _step1(word: str) -> str:
    if word.endswith("sses") or (word.endswith("ies") and len(word) > 3):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if word.endswith("eed") and len(word) > 3:
        if _measure(word[:-3]) > 0:
            word = word[:-1]
        return _step1c(word)
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and len(word) > len(suffix) and _has_vowel(word[: -len(suffix)]):
            word = word[: -len(suffix)]
            if len(word) > 2 and word.endswith(("at", "bl", "iz")):
                word += "e"
            elif _double_consonant(word) and word[-1] not in "lsz":
                word = word[:-1]
            elif _measure(word) == 1 and _cvc(word):
                word += "e"
            break
    return _step1c(word)


def _step1c(word: str) -> str:
    if word.endswith("y") and _has_vowel(word[:-1]):
        return word[:-1] + "i"
    return word


def _step4(word: str) -> str:
    for suffix in _STEP4:
        if word.endswith(suffix) and len(word) > len(suffix):
            stem = word[: -len(suffix)]
            if suffix == "ion" and not stem.endswith(("s", "t")):
                return word
            return stem if _measure(stem) > 1 else word
    return word


def _step5(word: str) -> str:
    if word.endswith("e"):
        stem = word[:-1]
        m = _measure(stem)
        if m > 1 or (m == 1 and not _cvc(stem)):
            word = stem
    if word.endswith("ll") and _measure(word[:-1]) > 1:
        word = word[:-1]
    return word


# Transcripts repeat a small vocabulary: a query checks ~200 candidate scenes' words, and a
# cached stem is a dict lookup instead of five passes of suffix rules.
@functools.lru_cache(maxsize=1 << 16)
def porter_stem(token: str) -> str:
    """The stem FTS5's porter tokenizer indexes ``token`` (lowercase, one word) under."""
    if len(token) < 3 or len(token) > _MAX_TOKEN:
        return token
    word = _step1(token)
    word = _replace(word, _STEP2, 0)
    word = _replace(word, _STEP3, 0)
    word = _step4(word)
    return _step5(word)
