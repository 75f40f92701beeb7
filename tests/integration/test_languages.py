"""Speech in more languages: each video's language is detected, stored, shown and filterable,
and a video is found by the words of its own language."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from heimdex_lab import Library
from heimdex_lab.errors import UsageError
from heimdex_lab.types import IngestResult

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def two_languages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Library, list[IngestResult]]:
    """Spanish speech, English speech and no audio, with the default speech model (auto)."""
    lib = Library.open(tmp_path_factory.mktemp("languages") / "library")
    names = ("mercado_es.mp4", "space_talk.mp4", "silent_coins.webm")
    results = lib.ingest([SAMPLES / n for n in names], progress=False)
    assert [r.state for r in results] == ["ready"] * 3, [r.error for r in results]
    return lib, results


def test_each_video_gets_the_language_it_speaks_and_its_model(
    two_languages: tuple[Library, list[IngestResult]],
) -> None:
    lib, (spanish, english, silent) = two_languages
    videos = {v["video_id"]: v for v in lib.videos().to_dicts()}
    assert videos[spanish.video_id]["language"] == "es"
    assert videos[spanish.video_id]["language_probability"] > 0.5
    assert videos[english.video_id]["language"] == "en"
    # English that tiny.en heard surely needs no detection pass: no probability to report.
    assert videos[english.video_id]["language_probability"] is None
    assert videos[silent.video_id]["language"] is None  # nothing said: no language
    models = {
        r.video_id: next(
            j.models for j in lib.catalog.jobs(r.video_id) if j.stage == "transcribing"
        )
        for r in (spanish, english)
    }
    # English goes on with the fast English model; Spanish with the multilingual one.
    assert models == {spanish.video_id: {"speech": "base"}, english.video_id: {"speech": "tiny.en"}}


def test_spanish_speech_is_transcribed_in_spanish(
    two_languages: tuple[Library, list[IngestResult]],
) -> None:
    lib, (spanish, *_rest) = two_languages
    text = " ".join(lib.scenes(spanish.video_id).frame["text"]).lower()
    for word in ("café", "leche", "gata", "horno", "domingo", "caballos"):
        assert word in text, text


def test_spanish_queries_find_their_scene_first(
    two_languages: tuple[Library, list[IngestResult]],
) -> None:
    lib, _results = two_languages
    report = lib.evaluate(SAMPLES / "queries.jsonl")
    spanish = report.by_kind["spanish"]["hybrid"]
    assert spanish is not None and spanish["recall@1"] == 1.0, report.frame.filter(
        report.frame["kind"] == "spanish"
    )


def test_a_query_without_accents_finds_and_marks_the_accented_word(
    two_languages: tuple[Library, list[IngestResult]],
) -> None:
    lib, (spanish, *_rest) = two_languages
    top = lib.search("cafe", k=1).hits[0]
    assert top.scene_id == f"{spanish.video_id}:0"
    assert "**café**" in top.snippet


def test_language_filter_keeps_videos_spoken_in_it(
    two_languages: tuple[Library, list[IngestResult]],
) -> None:
    lib, (spanish, english, _silent) = two_languages
    assert {h.video_id for h in lib.search("rocket", language="es").hits} == {spanish.video_id}
    assert {h.video_id for h in lib.search("rocket", language="EN").hits} == {english.video_id}
    assert lib.search("rocket", language="fr").total == 0
    # With a video filter too: what both allow.
    assert lib.search("rocket", videos=[english.video_id], language="es").total == 0


def test_cli_shows_and_filters_by_language(
    two_languages: tuple[Library, list[IngestResult]],
) -> None:
    from typer.testing import CliRunner

    from heimdex_lab.cli import app

    lib, (spanish, *_rest) = two_languages
    base = ["--library", str(lib.path), "--user", lib.user]
    runner = CliRunner()
    videos = json.loads(runner.invoke(app, [*base, "videos", "--json"]).stdout)
    assert {v["filename"]: v["language"] for v in videos}["mercado_es.mp4"] == "es"
    found = runner.invoke(app, [*base, "search", "caballos", "--language", "es", "--json"])
    assert found.exit_code == 0
    hits = json.loads(found.stdout)["results"]
    assert hits and {h["video_id"] for h in hits} == {spanish.video_id}


def test_a_long_first_window_is_probed_on_its_start_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows longer than PROBE_WHOLE_S: tiny.en hears only the first PROBE_S seconds; the
    file still comes out whole, by the right model (here with both limits shrunk to fit)."""
    from heimdex_lab.config import Settings
    from heimdex_lab.ingest import transcript

    settings = Settings()
    whole = {
        name: transcript.transcribe_file(SAMPLES / name, 15.0, settings)
        for name in ("space_talk.mp4", "mercado_es.mp4")
    }
    monkeypatch.setattr(transcript, "PROBE_WHOLE_S", 5.0)
    monkeypatch.setattr(transcript, "PROBE_S", 4.0)
    for name, before in whole.items():
        probed = transcript.transcribe_file(SAMPLES / name, 15.0, settings)
        assert (probed.model, probed.language) == (before.model, before.language)
        assert [s.text for s in probed.segments] == [s.text for s in before.segments]
    assert whole["space_talk.mp4"].model == "tiny.en" and whole["mercado_es.mp4"].model == "base"


def _espeak(text: str, voice: str, workdir: Path) -> np.ndarray:
    """``text`` spoken by espeak-ng in ``voice``: float32 mono at Whisper's 16 kHz."""
    out = workdir / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), text], check=True)
    with wave.open(str(out)) as wav:
        rate, raw = wav.getframerate(), wav.readframes(wav.getnframes())
    samples = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768
    n = round(len(samples) * 16_000 / rate)
    grid = np.linspace(0, len(samples) - 1, n)
    return np.interp(grid, np.arange(len(samples)), samples).astype(np.float32)


# Not the benchmark's sentences (benchmarks/languages.py keeps those held out).
PORTUGUESE = (
    "A padaria da esquina abre muito cedo. O meu primo estuda medicina em Lisboa. "
    "Ontem choveu durante todo o dia na cidade."
)


def test_the_library_languages_keep_detection_to_them(tmp_path: Path) -> None:
    """``HEIMDEX_LANGUAGES``: detection picks among the library's languages only (Whisper base
    hears some synthetic Portuguese as Latin), and an unknown code is a clear error."""
    from heimdex_lab.config import Settings
    from heimdex_lab.ingest.transcript import choose_model

    audio = _espeak(PORTUGUESE, "pt", tmp_path)
    choice = choose_model(audio, Settings(languages="en, es, de, fr, it, pt, nl"))
    assert choice is not None and choice.language == "pt"
    assert choice.language_probability is not None and 0 < choice.language_probability <= 1
    only = choose_model(audio, Settings(languages="de,it", language_candidates=1))
    assert only is not None and only.language in {"de", "it"}
    with pytest.raises(UsageError, match="HEIMDEX_LANGUAGES: xx is not a language"):
        choose_model(audio, Settings(languages="pt,xx"))


def test_portuguese_is_heard_as_portuguese_without_a_language_list(tmp_path: Path) -> None:
    """By default detection leaves out Latin (which Whisper base hears this synthetic Portuguese
    as) and, unsure, picks among the common languages by how well the words fit: no
    ``HEIMDEX_LANGUAGES`` needed."""
    from heimdex_lab.config import Settings
    from heimdex_lab.ingest.transcript import choose_model

    choice = choose_model(_espeak(PORTUGUESE, "pt", tmp_path), Settings(languages=""))
    assert choice is not None and (choice.model, choice.language) == ("base", "pt")
