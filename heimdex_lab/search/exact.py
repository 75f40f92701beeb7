"""Exact-word matching of a query against scene text (pure functions).

A scene that holds every content word of a short query (a name, a term, a phrase) is the one
the user meant, whatever a looser meaning match says: search ranks such scenes first
(``fusion.exact_first``). Words are split, case- and accent-folded and Porter-stemmed as SQLite
FTS5's ``porter unicode61`` tokenizer does, so this agrees with the keyword index.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from heimdex_lab.search.porter import porter_stem
from heimdex_lab.search.snippet import STOPWORDS, fold

# unicode61: a token is a run of letters and digits; everything else (apostrophes, hyphens,
# underscores) separates tokens.
_TOKEN = re.compile(r"[^\W_]+")

NO_MATCH, ALL_WORDS, PHRASE = 0, 1, 2


def content_stems(text: str) -> list[str]:
    """Stems of ``text``'s words in order, stop words and single letters left out."""
    return [
        porter_stem(token)
        for token in _TOKEN.findall(fold(text))
        if token not in STOPWORDS and (len(token) > 1 or token.isdigit())
    ]


def match_tier(query: Sequence[str], text: Sequence[str]) -> int:
    """How exactly the stems ``text`` hold the stems ``query``.

    ``PHRASE`` when the query's stems occur in ``text`` as one run in query order (stop words
    between them ignored), ``ALL_WORDS`` when every one occurs somewhere, else ``NO_MATCH``.
    An empty query matches nothing.
    """
    if not query or not set(query) <= set(text):
        return NO_MATCH
    n = len(query)
    wanted = list(query)
    if any(list(text[i : i + n]) == wanted for i in range(len(text) - n + 1)):
        return PHRASE
    return ALL_WORDS
