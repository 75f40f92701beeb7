"""A short silent "lecture" of slides whose text no soundtrack says: the on-screen text tests.

Each slide is held for a few seconds with a slow drift (frames change, no false cut); slides
differ in background colour, so PySceneDetect cuts exactly between them. Text is set in DejaVu
Sans, which matplotlib ships (no system font needed). Pillow's own default face spaces words so
tightly that PP-OCR reads "Quarterly results" as "Quarterlyresults": a limit of the engine on
very narrow spacing, noted in the README.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FPS = 25
SIZE = (640, 360)


@dataclass(frozen=True)
class Slide:
    title: str
    lines: tuple[str, ...]
    background: tuple[int, int, int]
    seconds: float = 3.0


SLIDES = (
    Slide(
        "Quarterly results", ("Operating margin 22 percent", "Revenue grew in Europe"), (18, 38, 92)
    ),
    Slide("Next steps", ("Hire two data engineers", "Open the Lisbon office"), (110, 24, 30)),
    Slide("", (), (30, 90, 40)),  # a plain shot: no text at all
)


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return ImageFont.truetype(str(path), size)


def slide_image(slide: Slide, drift: float = 0.0) -> Image.Image:
    image = Image.new("RGB", SIZE, slide.background)
    draw = ImageDraw.Draw(image)
    x = 40 + round(drift * 8)
    if slide.title:
        draw.text((x, 40), slide.title, font=_font(40), fill="white")
    for n, line in enumerate(slide.lines):
        draw.text((x, 140 + 60 * n), line, font=_font(30), fill=(255, 230, 150))
    return image


def make_slides_video(target: Path, slides: tuple[Slide, ...] = SLIDES) -> list[float]:
    """Write the slides as an H.264 MP4 at ``target``; returns the cut times in seconds."""
    import av

    cuts, t = [], 0.0
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "28", "preset": "veryfast"}
        for slide in slides:
            frames = round(slide.seconds * FPS)
            for i in range(frames):
                frame = av.VideoFrame.from_ndarray(
                    np.asarray(slide_image(slide, i / frames)), format="rgb24"
                )
                out.mux(stream.encode(frame))
            t += frames / FPS
            cuts.append(t)
        out.mux(stream.encode())
    return cuts[:-1]
