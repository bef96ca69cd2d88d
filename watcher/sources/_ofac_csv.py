"""OFAC legacy flat files: CSV (`,`), pipe (`.pip`), at-sign (`.del`) and fixed-width (`.ff`).

No header, `-0-` for null, cp1252, CRLF or LF, often a trailing 0x1A (DOS end-of-file).
Main table (12 columns), addresses (6), aliases (5) and the remarks spill-over file (2)
are linked by `ent_num`. Also holds the conventions every OFAC format shares (program
splitting, text folding), so the XML parsers produce exactly the same Entry.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from watcher.errors import ParseError
from watcher.models import Address, Entry, built_entry

Row = list[str | None]
ListCode = Callable[[Sequence[str]], str]

NULL = "-0-"
_NULLS = frozenset(("", NULL))  # a cell that strips to one of these is null
_NULL_CELLS = frozenset(("", " ", NULL, f"{NULL} ", f" {NULL}"))  # the usual ones, no strip
COLUMNS = {"primary": 12, "add": 6, "alt": 5, "comments": 2}
# Fixed-width layouts from dat_spec.txt; the main table's program column was 50 wide in 2018
# and 200 wide since, so it is derived from the line length (remarks are always last).
_FF_WIDTHS = {
    "add": (10, 10, 750, 116, 250, 200),
    "alt": (10, 10, 8, 350, 200),
}
_FF_PRIMARY = (10, 350, 12, 0, 200, 8, 25, 14, 8, 40, 150, 1000)
_DELIMITED = re.compile(r"\s*\d+\s*([,|@])")
_FF = re.compile(r" *\d+")
ENTITY_TYPES = frozenset({"individual", "vessel", "aircraft", "entity"})
# Program codes: `SDGT`, `CMIC-EO13959`, `CAATSA - RUSSIA`, `561-Related` (no commas, short).
_PROGRAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{0,39}")
# Share of malformed rows above which the file is not believed at all.
MAX_BAD_SHARE = 0.10
VESSEL_FIELDS = (
    "call_sign",
    "vessel_type",
    "tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
)


def split_programs(text: str | None) -> list[str]:
    """`SDNTK] [ILLICIT-DRUGS-EO` -> ['SDNTK', 'ILLICIT-DRUGS-EO'] (brackets stripped)."""
    if not text:
        return []
    return [p.strip(" []") for p in text.split("] [") if p.strip(" []")]


def tidy(text: str | None) -> str | None:
    """Whitespace collapsed, None when blank: for `raw` values, which make_entry keeps as is."""
    return " ".join(text.split()) or None if text else None


def fold(text: str | None) -> str | None:
    """OFAC's flat files turn `"` into `'`; the XML parsers fold the same way so that one
    list compares equal across formats."""
    return text.replace('"', "'") if text else text


def join_name(last: str | None, first: str | None) -> str:
    """'LAST, First' as the CSV writes individuals; just the name for everything else."""
    return ", ".join(part for part in (last, first) if part)


def flat_address(
    lines: list[str | None],
    city: str | None,
    state: str | None,
    postal: str | None,
    country: str | None,
) -> Address:
    """The address the way the flat files write it: lines joined by ', ' and one
    'City, State Postal' field (kept in `city`), so XML and CSV compare equal."""
    place = " ".join(p for p in (", ".join(p for p in (city, state) if p), postal) if p)
    return Address(
        address=fold(", ".join(line for line in lines if line)) or None,
        city=fold(place) or None,
        country=fold(country),
    )


@dataclass
class Tables:
    """Rows of the flat files of one fetch, by kind, plus what was noticed on the way."""

    primary: list[Row]
    companions: dict[str, list[Row]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def looks_flat(data: bytes) -> bool:
    """True if the bytes start like an OFAC flat file (a record number first)."""
    head = data[:64].decode("latin-1")
    return bool(_DELIMITED.match(head) or _FF.match(head))


def read_rows(data: bytes, kind: str, label: str, warnings: list[str]) -> list[Row]:
    """Rows of one flat file with nulls as None; ParseError on truncation or garbage."""
    if not data.strip(b"\x1a \r\n\t"):
        raise ParseError(f"{label}: empty file")
    if b"\0" in data:
        raise ParseError(f"{label}: binary data (NUL bytes), not an OFAC flat file")
    text = _decode(data, label, warnings).rstrip("\x1a")
    first = text.lstrip("\r\n")[:64]
    delimited = _DELIMITED.match(first)
    if delimited:
        rows = _read_delimited(text, delimited.group(1), label)
    elif _FF.match(first) and kind in ("primary", *_FF_WIDTHS):
        rows = _read_fixed(text, kind)
    else:
        raise ParseError(f"{label}: not an OFAC flat file (no record number at the start)")
    return _check_rows(rows, kind, label, warnings)


def _decode(data: bytes, label: str, warnings: list[str]) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five byte values undefined; latin-1 maps every byte.
        warnings.append(f"{label}: bytes undefined in cp1252, decoded as latin-1")
        return data.decode("latin-1")


def _read_delimited(text: str, delimiter: str, label: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = [row for row in reader if (row and row[0].strip()) or any(c.strip() for c in row)]
    except csv.Error as exc:
        raise ParseError(f"{label}: truncated or malformed ({exc})") from None
    if rows and not text.endswith(("\n", "\r")) and not text.rstrip(" ").endswith('"'):
        # The last row has no line end (some copies drop it): its final field must be a
        # whole quoted value or a null marker, else the file was cut inside that field.
        tail = rows[-1][-1].strip()
        if not tail or not NULL.startswith(tail):
            raise ParseError(f"{label}: truncated: last row ends inside a value ({tail[-20:]!r})")
        rows[-1][-1] = NULL
    return rows


def _read_fixed(text: str, kind: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        widths = _FF_WIDTHS.get(kind)
        if widths is None:
            widths = tuple(w or (200 if len(line) >= 2017 else 50) for w in _FF_PRIMARY)
        if len(line) < sum(widths) - widths[-1]:
            rows.append([line])  # short line: reported as a bad row below
            continue
        cells: list[str] = []
        pos = 0
        for width in widths:
            cells.append(fold(line[pos : pos + width].rstrip()) or "")
            pos += width
        rows.append(cells)
    return rows


def _check_rows(rows: list[list[str]], kind: str, label: str, warnings: list[str]) -> list[Row]:
    want = COLUMNS[kind]
    good: list[Row] = []
    bad: list[int] = []
    for number, row in enumerate(rows, 1):
        if len(row) != want or not row[0].strip().isdigit():
            bad.append(number)
            continue
        good.append([None if c in _NULL_CELLS or c.strip() in _NULLS else c for c in row])
    if len(bad) > MAX_BAD_SHARE * len(rows):
        raise ParseError(f"{label}: {len(bad)} of {len(rows)} rows do not have {want} columns")
    if bad and bad[-1] == len(rows):
        last = rows[-1]
        raise ParseError(f"{label}: truncated: last row malformed ({len(last)} of {want} columns)")
    if bad:
        shown = ", ".join(map(str, bad[:10]))
        warnings.append(f"{label}: skipped {len(bad)} rows without {want} columns (rows {shown})")
    if kind == "primary":
        check_cells(good, label, warnings)
    return good


def check_cells(rows: Sequence[Row], label: str, warnings: list[str]) -> None:
    """Each main-table column must hold what it should (a name, a known entity type, programs
    shaped like programs) before anything is diffed: a file with shuffled columns keeps its
    uids but would otherwise "modify" every entry."""
    names = types = programs = 0
    valid: dict[str | None, bool] = {}  # a few hundred distinct program cells in 15,000 rows
    for r in rows:
        if not r[1]:
            names += 1
        if r[2] is not None and r[2].strip() not in ENTITY_TYPES:
            types += 1
        ok = valid.get(r[3])
        if ok is None:
            ok = valid[r[3]] = all(_PROGRAM.fullmatch(p) for p in split_programs(r[3]))
        if not ok:
            programs += 1
    problems = {
        "name (column 2) is empty": names,
        f"type (column 3) is not one of {sorted(ENTITY_TYPES)}": types,
        "programs (column 4) are not program codes": programs,
    }
    for problem, count in problems.items():
        if count > MAX_BAD_SHARE * max(len(rows), 1):
            raise ParseError(f"{label}: {count} of {len(rows)} rows: {problem}; columns moved?")
        if count:
            warnings.append(f"{label}: {count} rows: {problem}")


def companion_kind(name: str) -> str | None:
    """'add.csv' -> 'add', 'cons_alt.pip' -> 'alt', 'sdn_comments.csv' -> 'comments'."""
    lowered = name.lower().rsplit("/", 1)[-1]
    for kind in ("comments", "alt", "add"):
        if kind in lowered:
            return kind
    return None


def read_tables(files: Mapping[str, bytes]) -> Tables:
    """Read the primary flat file and every recognised companion."""
    warnings: list[str] = []
    tables = Tables(read_rows(files["primary"], "primary", "primary", warnings), warnings=warnings)
    for name, data in files.items():
        if name == "primary":
            continue
        kind = companion_kind(name)
        if kind is None:
            warnings.append(f"{name}: not an address, alias or comments file; ignored")
            continue
        if kind == "comments" and not data.strip(b"\x1a \r\n"):
            continue  # no remarks overflow today: a real, empty spill-over file
        rows = read_rows(data, kind, name, warnings)
        tables.companions.setdefault(kind, []).extend(rows)
    return tables


def build_entries(tables: Tables, source: str, list_code: ListCode) -> list[Entry]:
    """One Entry per main-table row, with its addresses, aliases and remarks overflow.

    Exactly what `make_entry` builds from these fields (tests/sources/test_ofac_build.py holds
    the two equal on every fixture), without its generic cleaning of fields a flat file never
    fills: 15,000 rows share a few hundred program cells and four types, looked up once each.
    """
    row_keys = [_key(row) for row in tables.primary]
    keys = set(row_keys)
    aliases = _group(tables.companions.get("alt", []), 3, keys, "alt", tables.warnings)
    places = _group_addresses(tables.companions.get("add", []), keys, tables.warnings)
    extra = _group(tables.companions.get("comments", []), 1, keys, "comments", tables.warnings)
    programs_of: dict[str | None, tuple[str, tuple[str, ...]]] = {}
    types: dict[str | None, str | None] = {}
    entries: dict[str, Entry] = {}
    for key, row in zip(row_keys, tables.primary, strict=True):
        if key in entries:
            tables.warnings.append(f"primary: duplicate ent_num {key}; first row kept")
            continue
        cell = row[3]
        programs = programs_of.get(cell)
        if programs is None:
            split = split_programs(cell)
            programs = programs_of[cell] = (list_code(split), _unique_sorted(split))
        kind = row[2]
        if kind not in types:
            types[kind] = _clean((kind or "entity").lower())
        name = " ".join((row[1] or "").split())
        remarks = row[11]
        if key in extra:
            remarks = "".join(part for part in [remarks, *extra[key]] if part)
        raw = {}
        if any(row[4:11]):
            for column, field_name in _RAW_COLUMNS:
                value = tidy(row[column])
                if value:
                    raw[field_name] = value
        entries[key] = built_entry(
            source=source,
            key=key,
            list_code=programs[0],
            name=name,
            entity_type=types[kind],
            aliases=_aliases(aliases[key], name) if key in aliases else (),
            addresses=_addresses(places[key]) if key in places else (),
            programs=programs[1],
            ids=(),
            remarks=_clean(remarks),
            citations=(),
            dates={},
            raw=raw,
        )
    return list(entries.values())


# (column, raw key) of the main table's title and vessel columns, in the raw keys' sorted order.
_RAW_COLUMNS = tuple(
    sorted(zip(range(4, 11), ("title", *VESSEL_FIELDS), strict=True), key=lambda c: c[1])
)


def _clean(value: str | None) -> str | None:
    return " ".join(value.split()) or None if value else None


def _unique_sorted(values: list[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in (_clean(x) for x in values) if v}))


def _aliases(names: list[str], name: str) -> tuple[str, ...]:
    return tuple(a for a in _unique_sorted(names) if a != name)


def _addresses(found: list[Address]) -> tuple[Address, ...]:
    unique = {
        Address(
            _clean(a.address), _clean(a.city), _clean(a.state), _clean(a.postal_code),
            _clean(a.country),
        )
        for a in found
    }  # fmt: skip
    unique.discard(Address())
    return tuple(sorted(unique, key=_address_order))


def _address_order(a: Address) -> tuple[str, ...]:
    return (a.country or "", a.city or "", a.address or "", a.state or "", a.postal_code or "")


def _key(row: Row) -> str:
    return str(int(row[0] or "0"))


def _group(
    rows: list[Row], column: int, keys: set[str], label: str, warnings: list[str]
) -> dict[str, list[str]]:
    # Comments rows keep their raw text: the overflow continues mid-word, so the parts are
    # joined exactly, never stripped.
    out: dict[str, list[str]] = {}
    orphans = 0
    for row in rows:
        key = _key(row)
        value = row[column]
        if key not in keys:
            orphans += 1
        elif value:
            out.setdefault(key, []).append(value)
    if orphans:
        warnings.append(f"{label}: {orphans} rows refer to no main-table record")
    return out


def _group_addresses(
    rows: list[Row], keys: set[str], warnings: list[str]
) -> dict[str, list[Address]]:
    out: dict[str, list[Address]] = {}
    orphans = 0
    for row in rows:
        key = _key(row)
        if key not in keys:
            orphans += 1
            continue
        out.setdefault(key, []).append(Address(address=row[2], city=row[3], country=row[4]))
    if orphans:
        warnings.append(f"add: {orphans} rows refer to no main-table record")
    return out
