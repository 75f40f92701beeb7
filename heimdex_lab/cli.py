"""The ``heimdex`` command: the contract scripts rely on (docs/architecture.md §6).

Machine output is one JSON document on stdout with ``--json``; progress and logs go to stderr.
Exit 0 = all good, 1 = some inputs rejected or failed, 2 = usage error.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from heimdex_lab.library import Library


class _State:
    library: Path | None = None
    user: str | None = None
    # Set by a command that has closed the library and left nothing to finish: the process may
    # then end without interpreter teardown.
    done: bool = False


_state = _State()


class _Heimdex(typer.Typer):
    """The app. Run as the program (the ``heimdex`` script; tests call the click command and
    never come here), a command that set ``_state.done`` ends the process right after its
    output is flushed: tearing down onnxruntime's threads, SQLAlchemy and numpy cost a search
    ~0.3 s of CPU after its answer was printed."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as exc:
            if _state.done and isinstance(exc.code, int | None):
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                except OSError:  # a closed pipe: let Python report it as it always did
                    raise exc from None
                os._exit(exc.code or 0)
            raise


app = _Heimdex(
    name="heimdex",
    help="Heimdex Lab: ingest videos, then search them by what is said and shown.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's renderer took 0.2 s of a 0.5 s `heimdex --help`.
    rich_markup_mode=None,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@app.callback()
def main(
    library: Annotated[
        Path | None,
        typer.Option(help="Library directory (else $HEIMDEX_LIBRARY, else data/library)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Acting user (else $HEIMDEX_USER, else local).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.WARNING,
        format="heimdex: %(levelname)s: %(message)s",
    )
    _state.library = library
    _state.user = user
    _state.done = False


def _die(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"heimdex: error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _library() -> Iterator[Library]:
    """Open the library, turning Heimdex errors into a one-line message and an exit code."""
    from heimdex_lab.errors import HeimdexError, NotFound, UsageError
    from heimdex_lab.library import Library

    try:
        with Library.open(_state.library, _state.user) as lib:
            yield lib
    except (NotFound, UsageError) as exc:
        _die(str(exc), 2)
    except HeimdexError as exc:  # a model missing, a bad photo, …: not a usage error
        _die(str(exc), 1)


def _emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        human()


@app.command()
def ingest(
    files: Annotated[list[Path] | None, typer.Argument(help="Video files to ingest.")] = None,
    as_json: JsonFlag = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Also finish every unfinished video.")
    ] = False,
    executor: Annotated[
        str,
        typer.Option(help="Where stages run: local (this process) or ray (one task per file)."),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            "--address",
            help="Ray cluster for --executor ray: auto, ray://HOST:10001 (else $RAY_ADDRESS, "
            "else a local Ray instance).",
        ),
    ] = None,
) -> None:
    """Validate, transcribe, split into scenes and embed video files."""
    if not files and not resume:
        _die("give at least one FILE, or --resume to finish unfinished videos")
    with _library() as lib:
        results = lib.ingest(files or [], executor=executor, address=ray_address)
        if resume:
            seen = {r.video_id for r in results}
            results += [r for r in lib.resume() if r.video_id not in seen]
    rows = [asdict(r) for r in results]

    def human() -> None:
        for r in results:
            if r.state == "ready":
                note = " (already in the library)" if r.duplicate else ""
                typer.echo(f"ready     {r.video_id}  {r.scenes:3d} scenes  {r.file}{note}")
            else:
                typer.echo(f"{r.state:9s} {r.error}")

    _emit(rows, as_json, human)
    # Everything is committed and the library closed: skip the teardown of the models, their
    # threads and a face or scene search still running ahead. Not under Ray, whose local
    # instance is shut down at exit.
    _state.done = executor == "local"
    if any(r.state != "ready" for r in results):
        raise typer.Exit(1)


@app.command()
def videos(as_json: JsonFlag = False) -> None:
    """List this user's videos with state and progress."""
    with _library() as lib:
        found = lib.videos()
    _emit(
        found.to_dicts(),
        as_json,
        lambda: typer.echo(_table(found.frame.drop("error", "language_probability"))),
    )


@app.command()
def scenes(video_id: str, as_json: JsonFlag = False) -> None:
    """List one video's scenes in time order."""
    with _library() as lib:
        found = lib.scenes(video_id)
    _emit(
        found.to_dicts(),
        as_json,
        lambda: typer.echo(_table(found.frame.select("scene_id", "start", "end", "text"))),
    )


@app.command()
def scene(scene_id: str, as_json: JsonFlag = False) -> None:
    """One scene: text, keyframes, neighbouring scenes and the video's full transcript."""
    with _library() as lib:
        detail = lib.scene(scene_id)

    def human() -> None:
        typer.echo(f"{detail.filename}  {detail.start:.2f}-{detail.end:.2f} s")
        typer.echo(detail.text or "(no speech)")
        typer.echo(f"neighbours: {', '.join(detail.neighbours)}")

    _emit(detail.to_dict(), as_json, human)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in words.")] = "",
    k: Annotated[int, typer.Option("-k", help="Results per page.")] = 10,
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    mode: Annotated[str, typer.Option(help="hybrid, text, keyword, visual or screen.")] = "hybrid",
    person: Annotated[
        list[str] | None, typer.Option("--person", help="Only scenes with this person.")
    ] = None,
    video: Annotated[list[str] | None, typer.Option("--video", help="Only this video.")] = None,
    language: Annotated[
        str | None, typer.Option(help="Only videos spoken in this language (ISO 639-1: es, de…).")
    ] = None,
    min_confidence: Annotated[
        str, typer.Option(help="Only results this sure or surer: low (all), medium or high.")
    ] = "low",
    group: Annotated[
        str, typer.Option(help="One result per scene, or per video (its best scenes under it).")
    ] = "scene",
    as_json: JsonFlag = False,
) -> None:
    """Search scenes by what is said (meaning and exact words) and shown."""
    with _library() as lib:
        result = lib.search(
            query,
            k=k,
            page=page,
            people=person or (),
            videos=video or (),
            mode=mode,
            language=language,
            min_confidence=min_confidence,
            group=group,
        )

    def line(hit: Any) -> str:
        return (
            f"{hit.score:+.3f} {hit.confidence:6s}  {hit.filename}  "
            f"{hit.start:.1f}-{hit.end:.1f} s  {hit.scene_id}"
            + (f"  [{', '.join(hit.people)}]" if hit.people else "")
            + f"\n      {hit.snippet or '(no speech)'}"
        )

    def human() -> None:
        first = (result.page - 1) * result.k + 1
        if result.groups is not None:
            typer.echo(f"{result.total} video(s); page {result.page}")
            for n, found in enumerate(result.groups, start=first):
                typer.echo(f"{n:3d}. {found.confidence:6s}  {found.filename}  "
                           f"{found.matched} matching scene(s)  {found.video_id}")  # fmt: skip
                for hit in found.hits:
                    typer.echo(f"     {line(hit)}")
            return
        typer.echo(f"{result.total} scene(s); page {result.page}")
        for n, hit in enumerate(result.hits, start=first):
            typer.echo(f"{n:3d}. {line(hit)}")

    _emit(result.to_dict(), as_json, human)
    _state.done = True


@app.command(name="eval")
def evaluate(
    queries: Annotated[Path, typer.Argument(help="QUERIES.jsonl: query + relevant time ranges.")],
    k: Annotated[int, typer.Option("-k", help="Ranking depth.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """Recall@1/5/10, MRR and nDCG@10 for each signal alone and fused."""
    with _library() as lib:
        report = lib.evaluate(queries, k)

    def human() -> None:
        typer.echo(f"{report.queries} queries, depth {report.k}")
        for signal, metrics in report.metrics.items():
            if metrics is None:
                typer.echo(f"  {signal:8s} n/a (model unavailable)")
                continue
            cells = "  ".join(f"{name} {value:.3f}" for name, value in metrics.items())
            typer.echo(f"  {signal:8s} {cells}")
        for kind, by_signal in report.by_kind.items():
            typer.echo(f"{kind}:")
            for signal, metrics in by_signal.items():
                if metrics is not None:
                    cells = "  ".join(f"{name} {value:.3f}" for name, value in metrics.items())
                    typer.echo(f"  {signal:8s} {cells}")
        if report.unanswerable:
            typer.echo(
                f"unanswerable: {report.unanswerable['queries']:.0f} queries, mean top hybrid "
                f"score {report.unanswerable['mean_top_score']:.3f}; a high or medium result: "
                f"top {report.unanswerable['sure_top']:.0%}, any of {report.k} "
                f"{report.unanswerable['sure_any']:.0%}"
            )
        if report.confidence:
            typer.echo(
                f"correct top results: {report.confidence['correct_top']:.0f}, high or medium "
                f"{report.confidence['sure']:.0%}, high {report.confidence['high']:.0%}"
            )

    _emit(report.to_dict(), as_json, human)


models_app = typer.Typer(help="Each configured model: where it was found, or how to get it.")
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Each configured model: where it was found, or why not and how to fix it."""
    if ctx.invoked_subcommand is not None:
        return
    with _library() as lib:
        statuses = lib.models()

    def human() -> None:
        for s in statuses:
            where = s.location if s.available else f"UNAVAILABLE: {s.reason}"
            typer.echo(f"{s.job:7s} {s.name}: {where}")

    _emit([asdict(s) for s in statuses], as_json, human)


@models_app.command("fetch")
def models_fetch(
    name: Annotated[
        str,
        typer.Argument(
            help="A model name, e.g. small, all-mpnet-base-v2, "
            "ViT-B-32 or ViT-B-32:laion2b_s34b_b79k."
        ),
    ],
    job: Annotated[str, typer.Option(help="speech, text or image.")] = "auto",
) -> None:
    """Download a model from the model hub into the local cache (needs a machine online)."""
    from heimdex_lab.embed.registry import fetch_model
    from heimdex_lab.errors import HeimdexError

    try:
        where = fetch_model(name, job)
    except HeimdexError as exc:
        _die(str(exc), 1)
    typer.echo(f"{name}: {where}")


@app.command(name="check")
def check_library(
    as_json: JsonFlag = False,
    repair: Annotated[bool, typer.Option("--repair", help="Fix what can be fixed.")] = False,
) -> None:
    """Catalog, vectors, media and keyframes agree? Exit 0 when consistent, 1 when not."""
    from heimdex_lab.check import check

    with _library() as lib:
        report = check(lib, repair)

    def human() -> None:
        for p in report["problems"]:
            fixed = " (repaired)" if p["repaired"] else ""
            typer.echo(f"{p['kind']}: {p['detail']} {p['path'] or ''}{fixed}")
        typer.echo("consistent" if report["ok"] else "NOT consistent")

    _emit(report, as_json, human)
    if not report["ok"]:
        raise typer.Exit(1)


@app.command(name="config")
def show_config(as_json: JsonFlag = False) -> None:
    """Every setting: its environment variable, value and what it does."""
    from heimdex_lab.config import Settings, describe

    values: dict[str, Any] = {}
    if _state.library is not None:
        values["library"] = _state.library
    if _state.user is not None:
        values["user"] = _state.user
    rows = describe(Settings(**values))

    def human() -> None:
        for row in rows:
            typer.echo(f"{row['env']}={row['value']}")
            if row["description"]:
                typer.echo(f"    {row['description']}")

    _emit(rows, as_json, human)


@app.command()
def reindex(
    stage: Annotated[
        str, typer.Option(help="What to recompute: image, text, faces or ocr (screen text).")
    ] = "image",
    video: Annotated[str | None, typer.Option("--video", help="Only this video.")] = None,
) -> None:
    """Recompute a stage of ready videos (e.g. image vectors once a CLIP model is available)."""
    with _library() as lib:
        done = lib.reindex(stage, video)
    typer.echo(f"reindexed {stage} of {done} video(s)")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5006,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Single analyst on loopback: no sign-in.")
    ] = False,
) -> None:
    """Serve the web app (upload, library, search, people) and the HTTP API (/api/v1, /docs)."""
    from heimdex_lab.config import Settings
    from heimdex_lab.errors import MissingExtra
    from heimdex_lab.extras import needs

    if no_auth and address not in ("127.0.0.1", "localhost", "::1"):
        _die("--no-auth serves without sign-in, so only on a loopback address (127.0.0.1)")
    try:
        with needs("app", "heimdex serve"):
            from heimdex_lab.api.server import serve as run_server
    except MissingExtra as exc:
        _die(str(exc))
    values: dict[str, Any] = {}
    if _state.library is not None:
        values["library"] = _state.library
    if _state.user is not None:
        values["user"] = _state.user
    settings = Settings(**values)
    settings.library.mkdir(parents=True, exist_ok=True)
    if not no_auth:
        from heimdex_lab.store.catalog import Catalog

        catalog = Catalog(settings.catalog_url)
        if not catalog.accounts.has_users():
            _die("no accounts yet: add one with `heimdex users add NAME`, or run with --no-auth")
        catalog.close()
    typer.echo(f"Heimdex Lab at http://{address}:{port}/  (Ctrl-C stops it)", err=True)
    typer.echo(f"HTTP API at http://{address}:{port}/api/v1, documented at /docs", err=True)
    run_server(settings, port, address, no_auth)


users_app = typer.Typer(help="Local accounts for the web app.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(name: str) -> None:
    """Create NAME (or set a new password); the password comes from a prompt or stdin."""
    from heimdex_lab.ui.accounts import add_user

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    with _library() as lib:
        add_user(lib.catalog, name, password)
    typer.echo(f"user {name} can sign in")


@users_app.command("token")
def users_token(
    name: str,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Revoke every token of NAME instead.")
    ] = False,
) -> None:
    """Print a new API bearer token for NAME (stored hashed: copy it now)."""
    from heimdex_lab.api.auth import new_token
    from heimdex_lab.ui.accounts import user_name

    with _library() as lib:
        name = user_name(name)
        if revoke:
            revoked = lib.catalog.accounts.revoke_tokens(name)
            typer.echo(f"revoked {revoked} token(s) of {name}", err=True)
            return
        typer.echo(new_token(lib.catalog, name))


people_app = typer.Typer(
    help="Enrol people from photos; name groups of unknown faces.", no_args_is_help=True
)
app.add_typer(people_app, name="people")


@people_app.command("add")
def people_add(
    name: str,
    photos: Annotated[list[Path], typer.Argument(help="Photos with exactly one face each.")],
    as_json: JsonFlag = False,
) -> None:
    """Enrol NAME from photos (or add photos to NAME); stored faces are matched again."""
    with _library() as lib:
        result = lib.add_person(name, photos)
    _emit(
        result.to_dict(),
        as_json,
        lambda: typer.echo(
            f"{result.name}: {result.photos} photo(s), found in {result.faces_found} face(s)"
        ),
    )


@people_app.command("list")
def people_list(as_json: JsonFlag = False) -> None:
    """Everyone enrolled, with photo and scene counts."""
    with _library() as lib:
        people = lib.people_list()
    _emit(people.to_dicts(), as_json, lambda: typer.echo(_table(people.frame)))


@people_app.command("rename")
def people_rename(old: str, new: str) -> None:
    """Give a person another name."""
    with _library() as lib:
        lib.people.rename(old, new)
    typer.echo(f"renamed {old} to {new}")


@people_app.command("remove")
def people_remove(name: str) -> None:
    """Forget a person (their photos go; faces in videos become unnamed)."""
    with _library() as lib:
        lib.people.remove(name)
    typer.echo(f"removed {name}")


@people_app.command("merge")
def people_merge(source: str, target: str) -> None:
    """Fold SOURCE into TARGET (two names for one person)."""
    with _library() as lib:
        result = lib.people.merge(source, target)
    typer.echo(f"merged {source} into {target}: {result.faces_found} face(s)")


@people_app.command("groups")
def people_groups(as_json: JsonFlag = False) -> None:
    """Unnamed faces grouped by likeness; name a group with `heimdex people name`."""
    with _library() as lib:
        groups = lib.people.groups()
    rows = [
        {"group_id": g.group_id, "faces": len(g.face_ids), "scenes": list(g.scene_ids),
         "crop": g.crop}
        for g in groups
    ]  # fmt: skip

    def human() -> None:
        for g in groups:
            typer.echo(f"{g.group_id}  {len(g.face_ids)} face(s) in {len(g.scene_ids)} scene(s)")

    _emit(rows, as_json, human)


@people_app.command("name")
def people_name(group_id: str, name: str, as_json: JsonFlag = False) -> None:
    """Turn a group of unnamed faces into a person."""
    with _library() as lib:
        result = lib.people.name_group(group_id, name)
    _emit(
        result.to_dict(),
        as_json,
        lambda: typer.echo(f"{result.name}: {result.faces_found} face(s)"),
    )


def _table(frame: Any) -> str:
    import polars as pl

    with pl.Config(tbl_rows=-1, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
        return str(frame)


if __name__ == "__main__":
    app()
