"""Heimdex Lab web app: Upload, Library, Search (with a player), People.

``page(settings, no_auth=…, api=…)`` builds one session's page. `heimdex serve` mounts it at
``/`` beside the HTTP API (``api=True``: uploads stream to ``/api/v1/videos``); plain
`panel serve apps/heimdex_app.py` calls it without the API (docs/architecture.md §12: where each
user enters). State lives in param.Parameterized classes; the views below are thin functions
of that state and every action calls `heimdex_lab`. Ingestion runs on a background worker,
never in a callback. File, person and user names, transcripts and error messages come from
users: every HTML string built here passes them through `html.escape`, and tables and result
cards show them as text.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import panel as pn
import param
from PIL import Image

from heimdex_lab.config import Settings
from heimdex_lab.errors import HeimdexError
from heimdex_lab.ingest.worker import worker_for
from heimdex_lab.library import Library
from heimdex_lab.types import Hit, ScreenMark, SearchPage, VideoGroup, VideoState
from heimdex_lab.ui.cards import ResultCards
from heimdex_lab.ui.export import export_buttons
from heimdex_lab.ui.library_view import library_view
from heimdex_lab.ui.people_view import people_view
from heimdex_lab.ui.thumbs import data_uri
from heimdex_lab.ui.video_page import (
    TAB_NAME,
    VideoPageState,
    requested_video,
    video_page_url,
    video_view,
)

ACCEPTED = [".mp4", ".mov", ".avi", ".mkv", ".webm", "video/*"]
REFRESH_MS = 1000


@dataclass(frozen=True)
class Serving:
    """How the page is served, decided once by whoever serves it (never read from the env)."""

    no_auth: bool  # one analyst acting as ``settings.user``; else the signed-in user
    api: bool  # the HTTP API is beside the app (`heimdex serve`): uploads and keyframes use it


def current_user(settings: Settings, serving: Serving) -> str:
    if serving.no_auth:
        return settings.user
    if not pn.state.user:  # the auth provider admits no one without a user; never guess one
        raise PermissionError("not signed in")
    return str(pn.state.user)


class LibraryState(param.Parameterized):
    """The signed-in user's library: videos, people, uploads in flight."""

    version = param.Integer(default=0, doc="bumped whenever something visible changed")
    content = param.Integer(
        default=0, doc="bumped when what search can find changed: ready videos or people"
    )

    def __init__(self, settings: Settings, serving: Serving, **params: Any) -> None:
        super().__init__(**params)
        self.serving = serving
        self.lib = Library(settings)
        self.worker = worker_for(settings)
        self._seen: tuple[Any, ...] = ()
        self._searchable: tuple[Any, ...] = ()
        # What the views are first built from: the first tick then changes nothing, instead of
        # redoing a search (and replacing result cards under the pointer) a second after load.
        self.refresh()

    def refresh(self) -> None:
        """Bump ``version`` only when videos or uploads changed (no flicker when idle). Runs
        every second on the page's event loop, where a search waits for it: cheap reads only."""
        videos = tuple((vid, state, stage, round(done, 2)) for vid, state, stage, done in
                       self.lib.states())  # fmt: skip
        uploads = [
            (u.upload_id, u.state, u.stage, round(u.progress, 2))
            for u in self.worker.of(self.lib.user)
        ]
        people = tuple((p.name, p.photos) for p in self.lib.people_list())
        seen = (videos, tuple(uploads), people)
        if seen != self._seen:
            self._seen = seen
            self.version += 1
        # Search results are redone only when this changes, not on every progress tick.
        ready = tuple(vid for vid, state, _stage, _done in videos if state == VideoState.READY)
        searchable = (ready, people)
        if searchable != self._searchable:
            self._searchable = searchable
            self.content += 1


