"""A search result as one clickable card: click or Enter/Space anywhere on it plays the scene.

Everything on the card (file name, snippet, people) comes from users or their files, so the
browser builds it from DOM nodes and ``textContent``; no string from a hit is ever parsed as HTML.
The snippet's ``**word**`` marks become ``<mark>`` elements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param
from panel.custom import JSComponent


class ResultCard(JSComponent):
    """One search hit: keyframe, file and times, confidence, snippet, people, a Play button
    and a link to the video page."""

    filename = param.String(default="")
    start = param.Number(default=0.0)
    end = param.Number(default=0.0)
    score = param.Number(default=0.0)
    snippet = param.String(default="", doc="the scene's text with matched words as **word**")
    people = param.List(default=[], item_type=str)
    keyframe = param.String(default="", doc="URL of the keyframe picture; empty for none")
    confidence = param.String(default="", doc="high, medium or low; empty shows no badge")
    page_url = param.String(default="", doc="the video page's URL; empty shows no link")
    boxes = param.List(
        default=[],
        doc="on-screen lines that hold the query's words: 4 [x, y] corners each, in "
        "the keyframe's pixels; drawn over the picture",
    )

    _esm = """
    const css = `
      .heimdex-result { display: flex; gap: .8rem; align-items: flex-start; cursor: pointer;
                        border: 1px solid #d8dde3; border-radius: 6px; padding: .6rem;
                        margin: .2rem 0; background: #fff; font: 14px system-ui; }
      .heimdex-result:hover { background: #f2f7fc; border-color: #8aa4c0; }
      .heimdex-result:focus-visible { outline: 3px solid #0072b5; outline-offset: 1px; }
      .heimdex-result img { width: 160px; display: block; border-radius: 3px; }
      .hx-thumb { flex: 0 0 160px; position: relative; }
      .hx-boxes { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
      .hx-boxes polygon { fill: rgba(255, 214, 0, .18); stroke: #ffd600; stroke-width: 2;
                          vector-effect: non-scaling-stroke; }
      .hx-body { flex: 1 1 auto; min-width: 0; }
      .hx-snippet { margin: .3rem 0; overflow-wrap: anywhere; }
      .heimdex-play { background: #0072b5; color: #fff; border: 0; border-radius: 4px;
                      padding: .35rem .8rem; font: 13px system-ui; cursor: pointer; }
      .hx-confidence { display: inline-block; margin-left: .4rem; padding: 0 .45rem;
                       border-radius: 9px; font-size: 12px; color: #fff; }
      .hx-confidence-high { background: #1a7f37; }
      .hx-confidence-medium { background: #9a6700; }
      .hx-confidence-low { background: #6e7781; }
      .hx-open { margin-left: .8rem; color: #0072b5; font-size: 13px; }`;

    function text(tag, value, className) {
      const node = document.createElement(tag);
      node.textContent = value;
      if (className) node.className = className;
      return node;
    }

    export function render({ model, el }) {
      const style = document.createElement("style");
      style.textContent = css;
      const card = document.createElement("div");
      card.className = "heimdex-result";
      card.tabIndex = 0;
      card.setAttribute("role", "button");
      card.setAttribute("aria-label",
                        `Play ${model.filename} from ${model.start.toFixed(1)} s`);

      const thumb = document.createElement("div");
      thumb.className = "hx-thumb";
      if (model.keyframe) {
        const img = document.createElement("img");
        img.src = model.keyframe;
        img.alt = "keyframe";
        thumb.append(img);
        if (model.boxes.length) {
          // Drawn in the picture's own pixels once its size is known; the SVG scales with it.
          const svgNS = "http://www.w3.org/2000/svg";
          const svg = document.createElementNS(svgNS, "svg");
          svg.setAttribute("class", "hx-boxes");
          svg.setAttribute("preserveAspectRatio", "none");
          svg.setAttribute("aria-label", "where the words are on screen");
          for (const corners of model.boxes) {
            const polygon = document.createElementNS(svgNS, "polygon");
            polygon.setAttribute("points", corners.map(([x, y]) => `${x},${y}`).join(" "));
            svg.append(polygon);
          }
          const fit = () => svg.setAttribute(
            "viewBox", `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
          if (img.complete && img.naturalWidth) fit(); else img.addEventListener("load", fit);
          thumb.append(svg);
        }
      }

      const body = document.createElement("div");
      body.className = "hx-body";
      const title = document.createElement("div");
      title.append(text("b", model.filename, "hx-file"),
                   ` · ${model.start.toFixed(1)}-${model.end.toFixed(1)} s`
                   + ` · score ${model.score.toFixed(2)}`);
      if (model.confidence) {
        const badge = text("span", model.confidence,
                           `hx-confidence hx-confidence-${model.confidence}`);
        badge.title = `${model.confidence} confidence`;
        title.append(badge);
      }
      const snippet = document.createElement("div");
      snippet.className = "hx-snippet";
      model.snippet.split("**").forEach((part, i) => {
        snippet.append(i % 2 ? text("mark", part) : document.createTextNode(part));
      });
      body.append(title, snippet);
      if (model.people.length) {
        body.append(text("div", `People: ${model.people.join(", ")}`, "hx-people"));
      }
      // One tab stop per card: the card itself is the keyboard target, the button a mouse one.
      const play = text("button", `▶ Play from ${model.start.toFixed(1)} s`, "heimdex-play");
      play.type = "button";
      play.tabIndex = -1;
      body.append(play);
      if (model.page_url) {
        // A real link (a new tab opens the page by URL); a plain click opens it in this app.
        const open = text("a", "Video page ▸", "hx-open");
        open.href = model.page_url;
        open.tabIndex = -1;
        open.addEventListener("click", (e) => {
          e.stopPropagation();  // not a Play click
          if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          model.send_msg({ open: true });
        });
        body.append(open);
      }
      card.append(thumb, body);

      const start = () => model.send_msg({ play: true });
      card.addEventListener("click", start);  // the button's click bubbles here too
      card.addEventListener("keydown", (e) => {
        if (e.target === card && (e.key === "Enter" || e.key === " ")) {
          e.preventDefault();  // Space would scroll the page
          start();
        }
      });
      el.append(style, card);
    }
    """

    def __init__(
        self,
        on_play: Callable[[], None] | None = None,
        on_open: Callable[[], None] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self._on_play = on_play
        self._on_open = on_open

    def _handle_msg(self, msg: Any) -> None:
        if not isinstance(msg, dict):
            return
        if self._on_play is not None and msg.get("play"):
            self._on_play()
        if self._on_open is not None and msg.get("open"):
            self._on_open()
