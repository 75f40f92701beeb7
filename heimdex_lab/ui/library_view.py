"""The Library tab: the user's videos as a grid of cards (the default) or as a table.

A card shows the video's cover keyframe, name, duration, language, scene count and state, with
a progress bar while it is ingested; Retry and Delete act on that video through `Library`, which
enforces when each is allowed. A card's picture and name link to the video page
(``video_page_url``: a new tab opens it by URL; a plain click opens it in this app).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import panel as pn
import param
from panel.custom import JSComponent

from heimdex_lab.errors import HeimdexError
from heimdex_lab.ui.thumbs import data_uri
from heimdex_lab.ui.video_page import video_page_url

if TYPE_CHECKING:
    from heimdex_lab.ui.app import LibraryState

SORTS = {"Date added": "date", "Name": "name", "Duration": "duration"}


class VideoGrid(JSComponent):
    """Video cards; ``send_msg({action, video_id})`` asks for a retry, a delete, or to open
    the video's page in this app."""

    videos = param.List(
        default=[],
        doc="one dict per video, oldest first: video_id, filename, duration_s, language, "
        "scenes, state, stage, progress, error, cover (picture URL or ''), href",
    )
    sort: param.Selector[str] = param.Selector(default="date", objects=["date", "name", "duration"])

    _esm = """
    const css = `
      .hx-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
                 gap: .8rem; font: 14px system-ui; }
      .heimdex-video-card { border: 1px solid #d8dde3; border-radius: 6px; background: #fff;
                            overflow: hidden; display: flex; flex-direction: column; }
      .heimdex-video-card:hover { border-color: #8aa4c0; }
      .hx-cover { display: block; aspect-ratio: 16 / 9; background: #1d2733; color: #cfd8e3;
                  text-decoration: none; }
      .hx-cover img { width: 100%; height: 100%; object-fit: cover; display: block; }
      .hx-cover span { display: flex; height: 100%; align-items: center;
                       justify-content: center; font-size: 12px; }
      .hx-info { padding: .5rem .6rem .6rem; display: flex; flex-direction: column; gap: .25rem; }
      .hx-name { font-weight: 600; color: #123; overflow-wrap: anywhere; text-decoration: none; }
      .hx-name:hover { text-decoration: underline; }
      .hx-meta { color: #55606c; font-size: 12px; }
      .hx-state { font-size: 12px; font-weight: 600; }
      .hx-state[data-state=ready] { color: #1b7f3b; }
      .hx-state[data-state=failed], .hx-state[data-state=rejected] { color: #b3261e; }
      .hx-state[data-state=interrupted] { color: #a05a00; }
      .hx-info progress { width: 100%; height: 8px; }
      .hx-error { color: #b3261e; font-size: 12px; overflow-wrap: anywhere; }
      .hx-actions { display: flex; gap: .4rem; margin-top: .2rem; }
      .hx-actions button { border: 1px solid #b9c3ce; background: #f6f8fa; border-radius: 4px;
                           padding: .2rem .6rem; font: 12px system-ui; cursor: pointer; }
      .hx-actions button.hx-delete { color: #b3261e; }
      .hx-actions button.hx-confirm { background: #b3261e; color: #fff; }`;
    const WORKING = new Set(["ready", "failed", "rejected", "interrupted"]);

    function text(tag, value, className) {
      const node = document.createElement(tag);
      node.textContent = value;
      if (className) node.className = className;
      return node;
    }

    function clock(seconds) {
      if (seconds == null) return "";
      const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
      const ss = String(s % 60).padStart(2, "0");
      return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
    }

    const ORDER = {
      date: () => 0,
      name: (a, b) => a.filename.localeCompare(b.filename),
      duration: (a, b) => (b.duration_s ?? -1) - (a.duration_s ?? -1),
    };

    // A real link (a new tab opens the page by URL); a plain click opens it in this app.
    function link(model, a, v) {
      a.href = v.href;
      a.addEventListener("click", (e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        model.send_msg({action: "open", video_id: v.video_id});
      });
    }

    function card(model, v) {
      const node = document.createElement("div");
      node.className = "heimdex-video-card";
      node.dataset.videoId = v.video_id;
      node.dataset.state = v.state;
      const cover = document.createElement("a");
      cover.className = "hx-cover";
      link(model, cover, v);
      if (v.cover) {
        const img = document.createElement("img");
        img.src = v.cover;
        img.alt = `keyframe of ${v.filename}`;
        img.loading = "lazy";
        cover.append(img);
      } else {
        cover.append(text("span", v.state === "ready" ? "no picture" : "no keyframe yet"));
      }
      const info = document.createElement("div");
      info.className = "hx-info";
      const name = text("a", v.filename, "hx-name");
      link(model, name, v);
      const meta = [clock(v.duration_s), v.language || "",
                    v.scenes ? `${v.scenes} scene${v.scenes === 1 ? "" : "s"}` : ""];
      info.append(name, text("div", meta.filter(Boolean).join(" · "), "hx-meta"));
      const working = !WORKING.has(v.state);
      const label = working
        ? `${v.state}${v.stage && v.stage !== v.state ? " / " + v.stage : ""} ` +
          `${Math.round(100 * v.progress)}%`
        : v.state;
      const state = text("div", label, "hx-state");
      state.dataset.state = v.state;
      info.append(state);
      if (working) {
        const bar = document.createElement("progress");
        bar.max = 1;
        bar.value = v.progress;
        info.append(bar);
      }
      if (v.error) info.append(text("div", v.error, "hx-error"));
      const actions = document.createElement("div");
      actions.className = "hx-actions";
      if (v.state === "failed" || v.state === "interrupted") {
        const retry = text("button", "Retry", "hx-retry");
        retry.type = "button";
        retry.addEventListener("click", () =>
          model.send_msg({action: "retry", video_id: v.video_id}));
        actions.append(retry);
      }
      // Two clicks delete: the first asks, the second (within 4 s) does it.
      const del = text("button", "Delete", "hx-delete");
      del.type = "button";
      del.addEventListener("click", () => {
        if (del.classList.contains("hx-confirm")) {
          model.send_msg({action: "delete", video_id: v.video_id});
          return;
        }
        del.classList.add("hx-confirm");
        del.textContent = "Really delete?";
        setTimeout(() => { del.classList.remove("hx-confirm"); del.textContent = "Delete"; },
                   4000);
      });
      actions.append(del);
      info.append(actions);
      node.append(cover, info);
      return node;
    }

    export function render({ model, el }) {
      const style = document.createElement("style");
      style.textContent = css;
      const grid = document.createElement("div");
      grid.className = "hx-grid heimdex-video-grid";
      const draw = () => {
        const videos = [...model.videos];
        if (model.sort !== "date") videos.sort(ORDER[model.sort]);
        grid.replaceChildren(...videos.map(v => card(model, v)));
      };
      draw();
      model.on("videos", draw);
      model.on("sort", draw);
      el.append(style, grid);
    }
    """

    def __init__(self, on_action: Callable[[str, str], None] | None = None, **params: Any) -> None:
        super().__init__(**params)
        self._on_action = on_action

    def _handle_msg(self, msg: Any) -> None:
        if self._on_action is None or not isinstance(msg, dict):
            return
        action, video_id = msg.get("action"), msg.get("video_id")
        if action in ("retry", "delete", "open") and isinstance(video_id, str):
            self._on_action(action, video_id)