class SearchState(param.Parameterized):
    query = param.String(default="")
    mode: param.Selector[str] = param.Selector(
        default="hybrid", objects=["hybrid", "text", "keyword", "visual", "screen"]
    )
    people = param.List(default=[])
    videos = param.List(default=[])
    language = param.String(default="", doc="ISO 639-1 code of the speech; empty for any")
    page = param.Integer(default=1, bounds=(1, None))
    k = param.Integer(default=8)
    playing = param.Tuple(
        default=("", 0.0, ""), length=3, doc="(video id, start second, file name)"
    )
    group: param.Selector[str] = param.Selector(
        default="scene", objects=["scene", "video"], doc="one result per scene or per video"
    )
    show_weak = param.Boolean(default=False, doc="show low-confidence results too")

    def __init__(self, lib: Library, **params: Any) -> None:
        super().__init__(**params)
        self.lib = lib
        self.viewer = VideoPageState()  # the video page that result cards open

    @property
    def min_confidence(self) -> str:
        """What the app shows: high and medium results, unless the weaker ones were asked for."""
        return "low" if self.show_weak else "medium"

    def open_video(self, video_id: str, t: float) -> None:
        """The video page of ``video_id`` at ``t`` seconds, this search's matches marked."""
        self.viewer.show(video_id, t, self.query, self.min_confidence)

    def weaker(self) -> int:
        """How many results the confidence cut-off hides (only asked when it hides them all)."""
        try:
            found = self.lib.search(self.query, k=1, people=self.people, videos=self.videos,
                                    mode=self.mode, language=self.language or None)  # fmt: skip
            return found.total
        except HeimdexError:
            return 0

    def results(self) -> SearchPage | str:
        if not self.query.strip() and not (self.people or self.videos):
            return "Type what was said or shown, or pick a person or a video."
        try:
            return self.lib.search(
                self.query,
                k=self.k,
                page=self.page,
                people=self.people,
                videos=self.videos,
                mode=self.mode,
                language=self.language or None,
                min_confidence=self.min_confidence,
                group=self.group,
            )
        except HeimdexError as exc:
            return str(exc)


# Views -----------------------------------------------------------------------------------------


def file_dropper(state: LibraryState) -> pn.viewable.Viewable:
    """Plain `panel serve` (no HTTP API): files come over the websocket, whole, in memory."""
    limit_mb = state.lib.settings.max_upload_bytes // (1024 * 1024)
    dropper = pn.widgets.FileDropper(
        multiple=True,
        accepted_filetypes=ACCEPTED,
        max_file_size=f"{limit_mb}MB",
        chunk_size=8_000_000,
        sizing_mode="stretch_width",
    )
    submitted: set[str] = set()

    def take(event: Any) -> None:
        for filename, data in (event.new or {}).items():
            if filename in submitted:
                continue
            submitted.add(filename)
            if isinstance(data, str):  # text/* files arrive decoded: they are not videos
                data = data.encode()
            state.worker.submit(state.lib.user, filename, data)
        state.refresh()

    dropper.param.watch(take, "value")
    return dropper


def stream_uploader(state: LibraryState) -> pn.viewable.Viewable:
    """Under `heimdex serve`: the browser streams each file to the HTTP API (no server memory)."""
    from heimdex_lab.ui.uploader import StreamUploader

    def refused(msg: dict[str, Any]) -> None:
        error = str(msg.get("error") or "refused")
        state.worker.record_refused(
            state.lib.user, str(msg.get("file", "?")), int(msg.get("size") or 0), error
        )
        state.refresh()

    return StreamUploader(
        on_refused=refused,
        max_bytes=state.lib.settings.max_upload_bytes,
        sizing_mode="stretch_width",
    )


def upload_view(state: LibraryState) -> pn.viewable.Viewable:
    limit_mb = state.lib.settings.max_upload_bytes // (1024 * 1024)
    dropper = stream_uploader(state) if state.serving.api else file_dropper(state)

    def uploads(_version: int) -> pn.viewable.Viewable:
        rows = [
            {
                "file": u.filename,
                "state": u.state,
                "stage": u.stage,
                "progress": f"{100 * u.progress:.0f}%",
                "message": u.error or "",
            }
            for u in reversed(state.worker.of(state.lib.user))
        ]
        if not rows:
            return pn.pane.Markdown("No uploads yet in this session.")
        return pn.widgets.Tabulator(
            pn_frame(rows),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            name="uploads",
            css_classes=["heimdex-uploads"],
        )

    return pn.Column(
        pn.pane.Markdown(
            f"### Upload videos\nMP4, MOV, AVI, MKV or WebM, up to {limit_mb} MB each. "
            "Each file is checked, transcribed, split into scenes and indexed in the background."
        ),
        dropper,
        pn.bind(uploads, state.param.version),
        sizing_mode="stretch_width",
    )


def player_html(video_id: str, start: float, filename: str) -> str:
    if not video_id:
        return "<p><i>Click a result to play it from the start of its scene.</i></p>"
    return (
        f'<p class="heimdex-now-playing"><b>{html.escape(filename)}</b> from {start:.1f} s</p>'
        f'<video id="heimdex-player" data-start="{start:.3f}" src="/media/{html.escape(video_id)}'
        f'#t={start:.3f}" controls autoplay muted playsinline '
        'style="width:100%;max-height:360px;background:#000"></video>'
    )


