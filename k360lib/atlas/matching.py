"""Matching area keys between geometry and tables, with a report.

Real files name the same Sozialraum in many ways: ``STGT03`` (geometry),
``03 Nordstadt`` (a printed table), ``3`` (a database id), ``Nordstadt`` (a
name). :func:`match_keys` tries, for every table key, in this order:

1. ``explicit`` — a mapping the user gave;
2. ``exact`` — the same string as an area id;
3. ``normalised`` — equal after folding case, whitespace, ``_``/``-`` and
   leading zeros (``"03"`` = ``"3"``, ``"stgt 03"`` = ``"STGT03"``);
4. ``code`` — the same number as an area id (``"3"``, ``"03 Nordstadt"`` →
   ``STGT03``), when that number identifies exactly one area and any name
   part of the key agrees with the area's name;
5. ``name`` — equal to an area's name after folding (``Westliche_Höhe`` =
   ``04 Westliche Höhe``).

Keys left over are listed with suggestions (closest names and ids); nothing is
matched by guesswork. :attr:`KeyMatch.proposed_mapping` turns the best
suggestions into a mapping the user can confirm.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["KeyMatch", "match_keys", "normalise_key", "split_key"]

METHODS = ("explicit", "exact", "normalised", "code", "name")

_UMLAUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_SPLIT = re.compile(r"^\s*([^\W\d_]*)[\s_\-./]*?0*(\d+)(?:[\s_\-.:/)]+(.*))?$", re.UNICODE)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).casefold().translate(_UMLAUT)
    text = re.sub(r"[_\-–/.,;:()\"']+", " ", text)
    return " ".join(text.split())


def normalise_key(key: object) -> str:
    """Fold a key for comparison: case, umlauts, separators, whitespace, leading zeros.

    Examples
    --------
    >>> normalise_key(" STGT 03 ")
    'stgt3'
    >>> normalise_key("Westliche_Höhe") == normalise_key("westliche höhe")
    True
    >>> normalise_key(3.0)
    '3'
    """
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    folded = _fold(str(key))
    # "stgt 03" -> "stgt3"; "03" -> "3"; "0" stays "0"
    folded = re.sub(r"(?<![\d])0+(?=\d)", "", folded)
    return re.sub(r"(?<=[^\W\d_])\s+(?=\d)", "", folded)


def split_key(key: object) -> tuple[str, int | None, str]:
    """Split a key into ``(prefix, number, name)``.

    Examples
    --------
    >>> split_key("STGT03")
    ('stgt', 3, '')
    >>> split_key("03 Nordstadt")
    ('', 3, 'nordstadt')
    >>> split_key("Nordstadt")
    ('', None, 'nordstadt')
    >>> split_key(7)
    ('', 7, '')
    """
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    text = unicodedata.normalize("NFKC", str(key)).strip()
    m = _SPLIT.match(text)
    if m and (not m.group(1) or len(m.group(1)) <= 6):
        prefix = _fold(m.group(1) or "").replace(" ", "")
        rest = _fold(m.group(3) or "")
        return prefix, int(m.group(2)), rest
    return "", None, _fold(text)


@dataclass
class KeyMatch:
    """The outcome of matching table keys to area ids.

    Attributes
    ----------
    mapping : dict
        ``table key -> area_id`` for every matched key.
    methods : dict
        ``table key -> method`` (one of ``explicit, exact, normalised, code, name``).
    unmatched : list
        Table keys without an area.
    suggestions : dict
        ``unmatched key -> [area_id, ...]`` closest candidates, best first.
    areas_without_data : list
        Area ids no table key matched.
    conflicts : dict
        ``area_id -> [table keys]`` when several keys matched the same area.
    """

    mapping: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)
    unmatched: list = field(default_factory=list)
    suggestions: dict = field(default_factory=dict)
    areas_without_data: list = field(default_factory=list)
    conflicts: dict = field(default_factory=dict)
    n_keys: int = 0

    @property
    def rate(self) -> float:
        """Share of table keys that matched (0..1)."""
        return len(self.mapping) / self.n_keys if self.n_keys else 0.0

    @property
    def proposed_mapping(self) -> dict:
        """``{unmatched key: best suggestion}`` for the user to confirm."""
        return {k: v[0] for k, v in self.suggestions.items() if v}

    def method_counts(self) -> dict:
        """Return the number of matched keys per method."""
        out: dict = {}
        for m in self.methods.values():
            out[m] = out.get(m, 0) + 1
        return out


def match_keys(
    table_keys,
    area_ids,
    area_names=None,
    *,
    table_names=None,
    mapping: dict | None = None,
    methods: tuple[str, ...] = METHODS,
    suggest: bool = True,
) -> KeyMatch:
    """Match table keys to area ids.

    Parameters
    ----------
    table_keys : iterable
        Key values of a table (duplicates are matched once).
    area_ids : sequence of str
        ``area_id`` of every area.
    area_names : sequence of str, optional
        Area names, aligned with ``area_ids``.
    table_names : dict, optional
        ``table key -> name`` from a name column of the table, used to check
        code matches and for name matching.
    mapping : dict, optional
        Explicit ``table key -> area_id``; wins over everything else.
    methods : tuple of str
        Methods to use, in order.
    suggest : bool
        Compute suggestions for unmatched keys (at most 200 keys get them).

    Returns
    -------
    KeyMatch

    Examples
    --------
    >>> m = match_keys(["03 Nordstadt", "Altstadt"], ["STGT01", "STGT03"], ["01 Altstadt", "03 Nordstadt"])
    >>> m.mapping
    {'03 Nordstadt': 'STGT03', 'Altstadt': 'STGT01'}
    >>> m.methods["03 Nordstadt"], m.methods["Altstadt"]
    ('code', 'name')
    """
    area_ids = [str(a) for a in area_ids]
    names = [str(n) for n in area_names] if area_names is not None else [""] * len(area_ids)
    keys = list(dict.fromkeys(k for k in table_keys if k is not None and str(k).strip() != ""))
    result = KeyMatch(n_keys=len(keys))
    id_set = set(area_ids)
    by_norm: dict[str, list[str]] = {}
    for a in area_ids:
        by_norm.setdefault(normalise_key(a), []).append(a)
    # numbers of area ids (and of area names such as "03 Nordstadt")
    by_number: dict[int, set[str]] = {}
    area_name_part: dict[str, str] = {}
    for a, n in zip(area_ids, names):
        _, num, _ = split_key(a)
        _, nnum, nname = split_key(n) if n else ("", None, "")
        area_name_part[a] = nname or _fold(n)
        for x in {num, nnum} - {None}:
            by_number.setdefault(x, set()).add(a)
    by_name: dict[str, list[str]] = {}
    for a, n in zip(area_ids, names):
        for variant in {_fold(n), area_name_part[a]} - {""}:
            by_name.setdefault(variant.replace(" ", ""), []).append(a)
    mapping = {str(k): str(v) for k, v in (mapping or {}).items()}
    table_names = {str(k): v for k, v in (table_names or {}).items()}

    def _names_agree(area: str, name: str) -> bool:
        if not name:
            return True
        f = _fold(name).replace(" ", "")
        return f in (
            area_name_part[area].replace(" ", ""),
            _fold(names[area_ids.index(area)]).replace(" ", ""),
        )

    for key in keys:
        skey = str(int(key)) if isinstance(key, float) and key.is_integer() else str(key)
        found, how = None, None
        for method in methods:
            if method == "explicit" and skey in mapping:
                found = mapping[skey]
            elif method == "exact" and skey.strip() in id_set:
                found = skey.strip()
            elif method == "normalised":
                cands = by_norm.get(normalise_key(skey), [])
                found = cands[0] if len(cands) == 1 else None
            elif method == "code":
                prefix, num, name_part = split_key(skey)
                cands = by_number.get(num, set()) if num is not None else set()
                if len(cands) == 1:
                    area = next(iter(cands))
                    a_prefix, _, _ = split_key(area)
                    other_name = table_names.get(skey, "")
                    if (
                        (not prefix or not a_prefix or prefix == a_prefix)
                        and _names_agree(area, name_part)
                        and _names_agree(area, other_name)
                    ):
                        found = area
            elif method == "name":
                _, num, name_part = split_key(skey)
                variants = {_fold(skey).replace(" ", "")}
                if name_part:
                    variants.add(name_part.replace(" ", ""))
                if num is None and skey in table_names and table_names[skey]:
                    # the table's name column helps only for keys that are not codes themselves
                    variants.add(_fold(table_names[skey]).replace(" ", ""))
                cands = sorted({a for v in variants for a in by_name.get(v, [])})
                found = cands[0] if len(cands) == 1 else None
            if found is not None:
                how = method
                break
        if found is not None and found in id_set:
            result.mapping[key] = found
            result.methods[key] = how
        else:
            result.unmatched.append(key)
    # several keys on one area: a conflict, none of them is used
    hits: dict[str, list] = {}
    for k, a in result.mapping.items():
        hits.setdefault(a, []).append(k)
    for a, ks in hits.items():
        if len(ks) > 1:
            result.conflicts[a] = ks
    strength = {m: i for i, m in enumerate(METHODS)}
    for a, ks in list(result.conflicts.items()):
        ranked = sorted(ks, key=lambda k: strength[result.methods[k]])
        best, runner_up = ranked[0], ranked[1]
        if strength[result.methods[best]] < strength[result.methods[runner_up]] and result.methods[
            best
        ] in ("explicit", "exact", "normalised"):
            # an exact id match beats a weaker code/name match of another key
            for k in ranked[1:]:
                del result.mapping[k]
                del result.methods[k]
                result.unmatched.append(k)
            del result.conflicts[a]
            continue
        for k in ks:
            del result.mapping[k]
            del result.methods[k]
    matched_areas = set(result.mapping.values()) | set(result.conflicts)
    result.areas_without_data = [a for a in area_ids if a not in matched_areas]
    # suggestions for what is left: closest ids and names among areas still free
    # only areas that have no data yet are proposed: a key is never suggested onto an area
    # another key already fills (e.g. a district total named like one of its areas)
    free = [a for a in area_ids if a not in matched_areas]
    labels: dict[str, str] = {}
    for a in free:
        labels[_fold(a)] = a
        if area_name_part.get(a):
            labels[area_name_part[a]] = a
        if names[area_ids.index(a)]:
            labels[_fold(names[area_ids.index(a)])] = a
    for key in result.unmatched[:200] if suggest else []:
        if not any(ch.isalpha() for ch in str(key)) and str(key) not in table_names:
            # a bare number is never "close" to another number: no guesses
            result.suggestions[key] = []
            continue
        probes = (
            [_fold(str(key)), split_key(key)[2]] if any(ch.isalpha() for ch in str(key)) else []
        )
        if str(key) in table_names:
            probes.append(_fold(str(table_names[str(key)])))
        seen: list[str] = []
        for probe in filter(None, probes):
            for lab in difflib.get_close_matches(probe, list(labels), n=3, cutoff=0.75):
                if labels[lab] not in seen:
                    seen.append(labels[lab])
        result.suggestions[key] = seen[:3]
    return result
