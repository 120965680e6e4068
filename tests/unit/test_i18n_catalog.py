"""The message catalog is complete in German and English, and the UI uses nothing else.

Four guarantees:

1. every key in ``k360lib/messages/*.json`` has a non-empty German and English
   text, no file defines a key twice, and both texts use the same placeholders;
2. every message key the code names literally (``t("a.b", ...)``, an error's
   key, any string shaped like a key of a known domain) exists -- also keys
   built in a loop over literal strings (``for c in ("a", "b"): t(f"x.{c}")``);
   every other dynamic key (``t(f"resp.role.{r}")``, ``t(key)``) is documented
   with the reason it is safe: a ``# i18n-dynamic: <reason>`` comment at the
   call or an entry in :data:`DYNAMIC_KEYS`;
3. no UI text is hard-coded in a UI-producing module (:data:`UI_MODULES`): an
   AST scan flags string literals in widget texts (``description=``,
   ``placeholder=``, ``tooltip(s)=``, ``title(s)=``, ``W.HTML("...")``,
   ``W.Label(...)``, ``x.value = "..."`` …), text between HTML tags, and
   German/English prose anywhere else in those modules;
4. the scan itself works: it flags known bad examples and passes good ones.

A flagged line says ``file:line: 'text'``. Fix it by moving the text into a
catalog file (``k360lib/messages/<area>.json``) and calling
``t("<area>.<key>", lang)``. A string that is no UI text (CSS, markup
structure, words matched in user input) is marked ``# i18n-ignore: <reason>``
on its line or, for a pattern across files, listed in :data:`ALLOWED`.
"""

from __future__ import annotations

import ast
import builtins
import fnmatch
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from k360lib.i18n import LANGS, catalog

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "k360lib"
MESSAGES = PACKAGE / "messages"

#: modules that produce what users see (widgets, maps, HTML reports, SVG); globs under ROOT
UI_MODULES = (
    "k360lib/widgets/*.py",
    "k360lib/maps/*.py",
    "k360lib/report/*.py",
    "k360lib/responsibility/svg.py",
)
#: page templates (Jinja/HTML) shipped with the package
UI_TEMPLATES = ("k360lib/**/templates/**/*.j2", "k360lib/**/templates/**/*.html")

#: ``(file glob, regex the flagged text fully matches, reason)`` -- strings that are no UI text
ALLOWED: tuple[tuple[str, str, str], ...] = (
    (
        "k360lib/widgets/responsibility_board.py",
        r"R|A|C|I|AR",
        "RACI role codes are the same in every language (their names come from the catalog)",
    ),
    ("*", r"k360", "the product name"),
    ("*", r".*\b(sans-serif|serif|monospace)\b.*", "CSS font stacks (font names, not text)"),
    ("*", r"\S*(://|\.ipynb\b|\.html\b)\S*", "URLs and file names"),
)

