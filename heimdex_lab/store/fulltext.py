"""Text as the SQLite full-text index sees it: runs of CJK characters as overlapping pairs.

FTS5's ``unicode61`` tokenizer splits words at spaces and punctuation and folds accents, which
serves languages written with spaces. Chinese and Japanese are written without them (Korean
glues particles to words), so a whole clause would be one token that no query word equals. Each
run of CJK characters is indexed as its overlapping bigrams ("東京タワー" → "東京 京タ タワ ワー"),
as Immich indexes CJK text, and a query term becomes the phrase of its bigrams, which matches
wherever the term occurs inside a run. Scene text itself is stored as it was said or shown.
"""

from __future__ import annotations

import re

# Hiragana, katakana, CJK ideographs (and extension A, compatibility), Hangul syllables.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def _bigrams(run: str) -> str:
    if len(run) < 2:
        return run
    return " ".join(run[i : i + 2] for i in range(len(run) - 1))


def index_text(text: str) -> str:
    """``text`` with each CJK run replaced by its bigrams, set apart by spaces."""
    if text.isascii() or not _CJK.search(text):
        return text
    return _CJK.sub(lambda m: f" {_bigrams(m.group())} ", text)
