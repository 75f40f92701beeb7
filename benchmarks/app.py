"""Upload-to-searchable time and search round trip in the web app, in a real browser (issue 6).

    .venv/bin/python benchmarks/app.py [VIDEO [VIDEO2]] [--seconds 60] [--queries 50] [--keep]
    .venv/bin/python benchmarks/app.py --scenes 10000 [--queries 50]

Makes two ~60 s speech videos with data/make_samples.py (or reuses the VIDEOs given, which need
the .json of sentences make_samples.py writes next to each), starts ``heimdex serve --no-auth``
on a free loopback port with a fresh library, and drives the page with Playwright and Debian's
Chromium (headless), only through the page: no server internals. For the first upload (models
load in the server during it) and a second one (warm) it measures, from upload finished (the
browser has the server's 202 to the POST of the file; defined in ``upload``):

- ready: the Upload tab's table says "ready" for the file;
- searchable: ready, and then a search in the Search tab for a sentence spoken in the video
  shows a card of it (the harness's tab switch and typing are not counted).

Then the search round trip: from the Enter keydown in the search box until all result cards of
that query are in the DOM, over ``--queries`` searches cycling through ~12 paraphrases (one
warm-up search before them, reported apart); p50, p95 and max.

All instants are taken in the page (``performance.now()``, conditions polled on animation
frames), so Playwright's own round trips are not counted. Server->page WebSocket traffic,
browser long tasks and the server's CPU are recorded per phase, and idle: they show how much the
page redraws. ``--keep`` keeps the temporary directory (library, videos, server log).

``--scenes 10000`` measures search alone on a large library instead (no uploads): a library of
that many synthetic scenes built as benchmarks/search.py builds it; the first search after
``heimdex serve`` against the tenth (the server warms its models up at start), then the
round trip over ``--queries`` searches. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
from harness import ROOT, cpu_model, load_note, pct
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
SERVER_ENV = {
    "HF_HUB_OFFLINE": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "ORT_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
}
RESULTS_PER_PAGE = 8  # SearchState.k in heimdex_lab/ui/app.py: cards on a full first page
START_TIMEOUT_S = 120.0
INGEST_TIMEOUT_S = 900.0
SEARCH_TIMEOUT_S = 120.0  # the first search of the server may load models on a busy machine
ROW_SAMPLE_MS = 100  # how often the page's uploads row is read while the video is ingested
IDLE_S = 5.0  # a quiet window after the uploads: does the page still redraw?
HEARTBEAT_S = 0.1  # how often the server is asked for /healthz from a thread
FINAL_STATES = ("ready", "failed", "rejected")

# (key word of a sentence in data/make_samples.py LONG_SENTENCES, a paraphrase of it). Only
# phrases whose key word is spoken in the video are used; the key word also tells whether the top
# card is the paraphrased sentence's scene.
PHRASES = [
    ("rocket", "why the rocket launch was postponed"),
    ("valve", "engineers inspecting valves before the countdown"),
    ("orbit", "she talks about her first trip into space"),
    ("coffee", "making coffee in the morning"),
    ("cat", "a cat sleeping by the window"),
    ("compiler", "who explained how compilers work"),
    ("galaxies", "telescope pictures of very old galaxies"),
    ("coins", "old money buried by the river"),
    ("tripod", "a photographer with a tripod in the park"),
    ("craters", "craters on the surface of the moon"),
    ("horse", "a horse running across a field in the evening"),
    ("clock", "the clock stopped at midnight"),
]

# Installed before the app's scripts: records server->page WebSocket messages, XMLHttpRequests
# (the upload box POSTs files), long tasks and Enter keydowns (the search box lives in shadow DOM;
# keydown is composed, so a capturing window listener sees it), and finds elements through open
# shadow roots.
PAGE_PROBE = r"""
(() => {
  const bench = {frames: [], xhr: [], longtasks: [], enters: []};
  window.__bench = bench;
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.__bench = {method: String(method).toUpperCase(), url: String(url)};
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    const entry = {...this.__bench, start: performance.now(), end: null, status: null, body: ''};
    bench.xhr.push(entry);
    this.addEventListener('loadend', () => {
      entry.status = this.status;
      entry.body = String(this.responseText ?? '').slice(0, 300);
      entry.end = performance.now();
    });
    return send.call(this, body);
  };
  const Native = window.WebSocket;
  const size = d => typeof d === 'string' ? d.length : (d.byteLength ?? d.size ?? 0);
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', e => bench.frames.push([performance.now(), size(e.data)]));
    }
  };
  try {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) bench.longtasks.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
  window.addEventListener('keydown', e => {
    if (e.key === 'Enter') bench.enters.push(performance.now());
  }, true);

  const walk = (node, out) => {
    if (node.shadowRoot) walk(node.shadowRoot, out);
    for (const child of node.children) { out.push(child); walk(child, out); }
    return out;
  };
  bench.all = (root = document.documentElement) => walk(root, [root]);
  bench.text = n => (n.shadowRoot ? bench.text(n.shadowRoot) : '') + Array.from(n.childNodes)
    .map(c => c.nodeType === 3 ? c.textContent : (c.nodeType === 1 ? bench.text(c) : '')).join('');

  // The uploads table's row for a file: {state, stage, progress, message} or null.
  bench.upload = name => {
    for (const host of bench.all().filter(e => e.classList.contains('heimdex-uploads'))) {
      for (const row of bench.all(host).filter(e => e.classList.contains('tabulator-row'))) {
        const cell = f => (row.querySelector(`[tabulator-field="${f}"]`)?.textContent ?? '').trim();
        if (cell('file') === name) {
          return {state: cell('state'), stage: cell('stage'), progress: cell('progress'),
                  message: cell('message')};
        }
      }
    }
    return null;
  };
  // Every change of that row, sampled every `ms` (a walk through the page each time: cheap
  // enough at 100 ms not to take much CPU from the ingestion being measured).
  bench.watch = ([name, ms]) => {
    let last = '';
    bench.rows = [];
    bench.watcher = setInterval(() => {
      const r = bench.upload(name), key = JSON.stringify(r);
      if (r && key !== last) { last = key; bench.rows.push({t: performance.now(), ...r}); }
    }, ms);
  };
  bench.unwatch = () => clearInterval(bench.watcher);

  // Search results: the summary line ("N scene(s) \u00b7 page 1 of P") and the cards. The app
  // keeps the results component and redraws every card as a new element on each new query (a
  // card's video page link holds the query, so the new hits always differ from the old ones):
  // marking the current cards stale before Enter and waiting for unmarked ones detects the new
  // query's results, even when they look the same. The summary changes in the same message as
  // the cards (its element stays when its text does), so the one in the page gives the total.
  const SUMMARY = /^\s*(\d+) scene\(s\) \u00b7 page \d+ of \d+\s*$/;
  const results = () => {
    const cards = [], summaries = [];
    for (const el of bench.all()) {
      if (el.classList.contains('heimdex-result')) cards.push(el);
      else if (el.childElementCount <= 1 && SUMMARY.test(el.textContent)) summaries.push(el);
    }
    return {cards, summaries};
  };
  bench.markStale = () => {
    for (const el of results().cards) el.__benchStale = true;
  };
  bench.fresh = perPage => {
    const {cards, summaries} = results();
    const summary = summaries.at(-1);
    if (!summary) return null;
    const total = Number(SUMMARY.exec(summary.textContent)[1]);
    const fresh = cards.filter(e => !e.__benchStale);
    if (!fresh.length || fresh.length < Math.min(total, perPage)) return null;
    return {t: performance.now(), total, cards: fresh.map(bench.text)};
  };
})();
"""


@dataclass(frozen=True)
class Sample:
    path: Path
    duration_s: float
    sentences: list[str]


@dataclass(frozen=True)
class Traffic:
    """Server->page WebSocket messages and browser long tasks in one window of page time."""

    seconds: float
    messages: int
    kilobytes: float
    longtasks: int
    longtask_ms: float
    longtask_max_ms: float

    def line(self) -> str:
        return (
            f"{self.messages / self.seconds:.1f} messages/s, {self.kilobytes / self.seconds:.1f} "
            f"KB/s server->page; browser long tasks {self.longtasks} "
            f"(total {self.longtask_ms:.0f} ms, max {self.longtask_max_ms:.0f} ms)"
        )


@dataclass(frozen=True)
class Search:
    ms: float  # Enter keydown -> all result cards in the DOM
    server_ms: float  # Enter keydown -> the last server message before that: server + transport
    total: int
    cards: list[str]  # text of each card, best first


@dataclass(frozen=True)
class Server:
    url: str
    command: list[str]
    start_s: float  # Popen -> the page answers 200
    pid: int

    def cpu_s(self) -> float:
        """CPU seconds the server process has used so far (user + system, from /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


# Machine and inputs -----------------------------------------------------------------------------


def make_sample(seconds: float, folder: Path, n: int) -> Path:
    """A speech video; the n-th starts 5 sentences further (another file, same length)."""
    video = folder / f"speech_{int(seconds)}s_{n}.mp4"
    subprocess.run(
        [sys.executable, str(ROOT / "data" / "make_samples.py"), "--long", str(seconds),
         "--offset", str(5 * (n - 1)), "--out", str(video)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return video


def read_sample(video: Path) -> Sample:
    truth = video.with_suffix(".json")
    if not truth.is_file():
        raise SystemExit(
            f"{truth} is missing: give a video made by data/make_samples.py --long, which writes "
            "the sentences spoken in it next to it"
        )
    data = json.loads(truth.read_text())
    return Sample(video, float(data["duration_s"]), [s["text"] for s in data["sentences"]])


def phrases_for(sample: Sample) -> list[tuple[str, str]]:
    spoken = " ".join(sample.sentences).lower()
    chosen = [(key, q) for key, q in PHRASES if re.search(rf"\b{key}", spoken)]
    if len(chosen) < 2:
        raise SystemExit(f"{sample.path}: fewer than 2 benchmark phrases match its sentences")
    return chosen


# Server -----------------------------------------------------------------------------------------


@contextmanager
def heimdex_serve(library: Path, log: Path) -> Iterator[Server]:
    """``heimdex serve --no-auth`` on a free loopback port, once its page answers; stopped on
    the way out, whatever happened (benchmarks/harness.py)."""
    with harness.heimdex_serve(
        library, log, ready_paths=("/",), env=SERVER_ENV, timeout_s=START_TIMEOUT_S
    ) as server:
        yield Server(server.url + "/", server.command, server.start_s, server.pid)


class Heartbeat:
    """Asks the server for ``/healthz`` every ``HEARTBEAT_S`` from a thread and keeps how long
    each answer took (any HTTP answer counts): a long one means the server could not answer
    anyone, e.g. its event loop was blocked."""

    def __init__(self, url: str) -> None:
        self.url = url + "healthz"
        self.waits: list[tuple[float, float]] = []  # (asked at, perf_counter; seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=60):
                    pass
            except urllib.error.HTTPError:
                pass
            except OSError:
                continue
            self.waits.append((start, time.perf_counter() - start))

    def take(self) -> list[tuple[float, float]]:
        """The waits since the last call."""
        waits, self.waits = self.waits, []
        return waits

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def heartbeat_line(waits: list[tuple[float, float]], t0: float | None = None) -> str:
    """p50 and worst answer time; with ``t0`` (perf_counter), when the worst was asked."""
    if not waits:
        return "no answers recorded"
    asked, worst = max(waits, key=lambda w: w[1])
    when = f" (asked {asked - t0:+.1f} s after upload finished)" if t0 is not None else ""
    return (
        f"server answered /healthz (asked every {HEARTBEAT_S * 1000:.0f} ms) in p50 "
        f"{1000 * statistics.median(w for _, w in waits):.0f} ms, worst {1000 * worst:.0f} ms"
        f"{when}"
    )


def tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no server log)"


# In the page ------------------------------------------------------------------------------------


def now(page: Page) -> float:
    return float(page.evaluate("performance.now()"))


def wait_in_page(page: Page, condition: str, arg: Any, timeout_s: float, polling: Any) -> Any:
    """Poll a JS condition in the page; return its first truthy value (which carries ``t``)."""
    handle = page.wait_for_function(condition, arg=arg, polling=polling, timeout=timeout_s * 1000)
    return handle.json_value()


def traffic(page: Page, t0: float, t1: float) -> Traffic:
    frames, tasks = page.evaluate("[__bench.frames, __bench.longtasks]")
    inside = [size for t, size in frames if t0 <= t < t1]
    durations = [d for t, d in tasks if t0 <= t < t1]
    return Traffic(
        seconds=(t1 - t0) / 1000.0,
        messages=len(inside),
        kilobytes=sum(inside) / 1000.0,
        longtasks=len(durations),
        longtask_ms=sum(durations),
        longtask_max_ms=max(durations, default=0.0),
    )


def tab(page: Page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()


def search(page: Page, query: str) -> Search:
    """Type ``query``, press Enter; Enter keydown -> all cards of the new results in the DOM.
    ``query`` must differ from the box's current value, or the app sees no change."""
    box = page.locator("input[placeholder^='e.g. the rocket']")
    box.fill(query)
    time.sleep(0.2)  # let the typing's value_input message reach the server first: not timed
    page.evaluate("__bench.markStale()")
    box.press("Enter")
    done = wait_in_page(page, "k => __bench.fresh(k)", RESULTS_PER_PAGE, SEARCH_TIMEOUT_S, "raf")
    enter, frames = page.evaluate("[__bench.enters.at(-1), __bench.frames]")
    t = float(done["t"])
    last = max((f[0] for f in frames if enter <= f[0] <= t), default=t)
    return Search(t - enter, last - enter, int(done["total"]), [str(c) for c in done["cards"]])


# Phases -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ingest:
    """One upload as the page showed it; instants in page milliseconds."""

    sample: Sample
    how: str  # what "upload finished" was
    chosen: float
    finished: float
    row: float  # the file's row first in the uploads table
    ready: float
    first_enter: float  # the first search for the video's sentence
    searchable: float  # ready + the search(es) that returned it (harness time not counted)
    searches: int
    rows: list[dict[str, Any]]
    cpu_s: float  # server CPU from upload finished to ready
    traffic: Traffic
    heartbeat: list[tuple[float, float]]  # /healthz answers from the upload to ready
    finished_py: float  # upload finished as seen from here (perf_counter), for the heartbeat


def upload(page: Page, server: Server, heartbeat: Heartbeat, sample: Sample) -> Ingest:
    """Upload ``sample`` in the Upload tab; wait until the page says ready, then until a search
    for a sentence spoken in it returns it."""
    name = sample.path.name
    tab(page, "Upload")
    # Under `heimdex serve` the upload box (.heimdex-dropzone) POSTs each file to the HTTP API;
    # under plain `panel serve` a FileDropper sends it in chunks over the websocket.
    over_http = page.locator(".heimdex-dropzone").count() > 0
    page.evaluate("a => __bench.watch(a)", [name, ROW_SAMPLE_MS])
    heartbeat.take()
    chosen = now(page)
    page.locator("input[type=file]").first.set_input_files(str(sample.path))
    row = "() => __bench.rows[0]"
    if over_http:
        # Upload finished = the browser has the server's answer to the POST of the file (XHR
        # loadend): the server answers 202 only once it has streamed the whole body to disk
        # under the library and handed the file to the ingest worker.
        post = "t0 => __bench.xhr.find(x => x.method === 'POST' && x.start >= t0 && x.end)"
        xhr = wait_in_page(page, post, chosen, SEARCH_TIMEOUT_S, "raf")
        cpu, finished_py = server.cpu_s(), time.perf_counter()
        if xhr["status"] != 202:
            raise RuntimeError(f"upload of {name}: HTTP {xhr['status']} {xhr['body']}")
        t_finished, how = float(xhr["end"]), f"the browser has the 202 to its POST {xhr['url']}"
        t_row = float(wait_in_page(page, row, None, SEARCH_TIMEOUT_S, "raf")["t"])
    else:
        # Upload finished = the first instant the uploads table has a row for the file: the
        # FileDropper's own "complete" only means the browser has queued the chunks; the row
        # appears once the server has joined them, written the file and queued it for ingestion.
        t_row = float(wait_in_page(page, row, None, SEARCH_TIMEOUT_S, "raf")["t"])
        cpu, finished_py = server.cpu_s(), time.perf_counter()
        t_finished, how = t_row, "its row is in the uploads table (FileDropper)"
    final = (
        "states => { const r = __bench.rows.at(-1); return r && states.includes(r.state) && r; }"
    )
    ready = wait_in_page(page, final, list(FINAL_STATES), INGEST_TIMEOUT_S, "raf")
    t_ready, cpu, beats = float(ready["t"]), server.cpu_s() - cpu, heartbeat.take()
    rows = page.evaluate("__bench.unwatch(), __bench.rows")
    if ready["state"] != "ready":
        raise RuntimeError(f"{name}: {ready['state']} {ready['message']}")
    while_ingesting = traffic(page, t_finished, t_ready)

    # Searchable: a sentence spoken in the video, searched in the Search tab, shows a card of
    # it. Should a try miss it (index not yet visible), search again with a variant (a new value).
    tab(page, "Search")
    sentence = sample.sentences[len(sample.sentences) // 2]
    variants = [sentence, sentence.rstrip(".")]
    searches, first_enter = 0, 0.0
    while True:
        found = search(page, variants[searches % 2])
        searches += 1
        first_enter = first_enter or float(page.evaluate("__bench.enters.at(-1)"))
        hit = any(name in card for card in found.cards)
        if hit or now(page) - t_finished > INGEST_TIMEOUT_S * 1000:
            break
    if not hit:
        raise RuntimeError(f"a search for {sentence!r} never returned {name}")
    done = float(page.evaluate("__bench.enters.at(-1)")) + found.ms
    return Ingest(
        sample, how, chosen, t_finished, t_row, t_ready, first_enter,
        t_ready + (done - first_enter), searches, rows, cpu, while_ingesting, beats, finished_py,
    )  # fmt: skip


def print_ingest(ingest: Ingest, label: str) -> None:
    d, name = ingest.sample.duration_s, ingest.sample.path.name

    def since(t: float) -> float:
        return (t - ingest.finished) / 1000

    size = ingest.sample.path.stat().st_size / 1e6
    print(f"\n{label}: {name}, {d:.1f} s of video, {size:.1f} MB")
    print(f"  upload finished = {ingest.how}")
    print(f"  file chosen -> upload finished                 {-since(ingest.chosen):6.2f} s")
    print(
        f"  upload finished -> ready (table says ready)    {since(ingest.ready):6.2f} s"
        f"   = {d / since(ingest.ready):.1f}x realtime"
    )
    print(
        f"  upload finished -> searchable (card found)     {since(ingest.searchable):6.2f} s"
        f"   = {d / since(ingest.searchable):.1f}x realtime"
    )
    harness = (ingest.first_enter - ingest.ready) / 1000
    print(
        f"    = ready + {ingest.searchable - ingest.ready:.0f} ms of search ({ingest.searches} "
        f"search(es)); the harness's tab switch and typing ({harness:.2f} s) not counted"
    )
    print(
        f"  uploads row: first shown {since(ingest.row):.1f} s after upload finished; "
        f"{row_story(ingest.rows, ingest.finished)}"
    )
    t = ingest.traffic
    print(
        f"  while ingesting: server CPU {ingest.cpu_s:.1f} s ({100 * ingest.cpu_s / t.seconds:.0f}%"
        f" of a core); {t.line()}"
    )
    print(f"  from upload to ready: {heartbeat_line(ingest.heartbeat, ingest.finished_py)}")


def row_story(rows: list[dict[str, Any]], t0: float) -> str:
    """How often the uploads row changed, the longest wait for a change, and the second at
    which each state/stage first showed (counted from ``t0``)."""
    times = [float(r["t"]) for r in rows]
    gaps = [(b - a) / 1000 for a, b in zip([t0, *times], times, strict=False)]
    firsts: dict[str, float] = {}
    for r in rows:
        label = r["state"] if r["state"] in FINAL_STATES else f"{r['state']}/{r['stage'] or '-'}"
        firsts.setdefault(label, (float(r["t"]) - t0) / 1000)
    shown = ", ".join(f"{label} {t:.1f}" for label, t in firsts.items())
    return f"{len(rows)} changes, longest wait {max(gaps):.1f} s; first shown at (s): {shown}"


def quiet(page: Page, server: Server, heartbeat: Heartbeat) -> None:
    """Nothing to do: does the page still get messages, redraw, cost the server CPU?"""
    time.sleep(1.0)  # let the last search's redraw settle
    cpu, start, _ = server.cpu_s(), now(page), heartbeat.take()
    time.sleep(IDLE_S)
    idle, cpu = traffic(page, start, now(page)), server.cpu_s() - cpu
    print(f"\nidle ({idle.seconds:.1f} s, Search tab, after a search): server CPU {cpu:.2f} s")
    print(f"  {idle.line()}")
    print(f"  {heartbeat_line(heartbeat.take())}")


def round_trips(
    page: Page, server: Server, heartbeat: Heartbeat, phrases: list[tuple[str, str]], n: int
) -> None:
    """One warm-up search, then ``n`` timed ones cycling through the phrases (never the same
    query twice in a row, so every Enter is a new value for the app)."""
    warm = search(page, phrases[0][1])
    results: list[Search] = []
    top_right = 0
    start, cpu0, _ = now(page), server.cpu_s(), heartbeat.take()
    for i in range(1, n + 1):
        key, query = phrases[i % len(phrases)]
        result = search(page, query)
        results.append(result)
        top_right += bool(result.cards and re.search(rf"\b{key}", result.cards[0].lower()))
    during, cpu = traffic(page, start, now(page)), server.cpu_s() - cpu0
    total = [r.ms for r in results]
    server_part = [r.server_ms for r in results]
    browser_part = [r.ms - r.server_ms for r in results]
    print(
        f"\nsearch round trip in the Search tab (Enter keydown -> all result cards in the DOM), "
        f"hybrid, loopback; {n} queries cycling through {len(phrases)} phrases; {load_note()}:"
    )
    print(f"  warm-up (first phrase, not counted)   {warm.ms:6.0f} ms")
    print(
        f"  round trip                     p50 {pct(total, 50):6.0f} ms   "
        f"p95 {pct(total, 95):6.0f} ms   max {max(total):6.0f} ms"
    )
    print(
        f"    Enter -> last server message p50 {pct(server_part, 50):6.0f} ms   "
        f"p95 {pct(server_part, 95):6.0f} ms   (server search + render + transport)"
    )
    print(
        f"    then browser builds the cards p50 {pct(browser_part, 50):5.0f} ms   "
        f"p95 {pct(browser_part, 95):6.0f} ms"
    )
    print(
        f"  per search: {during.messages / n:.1f} messages, {during.kilobytes / n:.0f} KB "
        f"server->page, server CPU {1000 * cpu / n:.0f} ms; browser long tasks in all "
        f"{during.longtasks} (total {during.longtask_ms:.0f} ms, "
        f"max {during.longtask_max_ms:.0f} ms)"
    )
    print(f"  top card holds the paraphrased sentence's key word: {top_right}/{n}")
    print(f"  while searching: {heartbeat_line(heartbeat.take())}")


def run(server: Server, samples: list[Sample], phrases: list[tuple[str, str]], n: int) -> None:
    import bokeh
    import panel

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        heartbeat = Heartbeat(server.url)
        try:
            context = browser.new_context(viewport={"width": 1300, "height": 900})
            context.add_init_script(PAGE_PROBE)
            page = context.new_page()
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(f"failed: {r.url}"))
            page.on(
                "response",
                lambda r: failed.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
            )
            page.on("pageerror", lambda e: failed.append(f"page error: {e}"))
            start = time.perf_counter()
            page.goto(server.url, wait_until="networkidle")
            page.locator(".bk-tab", has_text="Upload").first.wait_for()
            print(
                f"browser: Chromium {browser.version} headless, Panel {panel.__version__}, "
                f"Bokeh {bokeh.__version__}; page loaded in {time.perf_counter() - start:.1f} s"
            )
            labels = ["first upload (cold server: models load during it)", "second upload (warm)"]
            for label, sample in zip(labels, samples, strict=False):
                print_ingest(upload(page, server, heartbeat, sample), label)
            quiet(page, server, heartbeat)
            round_trips(page, server, heartbeat, phrases, n)
            print(f"page: {len(failed)} failed request(s) or page error(s)")
            for line in failed[:5]:
                print(f"  {line[:160]}")
        finally:
            heartbeat.stop()
            browser.close()


# A large library ---------------------------------------------------------------------------------


def first_searches(page: Page, queries: list[str], n: int = 10) -> list[Search]:
    """The first ``n`` searches after the server started, each a new query."""
    return [search(page, query) for query in queries[:n]]


def with_cards(library: Path, queries: list[str]) -> list[str]:
    """The queries that show cards: the app hides low-confidence results, and a query with
    only those shows "No good match" (no cards to wait for). Says how many were dropped."""
    from heimdex_lab import Library

    lib = Library.open(library, user="local")
    try:
        kept = [q for q in queries if lib.search(q, k=1, min_confidence="medium").total]
    finally:
        lib.close()
    print(f"queries: {len(kept)} of {len(queries)} generated ones have high or medium results "
          f"(the others show no cards in the app); only those are timed")  # fmt: skip
    return kept


def run_scale(scenes: int, n: int, work: Path, log: Path, built: Path | None = None) -> None:
    """``--scenes N``: the search round trip on a library of N synthetic scenes, built through
    the real storage layer as benchmarks/search.py builds it (its scenes have no keyframes, so
    cards have no pictures; picture loading is not part of the round trip anyway). Prints the
    first search after `heimdex serve` against the tenth, then the round trip over ``n``
    queries."""
    import numpy as np
    import search as scale  # benchmarks/search.py

    rng = np.random.default_rng(scale.SEED)
    transcripts = scale.Transcripts(scale.vocabulary(), rng)
    pool, pool_vectors, _ = scale.embed_pool(rng, transcripts)
    queries = scale.make_queries(np.random.default_rng(scale.SEED + 1), transcripts)
    queries = list(dict.fromkeys(q for q in queries if q.strip()))
    library = built or work / "library"
    if built is None:
        start = time.perf_counter()
        scale.build_library(library, scenes, np.random.default_rng([scale.SEED, scenes]),
                            transcripts, pool, pool_vectors, vision=False)  # fmt: skip
        print(f"library: {scenes:,} synthetic scenes (benchmarks/search.py's generator), built "
              f"in {time.perf_counter() - start:.0f} s")  # fmt: skip
    else:
        print(f"library: {built} (kept by an earlier --scenes {scenes} --keep)")
    queries = with_cards(library, queries)
    with heimdex_serve(library, log) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1300, "height": 900})
            context.add_init_script(PAGE_PROBE)
            page = context.new_page()
            page.goto(server.url, wait_until="networkidle")
            page.locator("input[placeholder^='e.g. the rocket']").wait_for()
            print(f"server: page answered {server.start_s:.1f} s after start; {load_note()}")
            first = first_searches(page, queries)
            print("first searches after `heimdex serve` (Enter -> all cards in the DOM):")
            later = statistics.median(s.ms for s in first[1:])
            print(f"  1st {first[0].ms:6.0f} ms   10th {first[-1].ms:6.0f} ms   "
                  f"2nd-10th median {later:6.0f} ms")  # fmt: skip
            timed: list[Search] = []
            rest = queries[len(first) :] or queries
            start, cpu0 = now(page), server.cpu_s()
            for i in range(n):
                query = rest[i % len(rest)]
                if timed and query == rest[(i - 1) % len(rest)]:
                    continue
                timed.append(search(page, query))
            during, cpu = traffic(page, start, now(page)), server.cpu_s() - cpu0
            total = [r.ms for r in timed]
            server_part = [r.server_ms for r in timed]
            print(f"search round trip on {scenes:,} scenes, {len(timed)} queries, hybrid; "
                  f"{load_note()}:")  # fmt: skip
            print(f"  Enter -> all cards     p50 {pct(total, 50):6.0f} ms   "
                  f"p95 {pct(total, 95):6.0f} ms   max {max(total):6.0f} ms")  # fmt: skip
            print(f"  Enter -> last message  p50 {pct(server_part, 50):6.0f} ms   "
                  f"p95 {pct(server_part, 95):6.0f} ms")  # fmt: skip
            browser_part = [a - b for a, b in zip(total, server_part, strict=True)]
            print(f"  then the browser       p50 {pct(browser_part, 50):6.0f} ms   "
                  f"p95 {pct(browser_part, 95):6.0f} ms")  # fmt: skip
            # CPU time is what a busy machine inflates least: it compares runs at other loads.
            print(f"  per search: server CPU {1000 * cpu / len(timed):.0f} ms, "
                  f"{during.messages / len(timed):.1f} messages, "
                  f"{during.kilobytes / len(timed):.1f} KB server->page; browser long tasks "
                  f"{during.longtasks} (total {during.longtask_ms:.0f} ms)")  # fmt: skip
        finally:
            browser.close()


# Main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "videos", nargs="*", type=Path, help="reuse these make_samples.py videos (at most 2)"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="length of made videos")
    parser.add_argument("--queries", type=int, default=50, help="timed searches (after 1 warm-up)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--scenes", type=int, default=0,
        help="instead of uploads: search round trips on a library of this many synthetic scenes",
    )  # fmt: skip
    parser.add_argument(
        "--library", type=Path,
        help="with --scenes: the library an earlier --scenes run kept (--keep), not a new one",
    )  # fmt: skip
    args = parser.parse_args()
    if args.queries < 2:
        parser.error("--queries must be at least 2")
    if len(args.videos) > 2:
        parser.error("at most 2 videos: a cold and a warm upload")
    # A SIGTERM (e.g. from a CI timeout) unwinds like an exception: server and files are cleaned.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print(
        f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.platform()}, "
        f"Python {platform.python_version()}; {load_note()}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")

    work = Path(tempfile.mkdtemp(prefix="heimdex-bench-app-"))
    log = work / "serve.log"
    if args.scenes:
        try:
            run_scale(args.scenes, args.queries, work, log, args.library)
        finally:
            if args.keep:
                print(f"kept: {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
        return
    try:
        videos = [v.resolve() for v in args.videos]
        start = time.perf_counter()
        for n in range(len(videos) + 1, 3):
            videos.append(make_sample(args.seconds, work, n))
        made = len(videos) - len(args.videos)
        samples = [read_sample(v) for v in videos]
        if len({s.path.read_bytes() for s in samples}) < len(samples):
            raise SystemExit("the two videos are the same file: the second would be a duplicate")
        phrases = phrases_for(samples[0])
        for sample in samples:
            print(
                f"sample: {sample.path}, {sample.duration_s:.1f} s, "
                f"{len(sample.sentences)} sentences"
            )
        if made:
            print(f"  ({made} made by data/make_samples.py in {time.perf_counter() - start:.1f} s)")
        library = work / "library"
        with heimdex_serve(library, log) as server:
            print(
                f"server: HEIMDEX_LIBRARY={library} {' '.join(server.command)}; page answered "
                f"after {server.start_s:.1f} s"
            )
            run(server, samples, phrases, args.queries)
        problems = [s for s in tail(log, 10**7).splitlines() if re.search(r"ERROR|Traceback", s)]
        print(f"server log: {len(problems)} ERROR/Traceback line(s)")
        for line in problems[:5]:
            print(f"  {line[:160]}")
    except BaseException:
        print(f"\nserver log, last lines:\n{tail(log)}", file=sys.stderr)
        raise
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