#: dynamic message keys: glob of the keys a call can produce -> why it is safe. A glob is
#: derived from f-strings and ``"prefix." + x`` (``*`` for each computed part); each glob
#: must match at least one catalog key. Keys held in variables are listed as
#: ``"<file>:<expression>"``.
DYNAMIC_KEYS: dict[str, str] = {
    # built from a closed vocabulary (named in the reason)
    "atlas.classify.scheme.*": "classification scheme ids of the registry in atlas/classify.py",
    "level.*": "finding levels error/warning/info of report findings",
    "loc.*": "location parts (file, row, column, sheet, area) of a K360Error",
    "game.committee.majority.*": "majority rules of the scenario schema (pydantic Literal)",
    "game.committee.tie.*": "tie rules of the scenario schema (pydantic Literal)",
    "game.phase.*": "the fixed phase sequence of a Planspiel round",
    "game.explain.*": "sections of the 'how it works' panel, a fixed tuple in game/rules.py",
    "resp.phase.*": "life phases, the closed vocabulary checked by the catalog loader",
    "resp.sector.*": "actor sectors, the closed vocabulary checked by the catalog loader",
    "resp.target.*": "target groups, the closed vocabulary checked by the catalog loader",
    "resp.xlsx.svc_*": "column headers of the services sheet, a fixed tuple in exchange.py",
    "resp.xlsx.act_*": "column headers of the actors sheet, a fixed tuple in exchange.py",
    "resp.role.*": "RACI roles R, A, C, I, AR",
    "resp.role.*.long": "RACI roles R, A, C, I, AR",
    "resp.chain.handoff_*": "hand-off statuses of the prevention chain (chain.py)",
    "resp.chain.status_*": "phase statuses of the prevention chain (chain.py)",
    "resp.ui.tab.*": "the board's fixed tab ids",
    "resp.ui.status.*": "service statuses computed by responsibility/checks.py",
    "resp.ui.handoff_*": "hand-off statuses of the prevention chain (chain.py)",
    "resp.coverage.*": "coverage statuses in/near/none of responsibility/coverage.py",
    "widgets.tab.*": "the explorer's fixed tab ids",
    "widgets.import.level.*": "finding levels error/warning/info of the import report",
    "fac.view.*": "the facilitator's view ids (_views_of_mode in widgets/facilitator.py)",
    "start.app.*.title": "the apps listed in APPS (widgets/start.py)",
    "start.app.*.text": "the apps listed in APPS (widgets/start.py)",
    # keys held in variables: each comes from a literal that the key scan below checks
    "k360lib/atlas/indicators.py:key": "need-index explanation keys chosen from literals",
    "k360lib/atlas/report.py:self.key": "Finding.key, created with literal keys",
    "k360lib/cli.py:key": "CLI messages chosen from literal keys",
    "k360lib/errors.py:self.key": "K360Error.key, created with literal keys",
    "k360lib/game/errors.py:self.key": "GameError.key, created with literal keys",
    "k360lib/responsibility/checks.py:self.key": "Issue.key, created with literal keys",
    "k360lib/maps/atlas_map.py:rank_key": "one of two literal keys chosen by polarity",
    "k360lib/widgets/atlas_explorer.py:k": "keys from literal tuples in the same function",
}

#: keyword arguments whose value is shown to users, in any call
UI_KWARGS = frozenset(
    {"description", "placeholder", "tooltip", "tooltips", "title", "titles", "label", "caption"}
)
#: widgets whose first argument / ``value=`` is visible text
TEXT_WIDGETS = frozenset({"HTML", "HTMLMath", "Label", "Text", "Textarea", "Button", "Combobox"})
#: widgets whose ``options=`` labels are visible
CHOICE_WIDGETS = frozenset(
    {"Dropdown", "Select", "SelectMultiple", "RadioButtons", "ToggleButtons", "SelectionSlider"}
)
#: attributes whose assigned value is visible (``x.value`` only when it looks like text)
UI_ATTRS = frozenset({"description", "placeholder", "tooltip", "title", "titles"})
#: calls whose arguments are never UI text (developer messages, CSS, identifiers)
QUIET_CALLS = frozenset(
    {
        "t",
        "Layout",
        "add_class",
        "remove_class",
        "getattr",
        "hasattr",
        "setattr",
        "get",
        "startswith",
        "endswith",
        "split",
        "replace",
        "strip",
        "isinstance",
        "warn",
        "debug",
        "info",
        "warning",
        "error",
        "exception",
        "critical",
        "compile",
        "match",
        "fullmatch",
        "search",
        "sub",
        "findall",
        "observe",
        "unobserve",
        "encode",
        "decode",
        "open",
        "Path",
    }
)
#: keyword arguments that never carry UI text
QUIET_KWARGS = frozenset(
    {"layout", "style", "icon", "button_style", "names", "encoding", "mime", "driver", "sep", "key"}
)
_BUILTIN_ERRORS = frozenset(
    name
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
)

_KEY_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_\-]+)+$")
_LETTERS = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿß]{2,}")
_PROSE = re.compile(
    r"(?:^|[^\w-])[A-ZÄÖÜ][a-zäöüß]{2,}[,:;.!?–]?\s+[A-Za-zÄÖÜäöüß]{2,}"  # "Keine Daten", "Total: x"
    r"|(?:^|[^\w-])[a-zäöüß]{2,}\s+[A-ZÄÖÜ][a-zäöüß]{2,}"  # "{n} von Schlüsseln"
    r"|[a-zäöüß]{2,} [a-zäöüß]{2,} [a-zäöüß]{2,}"  # three words: "{n} areas without data"
)
#: a word as a label starts: "Karte", "Export" (identifiers are lower case: "gap", "need_score")
_LABEL_WORD = re.compile(r"(?:^|[^\w-])[A-ZÄÖÜ][a-zäöüß]{2,}(?![\w-])|\w{2,}\s+\w{2,}")
_HOLE = "\x00"  # stands for a computed part of an f-string / concatenation


