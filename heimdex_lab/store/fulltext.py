"""Text as the full-text indexes see it: runs of CJK characters as overlapping pairs, and (for
PostgreSQL) Latin letters without their accents.

FTS5's ``unicode61`` tokenizer splits words at spaces and punctuation and folds accents, which
serves languages written with spaces. Chinese and Japanese are written without them (Korean
glues particles to words), so a whole clause would be one token that no query word equals. Each
run of CJK characters is indexed as its overlapping bigrams ("東京タワー" → "東京 京タ タワ ワー"),
as Immich indexes CJK text, and a query term becomes the phrase of its bigrams, which matches
wherever the term occurs inside a run. Scene text itself is stored as it was said or shown.

PostgreSQL's text search neither pairs CJK runs nor folds accents (its ``unaccent`` extension is
not in every server and a managed one may refuse to install it), so the catalog hands it
`tsvector_text`: pairs plus Latin letters folded as FTS5's ``remove_diacritics`` folds them, for
scene text and query terms alike.
"""

from __future__ import annotations

import re
import unicodedata

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


# Latin letters that may carry accents: Latin-1, Extended-A/B, and Extended Additional
# (Vietnamese). Other scripts keep their marks: dropping a kana's voicing mark or a Cyrillic
# breve changes the word, not its spelling.
_LATIN = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff]")


def _unaccented(letter: str) -> str:
    base = unicodedata.normalize("NFD", letter)
    return "".join(c for c in base if not unicodedata.combining(c)) or letter


def fold_accents(text: str) -> str:
    """``text`` with accented Latin letters as their base letters ("retrasó" → "retraso";
    "ß", "æ", "ø" have no base letter and stay)."""
    if text.isascii():
        return text
    return _LATIN.sub(lambda m: _unaccented(m.group()), unicodedata.normalize("NFC", text))


def tsvector_text(text: str) -> str:
    """``text`` as PostgreSQL's full-text index gets it (and a query term too): accents folded,
    CJK runs as their pairs."""
    return index_text(fold_accents(text))