def search_view(state: LibraryState, search: SearchState) -> pn.viewable.Viewable:
    query = pn.widgets.TextInput.from_param(
        search.param.query,
        placeholder="e.g. the rocket launch where she talks about the budget",
        name="",
        sizing_mode="stretch_width",
    )
    mode = pn.widgets.Select.from_param(search.param.mode, name="Mode", width=120)
    people = pn.widgets.MultiChoice(name="People", width=220)
    videos = pn.widgets.MultiChoice(name="Videos", width=260)
    language = pn.widgets.Select(name="Language", options={"any": ""}, width=110)

    def options(_version: int) -> None:
        # Choices.js (inside Bokeh's MultiChoice) puts labels in the page as HTML: escaped
        # labels read as typed; the values behind them stay the raw names and ids.
        names = state.lib.people_frame()["name"].to_list()
        people.options = {html.escape(name): name for name in names}
        frame = state.lib.videos().frame
        ready = frame.filter(frame["state"] == "ready")
        labels = [html.escape(name) for name in ready["filename"]]
        videos.options = dict(zip(labels, ready["video_id"], strict=True))
        spoken = sorted({code for code in ready["language"] if code})
        language.options = {"any": ""} | {html.escape(code): code for code in spoken}

    pn.bind(options, state.param.content, watch=True)
    options(0)
    group = pn.widgets.RadioButtonGroup(
        options={"By scene": "scene", "By video": "video"}, value=search.group, name="Group",
        css_classes=["heimdex-group"], margin=(24, 10, 0, 10),
    )  # fmt: skip
    people.link(search, value="people")
    videos.link(search, value="videos")
    language.link(search, value="language")
    group.link(search, value="group")

    player = pn.pane.HTML(player_html("", 0.0, ""), sizing_mode="stretch_width", name="player")
    search.param.watch(lambda e: setattr(player, "object", player_html(*e.new)), "playing")

    results = SearchResults(search, state.serving.api)
    search.param.watch(results.update, [*SearchResults.NEW_SEARCH, "group", "page", "show_weak"])
    state.param.watch(results.update, "content")
    return pn.Row(
        pn.Column(
            pn.Row(query, mode),
            pn.Row(people, videos, language, group, export_buttons(search, state.serving.api)),
            results.area,
            sizing_mode="stretch_width",
        ),
        pn.Column(player, width=520),
        sizing_mode="stretch_width",
    )


