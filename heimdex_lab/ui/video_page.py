"""The app's video page: the player, the transcript beside it, scene keyframes under it, and the
current query's matching scenes marked along a bar under the player, coloured by confidence.

Other views open it in two ways (docs/architecture.md §12):
- in the same session, ``VideoPageState.show(video_id, t, query)``; the app then switches to its
  Video tab;
- by URL, ``video_page_url(video_id, t, query)``: ``/?video=ID&t=SECONDS&q=QUERY`` opens the app
  on that page (a link another page, a bookmark or a new browser tab can hold).

Seeking, the highlighted sentence and the keyframe strip all run in the browser (a JSComponent
listening to the ``<video>``'s ``timeupdate``): playback never waits for the server. Sentences,
file names, on-screen text and names come from users: the browser writes them with
``textContent`` only.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from urllib.parse import quote, urlencode

import panel as pn
import param
from panel.custom import JSComponent

from heimdex_lab.errors import HeimdexError
from heimdex_lab.library import Library
from heimdex_lab.types import VideoPage

TAB_NAME = "Video"


def video_page_url(video_id: str, t: float = 0.0, query: str = "") -> str:
    """The app's URL (relative to its root) that opens ``video_id`` at ``t`` seconds, with the
    scenes matching ``query`` marked."""
    args: dict[str, str] = {"video": video_id}
    if t > 0:
        args["t"] = f"{t:.2f}"
    if query.strip():
        args["q"] = query.strip()
    return "./?" + urlencode(args)


def requested_video(args: Mapping[str, list[bytes]]) -> tuple[str, float, str] | None:
    """(video id, start second, query) that a page URL asks for (``pn.state.session_args``);
    None when it names no video. A start that is not a number is 0."""

    def first(name: str) -> str:
        values = args.get(name) or [b""]
        return values[0].decode("utf-8", "replace").strip()

    video_id = first("video")
    if not video_id:
        return None
    try:
        t = float(first("t") or 0)
    except ValueError:
        t = 0.0
    return video_id, t if math.isfinite(t) and t > 0 else 0.0, first("q")


class VideoPageState(param.Parameterized):
    """Which video the page shows: (video id, start second, query); an empty id shows none."""

    opened = param.Tuple(
        default=("", 0.0, "", "low"),
        length=4,
        doc="(video id, start second, query, the least confidence of a marked match)",
    )

    def show(
        self, video_id: str, t: float = 0.0, query: str = "", min_confidence: str = "low"
    ) -> None:
        self.opened = (video_id, float(t), query, min_confidence)


class VideoPlayerPage(JSComponent):
    """Player, timed transcript (click = seek, the sentence playing is highlighted and kept in
    view), keyframe strip (click = seek), match marks under the player, and the on-screen text
    and people of the scene playing."""

    filename = param.String(default="")
    src = param.String(default="", doc="the media URL")
    start = param.Number(default=0.0, doc="second the player starts at")
    duration = param.Number(default=0.0)
    sentences = param.List(default=[], doc="[start, end, text] each, in time order")
    scenes = param.List(
        default=[], doc="{start, end, keyframe (URL or ''), screen_text, people} each, in order"
    )
    marks = param.List(default=[], doc="{start, end, confidence, score} of each matching scene")
    query = param.String(default="")

    _esm = """
    const css = `
      .hx-vp { display: flex; gap: 1rem; align-items: flex-start; font: 14px system-ui; }
      .hx-vp-main { flex: 1 1 62%; min-width: 0; }
      .hx-vp-title { margin: 0 0 .4rem; overflow-wrap: anywhere; }
      .hx-vp video { width: 100%; max-height: 420px; background: #000; display: block; }
      .hx-vp-marks { position: relative; height: 14px; margin: 4px 0 2px; background: #e9edf1;
                     border-radius: 3px; cursor: pointer; }
      .hx-mark { position: absolute; top: 0; bottom: 0; min-width: 4px; border-radius: 2px;
                 opacity: .9; }
      .hx-mark.hx-high { background: #1a7f37; }
      .hx-mark.hx-medium { background: #d29922; }
      .hx-mark.hx-low { background: #9aa4ae; }
      .hx-playhead { position: absolute; top: -2px; bottom: -2px; width: 2px; background: #0072b5; }
      .hx-vp-legend { font-size: 12px; color: #555; margin-bottom: .4rem; }
      .hx-vp-legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
                        margin: 0 .2rem 0 .6rem; vertical-align: -1px; }
      .hx-vp-strip { display: flex; gap: 6px; overflow-x: auto; padding: 4px 0; }
      .hx-key { flex: 0 0 auto; width: 112px; border: 2px solid transparent; border-radius: 4px;
                padding: 0; background: #f4f6f8; cursor: pointer; font: 12px system-ui;
                text-align: left; }
      .hx-key img { width: 100%; display: block; border-radius: 2px 2px 0 0; }
      .hx-key span { display: block; padding: 1px 4px; }
      .hx-key.hx-current { border-color: #0072b5; }
      .hx-key.hx-matched { box-shadow: inset 0 -4px 0 var(--hx-conf); }
      .hx-vp-scene { margin-top: .5rem; white-space: pre-line; overflow-wrap: anywhere; }
      .hx-vp-transcript { flex: 1 1 38%; max-height: 560px; overflow-y: auto;
                          border: 1px solid #d8dde3; border-radius: 6px; padding: .3rem; }
      .hx-sentence { display: block; width: 100%; text-align: left; border: 0; border-radius: 4px;
                     background: none; padding: .3rem .4rem; margin: 0; cursor: pointer;
                     font: 14px system-ui; overflow-wrap: anywhere; }
      .hx-sentence:hover { background: #f2f7fc; }
      .hx-sentence.hx-current { background: #fff3bf; }
      .hx-sentence time { color: #0072b5; margin-right: .4rem; font-variant-numeric: tabular-nums; }
      .hx-vp-empty { color: #666; padding: .4rem; }`;
    const COLOURS = { high: "#1a7f37", medium: "#d29922", low: "#9aa4ae" };

    function text(tag, value, className) {
      const node = document.createElement(tag);
      node.textContent = value;
      if (className) node.className = className;
      return node;
    }

    function clock(t) {
      const s = Math.max(0, Math.floor(t));
      return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    }

    // The index of the last item starting at or before t (items in time order), or -1.
    function at(items, t) {
      let found = -1;
      for (let i = 0; i < items.length; i++) {
        if (items[i].start <= t + 1e-3) found = i; else break;
      }
      return found;
    }

    export function render({ model, el }) {
      const style = document.createElement("style");
      style.textContent = css;
      const root = document.createElement("div");
      root.className = "hx-vp";
      root.id = "heimdex-video-page";

      const main = document.createElement("div");
      main.className = "hx-vp-main";
      const title = document.createElement("div");
      title.className = "hx-vp-title";
      title.append(text("b", model.filename, "hx-vp-file"));
      if (model.query) title.append(" · matches for ", text("q", model.query));
      const video = document.createElement("video");
      video.className = "hx-vp-video";
      video.controls = true;
      video.muted = true;
      video.playsInline = true;
      video.preload = "metadata";
      video.src = model.src;
      video.addEventListener("loadedmetadata", () => {
        if (model.start > 0) video.currentTime = model.start;
      }, { once: true });

      const duration = () => (video.duration && isFinite(video.duration))
        ? video.duration : (model.duration || 1);
      const seek = (t) => { video.currentTime = t; };

      // Where the query matched, along the video's length; a click on the bar seeks there.
      const bar = document.createElement("div");
      bar.className = "hx-vp-marks";
      bar.setAttribute("aria-label", "where the query matched");
      for (const m of model.marks) {
        const mark = document.createElement("div");
        mark.className = `hx-mark hx-${m.confidence}`;
        mark.dataset.confidence = m.confidence;
        mark.dataset.start = m.start;
        mark.title = `${clock(m.start)}-${clock(m.end)} · ${m.confidence} confidence`;
        bar.append(mark);
      }
      const playhead = document.createElement("div");
      playhead.className = "hx-playhead";
      bar.append(playhead);
      const place = () => {
        const d = duration();
        bar.querySelectorAll(".hx-mark").forEach((mark, i) => {
          const m = model.marks[i];
          mark.style.left = `${(100 * m.start) / d}%`;
          mark.style.width = `${(100 * Math.max(0, m.end - m.start)) / d}%`;
        });
      };
      place();
      video.addEventListener("loadedmetadata", place);
      bar.addEventListener("click", (e) => {
        const mark = e.target.closest(".hx-mark");
        if (mark) { seek(Number(mark.dataset.start)); return; }
        const box = bar.getBoundingClientRect();
        seek(duration() * Math.min(1, Math.max(0, (e.clientX - box.left) / box.width)));
      });
      const legend = document.createElement("div");
      legend.className = "hx-vp-legend";
      if (model.marks.length) {
        legend.append(`${model.marks.length} matching scene(s):`);
        for (const level of ["high", "medium", "low"]) {
          const swatch = document.createElement("i");
          swatch.style.background = COLOURS[level];
          legend.append(swatch, level);
        }
      } else {
        legend.append(model.query ? "No scene of this video matches the query."
                                  : "Search, then open a result, to mark where it matched.");
      }

      // One keyframe per scene; a click seeks to the scene's start.
      const matched = new Map(model.marks.map(m => [m.start, m.confidence]));
      const strip = document.createElement("div");
      strip.className = "hx-vp-strip";
      strip.setAttribute("aria-label", "scenes");
      const keys = model.scenes.map((scene, i) => {
        const key = document.createElement("button");
        key.type = "button";
        key.className = "hx-key";
        key.dataset.start = scene.start;
        key.setAttribute("aria-label", `Scene ${i + 1} from ${clock(scene.start)}`);
        if (scene.keyframe) {
          const img = document.createElement("img");
          img.src = scene.keyframe;
          img.alt = "";
          img.loading = "lazy";
          key.append(img);
        }
        key.append(text("span", `${clock(scene.start)}-${clock(scene.end)}`));
        if (matched.has(scene.start)) {
          key.classList.add("hx-matched");
          key.style.setProperty("--hx-conf", COLOURS[matched.get(scene.start)]);
        }
        key.addEventListener("click", () => seek(scene.start));
        strip.append(key);
        return key;
      });
      const sceneInfo = document.createElement("div");
      sceneInfo.className = "hx-vp-scene";
      main.append(title, video, bar, legend, strip, sceneInfo);

      // The transcript: a button per sentence; a click seeks to its first word.
      const transcript = document.createElement("div");
      transcript.className = "hx-vp-transcript";
      transcript.setAttribute("aria-label", "transcript");
      const lines = model.sentences.map(([start, end, said]) => {
        const line = document.createElement("button");
        line.type = "button";
        line.className = "hx-sentence";
        line.dataset.start = start;
        line.dataset.end = end;
        line.append(text("time", clock(start)), text("span", said, "hx-said"));
        line.addEventListener("click", () => seek(start));
        transcript.append(line);
        return line;
      });
      if (!lines.length) transcript.append(text("div", "No speech in this video.", "hx-vp-empty"));

      const items = model.sentences.map(([start, end]) => ({ start, end }));
      let sentence = -2, scene = -2;
      const follow = () => {
        const t = video.currentTime;
        playhead.style.left = `${(100 * t) / duration()}%`;
        const s = at(items, t);
        if (s !== sentence) {
          if (sentence >= 0) {
            lines[sentence].classList.remove("hx-current");
            lines[sentence].removeAttribute("aria-current");
          }
          sentence = s;
          if (s >= 0) {
            const line = lines[s];
            line.classList.add("hx-current");
            line.setAttribute("aria-current", "true");
            // Keep it in view inside the transcript's own scroll box (never scroll the page).
            const top = line.offsetTop - transcript.offsetTop;
            if (top < transcript.scrollTop
                || top + line.offsetHeight > transcript.scrollTop + transcript.clientHeight) {
              transcript.scrollTop = Math.max(0, top - transcript.clientHeight / 3);
            }
          }
        }
        const c = at(model.scenes, t);
        if (c !== scene) {
          if (scene >= 0) keys[scene].classList.remove("hx-current");
          scene = c;
          sceneInfo.replaceChildren();
          if (c >= 0) {
            keys[c].classList.add("hx-current");
            const shown = model.scenes[c];
            sceneInfo.append(text("b", `Scene ${c + 1}`));
            if (shown.screen_text) {
              sceneInfo.append(text("div", `On screen: ${shown.screen_text}`, "hx-vp-screen"));
            }
            if (shown.people.length) {
              sceneInfo.append(text("div", `People: ${shown.people.join(", ")}`, "hx-vp-people"));
            }
          }
        }
      };
      video.addEventListener("timeupdate", follow);
      video.addEventListener("seeked", follow);
      follow();
      root.append(main, transcript);
      el.append(style, root);
    }
    """


def _keyframe_src(lib: Library, scene_id: str, path: str, api: bool) -> str:
    if api:  # the browser fetches (and caches) it from the API
        return f"/api/v1/scenes/{quote(scene_id, safe=':')}/keyframe?n=0"
    data = (lib.path / path).read_bytes()  # plain panel serve: no API, the picture goes inline
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def player_page(found: VideoPage, lib: Library, start: float, api: bool) -> VideoPlayerPage:
    """The component for a loaded video page, starting at ``start`` seconds."""
    scenes = [
        {
            "start": s.start,
            "end": s.end,
            "keyframe": _keyframe_src(lib, s.scene_id, s.keyframes[0], api) if s.keyframes else "",
            "screen_text": s.screen_text,
            "people": found.people.get(s.scene_id, []),
        }
        for s in found.scenes
    ]
    return VideoPlayerPage(
        filename=found.filename,
        src=f"/media/{quote(found.video_id, safe='')}",
        start=start,
        duration=found.duration_s or 0.0,
        sentences=[[s.start, s.end, s.text] for s in found.sentences],
        scenes=scenes,
        marks=[
            {"start": m.start, "end": m.end, "confidence": m.confidence, "score": m.score}
            for m in sorted(found.matches, key=lambda m: m.start)
        ],
        query=found.query,
        sizing_mode="stretch_width",
    )


def video_view(lib: Library, state: VideoPageState, api: bool) -> pn.viewable.Viewable:
    """The Video tab: the page of ``state.opened``, rebuilt whenever another video is opened."""

    def build(opened: tuple[str, float, str, str]) -> pn.viewable.Viewable:
        video_id, start, query, min_confidence = opened
        if not video_id:
            return pn.pane.Markdown(
                "Open a video from a search result (**Video page ▸**) or from the library."
            )
        try:
            found = lib.video_page(video_id, query or None, min_confidence)
        except HeimdexError as exc:  # an unknown or another user's id, a bad query
            return pn.pane.HTML(f"<p><b>{html.escape(str(exc))}</b></p>")
        return player_page(found, lib, start, api)

    return pn.Column(pn.bind(build, state.param.opened), sizing_mode="stretch_width")