def video_cards(state: LibraryState) -> list[dict[str, Any]]:
    """What the grid shows of each video (pictures by URL under the API, inline otherwise)."""
    frame = state.lib.videos().frame
    covers = state.lib.covers()
    cards = []
    for row in frame.iter_rows(named=True):
        cover = ""
        if row["video_id"] in covers:
            scene_id, path = covers[row["video_id"]]
            if state.serving.api:  # the browser fetches it once and caches it
                cover = f"/api/v1/scenes/{quote(scene_id, safe=':')}/keyframe"
            else:
                cover = data_uri(path)
        cards.append({**row, "cover": cover, "href": video_page_url(row["video_id"])})
    return cards


def act_on_video(state: LibraryState, action: str, video_id: str) -> str:
    """Retry (on the ingest worker, never in the callback) or delete one video; the message
    to show (Library refuses what is not allowed now, saying why)."""
    try:
        if action == "retry":
            row = state.lib.resumable(video_id)
            state.worker.submit_retry(state.lib.user, video_id, row.filename)
            return f"{row.filename}: resuming"
        filename = state.lib.video(video_id).filename
        state.lib.delete_video(video_id)
        return f"Deleted {filename}."
    except HeimdexError as exc:
        return str(exc)
    finally:
        state.refresh()


def videos_table(state: LibraryState, message: pn.pane.HTML) -> Callable[[int], Any]:
    """The table view: one row per video, resume or delete the selected one."""

    def table(_version: int) -> pn.viewable.Viewable:
        frame = state.lib.videos().frame
        if frame.is_empty():
            return pn.pane.Markdown("No videos.")
        view = frame.select(
            "video_id", "filename", "state", "stage", "progress", "duration_s", "scenes",
            "language", "error",
        )  # fmt: skip
        tab = pn.widgets.Tabulator(
            view.to_pandas(),
            show_index=False,
            disabled=True,
            selectable=1,
            sizing_mode="stretch_width",
            name="videos",
            css_classes=["heimdex-videos"],
            formatters={"progress": {"type": "progress", "max": 1}},
        )
        retry = pn.widgets.Button(name="Resume selected", button_type="primary")
        delete = pn.widgets.Button(name="Delete selected", button_type="danger")

        def act(action: str) -> None:
            if tab.selection:
                video_id = str(view["video_id"][tab.selection[0]])
                message.object = html.escape(act_on_video(state, action, video_id))

        retry.on_click(lambda _e: act("retry"))
        delete.on_click(lambda _e: act("delete"))
        return pn.Column(tab, pn.Row(retry, delete), sizing_mode="stretch_width")

    return table