class SearchResults:
    """The results under the search box, kept alive across searches: a new query's results
    change the cards' ``hits`` and the summary and buttons in place (one small message, no new
    models, nothing jumps in the page). Rarer shapes (a hint or an error, "no good match",
    results grouped by video) are built anew around the same cards component."""

    NEW_SEARCH = ("query", "mode", "people", "videos", "language")  # back to page 1, no weak

    def __init__(self, search: SearchState, api: bool) -> None:
        self.search = search
        self.api = api
        self.shown: Sequence[Hit] = ()  # the hits on the cards now: what card n plays
        self.cards = ResultCards(
            on_play=self.play, on_open=self.open_page, sizing_mode="stretch_width"
        )
        self.summary = pn.pane.Markdown("")
        self.weak = pn.widgets.Button(
            name="Show weaker matches too", button_type="light", css_classes=["heimdex-show-weak"]
        )
        self.weak.on_click(lambda _e: setattr(search, "show_weak", not search.show_weak))
        self.prev = pn.widgets.Button(name="◀ Previous")
        self.next = pn.widgets.Button(name="Next ▶")
        self.prev.on_click(lambda _e: setattr(search, "page", search.page - 1))
        self.next.on_click(lambda _e: setattr(search, "page", search.page + 1))
        self.head = pn.Row(self.summary, self.weak)
        self.pager = pn.Row(self.prev, self.next)
        # The cards are always in the page: their code is loaded before the first search.
        self.area = pn.Column(self.cards, sizing_mode="stretch_width")
        self.update()

    def play(self, n: int) -> None:
        hit = self.shown[n]
        self.search.playing = (hit.video_id, hit.start, hit.filename)

    def open_page(self, n: int) -> None:
        self.search.open_video(self.shown[n].video_id, self.shown[n].start)

    def update(self, *events: param.parameterized.Event) -> None:
        search = self.search
        asked = {e.name for e in events}
        if asked & set(self.NEW_SEARCH) and (search.page != 1 or search.show_weak):
            search.param.update(page=1, show_weak=False)  # calls this again, once
            return
        if "group" in asked and search.page != 1:
            search.page = 1
            return
        page = search.results()
        with pn.io.hold():  # every change below reaches the browser in one message
            self.show(page)

    def show(self, page: SearchPage | str) -> None:
        search = self.search
        if isinstance(page, str):  # a hint, or an error that may quote the query or a name
            hint = pn.pane.HTML(f"<p>{html.escape(page)}</p>", sizing_mode="stretch_width")
            self.place(hint, [])
            return
        if page.total == 0 and search.query.strip() and not search.show_weak:
            self.place(no_good_match(search), [])
            return
        marks = search.lib.screen_marks(page) if search.mode in ("hybrid", "screen") else {}
        pages = max(1, -(-page.total // page.k))
        self.prev.disabled = page.page <= 1
        self.next.disabled = page.page >= pages
        unit = "video(s)" if page.groups is not None else "scene(s)"
        self.summary.object = f"**{page.total}** {unit} · page {page.page} of {pages}"
        searched = bool(search.query.strip())  # else a listing: all is what the filters asked
        self.weak.name = "Hide weak matches" if search.show_weak else "Show weaker matches too"
        set_objects(self.head, [self.summary, self.weak] if searched else [self.summary])
        if page.groups is None:
            self.place(self.head, page.hits, marks, self.pager)
            return

        def cards(hits: Sequence[Hit]) -> ResultCards:
            return result_cards(hits, search, self.api, marks)

        blocks = [video_group(g, search, cards) for g in page.groups]
        self.place(self.head, [], {}, *blocks, self.pager)

    def place(
        self,
        head: pn.viewable.Viewable,
        hits: Sequence[Hit],
        marks: dict[str, ScreenMark] | None = None,
        *after: pn.viewable.Viewable,
    ) -> None:
        """``head``, the cards showing ``hits``, then ``after``; the layout is only touched
        when its parts change, which a search with results by scene never does."""
        self.shown = hits
        self.cards.hits = card_data(hits, self.search, self.api, marks or {})
        set_objects(self.area, [head, self.cards, *after])


def set_objects(layout: pn.layout.ListPanel, objects: list[pn.viewable.Viewable]) -> None:
    """Give ``layout`` these children, unless it has them already: setting the same ones
    again would still send them all to the browser."""
    if [id(o) for o in layout.objects] != [id(o) for o in objects]:
        layout.objects = objects


def card_data(
    hits: Sequence[Hit], search: SearchState, api: bool, marks: dict[str, ScreenMark]
) -> list[dict[str, Any]]:
    """What `ResultCards` shows of each hit (see its ``hits``)."""
    searched = bool(search.query.strip())
    cards = []
    for hit in hits:
        mark = marks.get(hit.scene_id)
        keyframe, size = "", None
        if not hit.keyframe:
            pass
        elif api:
            keyframe = f"/api/v1/scenes/{quote(hit.scene_id, safe=':')}/keyframe"
            keyframe += f"?n={mark.keyframe}" if mark else ""
        else:
            path = search.lib.settings.library / mark.path if mark else Path(hit.keyframe)
            keyframe = data_uri(path)
            if mark and keyframe:
                with Image.open(path) as picture:  # reads the header only
                    size = list(picture.size)
        cards.append({
            "filename": hit.filename, "start": hit.start, "end": hit.end, "score": hit.score,
            "snippet": hit.snippet or "(no speech)", "people": list(hit.people),
            "keyframe": keyframe, "size": size,
            "boxes": [[list(c) for c in box] for box in mark.boxes] if mark and keyframe else [],
            "confidence": hit.confidence if searched else "",
            "page_url": video_page_url(hit.video_id, hit.start, search.query),
        })  # fmt: skip
    return cards


def result_cards(
    hits: Sequence[Hit], search: SearchState, api: bool, marks: dict[str, ScreenMark]
) -> ResultCards:
    """``hits`` as cards, in one component; a click or Enter/Space on one plays it from the
    scene start, its "Video page ▸" link opens the video page there. A search's cards show
    their confidence (a listing by filters only has none). Where the query's words are on
    screen (``marks``), a card shows that keyframe with their boxes. Keyframes are URLs the
    browser fetches and caches under the API; inline, scaled down, under plain `panel serve`."""

    def play(n: int) -> None:
        hit = hits[n]
        search.playing = (hit.video_id, hit.start, hit.filename)

    def open_page(n: int) -> None:
        search.open_video(hits[n].video_id, hits[n].start)

    cards = card_data(hits, search, api, marks)
    return ResultCards(on_play=play, on_open=open_page, hits=cards, sizing_mode="stretch_width")


def no_good_match(search: SearchState) -> pn.viewable.Viewable:
    """Nothing of high or medium confidence: say so, and offer the weaker results."""
    weaker = search.weaker()
    text = f"No good match for “{html.escape(search.query.strip())}”."
    if not weaker:
        return pn.pane.HTML(f'<p class="heimdex-no-good-match">{text} Nothing matched.</p>')
    show = pn.widgets.Button(
        name=f"Show {weaker} weaker result(s)", button_type="primary",
        css_classes=["heimdex-show-weak"],
    )  # fmt: skip
    show.on_click(lambda _e: setattr(search, "show_weak", True))
    return pn.Column(
        pn.pane.HTML(f'<p class="heimdex-no-good-match">{text} The closest scenes are '
                     "weak matches (low confidence).</p>"),
        show,
        sizing_mode="stretch_width",
    )  # fmt: skip


def video_group(
    group: VideoGroup, search: SearchState, cards: Callable[[Sequence[Hit]], ResultCards]
) -> pn.viewable.Viewable:
    """One video of a search grouped by video: its name, how many scenes matched and how
    surely, a link to its video page, and its best scenes' cards."""
    head = pn.pane.HTML(
        f'<div class="heimdex-group-head"><b>{html.escape(group.filename)}</b> · '
        f"{group.matched} matching scene(s) · best: {html.escape(group.confidence)}</div>",
        sizing_mode="stretch_width",
    )
    open_page = pn.widgets.Button(name="Video page ▸", button_type="light", width=120)
    open_page.on_click(lambda _e: search.open_video(group.video_id, group.hits[0].start))
    return pn.Column(
        pn.Row(head, open_page, sizing_mode="stretch_width"),
        cards(group.hits),
        css_classes=["heimdex-video-group"],
        styles={"border-left": "3px solid #8aa4c0", "padding-left": "6px"},
        sizing_mode="stretch_width",
    )


def pn_frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)


def page(settings: Settings, *, no_auth: bool, api: bool) -> pn.template.BootstrapTemplate:
    """One session's page for ``settings.library``, as the signed-in user (or, with
    ``no_auth``, as ``settings.user``)."""
    pn.extension("tabulator", "filedropper", inline=True, notifications=True)
    serving = Serving(no_auth=no_auth, api=api)
    settings = settings.model_copy(update={"user": current_user(settings, serving)})
    state = LibraryState(settings, serving)
    search = SearchState(state.lib)
    tabs = pn.Tabs(
        ("Search", search_view(state, search)),
        ("Upload", upload_view(state)),
        ("Library", library_view(state, open_video=search.viewer.show)),
        ("People", people_view(state)),
        (TAB_NAME, video_view(state.lib, search.viewer, api)),
        dynamic=False,
        sizing_mode="stretch_width",
    )
    video_tab = len(tabs) - 1
    search.viewer.param.watch(lambda _e: setattr(tabs, "active", video_tab), "opened")
    asked = requested_video(pn.state.session_args or {})  # ?video=ID&t=SECONDS&q=QUERY
    if asked:
        search.query = asked[2]
        search.viewer.show(*asked, search.min_confidence)

    async def tick() -> None:
        # A coroutine: under heimdex serve (FastAPI) the page's websocket is asyncio, and only
        # a callback on the loop gets its changes sent reliably (panel issue #7435).
        state.refresh()

    # Started once the page has loaded: a callback added while the session is still being
    # built was sometimes never scheduled under FastAPI, and the Upload tab stood still.
    def start() -> None:
        pn.state.add_periodic_callback(tick, period=REFRESH_MS)  # type: ignore[arg-type]

    pn.state.onload(start)
    logout = "" if no_auth else ' · <a href="/logout" style="color:#fff">sign out</a>'
    header = pn.pane.HTML(
        f'<span style="color:#fff"><b>{html.escape(settings.user)}</b> · library '
        f"<code>{html.escape(str(settings.library.resolve()))}</code>{logout}</span>"
    )
    return pn.template.BootstrapTemplate(
        title="Heimdex Lab", main=[tabs], header=[header], theme="default"
    )
