"""Speech to text with word timestamps (faster-whisper), in the language spoken.

``HEIMDEX_WHISPER_MODEL=auto`` (the default): ``tiny.en`` transcribes a file's first speech;
if it heard English surely, that is the file's model (English costs what it did before).
Otherwise the multilingual ``base`` model detects the language (`detect_language`): English
goes on with ``tiny.en`` (fast, and better at English than ``base``), any other language with
``base`` told that language. A model given by name is used as it is (an English-only ``*.en``
model means English).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heimdex_lab.config import Settings
from heimdex_lab.embed.registry import locate
from heimdex_lab.errors import ModelUnavailable, UsageError
from heimdex_lab.media.decode import SPEECH_RATE, audio_windows
from heimdex_lab.types import Segment, Word

log = logging.getLogger(__name__)

AUTO = "auto"
ENGLISH_MODEL = "tiny.en"
MULTILINGUAL_MODEL = "base"
# Under "auto", a first window up to this long is transcribed whole by the English model (kept
# if English); a longer one only over its first PROBE_S seconds, so a long video in another
# language does not pay for a whole window of English it will throw away.
PROBE_WHOLE_S = 90.0
PROBE_S = 30.0


@dataclass(frozen=True)
class Transcript:
    """A file's speech: its segments, the language (ISO 639-1; None when nothing was said),
    how sure detection was (None without a detection pass: an English-only model, or English
    that the English model heard surely), and the model used."""

    segments: list[Segment]
    language: str | None
    language_probability: float | None
    model: str


@dataclass(frozen=True)
class _Choice:
    model: str
    language: str | None
    language_probability: float | None


_load_lock = threading.Lock()


def whisper_model(name: str, compute_type: str, cpu_threads: int) -> object:
    """The process-wide faster-whisper model (loaded on first use, by one thread: an ingest's
    warm-up thread loads it while the first audio window is decoded)."""
    with _load_lock:
        return _whisper_model(name, compute_type, cpu_threads)


@functools.cache
def _whisper_model(name: str, compute_type: str, cpu_threads: int) -> object:
    from faster_whisper import WhisperModel

    target, where = locate("speech", name)
    try:
        model = WhisperModel(
            target, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
        )
    except Exception as exc:  # a missing or broken model directory
        raise ModelUnavailable(f"speech model {name!r} at {target} did not load: {exc}") from exc
    log.info("speech model %s from %s", name, where)
    return model


def transcribe_file(
    path: Path,
    duration_s: float,
    settings: Settings,
    on_progress: Callable[[float], None] | None = None,
) -> Transcript:
    """A file's speech, window by window (`audio_windows`): memory stays bounded for any
    length; times are the file's. ``duration_s`` scales progress. The language (and with
    ``auto`` the model) is chosen on the first window with speech and kept for the file."""
    segments: list[Segment] = []
    total = max(duration_s, 1e-6)
    choice: _Choice | None = None
    for offset, audio in audio_windows(path, window_s=settings.audio_window_s):
        length = audio.size / SPEECH_RATE

        def report(fraction: float, offset: float = offset, length: float = length) -> None:
            if on_progress is not None:
                on_progress(min((offset + fraction * length) / total, 1.0))

        heard: list[Segment] | None = None
        if choice is None:
            choice, heard = _choose_for_file(audio, settings, report)
        if choice is None:  # no speech in this window: nothing to transcribe either
            report(1.0)
            continue
        if heard is None:
            heard, _score = _transcribe(audio, settings, report, choice)
        segments += [_shifted(s, offset) for s in heard]
    if choice is None or not segments:  # nothing said: no language to speak of
        return Transcript(segments, None, None, choice.model if choice else _named_model(settings))
    return Transcript(segments, choice.language, choice.language_probability, choice.model)


def _choose_for_file(
    audio: np.ndarray, settings: Settings, report: Callable[[float], None]
) -> tuple[_Choice | None, list[Segment] | None]:
    """The model and language of a file, from its first window (and that window's segments when
    they are already transcribed by the chosen model).

    Under "auto" the English model listens first: English it transcribes confidently (mean
    log-probability at least ``whisper_english_min_logprob``) is kept as it is, so an English
    video costs nothing more than before. Anything else goes to the multilingual model's
    language detection; if that says English after all, the English transcript still stands.
    """
    if settings.whisper_model != AUTO:
        return choose_model(audio, settings), None
    if _speech(audio) is None:
        return None, None
    english = _Choice(ENGLISH_MODEL, "en", None)
    whole = audio.size <= PROBE_WHOLE_S * SPEECH_RATE
    probe = audio if whole else audio[: int(PROBE_S * SPEECH_RATE)]
    heard, score = _transcribe(probe, settings, report if whole else None, english)
    kept = heard if whole else None  # a part of the window: transcribed again in full
    if heard and score is not None and score >= settings.whisper_english_min_logprob:
        return english, kept
    choice = choose_model(audio, settings)
    if choice is not None and choice.model == ENGLISH_MODEL:
        return choice, kept
    return choice, None


def first_model(settings: Settings) -> str:
    """The speech model a file needs first: the named one, or under "auto" the English model
    that listens first (an ingest's warm-up loads it ahead)."""
    name = settings.whisper_model
    return ENGLISH_MODEL if name == AUTO else name


def _named_model(settings: Settings) -> str:
    return ENGLISH_MODEL if settings.whisper_model == AUTO else settings.whisper_model


def choose_model(audio: np.ndarray, settings: Settings) -> _Choice | None:
    """Which model and language a file's speech gets, from 16 kHz mono ``audio`` (its first
    window); None when the window holds no speech (the next window decides)."""
    name = settings.whisper_model
    if name.endswith(".en"):
        return _Choice(name, "en", None)
    speech = _speech(audio)
    if speech is None:
        return None
    detector = whisper_model(MULTILINGUAL_MODEL if name == AUTO else name,
                             settings.whisper_compute_type, settings.cpu_threads)  # fmt: skip
    language, probability = detect_language(speech, detector, settings)
    log.info("speech language %s (p %.2f)", language, probability)
    model = name if name != AUTO else ENGLISH_MODEL if language == "en" else MULTILINGUAL_MODEL
    return _Choice(model, language, round(float(probability), 4))


# Whisper's languages that a video's speech is taken to be in unless ``HEIMDEX_LANGUAGES`` says
# otherwise: the 57 that OpenAI documents Whisper for (word error rate under 50 %). The other 42
# are classical, constructed or barely trained (Latin, Sanskrit, Hawaiian, Yiddish, ...), and
# Whisper hears synthetic or unclear speech of a common language as one of them (espeak
# Portuguese as Latin, Dutch as Latin or Welsh). ``HEIMDEX_LANGUAGES=all`` allows all 99.
SPOKEN_LANGUAGES = frozenset({
    "af", "ar", "az", "be", "bg", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "es",
    "et", "fa", "fi", "fr", "gl", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja",
    "kk", "kn", "ko", "lt", "lv", "mi", "mk", "mr", "ms", "ne", "nl", "no", "pl", "pt",
    "ro", "ru", "sk", "sl", "sr", "sv", "sw", "ta", "th", "tl", "tr", "uk", "ur", "vi", "zh"
})  # fmt: skip
# Among those, the languages Whisper heard most (at least 1,000 hours of its training audio,
# Radford et al. 2022, appendix E), which is to say the most recorded: when detection is unsure
# it picks among these. Unsure, Whisper base spreads synthetic Portuguese or Dutch over
# Hungarian, Welsh, Latvian, Greek, Afrikaans, ...; a video in one of those is still detected
# when Whisper is sure of it (``language_sure``).
COMMON_LANGUAGES = frozenset({
    "ca", "de", "en", "es", "fi", "fr", "id", "it", "ja", "ko", "nl", "pl", "pt", "ru",
    "sv", "tr", "zh"
})  # fmt: skip
ALL_LANGUAGES = "all"


def language_tiers(setting: str) -> list[frozenset[str] | None]:
    """The languages detection picks among for a ``languages`` setting, widest first (None:
    all of the model's): the given ISO 639-1 codes; all of them for ``all``; by default the
    spoken languages, narrowed to the common ones when detection is unsure."""
    if setting.strip().lower() == ALL_LANGUAGES:
        return [None]
    codes = frozenset(c.strip().lower() for c in setting.split(",") if c.strip())
    return [codes] if codes else [SPOKEN_LANGUAGES, COMMON_LANGUAGES]


def detect_language(speech: np.ndarray, model: object, settings: Settings) -> tuple[str, float]:
    """The language of 16 kHz ``speech`` (silence removed) and its probability, by the
    multilingual Whisper ``model``.

    Whisper's detection looks at one 30 s window and is easily swayed there (synthetic French
    heard as Thai). So: its probabilities are averaged over up to ``language_windows`` windows
    (weighted by their length) and kept to the allowed languages (`language_tiers`); a language
    at least ``language_sure`` probable is taken, else the next, narrower tier is tried. Unsure
    in the last, the ``language_candidates`` most probable are re-scored by decoding the first
    window in each (one batch): the language whose words the audio best fits (mean
    log-probability of its transcript) wins; a decode that loops, which Whisper itself would
    reject, is out.
    """
    from faster_whisper import WhisperModel
    from faster_whisper.audio import pad_or_trim

    assert isinstance(model, WhisperModel)
    extractor = model.feature_extractor
    frames = extractor.nb_max_frames
    features = extractor(speech[: settings.language_windows * extractor.n_samples])
    tiers = language_tiers(settings.languages)
    totals: dict[str, float] = {}
    first = None
    for start in range(0, features.shape[-1], frames):
        window = features[:, start : start + frames]
        if first is not None and window.shape[-1] < frames // 10:
            break  # a tail under 3 s next to a whole window: noise more than evidence
        encoded = model.encode(pad_or_trim(window))
        first = first if first is not None else encoded
        for token, p in model.model.detect_language(encoded)[0]:
            language = token[2:-2]  # "<|fr|>"
            totals[language] = totals.get(language, 0.0) + p * window.shape[-1]
    if tiers[0] is not None and (unknown := tiers[0] - set(totals)):
        raise UsageError(
            f"HEIMDEX_LANGUAGES: {', '.join(sorted(unknown))} is not a language the speech "
            f"model knows (ISO 639-1 codes, e.g. en,es,fr, or 'all'; it knows {len(totals)})"
        )
    for tier in tiers:
        kept = {lang: v for lang, v in totals.items() if tier is None or lang in tier}
        norm = sum(kept.values()) or 1.0
        ranked = sorted(((lang, v / norm) for lang, v in kept.items()), key=lambda x: -x[1])
        best, probability = ranked[0]
        if probability >= settings.language_sure:
            return best, probability
    if settings.language_candidates < 2:
        return best, probability
    candidates = [lang for lang, _p in ranked[: settings.language_candidates]]
    fits = dict(zip(candidates, _decoded_logprobs(model, first, candidates), strict=True))
    chosen = max(candidates, key=lambda lang: fits[lang])
    log.info("speech language re-scored: %s", {k: round(v, 2) for k, v in fits.items()})
    return chosen, dict(ranked)[chosen]


# Re-scoring decodes at most this many tokens (a 30 s window of speech is about 100 words).
_RESCORE_TOKENS = 160
# Whisper's own test of a failed decode: text this repetitive (gzip ratio) is a loop.
_LOOP_RATIO = 2.4


def _decoded_logprobs(model: object, encoded: object, languages: list[str]) -> list[float]:
    """Mean token log-probability of the greedy transcript of an encoded window in each of
    ``languages``, decoded as one batch (-inf for a decode that loops)."""
    import ctranslate2
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

    assert isinstance(model, WhisperModel)
    tokenizers = [
        Tokenizer(model.hf_tokenizer, True, task="transcribe", language=lang) for lang in languages
    ]
    prompts = [model.get_prompt(t, [], without_timestamps=True) for t in tokenizers]
    batch = np.repeat(np.asarray(encoded), len(languages), axis=0)
    results = model.model.generate(
        ctranslate2.StorageView.from_array(np.ascontiguousarray(batch)), prompts, beam_size=1,
        max_length=len(prompts[0]) + _RESCORE_TOKENS, return_scores=True, suppress_blank=True,
    )  # fmt: skip
    fits = []
    for tokenizer, result in zip(tokenizers, results, strict=True):
        text = tokenizer.decode(result.sequences_ids[0]).strip().encode()
        loops = not text or len(text) / len(zlib.compress(text)) > _LOOP_RATIO
        fits.append(-math.inf if loops else float(result.scores[0]))
    return fits


def _speech(audio: np.ndarray) -> np.ndarray | None:
    """The parts of ``audio`` the voice activity detector hears as speech, joined; None if none."""
    if audio.size < SPEECH_RATE // 10:
        return None
    from faster_whisper.vad import collect_chunks, get_speech_timestamps

    chunks = get_speech_timestamps(audio)
    if not chunks:
        return None
    pieces, _meta = collect_chunks(audio, chunks)
    return np.concatenate(pieces, axis=0)


def _shifted(segment: Segment, offset: float) -> Segment:
    if not offset:
        return segment
    return Segment(
        round(segment.start + offset, 3),
        round(segment.end + offset, 3),
        segment.text,
        tuple(Word(round(w.start + offset, 3), round(w.end + offset, 3), w.text)
              for w in segment.words),
    )  # fmt: skip


def transcribe(
    audio: np.ndarray,
    settings: Settings,
    on_progress: Callable[[float], None] | None = None,
    choice: _Choice | None = None,
) -> list[Segment]:
    """Segments with word times for 16 kHz mono ``audio``; an empty list for silence or no audio.
    ``choice``: the model and language `choose_model` picked for the file (default: decided
    on this audio)."""
    if audio.size < SPEECH_RATE // 10:
        return []
    choice = choice or choose_model(audio, settings)
    if choice is None:
        return []
    return _transcribe(audio, settings, on_progress, choice)[0]


def _transcribe(
    audio: np.ndarray,
    settings: Settings,
    on_progress: Callable[[float], None] | None,
    choice: _Choice,
) -> tuple[list[Segment], float | None]:
    """`transcribe` with a chosen model, and the mean log-probability of what it heard
    (weighted by each segment's length; None when it heard nothing)."""
    from faster_whisper import WhisperModel

    model = whisper_model(choice.model, settings.whisper_compute_type, settings.cpu_threads)
    assert isinstance(model, WhisperModel)
    pieces, info = model.transcribe(
        audio,
        language=choice.language,
        beam_size=settings.whisper_beam_size,
        word_timestamps=True,
        vad_filter=settings.whisper_vad,
        condition_on_previous_text=False,
    )
    duration = max(float(info.duration), 1e-6)
    segments = []
    scores: list[tuple[float, float]] = []
    for piece in pieces:
        scores.append((float(piece.avg_logprob), max(piece.end - piece.start, 1e-3)))
        words = tuple(
            Word(round(w.start, 3), round(w.end, 3), w.word.strip())
            for w in (piece.words or ())
            if w.word.strip()
        )
        text = piece.text.strip()
        if text:
            segments.append(Segment(round(piece.start, 3), round(piece.end, 3), text, words))
        if on_progress is not None:
            on_progress(min(piece.end / duration, 1.0))
    weight = sum(w for _s, w in scores)
    score = sum(s * w for s, w in scores) / weight if scores else None
    return segments, score