# -- 1. the catalog itself ---------------------------------------------------------------
def _load_files() -> dict[str, list[tuple[str, object]]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=list)
        for path in sorted(MESSAGES.glob("*.json"))
    }


def test_no_file_defines_a_key_twice():
    doubles = []
    for name, pairs in _load_files().items():
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                doubles.append(f"{name}: {key}")
            seen.add(key)
    assert not doubles, "keys defined twice in one file (JSON keeps only the last):\n" + "\n".join(
        doubles
    )
    catalog.cache_clear()
    assert catalog()  # raises if two files define the same key


def test_catalog_files_are_formatted_alike():
    """2-space indent, UTF-8 text (no \\u escapes), final newline: diffs stay readable."""
    odd = []
    for path in sorted(MESSAGES.glob("*.json")):
        raw = path.read_text(encoding="utf-8")
        if raw != json.dumps(json.loads(raw), indent=2, ensure_ascii=False) + "\n":
            odd.append(path.name)
    assert not odd, (
        "format these catalog files with json.dumps(data, indent=2, ensure_ascii=False) "
        f"+ newline: {odd}"
    )


def test_every_key_has_non_empty_german_and_english():
    problems = []
    for key, texts in catalog().items():
        if not isinstance(texts, dict):
            problems.append(f"{key}: not a {{'de': ..., 'en': ...}} object")
            continue
        for lang in LANGS:
            text = texts.get(lang)
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{key}: no {lang!r} text")
        extra = set(texts) - set(LANGS)
        if extra:
            problems.append(f"{key}: unknown languages {sorted(extra)}")
    assert not problems, f"{len(problems)} incomplete messages:\n" + "\n".join(problems)


def placeholders(text: str) -> set[str]:
    """Return the ``{name}`` fields of a message (format spec and conversion ignored)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_placeholders_are_the_same_in_both_languages():
    problems = []
    for key, texts in catalog().items():
        try:
            fields = {lang: placeholders(texts[lang]) for lang in LANGS}
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{key}: not a valid format string ({exc})")
            continue
        if len({frozenset(f) for f in fields.values()}) > 1:
            problems.append(f"{key}: " + ", ".join(f"{k}={sorted(v)}" for k, v in fields.items()))
    assert not problems, "placeholders differ between languages:\n" + "\n".join(problems)


def test_placeholder_check_can_fail():
    assert placeholders("{n} von {total} Schlüsseln") == {"n", "total"}
    assert placeholders("{n:,} of {total!r}") == {"n", "total"}
    assert placeholders("{n} von {total}") != placeholders("{n} of {all}")


# -- 2. keys named in the code -----------------------------------------------------------
@dataclass(frozen=True)
class KeyUse:
    """A message key the code names: ``key`` is a literal or a glob (``*`` = computed)."""

    path: str
    line: int
    key: str
    dynamic: bool
    expr: str
    marked: bool = False


def _key_pattern(node: ast.expr) -> list[str] | None:
    """Literal keys or globs a key expression can produce; ``None`` if not derivable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "*" for v in node.values)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _key_pattern(node.left), _key_pattern(node.right)
        left = left if left is not None else ["*"]
        right = right if right is not None else ["*"]
        out = [a + b for a in left for b in right]
        return None if out == ["**"] else out
    if isinstance(node, ast.IfExp):
        body, orelse = _key_pattern(node.body), _key_pattern(node.orelse)
        if body is None or orelse is None:
            return None
        return body + orelse
    return None


def _module_constants(trees: dict[str, ast.Module]) -> dict[str, str]:
    """``NAME -> "value"`` of module-level upper-case string constants in the package."""
    consts: dict[str, str] = {}
    for tree in trees.values():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.isupper():
                        consts[target.id] = node.value.value
    return consts


def _is_t_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "t") or (
        isinstance(func, ast.Attribute) and func.attr == "t"
    )


#: marks a string on its line as no UI text: ``("ging es ihnen", ...),  # i18n-ignore: words
#: matched in scenario prompts, never shown``
IGNORE_MARK = "i18n-ignore:"
#: marks a documented dynamic key next to the code: ``t(f"fac.status.{s}", lang)  # i18n-dynamic:
#: statuses of game/state.py`` (on a line of the call or the line above it)
DYNAMIC_MARK = "i18n-dynamic:"


def _package_sources() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def _package_trees() -> dict[str, ast.Module]:
    """Parsed modules of the package (modules that do not parse are left out: see below)."""
    trees = {}
    for path, source in _package_sources().items():
        try:
            trees[path] = ast.parse(source, path)
        except SyntaxError:
            continue
    return trees


