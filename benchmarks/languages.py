# ruff: noqa: RUF001 - the Cyrillic and Turkish letters of the held-out sentences are meant
"""Spoken-language detection and what ``auto`` costs English videos (issue 19).

    .venv/bin/python benchmarks/languages.py [--english-seconds 60] [--languages en,es,...]
                                             [--quick] [--no-english]

1. Detection: speech by espeak-ng voices, each detected by `choose_model` (Whisper ``base``,
   `detect_language`), as an ingest does for speech that ``tiny.en`` does not hear as English:
   held-out videos (several sentences, four voice variants per language) in six languages and
   in eight more, by default (no language list), with a ``languages`` restriction and with all
   99 of Whisper's, and the single sentences of the first measurement; accuracy per language
   and seconds per detection.
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

# Single sentences: the first measurement of issue 19 (8/15), the set the detector was
# looked at on while it was built.
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

# Held out: never looked at while building detection. Each video speaks all of a language's
# sentences in one espeak-ng voice variant.
HELD_OUT = {
    "es": [
        "La biblioteca municipal cierra a las nueve de la noche.",
        "Mañana vamos a comprar fruta en el mercado central.",
        "El perro de mis vecinos ladra cada vez que llueve.",
        "Mi abuelo aprendió a nadar cuando tenía sesenta años.",
        "Necesitamos una mesa más grande para la cocina.",
        "El autobús llegó tarde porque había mucho tráfico.",
        "Los niños juegan al fútbol en el parque después de clase.",
        "Esta ciudad tiene los mejores restaurantes de la región.",
    ],
    "de": [
        "Meine Großmutter backt jeden Sonntag einen Apfelkuchen.",
        "Das Museum ist montags leider geschlossen.",
        "Wir haben gestern Abend einen spannenden Film gesehen.",
        "Der Arzt sagt, ich soll mehr Wasser trinken.",
        "Im Herbst fallen die Blätter von den Bäumen.",
        "Mein Bruder wohnt seit drei Jahren in Hamburg.",
        "Kannst du mir bitte das Salz geben?",
        "Die Kinder spielen im Garten mit dem Hund.",
    ],
    "fr": [
        "Mon frère travaille dans une banque à Lyon.",
        "Il fait très froid ce matin, prends ton manteau.",
        "Les enfants jouent dans le jardin après l'école.",
        "Nous partons en vacances à la mer au mois d'août.",
        "Le médecin m'a conseillé de marcher tous les jours.",
        "Ma voisine a trois chats et un vieux chien.",
        "Le train pour Paris part dans dix minutes.",
        "J'aimerais un café et un croissant, s'il vous plaît.",
    ],
    "it": [
        "Domani andiamo al mare con i nostri amici.",
        "Il ristorante vicino alla piazza è sempre pieno.",
        "Mio padre legge il giornale ogni mattina.",
        "La biblioteca della scuola ha molti libri nuovi.",
        "Quest'estate abbiamo visitato Venezia e Firenze.",
        "Il gatto dorme sul divano tutto il pomeriggio.",
        "Ho dimenticato le chiavi della macchina a casa.",
        "Le montagne sono bellissime in questa stagione.",
    ],
    "pt": [
        "A minha irmã trabalha numa escola em Coimbra.",
        "Hoje o tempo está muito bom para passear.",
        "Os meninos jogam à bola no jardim da escola.",
        "O meu avô conta histórias antigas todas as noites.",
        "Precisamos de comprar pão e leite no supermercado.",
        "O comboio para o Porto está atrasado.",
        "No verão gostamos de ir à praia com a família.",
        "A cidade fica muito bonita com as luzes de Natal.",
    ],
    "nl": [
        "Mijn zus woont al tien jaar in Amsterdam.",
        "Morgen gaan we fietsen langs de rivier.",
        "De bakker op de hoek verkoopt heerlijk brood.",
        "Het regent vandaag de hele dag.",
        "Onze kinderen spelen graag in de tuin.",
        "De trein naar Utrecht vertrekt om acht uur.",
        "Ik drink elke ochtend een kop koffie.",
        "Het museum is op maandag gesloten.",
    ],
}
# More languages, held out the same way (issue 19's second round: written before detection was
# changed, never looked at while it was): espeak-ng speaks Japanese from kana only.
MORE_HELD_OUT = {
    "ru": [
        "Моя сестра работает учителем в большой школе.",
        "Завтра мы поедем на дачу к бабушке.",
        "В магазине закончился свежий хлеб.",
        "Зимой в нашем городе очень много снега.",
        "Мой брат любит играть в шахматы по вечерам.",
        "Поезд в Москву отправляется в семь часов.",
        "Мы купили новый стол для кухни.",
        "Дети гуляют в парке после уроков.",
    ],
    "pl": [
        "Moja siostra mieszka w Krakowie od pięciu lat.",
        "Jutro pojedziemy rowerem nad jezioro.",
        "W piekarni na rogu sprzedają świeże bułki.",
        "Dzisiaj cały dzień pada deszcz.",
        "Nasz pies lubi spać na kanapie.",
        "Pociąg do Warszawy odjeżdża o ósmej.",
        "Każdego ranka piję filiżankę herbaty.",
        "Muzeum jest zamknięte w poniedziałki.",
    ],
    "sv": [
        "Min bror bor i Göteborg sedan tre år.",
        "I morgon ska vi cykla till stranden.",
        "Bageriet på hörnet säljer gott bröd.",
        "Det har regnat hela dagen idag.",
        "Barnen leker i trädgården efter skolan.",
        "Tåget till Stockholm går klockan åtta.",
        "Jag dricker en kopp kaffe varje morgon.",
        "Museet är stängt på måndagar.",
    ],
    "tr": [
        "Kız kardeşim İstanbul'da bir okulda çalışıyor.",
        "Yarın arkadaşlarımızla denize gideceğiz.",
        "Köşedeki fırın çok güzel ekmek satıyor.",
        "Bugün bütün gün yağmur yağdı.",
        "Çocuklar okuldan sonra parkta oynuyor.",
        "Ankara treni sabah sekizde kalkıyor.",
        "Her sabah bir bardak çay içerim.",
        "Müze pazartesi günleri kapalıdır.",
    ],
    "cs": [
        "Moje sestra bydlí v Brně už deset let.",
        "Zítra pojedeme na kole k řece.",
        "Pekárna na rohu prodává výborný chléb.",
        "Dnes celý den prší.",
        "Děti si hrají na zahradě po škole.",
        "Vlak do Prahy odjíždí v osm hodin.",
        "Každé ráno piju šálek kávy.",
        "Muzeum je v pondělí zavřené.",
    ],
    "zh": [
        "我的姐姐在北京的一所学校工作。",
        "明天我们要和朋友一起去海边。",
        "街角的面包店每天早上七点开门。",
        "今天下了一整天的雨。",
        "孩子们放学以后在公园里踢足球。",
        "去上海的火车八点出发。",
        "我每天早上喝一杯咖啡。",
        "博物馆星期一不开门。",
    ],
    "ja": [
        "わたしの あねは とうきょうの がっこうで はたらいて います。",
        "あした ともだちと いっしょに うみへ いきます。",
        "かどの パンやさんは まいあさ しちじに あきます。",
        "きょうは いちにちじゅう あめが ふって いました。",
        "こどもたちは がっこうの あとで こうえんで あそびます。",
        "おおさか いきの でんしゃは はちじに でます。",
        "わたしは まいあさ コーヒーを いっぱい のみます。",
        "はくぶつかんは げつようびに やすみです。",
    ],
    "ko": [
        "우리 언니는 서울에 있는 학교에서 일해요.",
        "내일 친구들과 함께 바다에 갈 거예요.",
        "모퉁이에 있는 빵집은 매일 아침 일곱 시에 문을 열어요.",
        "오늘은 하루 종일 비가 왔어요.",
        "아이들은 방과 후에 공원에서 축구를 해요.",
        "부산으로 가는 기차는 여덟 시에 출발해요.",
        "저는 매일 아침 커피 한 잔을 마셔요.",
        "박물관은 월요일에 문을 닫아요.",
    ],
}
VARIANTS = ("", "+m3", "+f2", "+klatt")
# espeak-ng voices whose name is not the ISO 639-1 code.
VOICES = {"zh": "cmn"}

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


def _detect(clips: list[tuple[str, str, str]], work: Path, settings: object, title: str) -> None:
    """Accuracy of `choose_model` on ``clips`` (language, espeak voice, text): per language,
    overall, and seconds per detection."""
    from heimdex_lab.ingest.transcript import choose_model

    print(f"\n{title}")
    right: dict[str, list[bool]] = {}
    wrong: list[str] = []
    spent = []
    for n, (language, voice, text) in enumerate(clips):
        audio = _espeak(text, voice, work / f"clip{n}.wav")
        start = time.perf_counter()
        choice = choose_model(audio, settings)  # type: ignore[arg-type]
        spent.append(time.perf_counter() - start)
        got = choice.language if choice else None
        right.setdefault(language, []).append(got == language)
        if got != language:
            wrong.append(f"{voice} heard as {got}")
    for language, hits in right.items():
        print(f"  {language}: {sum(hits)}/{len(hits)}")
    correct = sum(sum(h) for h in right.values())
    total = sum(len(h) for h in right.values())
    print(f"  all: {correct}/{total} = {correct / total:.0%}; {np.mean(spent):.2f} s per detection"
          f"{'; wrong: ' + ', '.join(wrong) if wrong else ''}")  # fmt: skip


def _videos(held_out: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """One clip per language and voice variant: (language, espeak voice, all its sentences)."""
    return [
        (language, VOICES.get(language, language) + variant, " ".join(sentences))
        for language, sentences in held_out.items()
        for variant in VARIANTS
    ]


def detection(work: Path, languages: str, quick: bool = False) -> None:
    from heimdex_lab.config import Settings
    from heimdex_lab.ingest.transcript import choose_model

    settings = Settings()
    choose_model(_espeak("Hello there.", "en-us", work / "warm.wav"), settings)  # loads base
    videos = _videos(HELD_OUT)
    _detect(videos, work, settings, "held-out videos (all of a language's sentences, 20-30 s):")
    _detect(_videos(MORE_HELD_OUT), work, settings, "more languages, held-out videos, default:")
    if languages:
        restricted = Settings(languages=languages)
        _detect(videos, work, restricted, f"the same, HEIMDEX_LANGUAGES={languages}:")
    if quick:
        return
    every = Settings(languages="all")
    _detect(videos, work, every, "held-out videos, HEIMDEX_LANGUAGES=all (all 99 of Whisper's):")
    single = Settings(language_windows=1, language_candidates=1)
    _detect(videos, work, single, "the same, one window and no re-scoring (Whisper's own):")
    singles = [(lang, lang, text) for lang, texts in SENTENCES.items() for text in texts]
    _detect(singles, work, settings, "single sentences (3-4 s each; the first measurement):")


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
    parser.add_argument(
        "--languages", default="en,es,de,fr,it,pt,nl",
        help="also measure detection restricted to these languages ('' to skip)",
    )  # fmt: skip
    parser.add_argument("--no-english", action="store_true", help="skip the English overhead")
    parser.add_argument(
        "--quick", action="store_true",
        help="detection by default and with --languages only (not all 99, one window, sentences)",
    )  # fmt: skip
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        detection(Path(tmp), args.languages, args.quick)
        if not args.no_english:
            english_overhead(Path(tmp), args.english_seconds)


if __name__ == "__main__":
    main()
