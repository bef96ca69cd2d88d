"""OFAC SDN and Consolidated sources on the real published files (fixtures read in place).

Corrupted variants (truncated, shuffled, re-terminated, hostile) are derived from the real
bytes inside each test.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import fixture_bytes
from watcher.errors import ParseError
from watcher.models import Address, Entry, ParseResult
from watcher.sources._ofac_csv import split_programs
from watcher.sources._xml import iter_children, local_name, parse_xml
from watcher.sources.ofac import OfacConsolidated, OfacSdn, consolidated_list_code

SDN = "ofac_sdn/"
CONS = "ofac_consolidated/"


def sdn(files: dict[str, bytes]) -> ParseResult:
    return OfacSdn().parse(files)


def cons(files: dict[str, bytes]) -> ParseResult:
    return OfacConsolidated().parse(files)


def by_key(result: ParseResult) -> dict[str, Entry]:
    return {e.key: e for e in result.entries}


def hashes(result: ParseResult) -> dict[str, str]:
    return {e.key: e.content_hash() for e in result.entries}


def moov_trio(period: str) -> dict[str, bytes]:
    files = {
        "primary": fixture_bytes(f"{SDN}moov_sdn_{period}.csv"),
        "add.csv": fixture_bytes(f"{SDN}moov_add_{period}.csv"),
        "alt.csv": fixture_bytes(f"{SDN}moov_alt_{period}.csv"),
    }
    if period == "2019-01":
        files["sdn_comments.csv"] = fixture_bytes(f"{SDN}moov_sdn_comments_2019-01.csv")
    return files


def cons_2018(primary: str = "cons_prim_2018-04-06.csv") -> dict[str, bytes]:
    return {
        "primary": fixture_bytes(CONS + primary),
        "cons_add.csv": fixture_bytes(f"{CONS}cons_add_2018-04-06.csv"),
        "cons_alt.csv": fixture_bytes(f"{CONS}cons_alt_2018-04-06.csv"),
    }


@pytest.fixture(scope="module")
def sdn_1210() -> ParseResult:
    return sdn({"primary": fixture_bytes(f"{SDN}sdn_2021-12-10.csv")})


@pytest.fixture(scope="module")
def legacy_xml_2018() -> ParseResult:
    return cons({"primary": fixture_bytes(f"{CONS}consolidated_2018-04-06.xml")})


@pytest.fixture(scope="module")
def advanced_2020() -> ParseResult:
    return cons({"primary": fixture_bytes(f"{CONS}cons_advanced_2020-03-17.xml")})


# --- SDN CSV ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("sdn_2021-12-09.csv", 9121),
        ("sdn_2021-12-10.csv", 9146),
        ("sdn_2021-12-16.csv", 9154),
        ("sdn_2024-05-03.csv", 14965),
    ],
)
def test_sdn_csv_counts(name: str, count: int) -> None:
    result = sdn({"primary": fixture_bytes(SDN + name)})
    assert len(result.entries) == count
    assert len({e.key for e in result.entries}) == count
    assert result.warnings == ()
    assert result.published_at is None  # the CSV carries no date
    assert {e.list_code for e in result.entries} == {"SDN"}


def test_sdn_xinjiang_glomag_designations(sdn_1210: ParseResult) -> None:
    entries = by_key(sdn_1210)
    zakir = entries["34079"]
    assert zakir.name == "ZAKIR, Shohrat"
    assert zakir.entity_type == "individual"
    assert zakir.programs == ("GLOMAG",)
    assert zakir.remarks is not None
    assert "Linked To: XINJIANG PUBLIC SECURITY BUREAU" in zakir.remarks
    assert entries["34119"].name.startswith("TUNIYAZ, Erken")
    assert entries["34119"].programs == ("GLOMAG",)


def test_sdn_null_type_is_entity_and_vessels_keep_their_fields(sdn_1210: ParseResult) -> None:
    entries = by_key(sdn_1210)
    assert entries["306"].entity_type == "entity"  # BANCO NACIONAL DE CUBA, type -0-
    assert entries["306"].remarks == "a.k.a. 'BNC'."
    vessels = [e for e in sdn_1210.entries if e.entity_type == "vessel"]
    assert len(vessels) == 420
    assert sum(1 for e in vessels if "vessel_type" in e.raw) == 309  # not all have details
    assert entries["4243"].raw == {
        "gross_registered_tonnage": "1865",
        "tonnage": "2595",
        "vessel_flag": "Panama",
        "vessel_type": "General Cargo",
    }
    assert {e.entity_type for e in sdn_1210.entries} == {
        "individual",
        "entity",
        "vessel",
        "aircraft",
    }


def test_empty_download_is_refused() -> None:
    data = fixture_bytes(f"{SDN}sdn_2024-05-04.csv")
    assert data == b""
    with pytest.raises(ParseError, match="empty"):
        sdn({"primary": data})


def test_programs_gained_illicit_drugs_eo(sdn_1210: ParseResult) -> None:
    """17 SDNTK entries gained ILLICIT-DRUGS-EO (modifications, not removals): 16 were
    SDNTK only, LOS ZETAS (11438) was SDNTK + TCO. No other program changed."""
    later = by_key(sdn({"primary": fixture_bytes(f"{SDN}sdn_2021-12-16.csv")}))
    before = by_key(sdn_1210)
    common = before.keys() & later.keys()
    changed = {k for k in common if before[k].programs != later[k].programs}
    gained = {
        k
        for k in changed
        if set(later[k].programs) - set(before[k].programs) == {"ILLICIT-DRUGS-EO"}
        and "SDNTK" in before[k].programs
    }
    assert len(gained) == len(changed) == 17
    exact = {k for k in gained if before[k].programs == ("SDNTK",)}
    assert len(exact) == 16
    assert all(later[k].programs == ("ILLICIT-DRUGS-EO", "SDNTK") for k in exact)
    assert gained - exact == {"11438"}
    assert len(later.keys() - before.keys()) == 8
    assert not before.keys() - later.keys()


@pytest.mark.parametrize(
    ("text", "programs"),
    [
        ("SDNTK] [ILLICIT-DRUGS-EO", ["SDNTK", "ILLICIT-DRUGS-EO"]),
        ("[SDGT] [IFSR]", ["SDGT", "IFSR"]),
        ("GLOMAG", ["GLOMAG"]),
        (None, []),
    ],
)
def test_split_programs(text: str | None, programs: list[str]) -> None:
    assert split_programs(text) == programs


# --- companions --------------------------------------------------------------------------


def test_moov_trios_attach_aliases_addresses_and_remarks_overflow() -> None:
    old = sdn(moov_trio("2019-01"))
    new = sdn(moov_trio("2021-07"))
    assert (len(old.entries), len(new.entries)) == (7379, 8976)
    assert old.warnings == () and new.warnings == ()
    entries = by_key(new)
    psb = entries["29159"]
    assert psb.name == "XINJIANG PUBLIC SECURITY BUREAU"
    assert "XINJIANG BUREAU OF PUBLIC SECURITY" in psb.aliases
    assert len(psb.aliases) == 4
    assert psb.addresses == (Address(city="Xinjiang", country="China"),)
    xpcc = entries["29299"]
    assert xpcc.name == "XINJIANG PRODUCTION AND CONSTRUCTION CORPS"
    assert xpcc.countries() == ("China",)
    assert not {"29159", "29299"} & set(by_key(old))
    with_aliases = sum(1 for e in new.entries if e.aliases)
    with_addresses = sum(1 for e in new.entries if e.addresses)
    assert with_aliases > 3000 and with_addresses > 5000


def test_comments_file_continues_remarks_mid_word() -> None:
    files = moov_trio("2019-01")
    cut = by_key(sdn({k: v for k, v in files.items() if k != "sdn_comments.csv"}))["12300"]
    whole = by_key(sdn(files))["12300"]
    assert cut.remarks is not None and cut.remarks.endswith("Linked To: PROMO RAI")
    assert whole.remarks is not None
    assert "Linked To: PROMO RAIZ S.A.S.; Linked To: RED MUNDIAL" in whole.remarks
    assert whole.remarks.endswith("Linked To: R D I S.A.")


def test_companions_are_recognised_by_name_part() -> None:
    trio = moov_trio("2021-07")
    renamed = {
        "primary": trio["primary"],
        "SDN_ADD.CSV": trio["add.csv"],
        "my-alt-file": trio["alt.csv"],
        "readme.txt": b"hello",
    }
    result = sdn(renamed)
    assert hashes(result) == hashes(sdn(trio))
    assert any("readme.txt" in w for w in result.warnings)


def test_companion_rows_without_a_main_record_are_reported() -> None:
    trio = moov_trio("2021-07")
    trio["alt.csv"] = trio["alt.csv"].rstrip(b"\x1a") + b'99999999,1,"aka","NOBODY",-0- \r\n'
    result = sdn(trio)
    assert any("alt: 1 rows refer to no main-table record" in w for w in result.warnings)


# --- consolidated: one list, five formats ----------------------------------------------

SAME_IN_EVERY_FORMAT = (
    "key",
    "name",
    "entity_type",
    "programs",
    "list_code",
    "aliases",
    "addresses",
)


@pytest.mark.parametrize(
    "primary",
    ["cons_prim_2018-04-06.pip", "cons_prim_2018-04-06.del", "cons_prim_2018-04-06.ff"],
)
def test_flat_variants_equal_the_csv(primary: str) -> None:
    """Pipe, at-sign and fixed-width files hold the same rows as the CSV: identical entries."""
    assert hashes(cons(cons_2018(primary))) == hashes(cons(cons_2018()))


def test_csv_and_legacy_xml_give_the_same_list(legacy_xml_2018: ParseResult) -> None:
    """CSV trio and consolidated.xml of 2018-04-06: the same 639 parties.

    Equal: key, name, entity_type, programs, list_code, aliases, addresses.
    Legitimately different:
    - remarks: the flat files pack identifiers, birth dates, weak aliases etc. into remarks;
      the XML has them as structured elements and keeps only the free text in <remarks>.
    - ids: the XML's idList; the CSV has none (they stay inside its remarks).
    - raw: XML adds weak_aliases, dates_of_birth, places_of_birth, nationalities...
    Aliases are the strong ones in both (the CSV's alt file has no weak aliases).
    """
    flat = by_key(cons(cons_2018()))
    xml = by_key(legacy_xml_2018)
    assert len(flat) == len(xml) == 639
    assert flat.keys() == xml.keys()
    for key, entry in flat.items():
        for name in SAME_IN_EVERY_FORMAT:
            assert getattr(entry, name) == getattr(xml[key], name), (key, name)
    assert sum(1 for e in flat.values() if e.addresses) > 400
    assert sum(1 for e in flat.values() if e.aliases) > 400
    assert not any(e.ids for e in flat.values())
    assert sum(1 for e in xml.values() if e.ids) > 400
    assert sum(1 for e in xml.values() if e.raw.get("weak_aliases")) > 10


def test_double_quotes_are_folded_like_the_flat_files(legacy_xml_2018: ParseResult) -> None:
    address = by_key(legacy_xml_2018)["11625"].addresses[0].address
    assert address is not None and "Maker Tower 'F'" in address


def test_legacy_xml_publish_date_and_record_count(legacy_xml_2018: ParseResult) -> None:
    assert legacy_xml_2018.published_at == datetime(2018, 4, 6, tzinfo=UTC)
    assert legacy_xml_2018.warnings == ()
    data = fixture_bytes(f"{CONS}consolidated_2018-04-06.xml")
    start = data.index(b"<sdnEntry>")
    end = data.index(b"</sdnEntry>", start) + len(b"</sdnEntry>")
    with pytest.raises(ParseError, match="Record_Count says 639, found 638"):
        cons({"primary": data[:start] + data[end:]})


def test_legacy_to_advanced_by_uid(
    legacy_xml_2018: ParseResult, advanced_2020: ParseResult
) -> None:
    old, new = set(by_key(legacy_xml_2018)), set(by_key(advanced_2020))
    assert len(new - old) == 2
    assert len(old - new) == 266
    assert advanced_2020.published_at == datetime(2020, 3, 17, tzinfo=UTC)
    assert advanced_2020.warnings == ()


def test_advanced_resolves_reference_values(
    legacy_xml_2018: ParseResult, advanced_2020: ParseResult
) -> None:
    entries = by_key(advanced_2020)
    haniya = entries["9639"]
    assert haniya.name == "HANIYA, Ismail Abdul Salah"
    assert haniya.entity_type == "individual"
    assert haniya.aliases == ("HANIYA, Ismail", "HANIYYA, Ismaeel")
    assert (haniya.programs, haniya.list_code) == (("NS-PLC",), "PLC")
    assert haniya.raw["places_of_birth"] == ["Shati"]
    bank = entries["17016"]
    assert bank.list_code == "SSI"
    assert ("SWIFT/BIC", "GAZPRUMM") in {(i.type, i.value) for i in bank.ids}
    assert ("Tax ID No.", "7744001497") in {(i.type, i.value) for i in bank.ids}
    legacy = by_key(legacy_xml_2018)["17016"]
    assert bank.addresses == legacy.addresses  # Location ids -> the same flat address
    assert set(bank.ids) == set(legacy.ids)
    unchanged = [k for k in entries if by_key(legacy_xml_2018).get(k) == entries[k]]
    assert len({e.list_code for e in advanced_2020.entries}) >= 4
    assert unchanged == []  # advanced adds listing dates, so no entry is byte-identical


def test_cmic_list_2025() -> None:
    new = cons(
        {
            "primary": fixture_bytes(f"{CONS}cons_prim_2025-04-21.csv"),
            "cons_add.csv": fixture_bytes(f"{CONS}cons_add_2025-04-21.csv"),
        }
    )
    assert len(new.entries) == 443
    entries = by_key(new)
    assert entries["33114"].name == "SENSETIME GROUP LIMITED"
    for key in ("33114", "33091", "30946", "33893", "33896"):
        assert entries[key].programs == ("CMIC-EO13959",), key
        assert entries[key].list_code == "CMIC", key
        assert entries[key].addresses, key
    assert "MEGVII" in entries["33091"].name
    assert "HIKVISION" in entries["30946"].name
    assert "YITU" in entries["33893"].name
    assert "MEIYA PICO" in entries["33896"].name
    old = by_key(cons(cons_2018()))
    cmic_new = {k for k, e in entries.items() if "CMIC-EO13959" in e.programs} - old.keys()
    assert len(cmic_new) == 68


@pytest.mark.parametrize(
    ("programs", "code"),
    [
        (["CMIC-EO13959"], "CMIC"),
        (["NS-CMIC-EO13959"], "CMIC"),
        (["UKRAINE-EO13662", "SYRIA"], "SSI"),
        (["FSE-SY"], "FSE"),
        (["NS-PLC"], "PLC"),
        (["NS-MBS"], "MBS"),
        (["CAPTA"], "CAP"),
        (["561List"], "CONS"),
        ([], "CONS"),
    ],
)
def test_consolidated_list_code(programs: list[str], code: str) -> None:
    assert consolidated_list_code(programs) == code


# --- invariance -----------------------------------------------------------------------------


def test_line_endings_eof_byte_and_row_order_do_not_matter(sdn_1210: ParseResult) -> None:
    data = fixture_bytes(f"{SDN}sdn_2021-12-10.csv")
    assert data.endswith(b"\r\n\x1a")
    expected = hashes(sdn_1210)
    rows = data.rstrip(b"\x1a").split(b"\r\n")[:-1]
    random.Random(20211210).shuffle(rows)
    variants = {
        "lf": data.replace(b"\r\n", b"\n"),
        "no-eof": data.rstrip(b"\x1a"),
        "shuffled": b"\r\n".join(rows) + b"\r\n",
    }
    for label, variant in variants.items():
        assert hashes(sdn({"primary": variant})) == expected, label


def test_companion_order_does_not_matter() -> None:
    trio = moov_trio("2021-07")
    rows = trio["add.csv"].rstrip(b"\x1a").split(b"\r\n")[:-1]
    random.Random(7).shuffle(rows)
    shuffled = dict(trio, **{"add.csv": b"\n".join(rows)})
    assert hashes(sdn(shuffled)) == hashes(sdn(trio))


# --- malformed input --------------------------------------------------------------------


def _small_sdn() -> tuple[bytes, ParseResult]:
    rows = fixture_bytes(f"{SDN}sdn_2021-12-10.csv").split(b"\r\n")[-60:-1]
    data = b"\r\n".join(rows) + b"\r\n"
    return data, sdn({"primary": data})


def test_truncation_never_yields_a_wrong_last_row() -> None:
    """Cut the file at every byte of its last two rows: either ParseError, or every entry
    parsed equals the untruncated one (a cut at a row boundary loses whole rows only)."""
    data, whole = _small_sdn()
    full = by_key(whole)
    start = data.rindex(b"\r\n", 0, len(data) - 2)
    start = data.rindex(b"\r\n", 0, start) + 2
    refused = 0
    for cut in range(start, len(data)):
        try:
            result = sdn({"primary": data[:cut]})
        except ParseError:
            refused += 1
            continue
        for entry in result.entries:
            assert entry == full[entry.key], cut
    assert refused > (len(data) - start) // 2


def test_unterminated_quote_is_refused() -> None:
    data, _ = _small_sdn()
    cut = data.rindex(b"Linked To")
    with pytest.raises(ParseError, match="truncated"):
        sdn({"primary": data[:cut]})


def test_short_last_row_is_refused() -> None:
    data, _ = _small_sdn()
    cut = data.rindex(b",-0- ,") + 6
    with pytest.raises(ParseError, match="truncated"):
        sdn({"primary": data[:cut]})


def test_few_bad_rows_are_warned_most_are_fatal() -> None:
    data = fixture_bytes(f"{SDN}sdn_2021-12-10.csv")
    rows = data.split(b"\r\n")
    rows.insert(100, b'1,"TOO","FEW"')
    result = sdn({"primary": b"\r\n".join(rows)})
    assert len(result.entries) == 9146
    assert any("skipped 1 rows without 12 columns" in w for w in result.warnings)
    widened = data.replace(b"\r\n", b",-0- \r\n")
    with pytest.raises(ParseError, match="9146 of 9146 rows do not have 12 columns"):
        sdn({"primary": widened})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x1a\r\n", "empty"),
        (b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "HTML"),
        (b"  <html><head><title>Error</title></head></html>", "HTML"),
        (bytes(range(256)) * 8, "binary|neither"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "neither"),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "neither OFAC"),
    ],
)
def test_garbage_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        sdn({"primary": data})


@pytest.mark.parametrize("name", ["consolidated_2018-04-06.xml", "cons_advanced_2020-03-17.xml"])
def test_truncated_xml_is_refused(name: str) -> None:
    data = fixture_bytes(CONS + name)
    with pytest.raises(ParseError, match="malformed XML"):
        cons({"primary": data[: len(data) * 2 // 3]})


def test_unknown_xml_elements_are_reported() -> None:
    legacy = fixture_bytes(f"{CONS}consolidated_2018-04-06.xml").replace(
        b"<sdnType>", b"<riskScore>9</riskScore><sdnType>", 1
    )
    assert any("sdnEntry/riskScore" in w for w in cons({"primary": legacy}).warnings)
    advanced = fixture_bytes(f"{CONS}cons_advanced_2020-03-17.xml").replace(
        b"<Feature ", b"<Sentiment /><Feature ", 1
    )
    assert any("Profile/Sentiment" in w for w in cons({"primary": advanced}).warnings)


def test_xml_primary_ignores_companions() -> None:
    files = {
        "primary": fixture_bytes(f"{CONS}consolidated_2018-04-06.xml"),
        "cons_add.csv": fixture_bytes(f"{CONS}cons_add_2018-04-06.csv"),
    }
    result = cons(files)
    assert len(result.entries) == 639
    assert result.warnings == ("cons_add.csv: ignored, companions belong to flat files",)


# --- hostile XML --------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<sdnList xmlns="http://tempuri.org/sdnList.xsd"><sdnEntry><uid>1</uid>
<lastName>&lol3;</lastName></sdnEntry></sdnList>"""


def _xxe(path: Path) -> bytes:
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE sdnList [<!ENTITY xxe SYSTEM "file://'
        + str(path).encode()
        + b'">]>\n<sdnList xmlns="http://tempuri.org/sdnList.xsd"><sdnEntry><uid>1</uid>'
        b"<lastName>&xxe;</lastName></sdnEntry></sdnList>"
    )


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(ParseError, match="ENTITY"):
        sdn({"primary": BILLION_LAUGHS})
    with pytest.raises(ParseError, match="ENTITY"):
        parse_xml(BILLION_LAUGHS)


def test_external_entity_is_refused_and_nothing_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    for data in (_xxe(secret), _xxe(Path("/etc/passwd"))):
        with pytest.raises(ParseError, match="ENTITY") as info:
            sdn({"primary": data})
        assert "TOP-SECRET-MARKER" not in str(info.value)
        with pytest.raises(ParseError):
            parse_xml(data)


def test_utf16_entity_declaration_is_refused() -> None:
    with pytest.raises(ParseError, match="ENTITY"):
        parse_xml(
            BILLION_LAUGHS.replace(b'"1.0"?>', b'"1.0" encoding="UTF-16"?>', 1)
            .decode()
            .encode("utf-16")
        )


# --- the shared XML helper -----------------------------------------------------------------


def test_parse_xml_accepts_plain_xml_and_refuses_the_rest() -> None:
    root = parse_xml(b"<a><b>1</b></a>")
    assert [local_name(c) for c in root] == ["b"]
    for bad in (b"", b"   ", b"<a><b></a>", b"<!doctype html><p>hi", b"not xml"):
        with pytest.raises(ParseError):
            parse_xml(bad)


def test_iter_children_streams_complete_subtrees() -> None:
    data = b"<r><s><x>1</x><x>2</x></s><s><x>3</x></s></r>"
    assert [e.findtext("x") for e in iter_children(data, depth=1)] == ["1", "3"]
    assert [e.text for e in iter_children(data, depth=2)] == ["1", "2", "3"]
    with pytest.raises(ParseError, match="malformed"):
        list(iter_children(b"<r><s>"))


def test_source_declarations() -> None:
    assert (OfacSdn.name, OfacConsolidated.name) == ("ofac_sdn", "ofac_consolidated")
    assert OfacSdn.default_url == "https://www.treasury.gov/ofac/downloads/sdn.csv"
    assert OfacSdn.default_companions == ("add.csv", "alt.csv", "sdn_comments.csv")
    assert OfacConsolidated.default_companions == (
        "cons_add.csv",
        "cons_alt.csv",
        "cons_comments.csv",
    )
    assert (OfacSdn.default_min_records, OfacConsolidated.default_min_records) == (5000, 100)
    assert OfacConsolidated.default_url.endswith("/consolidated/cons_prim.csv")