def test_package_modules_parse():
    """The scans below read every module; one that does not parse would escape them."""
    broken = []
    for path, source in _package_sources().items():
        try:
            ast.parse(source, path)
        except SyntaxError as exc:
            broken.append(f"{path}:{exc.lineno}: {exc.msg}")
    assert not broken, "modules the i18n scan cannot parse:\n" + "\n".join(broken)


def _marked_dynamic(source_lines: list[str], node: ast.AST) -> bool:
    first = max(node.lineno - 2, 0)
    last = getattr(node, "end_lineno", node.lineno) or node.lineno
    return any(DYNAMIC_MARK in line for line in source_lines[first:last])


def _str_tuple(node: ast.expr | None, module_tuples: dict[str, list[str]]) -> list[str] | None:
    """The strings of a literal tuple/list/set of strings (or a module constant naming one)."""
    if isinstance(node, ast.Name):
        return module_tuples.get(node.id)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [e.value for e in node.elts]
    return None


class _LoopBindings(ast.NodeVisitor):
    """Find ``t(f"...{v}...")`` calls where ``v`` loops over literal strings.

    ``for c in ("a", "b"): t(f"x.{c}")`` and ``[t(f"x.{c}") for c in COLS]`` (``COLS``
    a module-level tuple of strings) resolve to the literal keys ``x.a``, ``x.b``.
    """

    def __init__(self, module: ast.Module):
        self.tuples: dict[str, list[str]] = {}
        for node in module.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                values = _str_tuple(node.value, {})
                for target in targets:
                    if isinstance(target, ast.Name) and values is not None:
                        self.tuples[target.id] = values
        self.scope: list[dict[str, list[str]]] = []
        self.resolved: dict[int, list[str]] = {}

    def _bound(self, name: str) -> list[str] | None:
        for frame in reversed(self.scope):
            if name in frame:
                return frame[name]
        return None

    def _bind(self, target: ast.expr, iterable: ast.expr) -> dict[str, list[str]]:
        values = _str_tuple(iterable, self.tuples)
        if isinstance(target, ast.Name) and values is not None:
            return {target.id: values}
        return {}

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.scope.append(self._bind(node.target, node.iter))
        for child in node.body:
            self.visit(child)
        self.scope.pop()
        for child in node.orelse:
            self.visit(child)

    def _comprehension(self, node) -> None:
        frame: dict[str, list[str]] = {}
        for gen in node.generators:
            frame.update(self._bind(gen.target, gen.iter))
        self.scope.append(frame)
        self.generic_visit(node)
        self.scope.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Call(self, node: ast.Call) -> None:
        if _is_t_call(node) and isinstance(node.args[0], ast.JoinedStr):
            keys = [""]
            for part in node.args[0].values:
                if isinstance(part, ast.Constant):
                    keys = [k + part.value for k in keys]
                    continue
                value = part.value
                values = self._bound(value.id) if isinstance(value, ast.Name) else None
                if values is None or part.format_spec is not None or part.conversion != -1:
                    keys = []
                    break
                keys = [k + v for k in keys for v in values]
            if keys:
                self.resolved[id(node)] = keys
        self.generic_visit(node)


def key_uses(trees: dict[str, ast.Module], sources: dict[str, str] | None = None) -> list[KeyUse]:
    """Every ``t(...)`` call's key in ``trees``, resolved as far as the AST allows.

    A dynamic key documented in the code (:data:`DYNAMIC_MARK`) has ``marked=True``.
    """
    consts = _module_constants(trees)
    uses = []
    for path, tree in trees.items():
        lines = (sources or {}).get(path, "").splitlines()
        loops = _LoopBindings(tree)
        loops.visit(tree)
        for node in ast.walk(tree):
            if not _is_t_call(node):
                continue
            arg = node.args[0]
            expr = ast.unparse(arg)
            marked = _marked_dynamic(lines, node)
            if id(node) in loops.resolved:
                for key in loops.resolved[id(node)]:
                    uses.append(KeyUse(path, node.lineno, key, False, expr, marked))
                continue
            patterns = _key_pattern(arg)
            if patterns is None:
                name = arg.attr if isinstance(arg, ast.Attribute) else getattr(arg, "id", None)
                if name in consts:
                    uses.append(KeyUse(path, node.lineno, consts[name], False, expr, marked))
                    continue
                uses.append(KeyUse(path, node.lineno, f"{path}:{expr}", True, expr, marked))
                continue
            for pattern in patterns:
                uses.append(KeyUse(path, node.lineno, pattern, "*" in pattern, expr, marked))
    return uses


