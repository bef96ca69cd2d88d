"""Entity actions from the real BIS rule 2023-03929 (88 FR 12170) and derived variants."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from lxml import etree

from tests.conftest import fixture_bytes
from watcher.entity_list.actions import (
    EntityAction,
    extract,
    extract_actions,
    normalize_document_number,
    parse_entity_list_table,
    split_citations,
)
from watcher.entity_list.amend import parse_instruction_text
from watcher.entity_list.cells import parse_entity_cell
from watcher.errors import ParseError
from watcher.keys import name_key

RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"
# The rule's own summary: "Canada (2), China (5), France (1), Luxembourg (1), Netherlands (1),
# and Russia (3)", 13 entries.
EXPECTED_COUNTRIES = {
    "CANADA": 2,
    "CHINA, PEOPLE'S REPUBLIC OF": 5,
    "FRANCE": 1,
    "LUXEMBOURG": 1,
    "NETHERLANDS": 1,
    "RUSSIA": 3,
}


@pytest.fixture(scope="module")
def rule() -> bytes:
    return fixture_bytes(RULE)


@pytest.fixture(scope="module")
def actions(rule: bytes) -> list[EntityAction]:
    return extract_actions(rule)


def _one(actions: list[EntityAction], country: str, name: str) -> EntityAction:
    found = [a for a in actions if a.country == country and a.name == name]
    assert len(found) == 1, (country, name, [(a.country, a.name) for a in actions])
    return found[0]


def test_rule_yields_13_additions_with_their_countries(actions: list[EntityAction]) -> None:
    assert len(actions) == 13
    assert {a.action for a in actions} == {"add"}
    assert Counter(a.country for a in actions) == EXPECTED_COUNTRIES


def test_every_country_is_a_country_row_of_the_table(
    rule: bytes, actions: list[EntityAction]
) -> None:
    root = etree.fromstring(rule)
    table_countries = {
        " ".join("".join(str(t) for t in e.itertext()).split())
        for e in root.iter("ENT")
        if e.get("I") == "01"
    }
    assert table_countries == set(EXPECTED_COUNTRIES)
    assert all(a.country in table_countries for a in actions)


def test_named_entities_by_hand(actions: list[EntityAction]) -> None:
    cpunto = _one(actions, "CANADA", "CPUNTO Inc.")
    assert cpunto.aliases == ("CPUNTO",)
    assert cpunto.addresses == (
        "5929 Route Transcanadienne Ste 130 St. Laurent, Quebec H4T 1Z6 Canada",
    )
    # The address sits on a continuation row of its own.
    network = _one(actions, "CANADA", "Electronic Network Inc.")
    assert len(network.aliases) == 6
    assert "Electronic's Network & Technology Corp." in network.aliases
    assert network.addresses == ("145 Montee De Liesse Ste 10 St. Laurent, Quebec H4T 1T9 Canada",)
    head_cn = _one(actions, "CHINA, PEOPLE'S REPUBLIC OF", "China HEAD Aerospace Technology Co.")
    assert len(head_cn.aliases) == 7 and "HEAD Technology France" in head_cn.aliases
    assert len(head_cn.addresses) == 3
    assert any("west 3rd ring" in a for a in head_cn.addresses)  # <SU>rd</SU> joined
    head_fr = _one(actions, "FRANCE", "China HEAD Aerospace Technology Co.")
    assert head_fr.addresses == ("71 Boulevard national, 92250 La Garenne-Colombes Paris, France",)
    # A PRTPAGE marker opens this row; the name must survive it.
    yunze = _one(actions, "CHINA, PEOPLE'S REPUBLIC OF", "Beijing Yunze Technology Co., Ltd.")
    assert yunze.aliases == ("Beijing Yunze", "Beijing Yunze Technology Company", "Yunze Beijing")
    assert len(yunze.addresses) == 3
    spacety = _one(actions, "LUXEMBOURG", "Spacety Co., Ltd.")
    assert "Spacety Luxembourg S.A." in spacety.aliases
    assert spacety.addresses == (
        "9, Avenue des Hauts-Fourneaux, L-4362 Esch-Sur-Alzette, Luxembourg",
    )
    promtekh = _one(actions, "RUSSIA", "Promtekhkomplekt JSC")
    assert promtekh.aliases[0] == "AO TipoMTeXKOMirneKT"
    assert len(promtekh.addresses) == 2


def test_rule_facts_and_filled_citation(actions: list[EntityAction]) -> None:
    for a in actions:
        assert a.document_number == "2023-03929"
        assert a.effective_date == "2023-02-24"
        assert a.federal_register_citation == "88 FR 12170"
        assert a.citation == "88 FR 12170, 2/27/2023"
        assert a.license_requirement and a.license_requirement.startswith("For all items")
        assert a.license_policy and a.license_policy.startswith("Policy of denial")
        assert a.aliases and a.name


def test_keys_are_unique_and_stable(rule: bytes, actions: list[EntityAction]) -> None:
    keys = [a.key() for a in actions]
    assert len(set(keys)) == 13
    assert keys == [a.key() for a in extract_actions(rule)]
    assert "2023-03929:add:canada:cpunto inc" in keys


def test_citation_override_from_the_api(rule: bytes) -> None:
    got = extract_actions(rule, citation="88 FR 99999", document_number="2023–03929")
    assert {a.citation for a in got} == {"88 FR 99999, 2/27/2023"}
    assert {a.document_number for a in got} == {"2023-03929"}


def test_prtpage_inside_a_name_does_not_break_it(rule: bytes) -> None:
    # Derived: a page marker dropped between two words of a table name, as GPO does.
    text = rule.replace(
        b"Innovation and Technologies LLC, a.k.a.",
        b'Innovation and\n<PRTPAGE P="12174"/>\nTechnologies LLC, a.k.a.',
    )
    assert text != rule
    names = {a.name for a in extract_actions(text)}
    assert "Innovation and Technologies LLC" in names


def test_removal_instruction_without_table_row(rule: bytes) -> None:
    # Derived: AMDPAR f. turned into a removal; its table rows lose their instruction.
    text = re.sub(
        rb"f\. Under RUSSIA, by adding.*?</AMDPAR>",
        "f. Under RUSSIA, by removing the entity “Old Trading Co.”.</AMDPAR>".encode(),
        rule,
        flags=re.S,
    )
    assert text != rule
    result = extract(text)
    removed = [a for a in result.actions if a.action == "remove"]
    assert [(a.country, a.name) for a in removed] == [("RUSSIA", "Old Trading Co.")]
    assert sum(a.action == "add" for a in result.actions) == 13
    assert sum("no instruction names" in w for w in result.warnings) == 3


def test_revision_instruction(rule: bytes) -> None:
    text = rule.replace(
        b"f. Under RUSSIA, by adding, in alphabetical order, entries for",
        b"f. Under RUSSIA, by revising the entries for",
    )
    assert text != rule
    got = extract_actions(text)
    assert {a.action for a in got if a.country == "RUSSIA"} == {"revise"}
    assert {a.action for a in got if a.country != "RUSSIA"} == {"add"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "c. By removing under CHINA, PEOPLE'S REPUBLIC OF, the entity “Huawei Cloud”;",
            [("remove", "CHINA, PEOPLE'S REPUBLIC OF", "Huawei Cloud")],
        ),
        (
            "by revising the entry for “Foo Ltd.” under Russia;",
            [("revise", "Russia", "Foo Ltd.")],
        ),
        (
            "is amended by removing, under the destination of Iran, the entries for “A” and “B”.",
            [("remove", "Iran", "A"), ("remove", "Iran", "B")],
        ),
        (
            "by adding under Korea, Democratic People's Republic of, an entry for “X”",
            [("add", "Korea, Democratic People's Republic of", "X")],
        ),
        ("1. The authority citation for 15 CFR part 744 continues to read as follows:", []),
    ],
)
def test_instruction_text(text: str, expected: list[tuple[str, str, str]]) -> None:
    got = [(i.action, i.country, i.name) for i in parse_instruction_text(text)]
    assert got == expected


@pytest.mark.parametrize(
    ("parts", "name", "aliases", "addresses"),
    [
        (
            ["Foo Co., Ltd., Room 5, 12 Road, Beijing, China."],
            "Foo Co., Ltd.",
            (),
            ("Room 5, 12 Road, Beijing, China",),
        ),
        (
            ["Bar LLC, a.k.a. Baz, a.k.a. Qux Ltd., 1 Main St., Moscow, Russia."],
            "Bar LLC",
            ("Baz", "Qux Ltd."),
            ("1 Main St., Moscow, Russia",),
        ),
        (
            ["Zed GmbH, a.k.a., the following two aliases: —Zed; and —Zed AG. 9 Ring, Berlin."],
            "Zed GmbH",
            ("Zed", "Zed AG"),
            ("9 Ring, Berlin",),
        ),
    ],
)
def test_entity_cell_layouts(
    parts: list[str], name: str, aliases: tuple[str, ...], addresses: tuple[str, ...]
) -> None:
    cell = parse_entity_cell(parts)
    assert (cell.name, cell.aliases, cell.addresses) == (name, aliases, addresses)


def test_table_parser_alone(rule: bytes) -> None:
    table = next(etree.fromstring(rule).iter("GPOTABLE"))
    rows = parse_entity_list_table(table)
    assert len(rows) == 13
    assert rows[0].citation == "88 FR [INSERT FR PAGE NUMBER AND 2/27/2023]."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "HTML"),
        (b'<!DOCTYPE r [<!ENTITY a "aaaa">]><RULE>&a;</RULE>', "entities"),
        (b"<RULE><PREAMB>", "well-formed"),
    ],
)
def test_bad_xml_is_refused(content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        extract(content)


def test_name_key() -> None:
    assert name_key("CHINA, PEOPLE'S REPUBLIC OF") == "china peoples republic of"
    assert name_key("Ｓｐａｃｅｔｙ  Co.,Ltd.") == "spacety co ltd"


def test_document_numbers_en_dash_and_hyphen_versions_agree() -> None:
    pattern = re.compile(r"FR Doc\. (\S+) Filed")
    dashed = pattern.findall(
        fixture_bytes("federal_register/govinfo_bulk_FR-2024-02-12_daily_issue.xml").decode()
    )
    hyphen = pattern.findall(
        fixture_bytes(
            "federal_register/govinfo_bulk_FR-2024-02-12_daily_issue_UPDATED-hyphen-version.xml"
        ).decode()
    )
    assert len(dashed) == len(hyphen) == 95
    assert dashed != hyphen  # the trap: en dashes in one, hyphens in the other
    assert [normalize_document_number(d) for d in dashed] == hyphen
    assert normalize_document_number(" e9-969 ") == "E9-969"
    assert normalize_document_number("C1—2026—16628") == "C1-2026-16628"


def test_split_citations() -> None:
    assert split_citations("73 FR 54506, 9/22/08. 75 FR 7359, 2/19/10.") == (
        "73 FR 54506, 9/22/08",
        "75 FR 7359, 2/19/10",
    )
    assert split_citations("85 FR 1, 1/1/20; 86 FR 2, 2/2/21") == (
        "85 FR 1, 1/1/20",
        "86 FR 2, 2/2/21",
    )
    assert split_citations(None) == ()


def test_to_dict_is_json_ready(actions: list[EntityAction]) -> None:
    data = actions[0].to_dict()
    assert data["key"] == actions[0].key()
    assert {"action", "country", "name", "aliases", "addresses"} <= set(data)
    assert isinstance(data["aliases"], list)
    assert json.loads(json.dumps(data)) == data
