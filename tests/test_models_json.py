"""`canonical_json` writes exactly what the generic encoder writes, so content hashes (stored
in every version row, compared by every diff) never change: checked on every source's real
fixtures and on entries holding what JSON escapes (quotes, controls, non-ASCII, numbers)."""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import FrozenInstanceError, fields

import pytest

from tests.conftest import fixture_bytes
from watcher.models import Address, Entry, Identifier, built_entry, canonical_json
from watcher.sources.base import Source
from watcher.sources.federal_register import FederalRegister
from watcher.sources.news import News
from watcher.sources.ofac import OfacConsolidated, OfacSdn
from watcher.sources.trade_csl import TradeCsl

FR = "federal_register/"
CASES: list[tuple[Source, dict[str, str]]] = [
    (OfacSdn(), {"primary": "ofac_sdn/sdn_2024-05-03.csv"}),
    (
        OfacSdn(),
        {
            "primary": "ofac_sdn/moov_sdn_2019-01.csv",
            "add.csv": "ofac_sdn/moov_add_2019-01.csv",
            "alt.csv": "ofac_sdn/moov_alt_2019-01.csv",
        },
    ),
    (OfacConsolidated(), {"primary": "ofac_consolidated/consolidated_2018-04-06.xml"}),
    (OfacConsolidated(), {"primary": "ofac_consolidated/cons_advanced_2020-03-17.xml"}),
    (TradeCsl(), {"primary": "trade_gov_csl/moov_csl_sample_2023-11-30.csv"}),
    (TradeCsl(), {"primary": "trade_gov_csl/moov_csl_excerpt_2025-06-25.csv"}),
    (
        FederalRegister(),
        {
            "primary": FR + "fr_documents_bis_agency_captured-2026-09-25.json",
            "fulltext:2023-03929": FR + "fr_2023-03929_2023-02-27_additions_entity_list.xml",
        },
    ),
    (
        News({"feeds": ["http://127.0.0.1/a"]}),
        {"primary": "news_rss/guardian_us_rss_2018-01-31.rss"},
    ),
]


def generic(entry: Entry) -> str:
    return json.dumps(entry.to_dict(), sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize(
    ("source", "files"), CASES, ids=[f["primary"].rsplit("/", 1)[-1] for _, f in CASES]
)
def test_canonical_json_equals_the_encoder_on_real_entries(
    source: Source, files: dict[str, str]
) -> None:
    entries = source.parse({n: fixture_bytes(p) for n, p in files.items()}).entries
    assert len(entries) > 10
    assert [canonical_json(e) for e in entries] == [generic(e) for e in entries]
    # Entries read back from stored JSON (from_dict) take the same path.
    again = [Entry.from_dict(json.loads(json.dumps(e.to_dict()))) for e in entries[:500]]
    assert [canonical_json(e) for e in again] == [generic(e) for e in entries[:500]]


def test_canonical_json_escapes_like_the_encoder() -> None:
    odd = 'Qu"ote \\ back\tslash\n\x00\x1f ÄÖ 北京 \u2028 😀'
    entry = Entry(
        source="s",
        key=odd,
        list_code="L",
        name=odd,
        entity_type=None,
        aliases=(odd, "b"),
        addresses=(Address(odd, None, "st", None, "CN"), Address()),
        programs=("P",),
        ids=(Identifier("passport", odd, None), Identifier("t", "v", "c")),
        remarks=None,
        citations=("88 FR 1",),
        dates={"z": "2024-01-01", "a": odd},
        raw={
            "n": 1,
            "f": 0.1,
            "b": True,
            "none": None,
            "l": [odd, {"k": [1, 2]}],
            "d": {"y": 1, "x": 2},
        },
    )
    assert canonical_json(entry) == generic(entry)
    bare = Entry(source="s", key="1", list_code="L", name="")
    assert canonical_json(bare) == generic(bare)
    want = hashlib.sha256(generic(entry).encode()).hexdigest()
    assert entry.content_hash() == want


def test_built_entry_is_the_dataclass() -> None:
    """Every field, in order: an Entry field added later cannot be forgotten by the builder."""
    assert list(inspect.signature(built_entry).parameters) == [f.name for f in fields(Entry)]
    values = {
        "source": "s", "key": "k", "list_code": "L", "name": "n", "entity_type": "entity",
        "aliases": ("a",), "addresses": (Address("x"),), "programs": ("P",),
        "ids": (Identifier("t", "v"),), "remarks": "r", "citations": ("c",),
        "dates": {"d": "1"}, "raw": {"r": "1"},
    }  # fmt: skip
    built, plain = built_entry(**values), Entry(**values)  # type: ignore[arg-type]
    assert built == plain and built.to_dict() == plain.to_dict() and repr(built) == repr(plain)
    with pytest.raises(FrozenInstanceError):
        built.name = "other"  # type: ignore[misc]