def test_every_literal_key_exists():
    cat = catalog()
    missing = [
        f"{u.path}:{u.line}: t({u.key!r})"
        for u in key_uses(_package_trees())
        if not u.dynamic and u.key not in cat
    ]
    assert not missing, "message keys used in the code but not in the catalog:\n" + "\n".join(
        missing
    )


def test_every_key_shaped_string_in_the_code_exists():
    """Keys reach ``t`` through errors, findings and tables too: any key-shaped literal counts."""
    cat = catalog()
    domains = {key.split(".")[0] for key in cat}
    problems = []
    for path, tree in _package_trees().items():
        in_fstring = {
            id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in in_fstring
                and _KEY_SHAPE.match(node.value)
                and node.value.split(".")[0] in domains
                and node.value not in cat
                and not node.value.endswith(("_", "."))  # a prefix joined with a computed part
            ):
                problems.append(f"{path}:{node.lineno}: {node.value!r}")
    assert not problems, "strings shaped like message keys that the catalog lacks:\n" + "\n".join(
        problems
    )


def test_dynamic_keys_are_documented_and_resolve():
    cat = catalog()
    undocumented, unresolved = [], []
    for use in key_uses(_package_trees(), _package_sources()):
        if not use.dynamic:
            continue
        if use.key not in DYNAMIC_KEYS and not use.marked:
            undocumented.append(f"{use.path}:{use.line}: t({use.expr}) -> {use.key!r}")
        elif "*" in use.key and not any(fnmatch.fnmatchcase(k, use.key) for k in cat):
            unresolved.append(f"{use.path}:{use.line}: {use.key!r} matches no catalog key")
    assert not undocumented, (
        "dynamic message keys must be documented with the reason they always resolve: a comment "
        f"'# {DYNAMIC_MARK} <reason>' on the call (or the line above it), or an entry in "
        "DYNAMIC_KEYS (tests/unit/test_i18n_catalog.py):\n" + "\n".join(undocumented)
    )
    assert not unresolved, "\n".join(unresolved)


def test_key_scan_resolves_fstrings_constants_and_branches():
    src = (
        "from k360lib.i18n import t\n"
        "KEY = 'lang.name'\n"
        "t(KEY, 'de')\n"
        "t(f'resp.role.{r}', 'de')\n"
        "t('a.b' if x else 'c.d')\n"
        "t('level.' + lvl)\n"
        "t(key)\n"
        "t(f'fac.status.{s}')  # i18n-dynamic: statuses of the engine\n"
        "COLS = ('a', 'b')\n"
        "heads = [t(f'x.col.{c}') for c in COLS]\n"
        "for k in ('up', 'down'):\n"
        "    t(f'x.{k}.label')\n"
    )
    uses = key_uses({"x.py": ast.parse(src)}, {"x.py": src})
    assert [(u.key, u.dynamic) for u in uses] == [
        ("lang.name", False),
        ("resp.role.*", True),
        ("a.b", False),
        ("c.d", False),
        ("level.*", True),
        ("x.py:key", True),
        ("fac.status.*", True),
        ("x.col.a", False),
        ("x.col.b", False),
        ("x.up.label", False),
        ("x.down.label", False),
    ]
    assert [u.marked for u in uses] == [False] * 6 + [True] + [False] * 4


# -- 3. no hard-coded UI text ------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """A string that looks like UI text outside the catalog."""

    path: str
    line: int
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r} ({self.why})"


def _strip_markup(template: str) -> str:
    """Text a browser would show from an HTML/CSS template (holes and fields removed)."""
    s = re.sub(r"<!--.*?-->", " ", template, flags=re.S)
    s = re.sub(r"<(script|style)\b.*?(</\1\s*>|$)", " ", s, flags=re.S | re.I)
    s = re.sub(r"<[^<>]*>", " ", s)  # whole tags, attribute values included
    s = re.sub(r"<[a-zA-Z/!][^<>]*$", " ", s)  # a tag cut by a hole: '<span title="'
    s = re.sub(r"^[^<>]*>", " ", s) if "<" in template or ">" in template else s
    s = re.sub(r"&#?\w+;", " ", s)
    s = re.sub(r"\{[^{}\s]*\}", " ", s)  # str.format fields
    return s.replace(_HOLE, " ")


