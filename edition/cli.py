"""The `edition` command: parses options, calls the stages, maps errors to exit codes.

Exit codes: 0 clean, 1 problems found in the data (or warnings under --strict),
2 usage error or a condition that stops the run.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from . import config as config_mod
from .diagnostics import FORMATS, EditionError, Reporter


class _Group(click.Group):
    """Turns EditionError (its exit code) and what the system refuses (a full disk, a folder not
    writable: exit code 2) into a one-line message, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EditionError as exc:
            click.echo(f"edition: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"edition: error: {where}{exc.strerror or exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edition")
@click.option("--project", "-C", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The project folder (default: found from the current folder upwards).")
@click.pass_context
def main(ctx: click.Context, project: Path | None) -> None:
    """tei-edition: validate, build and export a scholarly edition in TEI-XML."""
    ctx.ensure_object(dict)
    ctx.obj["project"] = project


def _config(ctx: click.Context) -> config_mod.Config:
    return config_mod.load(ctx.obj.get("project"))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "-f", "fmt", type=click.Choice(sorted(FORMATS)), default="text", show_default=True,
              help="Output format: text for people, json for tools, junit for CI dashboards, github for annotations.")
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of standard output.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes to use (default: one per core for large corpora).")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], fmt: str, strict: bool, output: Path | None,
             jobs: int | None) -> None:
    """Check documents against the project schema and the corpus rules.

    PATHS are files or folders (default: the whole of the project's tei/ folder). Every
    problem is reported as path:line:column: level [rule] message. Exit status: 0 clean,
    1 problems found (warnings too with --strict), 2 usage error.
    """
    from .validate import Validator

    cfg = _config(ctx)
    reporter = Reporter(root=Path.cwd())
    if not paths and not cfg.tei.is_dir():
        raise click.UsageError(f"no documents: {cfg.tei} is not a folder; name files or folders to check")
    result = Validator(cfg).run(list(paths) or None, reporter, jobs=jobs)
    diagnostics = reporter.sorted()
    files = [reporter.display_path(p) for p in result.files]
    text = FORMATS[fmt](diagnostics, files)
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"cannot write the report to {output}: {exc.strerror}") from None
    else:
        click.echo(text, nl=False)
    ctx.exit(1 if reporter.failed(strict) else 0)


@main.command()
@click.option("--check", is_flag=True, help="Only check that the generated files are up to date (exit 1 if not).")
@click.pass_context
def schema(ctx: click.Context, check: bool) -> None:
    """Compile the ODD into RELAX NG and Schematron (written beside the ODD)."""
    from .odd import SchemaFiles

    cfg = _config(ctx)
    files = SchemaFiles(cfg.odd)
    if check:
        stale = files.stale()
        for p in stale:
            click.echo(f"{p}: out of date; run `edition schema`", err=True)
        ctx.exit(1 if stale else 0)
    for p in files.write():
        click.echo(f"wrote {p}")
    click.echo(f"schema up to date: {files.rng.name}, {files.sch.name}")


def _run_build(ctx: click.Context, formats: list[str] | None, *, skip_invalid: bool = False, full: bool = False,
               jobs: int | None = None, timings: bool = False, export_names: list[str] | None = None):
    import os

    from .build import build as run_build

    cfg = _config(ctx)
    if not cfg.tei.is_dir():
        raise click.UsageError(f"no documents: {cfg.tei} is not a folder")
    reporter = Reporter(root=Path.cwd())
    interactive = sys.stderr.isatty() and not os.environ.get("CI")

    def progress(step: str) -> None:
        if interactive:
            click.echo(f"\r\033[K{step}…", err=True, nl=False)

    try:
        result = run_build(cfg, reporter, formats, skip_invalid=skip_invalid, full=full, jobs=jobs,
                           progress=progress, export_names=export_names)
    finally:
        if interactive:
            click.echo("\r\033[K", err=True, nl=False)
        for d in reporter.sorted():
            click.echo(d.format(), err=True)
    for path in result.left_out:
        click.echo(f"left out (invalid): {reporter.display_path(path)}", err=True)
    for name, count in result.outputs.items():
        click.echo(f"{name}: {count} files in {cfg.build / name}")
    if timings:
        for phase, value in result.timings.items():
            click.echo(f"memory: {phase} {value:.0f}" if "MB" in phase else f"timing: {phase} {value:.2f} s")
        click.echo(f"letters rendered again: {len(result.changed)}; search shards indexed again: {len(result.reindexed)}; "
                   f"lists and registers {'reused' if result.lists_reused else 'rendered again'}")
    return result


