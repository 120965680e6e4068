"""The ``k360`` command: ``serve``, ``demo``, ``check``, ``game``."""

from __future__ import annotations

import argparse
import sys

from k360lib import i18n
from k360lib.errors import K360Error
from k360lib.i18n import set_lang, t

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from k360lib.atlas.demo import write_demo

    atlas = write_demo(args.write, seed=args.seed)
    print(
        t(
            "cli.demo.written",
            None,
            name=atlas.name,
            path=args.write,
            n_areas=len(atlas.areas),
            n_indicators=len(atlas.indicator_ids),
            n_facilities=len(atlas.facilities),
        )
    )
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from k360lib.atlas.io import check_files

    mapping = {}
    for item in args.map or []:
        src, _, dst = item.partition("=")
        mapping[src] = dst
    report = check_files(
        args.areas,
        args.tables,
        area_key=args.area_key,
        area_name=args.area_name,
        key=args.key,
        mapping=mapping or None,
        threshold=args.threshold,
        year=args.year,
        facilities=args.facilities,
    )
    for line in report.messages(
        levels=("error", "warning", "info") if args.verbose else ("error", "warning")
    ):
        print(line)
    if not args.verbose:
        n_info = sum(f.level == "info" for f in report.findings)
        if n_info:
            print(t("cli.check.more_info", None, n=n_info))
    if proposal := report.data.get("proposed_mapping_cli"):
        print(t("cli.check.proposal", None, args=proposal))
    key = "cli.check.ok" if report.ok else "cli.check.failed"
    print(t(key, None, n_errors=len(report.errors), n_warnings=len(report.warnings)))
    return 0 if report.ok else 1


def _cmd_serve(args: argparse.Namespace) -> int:
    from k360lib.serve import serve

    lang = args.serve_lang or args.lang
    return serve(
        port=args.port,
        lan=args.lan,
        open_browser=not args.no_browser,
        notebook=args.notebook,
        data=args.data,
        store=args.store,
        lang=lang,
        preheat=args.preheat,
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``k360`` command."""
    p = argparse.ArgumentParser(
        prog="k360", description="k360 — Sozialraum-Atlas, Zuständigkeiten, Planspiel"
    )
    p.add_argument(
        "--lang", choices=["de", "en"], default=None, help="UI language (default: de or $K360_LANG)"
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "serve",
        help="start the apps in Voilà (this computer only; opens the start page)",
        description="Serve the k360 apps with Voilà and open the start page. Kernels of closed "
        "browser tabs are shut down after 15 idle minutes.",
    )
    s.add_argument("--port", type=int, default=8866)
    s.add_argument(
        "--lan",
        action="store_true",
        help="listen on the room's network, not only on this computer "
        "(prints the address to share; anyone on the network can open it)",
    )
    s.add_argument("--no-browser", action="store_true", help="do not open a browser")
    s.add_argument(
        "--notebook", default=None, help="serve only this notebook instead of the start page"
    )
    s.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="atlas folder (written by Atlas.save) to show instead of the demo city",
    )
    s.add_argument(
        "--store",
        default=None,
        metavar="PATH_OR_URL",
        help="Planspiel store: SQLite file or postgresql:// URL (default: $K360_STORE or "
        "a SQLite file in the user data folder)",
    )
    s.add_argument(
        "--lang",
        dest="serve_lang",
        choices=["de", "en"],
        default=None,
        help="UI language of the apps (same as k360 --lang)",
    )
    s.add_argument(
        "--preheat",
        type=int,
        default=0,
        metavar="N",
        help="keep N preheated kernels per app so pages open at once "
        "(not for the Planspiel apps; default 0)",
    )
    s.set_defaults(func=_cmd_serve)

    d = sub.add_parser("demo", help="write the fictional demo city")
    d.add_argument("--write", required=True, metavar="DIR", help="folder to write to")
    d.add_argument("--seed", type=int, default=None, help="seed (default: the bundled city's)")
    d.set_defaults(func=_cmd_demo)

    c = sub.add_parser("check", help="check geometry and tables before importing them")
    c.add_argument(
        "areas", help="areas file: GeoJSON, GeoPackage, Shapefile (.shp/.zip/folder), KML"
    )
    c.add_argument("tables", nargs="*", help="tables: CSV or XLSX, wide or long")
    c.add_argument(
        "--area-key", default=None, help="key column in the areas file (default: detected)"
    )
    c.add_argument(
        "--area-name", default=None, help="name column in the areas file (default: detected)"
    )
    c.add_argument("--key", default=None, help="key column in the tables (default: detected)")
    c.add_argument(
        "--map",
        action="append",
        metavar="TABLEKEY=AREA_ID",
        help="explicit key mapping, repeatable",
    )
    c.add_argument(
        "--year", type=int, default=None, help="year of columns without a year in their name"
    )
    c.add_argument("--facilities", default=None, help="facilities file (points)")
    c.add_argument(
        "--threshold", type=int, default=3, help="small-number suppression threshold (default 3)"
    )
    c.add_argument(
        "-v", "--verbose", action="store_true", help="also print notes (matches, repairs)"
    )
    c.set_defaults(func=_cmd_check)

    from k360lib.game.cli import add_game_commands

    add_game_commands(sub)
    _lang_on_every_subcommand(p)
    return p


def _lang_on_every_subcommand(parser: argparse.ArgumentParser) -> None:
    """Accept ``--lang`` after any subcommand too (``k360 check --lang en …``).

    Subcommands that define their own ``--lang`` keep it; elsewhere the option
    sets the same ``lang`` as ``k360 --lang`` (and is absent unless given).
    """
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for subparser in action.choices.values():
            if "--lang" not in subparser._option_string_actions:
                subparser.add_argument(
                    "--lang",
                    dest="lang",
                    choices=["de", "en"],
                    default=argparse.SUPPRESS,
                    help="UI language (same as k360 --lang)",
                )
            _lang_on_every_subcommand(subparser)


def main(argv: list[str] | None = None) -> int:
    """Run the ``k360`` command; return its exit code."""
    args = build_parser().parse_args(argv)
    previous = i18n._current
    if args.lang:
        set_lang(args.lang)
    try:
        return int(args.func(args) or 0)
    except K360Error as err:
        print(f"{t('level.error', None)}: {err.message()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    finally:
        set_lang(
            previous
        )  # main() called in-process (tests, notebooks) leaves the language as it was


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
