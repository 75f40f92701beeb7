"""Snippets of what a scene says (or shows) with the query's words marked as **word** (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from heimdex_lab.types import Scene, ScreenLine

_TOKEN = re.compile(r"\w+(?:'\w+)?")

# Words too common to mean anything in a keyword query (also kept out of the BM25 query).
_STOPWORDS = (
    "a an and are as at be but by for from has have he her his i in is it its of on or "
    "she so that the their them they this to was we were what when where which who will "
    "with you your about did do does how into our over than then there these those up"
)
STOPWORDS = frozenset(_STOPWORDS.split())


def fold(text: str) -> str:
    """Lower case without accents ("Café" → "cafe"), as FTS5's unicode61 tokenizer folds."""
    text = text.lower()
    if text.isascii():  # nothing to fold, and most transcripts are: skip the per-letter pass
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """A crude stem, enough to match "launches" to "launch", "talked" to "talk" and "cafe" to
    "café"."""
    w = fold(word)
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def query_terms(query: str) -> list[str]:
    """The query's words minus stopwords (all of them when only stopwords were given)."""
    words = [w.lower() for w in _TOKEN.findall(query)]
    content = [w for w in words if w not in STOPWORDS]
    return content or words


def mark(text: str, query: str, max_words: int = 40) -> str:
    """``text`` (cut to a window of ``max_words`` around the first match) with matches bolded."""
    stems = {stem(t) for t in query_terms(query)}
    words = text.split()
    hits = [i for i, w in enumerate(words) if any(stem(t) in stems for t in _TOKEN.findall(w))]
    start = 0
    if len(words) > max_words and hits:
        start = max(0, min(hits[0] - max_words // 4, len(words) - max_words))
    window = words[start : start + max_words]
    out = []
    for offset, word in enumerate(window):
        if start + offset in hits:
            # Bold the word itself, not the punctuation around it.
            word = re.sub(r"(\w+(?:'\w+)?)", r"**\1**", word, count=1)
        out.append(word)
    prefix = "… " if start > 0 else ""
    suffix = " …" if start + max_words < len(words) else ""
    return prefix + " ".join(out) + suffix


SCREEN_LABEL = "On screen: "


def matching_lines(lines: Sequence[ScreenLine], query: str) -> list[ScreenLine]:
    """The on-screen lines holding a word of the query (the words ``mark`` would bold)."""
    stems = {stem(t) for t in query_terms(query)}
    return [ln for ln in lines if any(stem(t) in stems for t in _TOKEN.findall(ln.text))]


def snippet(scene: Scene, query: str) -> str:
    """The scene's transcript with the query's words marked; when only its on-screen text
    holds them (or it has no transcript), that text instead, after ``SCREEN_LABEL``."""
    if not query:
        return scene.text
    said = mark(scene.text, query)
    if "**" in said or not scene.screen_text:
        return said
    shown = SCREEN_LABEL + mark(" · ".join(scene.screen_text.split("\n")), query)
    return shown if "**" in shown or not scene.text else said