_CSS_RULE = re.compile(r"[^{};<>]*\{[^{}]*\}")
_CSS_PROPS = (
    "color|background|margin|padding|font|width|height|display|border|fill|stroke|opacity|"
    "position|top|left|right|bottom|cursor|flex|gap|overflow|content|transform|z-index"
)
_CSS_DECLS = re.compile(rf"(\s*(?:[a-z]+-[a-z-]+|{_CSS_PROPS})\s*:\s*[^;{{}}]+;?\s*)+")


def _is_code(template: str) -> bool:
    """CSS or JavaScript (checked by the map/JS tests, not UI text in Python strings)."""
    if re.search(r"\bfunction\s*\(|=>|\bvar |\bconst |\blet ", template):
        return True
    body = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", template, flags=re.S | re.I)
    if _CSS_DECLS.fullmatch(body.replace(_HOLE, "0")):  # "font-family:Arial,sans-serif"
        return True
    rules = 0
    while True:  # innermost rules first: @media{ a{...} }
        body, n = _CSS_RULE.subn(" ", body)
        if not n:
            break
        rules += n
    return bool(rules) and not _LETTERS.search(_strip_markup(body))


def _template(node: ast.expr) -> tuple[str, int] | None:
    """The literal text of a string expression, computed parts as holes; ``None`` if none."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, node.lineno
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(v.value)
            else:
                inner = _template(v.value)
                parts.append(inner[0] if inner and not _quiet_value(v.value) else _HOLE)
        return "".join(parts), node.lineno
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        left = _template(node.left)
        right = _template(node.right) if isinstance(node.op, ast.Add) else None
        if left is None and right is None:
            return None
        return (left[0] if left else _HOLE) + (right[0] if right else _HOLE), node.lineno
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            return _template(node.func.value)
    return None


def _quiet_value(node: ast.expr) -> bool:
    """An expression whose strings are never UI text (``t(...)``, ``html.escape(...)``)."""
    return _is_t_call(node)


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _visible(node: ast.expr):
    """Yield the string expressions in ``node`` that end up as visible text."""
    if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)):
        if _template(node) is not None:
            yield node
        return
    if isinstance(node, ast.IfExp):
        yield from _visible(node.body)
        yield from _visible(node.orelse)
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        for elt in node.elts:
            if isinstance(elt, ast.Tuple) and elt.elts:  # (label, value) option pairs
                yield from _visible(elt.elts[0])
            else:
                yield from _visible(elt)
    elif isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        yield from _visible(
            node.elt.elts[0] if isinstance(node.elt, ast.Tuple) and node.elt.elts else node.elt
        )
    elif isinstance(node, ast.Call):
        name = _call_name(node)
        if name in {"escape", "_esc", "str", "join", "format"}:
            if isinstance(node.func, ast.Attribute) and name in {"join", "format"}:
                yield from _visible(node.func.value)
            for arg in node.args:
                yield from _visible(arg)


def _allowed(path: str, text: str) -> bool:
    return any(
        fnmatch.fnmatchcase(path, glob) and re.fullmatch(pattern, text.strip())
        for glob, pattern, _ in ALLOWED
    )


class UiTextScan(ast.NodeVisitor):
    """Collect :class:`Finding` s for one module (see the module docstring for the rules)."""

    def __init__(self, path: str):
        self.path = path
        self.findings: list[Finding] = []
        self._seen: set[int] = set()
        self._quiet_depth = 0

    # -- reporting -----------------------------------------------------------------------
    def _check(self, node: ast.expr, why: str, level: str) -> None:
        """Record ``node`` if it is UI text at ``level``.

        ``"any"``: any word (a widget's description); ``"label"``: a capitalised word or
        several words (option labels, ``.value``); ``"prose"``: text between tags or prose.
        """
        found = _template(node)
        if found is None or id(node) in self._seen:
            return
        self._seen.add(id(node))
        template, line = found
        if _is_code(template):
            return
        has_markup = bool(re.search(r"<[a-zA-Z/][^<>]*>|<[a-zA-Z]", template))
        text = " ".join(_strip_markup(template).split())
        words = _LETTERS.findall(text)
        if not words or _allowed(self.path, text):
            return
        if (
            level == "any"
            or (level == "label" and _LABEL_WORD.search(text))
            or (has_markup and words)
            or _PROSE.search(text)
        ):
            self.findings.append(Finding(self.path, line, text[:120], why))

    # -- contexts ------------------------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        self._skip_docstring(node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node) -> None:
        self._skip_docstring(node)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef

    def _skip_docstring(self, node) -> None:
        body = getattr(node, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self._seen.add(id(body[0].value))

    def visit_Raise(self, node: ast.Raise) -> None:
        exc = node.exc
        name = _call_name(exc) if isinstance(exc, ast.Call) else ""
        if name in _BUILTIN_ERRORS:  # developer errors; users get K360Error with a key
            return
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        return

    def visit_Compare(self, node: ast.Compare) -> None:
        return

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)

    def visit_Dict(self, node: ast.Dict) -> None:
        for value in node.values:
            self.visit(value)

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node)
        if name in QUIET_CALLS:
            return
        for kw in node.keywords:
            if kw.arg in UI_KWARGS:
                for expr in _visible(kw.value):
                    self._check(expr, f"{name}({kw.arg}=...)", level="any")
            elif kw.arg == "value" and name in TEXT_WIDGETS:
                for expr in _visible(kw.value):
                    self._check(expr, f"{name}(value=...)", level="any")
            elif kw.arg == "options" and name in CHOICE_WIDGETS:
                for expr in _visible(kw.value):
                    self._check(expr, f"{name}(options=...)", level="label")
        if name in TEXT_WIDGETS and node.args:
            for expr in _visible(node.args[0]):
                self._check(expr, f"{name}(...)", level="any")
        if name == "set_title" and len(node.args) > 1:
            for expr in _visible(node.args[1]):
                self._check(expr, "set_title(...)", level="any")
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            if kw.arg not in QUIET_KWARGS:
                self.visit(kw.value)
        self.visit(node.func)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr in UI_ATTRS:
                for expr in _visible(node.value):
                    self._check(expr, f".{target.attr} = ...", level="any")
            elif isinstance(target, ast.Attribute) and target.attr == "value":
                for expr in _visible(node.value):
                    self._check(expr, ".value = ...", level="label")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            self._check(node, "text in a UI module", level="prose")

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self._check(node, "text in a UI module", level="prose")
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                self.visit(v.value)


def scan_source(source: str, path: str) -> list[Finding]:
    """Findings of hard-coded UI text in one Python module's source.

    A line marked ``# i18n-ignore: <reason>`` (:data:`IGNORE_MARK`) is not reported.
    """
    scan = UiTextScan(path)
    scan.visit(ast.parse(source, path))
    lines = source.splitlines()
    return sorted((f for f in scan.findings if not _ignored(lines, f.line)), key=lambda f: f.line)


def _ignored(lines: list[str], line: int) -> bool:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    mark = text.find(IGNORE_MARK)
    return mark >= 0 and bool(text[mark + len(IGNORE_MARK) :].strip())


def _blank(match: re.Match) -> str:
    """Replace a match by spaces, keeping its newlines (so offsets and lines stay)."""
    return re.sub(r"[^\n]", " ", match.group())


def scan_template(text: str, path: str) -> list[Finding]:
    """Findings in a Jinja/HTML template: text outside tags, Jinja blocks, styles and scripts."""
    s = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}|<!--.*?-->", _blank, text, flags=re.S)
    s = re.sub(r"<(script|style)\b.*?</\1\s*>", _blank, s, flags=re.S | re.I)
    s = re.sub(r"<[^<>]*>", _blank, s)
    findings = []
    for match in re.finditer(r"[^\n]+", s):
        words = " ".join(match.group().split())
        if _LETTERS.search(words) and not _allowed(path, words):
            line = text.count("\n", 0, match.start()) + 1
            findings.append(Finding(path, line, words[:120], "text in a template"))
    return findings


def _ui_files(globs) -> list[Path]:
    files: set[Path] = set()
    for glob in globs:
        files.update(ROOT.glob(glob))
    return sorted(p for p in files if p.is_file())


def test_no_hard_coded_ui_text_in_ui_modules():
    findings = []
    for path in _ui_files(UI_MODULES):
        rel = str(path.relative_to(ROOT))
        findings += scan_source(path.read_text(encoding="utf-8"), rel)
    for path in _ui_files(UI_TEMPLATES):
        rel = str(path.relative_to(ROOT))
        findings += scan_template(path.read_text(encoding="utf-8"), rel)
    assert not findings, (
        f"{len(findings)} UI texts are hard-coded; put them in k360lib/messages/<area>.json "
        "and use t(key, lang) (or, if a string is no UI text, add it to ALLOWED in "
        "tests/unit/test_i18n_catalog.py or mark the line '# i18n-ignore: <reason>'):\n"
        + "\n".join(map(str, findings))
    )


# -- 4. the scan can fail ----------------------------------------------------------------
BAD = """
import ipywidgets as W
from k360lib.i18n import t

def build(lang, name):
    a = W.Button(description="Speichern")
    b = W.HTML(f"<b>{name}</b> hat keine Daten")
    c = W.Label("Export")
    d = W.Dropdown(options=[("Alle Phasen", ""), ("Schwangerschaft", "p")])
    e = W.Text(placeholder="z. B. Nordstadt")
    tab.set_title(0, "Karte")
    e.tooltip = "Hilfe"
    status.value = '<div class="k360-error">Upload fehlgeschlagen</div>'
    rows.append("<th>Sozialraum</th>")
    msg = "Keine Daten für dieses Jahr"
    n = f"{k} von {total} Schlüsseln"
    words = ("ging es ihnen", "what happened")  # i18n-ignore:
    f = W.ToggleButtons(options=["Karte", "Tabelle"], tooltips=["Zeigt die Karte", "x y"])
"""

GOOD = '''
import ipywidgets as W
from k360lib.i18n import t

_CSS = """<style>.k360-app h2{margin:0 0 4px 0;font-size:1.5em;}</style>"""
JS = "(function () { var a = 1; return a; })()"

def build(lang, name, esc):
    a = W.Button(description=t("widgets.export.csv", lang), layout=W.Layout(flex_flow="row wrap"))
    b = W.HTML(f'<div class="k360-hint" title="{esc(name)}">{esc(t("widgets.area.none", lang))}</div>')
    c = W.Dropdown(options=[(t("x.y", lang), "need_score"), (t("x.z", lang), "gap")], value="gap")
    c.add_class("k360-indicator select")
    d = W.Label(f"{name} (R)")
    sel.value = "need_score"
    log.warning("k360 explorer: unexpected error in the panel")
    if mode == "Keine Daten hier":
        raise ValueError(f"fmt must be 'csv' or 'xlsx', got {fmt!r}")
    cls = "num worse" if x else "num better"
    words = ("ging es ihnen", "what happened")  # i18n-ignore: matched in prompts, never shown
    html = '<td class="num k360-worse">' + value + "</td>"
    return info["Soziale Lage"], "k360"
'''


def test_scan_flags_hard_coded_ui_text():
    found = scan_source(BAD, "k360lib/widgets/bad.py")
    texts = [f.text for f in found]
    for expected in (
        "Speichern",
        "hat keine Daten",
        "Export",
        "Alle Phasen",
        "Schwangerschaft",
        "z. B. Nordstadt",
        "Karte",
        "Hilfe",
        "Upload fehlgeschlagen",
        "Sozialraum",
        "Keine Daten für dieses Jahr",
        "von Schlüsseln",
        "ging es ihnen",  # a mark without a reason does not count
        "Tabelle",
        "Zeigt die Karte",
    ):
        assert expected in texts, f"the scan missed {expected!r}: {texts}"
    assert all(str(f).startswith(f"k360lib/widgets/bad.py:{f.line}: ") for f in found)
    line = BAD.splitlines().index('    a = W.Button(description="Speichern")') + 1
    assert found[0].line == line


def test_scan_passes_catalog_texts_css_and_identifiers():
    assert scan_source(GOOD, "k360lib/widgets/good.py") == []


def test_template_scan_flags_text_but_not_css_or_jinja():
    tpl = (
        "{%- extends 'lab/index.html.j2' -%}\n"
        "{# a comment with words #}\n"
        "<style> body { color: red; } </style>\n"
        "<div class='x'>{{ resources.title }}</div>\n"
        "<p>Willkommen bei k360</p>\n"
    )
    found = scan_template(tpl, "k360lib/widgets/share/x.html.j2")
    assert [f.text for f in found] == ["Willkommen bei k360"]
    assert found[0].line == 5


@pytest.mark.parametrize("path", [str(p.relative_to(ROOT)) for p in _ui_files(UI_MODULES)])
def test_ui_modules_parse(path):
    """Every scanned module is found and parses (a renamed folder would silently scan nothing)."""
    ast.parse((ROOT / path).read_text(encoding="utf-8"))
    assert any(fnmatch.fnmatchcase(path, glob) for glob in UI_MODULES)