def library_view(state: LibraryState, open_video: Callable[[str], None]) -> pn.viewable.Viewable:
    """The grid (or table) of the user's videos; a card's link calls ``open_video(video_id)``."""
    message = pn.pane.HTML("", css_classes=["heimdex-library-message"])
    view = pn.widgets.RadioButtonGroup(options=["Grid", "Table"], value="Grid", name="View")
    sort = pn.widgets.Select(name="Sort by", options=SORTS, value="date", width=140)

    def on_action(action: str, video_id: str) -> None:
        if action == "open":
            open_video(video_id)
            return
        message.object = html.escape(act_on_video(state, action, video_id))

    grid = VideoGrid(on_action=on_action, videos=video_cards(state), sizing_mode="stretch_width")
    sort.link(grid, value="sort")
    empty = pn.pane.Markdown("The library is empty: upload a video first.", visible=not grid.videos)

    def update(_e: Any) -> None:  # the same component gets new data: no page rebuild
        grid.videos = video_cards(state)
        empty.visible = not grid.videos

    state.param.watch(update, "version")
    table = pn.panel(pn.bind(videos_table(state, message), state.param.version))
    grids = pn.Column(sort, empty, grid, sizing_mode="stretch_width")
    table_view = pn.Column(table, visible=False, sizing_mode="stretch_width")

    def switch(event: Any) -> None:
        grids.visible = event.new == "Grid"
        table_view.visible = event.new == "Table"

    view.param.watch(switch, "value")
    return pn.Column(
        pn.Row(pn.pane.Markdown("### Library"), view),
        message,
        grids,
        table_view,
        sizing_mode="stretch_width",
    )
