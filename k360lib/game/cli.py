"""The ``k360 game`` commands: ``simulate``, ``check``, ``explain``, ``export``.

Hook into the main parser with :func:`add_game_commands`::

    sub = parser.add_subparsers(dest="command", required=True)
    add_game_commands(sub)

Examples
--------
::

    k360 game simulate --scenario default --bots cooperative --n 1000
    k360 game simulate --scenario kurz --bots "jugendamt=cooperative,*=siloed" --n 200 --out runs.csv
    k360 game check meine_klausur.yaml
    k360 game explain --lang en
    k360 game export --store games.sqlite3 --game ABC123 --out auswertung/
    k360 game report ABC123 --store games.sqlite3 --html auswertung.html --xlsx auswertung.xlsx
"""

from __future__ import annotations

import argparse
import sys
import time

from k360lib.i18n import t

__all__ = ["add_game_commands"]


def _cmd_simulate(args: argparse.Namespace) -> int:
    from k360lib.game.bots import simulate

    t0 = time.perf_counter()
    df = simulate(
        args.scenario,
        args.bots,
        n=args.n,
        seed=args.seed,
        jobs=args.jobs,
        optional_roles=args.optional_roles or (),
    )
    seconds = time.perf_counter() - t0
    final = df[df["round"] == df["round"].max()]
    cols = ["shared_score", "need_mean", "equity_gap", "reach", "started", "goals_achieved"]
    summary = final[cols].describe(percentiles=[0.05, 0.5, 0.95]).T
    print(
        t(
            "game.cli.simulated",
            None,
            n=args.n,
            scenario=args.scenario,
            bots=args.bots,
            seconds=f"{seconds:.1f}",
        )
    )
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.out:
        out = str(args.out)
        if out.endswith(".xlsx"):
            df.to_excel(out, index=False)
        else:
            df.to_csv(out, index=False)
        print(t("game.cli.written", None, path=out, rows=len(df)))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from k360lib.game.errors import ScenarioError
    from k360lib.game.scenario import load_scenario
    from k360lib.game.world import world_for

    try:
        sc = load_scenario(args.scenario)
        world = world_for(sc)
    except ScenarioError as err:
        for line in err.messages():
            print(line)
        print(t("game.cli.check_failed", None, n=len(err.issues)))
        return 1
    print(
        t(
            "game.cli.check_ok",
            None,
            title=sc.title.get(None),
            roles=len(sc.roles),
            measures=len(sc.measures),
            cards=len(sc.cards),
            rounds=sc.rounds,
            areas=world.n_areas,
        )
    )
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from k360lib.game.rules import explain
    from k360lib.game.scenario import load_scenario

    print(explain(None, load_scenario(args.scenario)))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from k360lib.game.export import events_json, to_xlsx
    from k360lib.game.state import fold
    from k360lib.game.store import open_store

    store = open_store(args.store)
    try:
        game_id = args.game
        known = {g["game_code"]: g["game_id"] for g in store.games()}
        game_id = known.get(game_id.upper().replace("-", ""), game_id)
        events = store.events(game_id)
        if not events:
            from k360lib.game.errors import UnknownGameError

            raise UnknownGameError("game.store.unknown_game", game=args.game)
        state = fold(events)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        events_json(events, out / f"{game_id}_events.json")
        to_xlsx(state, out / f"{game_id}.xlsx")
        print(t("game.cli.exported", None, path=str(out), n=len(events)))
    finally:
        store.close()
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from k360lib.game.errors import UnknownGameError
    from k360lib.game.state import fold
    from k360lib.game.store import open_store
    from k360lib.report.debrief import debrief, stored_map_document

    lang = args.report_lang or getattr(args, "lang", None)
    if not args.html and not args.xlsx:
        print(t("debrief.cli.nothing", lang))
        return 2
    store = open_store(args.store)
    try:
        known = {g["game_code"]: g["game_id"] for g in store.games()}
        game_id = known.get(args.game.upper().replace("-", ""), args.game)
        events = store.events(game_id)
        if not events:
            raise UnknownGameError("game.store.unknown_game", game=args.game)
        code = args.game.upper() if game_id != args.game else ""
        d = debrief(
            fold(events),
            geometry=stored_map_document(store, game_id),
            meta={t("debrief.ui.game_code", lang): code} if code else None,
        )
        if args.html:
            d.to_html(args.html, lang=lang)
            print(t("debrief.cli.written", lang, path=args.html))
        if args.xlsx:
            d.to_xlsx(args.xlsx, lang=lang)
            print(t("debrief.cli.written", lang, path=args.xlsx))
    finally:
        store.close()
    return 0


def add_game_commands(subparsers) -> argparse.ArgumentParser:
    """Add ``game simulate | check | explain | export`` to the ``k360`` command's subparsers."""
    g = subparsers.add_parser("game", help="Planspiel: bot simulations, scenario checks, exports")
    gs = g.add_subparsers(dest="game_command", required=True)

    s = gs.add_parser("simulate", help="let bots play many games; print the outcome distribution")
    s.add_argument("--scenario", default="default", help="default, kurz or a YAML file")
    s.add_argument(
        "--bots",
        default="cooperative",
        help="random | cooperative | siloed, or 'role=strategy,...' (*= sets the default)",
    )
    s.add_argument("--n", type=int, default=100, help="number of games (default 100)")
    s.add_argument("--seed", type=int, default=0, help="first seed (game i uses seed + i)")
    s.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPUs)")
    s.add_argument("--optional-roles", nargs="*", default=None, help="optional roles that play")
    s.add_argument("--out", default=None, help="write all rows as .csv or .xlsx")
    s.set_defaults(func=_cmd_simulate)

    c = gs.add_parser("check", help="check a scenario file (and its atlas)")
    c.add_argument("scenario", help="a YAML file (or default, kurz)")
    c.set_defaults(func=_cmd_check)

    e = gs.add_parser("explain", help="print how the rules work")
    e.add_argument("--scenario", default="default", help="default, kurz or a YAML file")
    e.set_defaults(func=_cmd_explain)

    x = gs.add_parser("export", help="export a stored game: events JSON and Excel workbook")
    x.add_argument("--store", default=None, help="store path or URL (default: the k360 store)")
    x.add_argument("--game", required=True, help="game code or game id")
    x.add_argument("--out", required=True, help="folder to write to")
    x.set_defaults(func=_cmd_export)

    r = gs.add_parser(
        "report", help="the debrief of a stored game: standalone HTML report and/or Excel workbook"
    )
    r.add_argument("game", help="game code or game id")
    r.add_argument("--store", default=None, help="store path or URL (default: the k360 store)")
    r.add_argument("--html", default=None, help="write the HTML report here (opens offline)")
    r.add_argument("--xlsx", default=None, help="write the Excel workbook here")
    r.add_argument(
        "--lang", dest="report_lang", default=None, help="de or en (default: k360 --lang)"
    )
    r.set_defaults(func=_cmd_report)
    return g


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - convenience entry
    """Run only the game commands (``python -m k360lib.game.cli simulate ...``)."""
    parser = argparse.ArgumentParser(prog="k360 game")
    sub = parser.add_subparsers(dest="command", required=True)
    add_game_commands(sub)
    args = parser.parse_args(["game", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
