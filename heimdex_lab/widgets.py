"""ipywidgets for JupyterLab: a search box over a library, with results and keyframes."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heimdex_lab.extras import needs

if TYPE_CHECKING:
    from heimdex_lab.library import Library
    from heimdex_lab.types import SearchPage

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _thumbnail(path: str | None, width: int = 160) -> str:
    if not path or not Path(path).is_file():
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img src="data:image/jpeg;base64,{data}" width="{width}">'


def results_html(page: SearchPage) -> str:
    """A results table: rank, keyframe, file and time range, snippet, per-signal scores."""
    rows = []
    for n, hit in enumerate(page.hits, start=(page.page - 1) * page.k + 1):
        snippet = _BOLD.sub(r"<b>\1</b>", html.escape(hit.snippet)) or "<i>(no speech)</i>"
        scores = ", ".join(
            f"{name} {value:.2f}" for name, value in hit.scores.items() if value is not None
        )
        rows.append(
            f"<tr><td>{n}</td><td>{_thumbnail(hit.keyframe)}</td>"
            f"<td>{html.escape(hit.filename)}<br>{hit.start:.1f}-{hit.end:.1f} s</td>"
            f"<td>{snippet}</td><td>{hit.score:.3f}<br><small>{scores}</small></td></tr>"
        )
    head = "<tr><th>#</th><th>keyframe</th><th>video</th><th>transcript</th><th>score</th></tr>"
    return f"<p>{page.total} scene(s), page {page.page}</p><table>{head}{''.join(rows)}</table>"


def search_box(lib: Library, k: int = 5) -> Any:
    """A query box, mode and video filters, and a results table that updates on Enter."""
    with needs("lab", "the notebook search box (ipywidgets)"):
        import ipywidgets as w

    videos = lib.videos().frame
    ready = videos.filter(videos["state"] == "ready")
    query = w.Text(placeholder="what was said or shown…", description="Search")
    mode = w.Dropdown(
        options=["hybrid", "text", "keyword", "visual", "screen"],
        value="hybrid",
        description="Mode",
    )
    video = w.SelectMultiple(
        options=list(zip(ready["filename"], ready["video_id"], strict=True)),
        description="Videos",
        rows=min(5, max(ready.height, 1)),
    )
    out = w.HTML()

    def run(_: Any = None) -> None:
        if not query.value.strip() and not video.value:
            out.value = "<i>Type a query, or pick videos to list their scenes.</i>"
            return
        try:
            page = lib.search(query.value, k=k, videos=list(video.value), mode=mode.value)
        except Exception as exc:  # shown to the analyst instead of a traceback in the widget
            out.value = f"<b>Search failed:</b> {html.escape(str(exc))}"
            return
        out.value = results_html(page)

    query.on_submit(run)
    mode.observe(run, names="value")
    video.observe(run, names="value")
    box = w.VBox([w.HBox([query, mode]), video, out])
    box.run = run  # lets a notebook fill the box programmatically
    box.query = query
    return box


def sample_photo(spec: str) -> Path:
    """A photo path; ``matplotlib:NAME`` / ``skimage:NAME`` name photos shipped in packages."""
    import tempfile

    from heimdex_lab import tracking

    kind, _, name = spec.partition(":")
    if kind == "matplotlib" and name:
        with needs("lab", "sample photos from matplotlib"):
            import matplotlib.cbook

        return Path(matplotlib.cbook.get_sample_data(name, asfileobj=False))
    if kind == "skimage" and name:
        from PIL import Image

        with needs("lab", "sample photos from scikit-image"):
            import skimage.data

        target = Path(tempfile.gettempdir()) / f"heimdex-skimage-{name}.png"
        Image.fromarray(getattr(skimage.data, name)()).save(target)
        return target
    return tracking.resolve(spec)


def face_gallery(lib: Library, groups: Any) -> str:
    """HTML: each group of unnamed faces as a row of crops with its id."""
    rows = []
    for group in groups:
        faces = {f.id: f for f in lib.store.people.faces()}
        crops = "".join(
            _thumbnail(str(lib.path / faces[f].crop), width=72) for f in group.face_ids[:8]
        )
        rows.append(
            f"<tr><td><code>{html.escape(group.group_id)}</code></td><td>{crops}</td>"
            f"<td>{len(group.face_ids)} face(s)</td></tr>"
        )
    return f"<table>{''.join(rows)}</table>" if rows else "<i>No unnamed faces.</i>"
