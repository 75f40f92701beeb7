"""Spoken-language detection and what ``auto`` costs English videos (issue 19).

    .venv/bin/python benchmarks/languages.py [--english-seconds 60]

1. Detection: sentences in five languages spoken by espeak-ng voices, each detected by
   `choose_model` (Whisper ``base`` on the first speech), as an ingest does for speech that
   ``tiny.en`` does not hear as English: accuracy per language and seconds per detection.
2. English overhead: one generated English talk ingested in a fresh process with
   ``HEIMDEX_WHISPER_MODEL=tiny.en`` and with ``auto``, warm (a first video loads the models):
   the transcribing stage's seconds in each. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

SENTENCES = {
    "es": [
        "El mercado abre todos los días a las ocho de la mañana.",
        "Mi hermana trabaja en un hospital cerca del puerto.",
        "Este invierno ha llovido mucho en el norte del país.",
    ],
    "de": [
        "Der Zug nach Berlin hat heute zwanzig Minuten Verspätung.",
        "Unsere Schule bekommt im Sommer eine neue Bibliothek.",
        "Am Wochenende wandern wir gern in den Bergen.",
    ],
    "fr": [
        "La boulangerie du quartier ferme le lundi.",
        "Nous avons visité le musée avec les enfants hier.",
        "Le prix de l'essence a encore augmenté ce mois-ci.",
    ],
    "it": [
        "Il treno per Roma parte dal binario tre.",
        "Mia nonna prepara la pasta fresca ogni domenica.",
        "Quest'anno la vendemmia è cominciata in anticipo.",
    ],
    "pt": [
        "O autocarro para Lisboa sai às nove horas.",
        "A minha vizinha tem um jardim cheio de flores.",
        "Amanhã vamos jogar futebol na praia.",
    ],
}

CHILD = r"""
import json, sys, time
from pathlib import Path
from heimdex_lab import Library
lib = Library.open(sys.argv[1])
seconds = []
for video in sys.argv[2:]:
    (result,) = lib.ingest([Path(video)], progress=False)
    jobs = {j.stage: (j.finished_at - j.started_at).total_seconds()
            for j in lib.catalog.jobs(result.video_id)}
    seconds.append(jobs["transcribing"])
print(json.dumps(seconds))
"""


def _espeak(text: str, voice: str, out: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), text], check=True)
    with wave.open(str(out)) as wav:
        rate, raw = wav.getframerate(), wav.readframes(wav.getnframes())
    samples = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768
    n = round(len(samples) * 16_000 / rate)  # to Whisper's 16 kHz
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples).astype(
        np.float32
    )


def detection(work: Path) -> None:
    from heimdex_lab.config import Settings
    from heimdex_lab.ingest.transcript import choose_model

    settings = Settings()
    choose_model(_espeak("Hello there.", "en-us", work / "warm.wav"), settings)  # loads base
    print("\nlanguage detection (Whisper base, first speech of each clip):")
    right = total = 0
    for language, sentences in SENTENCES.items():
        got, spent = [], []
        for n, sentence in enumerate(sentences):
            audio = _espeak(sentence, language, work / f"{language}{n}.wav")
            start = time.perf_counter()
            choice = choose_model(audio, settings)
            spent.append(time.perf_counter() - start)
            got.append((choice.language, choice.language_probability) if choice else (None, None))
        hits = sum(lang == language for lang, _p in got)
        right, total = right + hits, total + len(got)
        detail = ", ".join(f"{lang} {p:.2f}" for lang, p in got if lang)
        print(f"  {language}: {hits}/{len(got)} right ({detail}); {np.mean(spent):.2f} s each")
    print(f"  all: {right}/{total} = {right / total:.0%}")


def english_overhead(work: Path, seconds: float) -> None:
    videos = [work / f"english_{n}.mp4" for n in (1, 2)]
    for n, video in enumerate(videos):
        subprocess.run(
            [sys.executable, str(ROOT / "data" / "make_samples.py"), "--long", str(seconds),
             "--offset", str(n * 5), "--out", str(video)],
            check=True, capture_output=True,
        )  # fmt: skip
    print(f"\nEnglish, {seconds:.0f} s talk, transcribing stage (cold, then warm):")
    for model in ("tiny.en", "auto"):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(work / f"library-{model}"), *map(str, videos)],
            env={**os.environ, "HEIMDEX_WHISPER_MODEL": model, "HEIMDEX_OCR": "false"},
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        cold, warm = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {model:8s} cold {cold:6.2f} s   warm {warm:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--english-seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        detection(Path(tmp))
        english_overhead(Path(tmp), args.english_seconds)


if __name__ == "__main__":
    main()