@main.command()
@click.option("--format", "-f", "formats", multiple=True, type=click.Choice(["html", "text", "export"]),
              help="Put only these outputs in place (default: all: html, text, export); the exports need the others made, not replaced.")
@click.option("--skip-invalid", is_flag=True,
              help="Leave documents with errors out of the build (they are listed) instead of stopping.")
@click.option("--full", is_flag=True, help="Ignore the cache of the previous build and make everything again.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes to use (default: one per core for large editions).")
@click.option("--timings", is_flag=True, help="Print how long each phase took.")
@click.pass_context
def build(ctx: click.Context, formats: tuple[str, ...], skip_invalid: bool, full: bool, jobs: int | None,
          timings: bool) -> None:
    """Validate, then write the HTML edition (build/html), the plain-text edition (build/text) and the library exports (build/export).

    Only what changed since the previous build is made again (letters, their neighbours, the
    lists and registers that name them, their search shard); `--full` ignores that cache.
    New and changed files are written to a staging folder and put in place only when everything
    succeeded: a failed build leaves the previous output intact. Exit status 1 when the edition has errors.
    A progress line is shown on a terminal (not in CI or when output is redirected).
    """
    _run_build(ctx, list(formats) or None, skip_invalid=skip_invalid, full=full, jobs=jobs, timings=timings)


@main.command("export")
@click.argument("names", nargs=-1, metavar="[FORMAT]...")
@click.pass_context
def export_(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Validate, then write library exports (default: all) to build/export/ and refresh its manifest.

    FORMAT is one of: tei, cmif, oai-pmh, marc, mods, epub, data, bag.
    """
    from .export import EXPORTERS

    unknown = [n for n in names if n not in EXPORTERS]
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)} (choose from {', '.join(EXPORTERS)})", param_hint="FORMAT")
    _run_build(ctx, ["export"], export_names=list(names) or None)


@main.command()
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port on 127.0.0.1.")
@click.pass_context
def serve(ctx: click.Context, port: int) -> None:
    """Preview the built HTML edition on http://127.0.0.1:PORT/ (run `edition build` first)."""
    import functools
    import http.server

    cfg = _config(ctx)
    folder = cfg.build / "html"
    if not (folder / "index.html").exists():
        raise click.UsageError(f"no site in {folder}: run `edition build` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; try another --port") from None
    with server:
        click.echo(f"serving {folder} on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def _iso_date(ctx, param, value: str) -> str:
    from .scaffold import parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from None


@main.command()
@click.option("--date", "when", required=True, callback=_iso_date, help="Date of the item: YYYY-MM-DD, YYYY-MM or YYYY.")
@click.option("--sender", required=True, help="Register id of the sender (person or organisation), e.g. tito.")
@click.option("--recipient", required=True, help="Register id of the recipient, e.g. kim_il_sung.")
@click.option("--place", default=None, help="Register id of the place of writing.")
@click.option("--title", default=None, help="The catalogue title (default: 'Sender to Recipient').")
@click.option("--dry-run", is_flag=True, help="Print the new document and the files it would change; write nothing.")
@click.pass_context
def new(ctx: click.Context, when: str, sender: str, recipient: str, place: str | None, title: str | None,
        dry_run: bool) -> None:
    """Scaffold a new letter, valid from the start, with the next id, linked into the chronology."""
    from . import corpus as corpus_mod
    from . import scaffold

    cfg = _config(ctx)
    the_plan = scaffold.plan(corpus_mod.load(cfg.tei), cfg, when, sender, recipient, place, title)
    if dry_run:
        click.echo(the_plan.new_text, nl=False)
        for path in the_plan.edits:
            click.echo(f"would link {path}", err=True)
        return
    written = scaffold.write(the_plan)
    click.echo(f"created {written[0]}")
    for path in written[1:]:
        click.echo(f"linked {path}")


@main.command()
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def stats(ctx: click.Context, fmt: str) -> None:
    """Figures about the edition: items per year and direction, registers, references, authority ids."""
    import json

    from . import corpus as corpus_mod
    from . import stats as stats_mod

    cfg = _config(ctx)
    result = stats_mod.compute(corpus_mod.load(cfg.tei))
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(stats_mod.format_text(result), nl=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:
    """The console entry point (`edition`, `python -m edition`): `main`, then the process ends
    without freeing its objects one by one, which a build of 10,000 letters spent a third of a
    second on (a million small objects). Output is flushed first; nothing else is pending by then."""
    import os

    try:
        main(prog_name="edition")
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            click.echo(exc.code, err=True)
            code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

