"""Make the sample videos: real photos (scikit-image, matplotlib), espeak-ng speech, known cuts.

Each video is a sequence of shots; a shot shows one photo with a slow zoom (so frames change but
no false cut appears) while a known sentence is spoken. Cuts fall on exact frame boundaries. The
ground truth (cut times, sentences with their times, what each shot shows) goes to samples.json.

    python data/make_samples.py                       # the committed samples in data/samples/
    python data/make_samples.py --long 60 --out X.mp4 # a >= 60 s speech video for benchmarks

Needs ``espeak-ng`` (apt) for speech; PyAV, scikit-image and matplotlib from the dev extras.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import tempfile
import wave
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

FPS = 25
AUDIO_RATE = 22_050
SIZE = (640, 360)
LEAD_IN_S = 0.5  # silence before each sentence, inside its shot
TAIL_S = 0.7  # silence after it, before the cut


@dataclass(frozen=True)
class Shot:
    image: str  # a name from PHOTOS
    sentence: str | None  # spoken during the shot; None = silence
    shows: str  # what is visible, for visual queries
    min_s: float = 3.0
    focus: float = 0.5  # vertical centre of the crop (0 top, 1 bottom): keeps faces in frame
    screen: tuple[str, ...] = ()  # a slide instead of the photo: its title, then its lines


@dataclass
class VideoSpec:
    name: str
    shots: list[Shot]
    audio: bool = True
    codec: str = "libx264"
    audio_codec: str = "aac"
    options: dict[str, str] = field(default_factory=lambda: {"crf": "30", "preset": "medium"})
    voice: str = "en-us"  # the espeak-ng voice: its language is the video's spoken language
    fps: int = FPS
    size: tuple[int, int] = SIZE  # frames are scaled to it (slides too: small text blurs)


def _photo(name: str) -> Image.Image:
    import skimage.data

    if name == "grace_hopper":
        import matplotlib.cbook

        return Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    array = getattr(skimage.data, name)()
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return Image.fromarray(array[..., :3].astype(np.uint8))


SAMPLES = [
    VideoSpec(
        "space_talk.mp4",
        [
            Shot(
                "rocket",
                "The rocket launch was delayed because the budget ran out.",
                "a rocket on a launch pad",
            ),
            Shot(
                "astronaut",
                "The astronaut described her first flight into orbit.",
                "an astronaut in an orange suit with a flag",
                focus=0.25,
            ),
            Shot(
                "hubble_deep_field",
                "Telescopes show galaxies that are billions of years old.",
                "galaxies in deep space",
            ),
        ],
    ),
    VideoSpec(
        "kitchen_cat.mkv",
        [
            Shot(
                "coffee",
                "Fresh coffee is brewed every morning in the kitchen.",
                "a cup of coffee on a saucer",
            ),
            Shot(
                "chelsea",
                "The orange cat sleeps all afternoon on the windowsill.",
                "an orange tabby cat",
            ),
            Shot(
                "grace_hopper",
                "Grace Hopper explained how the first compiler worked.",
                "a portrait of a woman in a naval uniform",
                focus=0.35,
            ),
        ],
    ),
    VideoSpec(
        "silent_coins.webm",
        [
            Shot("coins", None, "old coins on a dark background", min_s=3.0),
            Shot("camera", None, "a man with a camera on a tripod", min_s=3.0),
            Shot("moon", None, "the surface of the moon with craters", min_s=2.0),
        ],
        audio=False,
        codec="libvpx-vp9",
        options={"crf": "40", "b": "0", "deadline": "realtime", "cpu-used": "8"},
    ),
    # Slides whose words the speaker never says: only the on-screen text can find them.
    VideoSpec(
        "quarterly_review.mp4",
        [
            Shot(
                "slide",
                "As you can see here, this quarter went better than we hoped.",
                "a blue slide with a title and two lines of text",
                screen=(
                    "Quarterly results",
                    "Operating margin 22 percent",
                    "Revenue grew in Europe",
                ),
            ),
            Shot(
                "slide",
                "So this is what we will do over the coming year.",
                "a dark red slide with a title and two lines of text",
                screen=("Next steps", "Hire two data engineers", "Open the Lisbon office"),
            ),
            Shot(
                "clock",
                "Thank you all for listening today.",
                "a clock on a wall",
            ),
        ],
    ),
    # Spanish speech: its language is detected, and it is found by its own words.
    VideoSpec(
        "mercado_es.mp4",
        [
            Shot(
                "coffee",
                "Cada mañana preparamos café con leche para los vecinos del barrio.",
                "a cup of coffee on a saucer",
            ),
            Shot(
                "chelsea",
                "La gata de la panadería duerme junto al horno toda la tarde.",
                "an orange tabby cat",
            ),
            Shot(
                "horse",
                "El domingo llevamos los caballos a la feria del pueblo.",
                "a drawing of a horse",
            ),
        ],
        voice="es",
    ),
]
# Slide backgrounds, in order of appearance in a video.
SLIDE_COLOURS = [(18, 38, 92), (110, 24, 30), (30, 90, 40)]

# Sentences and photos for long benchmark videos (cycled).
LONG_SENTENCES = [
    "The rocket launch was delayed because the budget ran out.",
    "Engineers checked every valve before the countdown started again.",
    "The astronaut described her first flight into orbit.",
    "Fresh coffee is brewed every morning in the kitchen.",
    "The orange cat sleeps all afternoon on the windowsill.",
    "Grace Hopper explained how the first compiler worked.",
    "Telescopes show galaxies that are billions of years old.",
    "The old coins were found buried near the river bank.",
    "A photographer set up his camera on a tripod in the park.",
    "The moon has thousands of craters from ancient impacts.",
    "The horse galloped across the field at sunset.",
    "The clock on the wall stopped at midnight.",
]
LONG_PHOTOS = [
    "rocket",
    "camera",
    "astronaut",
    "coffee",
    "chelsea",
    "grace_hopper",
    "hubble_deep_field",
    "coins",
    "camera",
    "moon",
    "horse",
    "clock",
]


def speak(text: str, workdir: Path, voice: str = "en-us") -> np.ndarray:
    """``text`` spoken by espeak-ng in ``voice``, as int16 mono at AUDIO_RATE."""
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed: apt-get install espeak-ng")
    out = workdir / "speech.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), text], check=True)
    with wave.open(str(out)) as wav:
        rate, raw = wav.getframerate(), wav.readframes(wav.getnframes())
    samples = np.frombuffer(raw, dtype=np.int16)
    if rate != AUDIO_RATE:  # linear resample; espeak-ng speaks at 22050 Hz already
        n = round(len(samples) * AUDIO_RATE / rate)
        samples = np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples)
    return samples.astype(np.int16)


def _slide(lines: tuple[str, ...], colour: tuple[int, int, int]) -> Image.Image:
    """A slide: a title and lines of text in DejaVu Sans (shipped by matplotlib)."""
    import matplotlib
    from PIL import ImageDraw, ImageFont

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    image = Image.new("RGB", SIZE, colour)
    draw = ImageDraw.Draw(image)
    title, *rest = lines
    draw.text((40, 40), title, font=ImageFont.truetype(str(font), 40), fill="white")
    for n, line in enumerate(rest):
        draw.text((40, 140 + 60 * n), line, font=ImageFont.truetype(str(font), 30),
                  fill=(255, 230, 150))  # fmt: skip
    return image


def _frame(
    photo: Image.Image, progress: float, focus: float = 0.5, size: tuple[int, int] = SIZE
) -> np.ndarray:
    """The photo cover-fitted to ``size`` with a slow zoom (1.00 → 1.08 over the shot)."""
    w, h = size
    scale = max(w / photo.width, h / photo.height) * (1.0 + 0.08 * progress)
    resized = photo.resize(
        (math.ceil(photo.width * scale), math.ceil(photo.height * scale)), Image.Resampling.BILINEAR
    )
    left = (resized.width - w) // 2
    top = min(max(round(resized.height * focus - h / 2), 0), resized.height - h)
    return np.asarray(resized.crop((left, top, left + w, top + h)).convert("RGB"))


def render(spec: VideoSpec, out_dir: Path) -> dict[str, object]:
    """Write one video; return its ground truth."""
    import av

    with tempfile.TemporaryDirectory() as tmp:
        speech = [
            speak(s.sentence, Path(tmp), spec.voice) if (spec.audio and s.sentence) else None
            for s in spec.shots
        ]
    # Shot lengths in whole frames: long enough for lead-in, sentence and tail.
    frames_per_shot = []
    for shot, pcm in zip(spec.shots, speech, strict=True):
        need = LEAD_IN_S + (len(pcm) / AUDIO_RATE if pcm is not None else 0.0) + TAIL_S
        frames_per_shot.append(math.ceil(max(need, shot.min_s) * spec.fps))
    total_frames = sum(frames_per_shot)
    audio = np.zeros(math.ceil(total_frames / spec.fps * AUDIO_RATE), dtype=np.int16)
    truth_shots, sentences, cuts = [], [], []
    start_frame = 0
    for shot, pcm, n in zip(spec.shots, speech, frames_per_shot, strict=True):
        start, end = start_frame / spec.fps, (start_frame + n) / spec.fps
        if start_frame:
            cuts.append(round(start, 4))
        truth_shots.append(
            {"start": start, "end": end, "image": shot.image, "shows": shot.shows,
             "screen": list(shot.screen)}
        )  # fmt: skip
        if pcm is not None and shot.sentence:
            s0 = round((start + LEAD_IN_S) * AUDIO_RATE)
            audio[s0 : s0 + len(pcm)] = pcm
            sentences.append(
                {
                    "text": shot.sentence,
                    "start": round(s0 / AUDIO_RATE, 3),
                    "end": round((s0 + len(pcm)) / AUDIO_RATE, 3),
                }
            )
        start_frame += n

    path = out_dir / spec.name
    container = av.open(str(path), "w")
    vstream = container.add_stream(spec.codec, rate=spec.fps, options=spec.options)
    vstream.width, vstream.height, vstream.pix_fmt = spec.size[0], spec.size[1], "yuv420p"
    astream = None
    if spec.audio:
        astream = container.add_stream(spec.audio_codec, rate=AUDIO_RATE, layout="mono")
    chunk = 1024
    samples_per_frame = AUDIO_RATE / spec.fps
    audio_pos = 0
    frame_no = 0
    slides = itertools.cycle(SLIDE_COLOURS)
    for shot, n in zip(spec.shots, frames_per_shot, strict=True):
        photo = _slide(shot.screen, next(slides)) if shot.screen else _photo(shot.image)
        # Scaled once to what the zoom's last frame needs: each frame then resizes a small image.
        cover = max(spec.size[0] / photo.width, spec.size[1] / photo.height) * 1.08
        if cover < 1.0:
            photo = photo.resize(
                (math.ceil(photo.width * cover), math.ceil(photo.height * cover)),
                Image.Resampling.LANCZOS,
            )
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(
                _frame(photo, i / max(n - 1, 1), shot.focus, spec.size), format="rgb24"
            )
            frame.pts = frame_no
            container.mux(vstream.encode(frame))
            frame_no += 1
            # Keep audio muxed alongside the video it belongs to.
            while astream is not None and audio_pos < min(len(audio), frame_no * samples_per_frame):
                piece = audio[audio_pos : audio_pos + chunk]
                aframe = av.AudioFrame.from_ndarray(
                    piece.reshape(1, -1), format="s16", layout="mono"
                )
                aframe.sample_rate, aframe.pts = AUDIO_RATE, audio_pos
                container.mux(astream.encode(aframe))
                audio_pos += len(piece)
    container.mux(vstream.encode(None))
    if astream is not None:
        container.mux(astream.encode(None))
    container.close()
    return {
        "file": spec.name,
        "duration_s": total_frames / spec.fps,
        "fps": spec.fps,
        "size": list(spec.size),
        "has_audio": spec.audio,
        "language": spec.voice.split("-")[0] if spec.audio else None,
        "cuts": cuts,
        "shots": truth_shots,
        "sentences": sentences,
    }


# A talk's slides for long videos with ``--slides`` (benchmarks/ingest.py: OCR on and off).
LONG_SLIDES = [
    ("Mission timeline", "Design review in March", "First static fire in June"),
    ("Budget", "Engines 41 percent", "Ground systems 18 percent"),
    ("Risks", "Supplier delays", "Weather at the launch site"),
    ("Team", "Propulsion, avionics", "Flight operations"),
    ("Results", "Payload delivered to orbit", "Second stage recovered"),
]


def long_spec(seconds: float, name: str, offset: int = 0, slides: bool = False) -> VideoSpec:
    """A speech video of at least ``seconds``: one sentence per shot, photos cycled from
    ``offset`` (so two long videos of one length can differ); with ``slides`` every second shot
    shows a slide instead of a photo, as in a talk."""
    shots, total, i = [], 0.0, offset
    while total < seconds:
        sentence = LONG_SENTENCES[i % len(LONG_SENTENCES)]
        screen = LONG_SLIDES[(i // 2) % len(LONG_SLIDES)] if slides and i % 2 else ()
        shots.append(Shot(LONG_PHOTOS[i % len(LONG_PHOTOS)], sentence, "", min_s=3.0,
                          screen=screen))  # fmt: skip
        total += LEAD_IN_S + TAIL_S + 0.065 * len(sentence)  # espeak at 150 wpm ≈ 65 ms/char
        i += 1
    return VideoSpec(name, shots)


def fixed_shots(
    table: dict[str, list[str]], photos: list[str], stride: int, shot_s: float, **spec: Any
) -> list[VideoSpec]:
    """One video per entry of ``table`` (file name: sentences), a photo and a sentence per shot,
    every shot ``shot_s`` long; video ``v``'s shot ``s`` shows ``photos[(stride * v + s) % n]``.
    ``spec`` goes to each `VideoSpec` (frame rate, size, encoder options)."""
    return [
        VideoSpec(
            name,
            [
                Shot(photos[(stride * v + s) % len(photos)], sentence, "", min_s=shot_s)
                for s, sentence in enumerate(sentences)
            ],
            **spec,
        )
        for v, (name, sentences) in enumerate(table.items())
    ]


def render_set(specs: list[VideoSpec], out_dir: Path, shot_s: float, generator: str) -> None:
    """Render ``specs`` into ``out_dir`` on every core, check that each cuts exactly every
    ``shot_s`` seconds (so scene times do not depend on how fast espeak-ng speaks) and write
    their ground truth to ``out_dir/<set>.json``, the set named after its generator
    (``data/eval/make_<set>.py``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=min(len(specs), os.cpu_count() or 1)) as pool:
        truth = list(pool.map(render, specs, itertools.repeat(out_dir)))
    for spec, video in zip(specs, truth, strict=True):
        expected = [round(shot_s * i, 4) for i in range(1, len(spec.shots))]
        if video["cuts"] != expected:
            raise SystemExit(
                f"{spec.name}: cuts {video['cuts']} are not every {shot_s} s: a scene is too "
                "long to speak in one shot; shorten it"
            )
        print(f"{spec.name}: {video['duration_s']:.1f} s", flush=True)
    name = Path(generator).stem.removeprefix("make_")
    (out_dir / f"{name}.json").write_text(
        json.dumps({"generator": generator, "videos": truth}, indent=2) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "samples")
    parser.add_argument("--long", type=float, default=None, help="seconds of a long speech video")
    parser.add_argument("--out", type=Path, default=None, help="file name of the long video")
    parser.add_argument("--offset", type=int, default=0, help="first sentence of a long video")
    parser.add_argument(
        "--slides", action="store_true", help="a long video: every second shot a slide"
    )
    parser.add_argument(
        "--only", default=None, help="make this one sample; the others keep their files"
    )
    args = parser.parse_args()
    if args.long:
        out = args.out or Path(f"long_{int(args.long)}s.mp4")
        out.parent.mkdir(parents=True, exist_ok=True)
        truth = render(long_spec(args.long, out.name, args.offset, args.slides), out.parent)
        (out.parent / f"{out.stem}.json").write_text(json.dumps(truth, indent=2) + "\n")
        print(f"{out}: {truth['duration_s']:.1f} s")
        return
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.only:
        known = json.loads((args.out_dir / "samples.json").read_text())["videos"]
        by_name = {v["file"]: v for v in known}
        (spec,) = [s for s in SAMPLES if s.name == args.only]
        by_name[spec.name] = render(spec, args.out_dir)
        truth = [by_name[s.name] for s in SAMPLES]
    else:
        truth = [render(spec, args.out_dir) for spec in SAMPLES]
    (args.out_dir / "samples.json").write_text(
        json.dumps(
            {
                "generator": "data/make_samples.py",
                "videos": truth,
                "specs": [asdict(s) | {"shots": [asdict(x) for x in s.shots]} for s in SAMPLES],
            },
            indent=2,
        )
        + "\n"
    )
    for t in truth:
        size = (args.out_dir / str(t["file"])).stat().st_size
        print(f"{t['file']}: {t['duration_s']:.2f} s, {size / 1024:.0f} KiB, cuts {t['cuts']}")


if __name__ == "__main__":
    main()
