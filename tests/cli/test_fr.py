"""`watcher fr extract` on a public-inspection PDF, its text, the published XML, a number.

Real: the rule fr_2023-03929 (XML). Derived in the tests: its public-inspection manuscript PDF
(`tests.entity_list.manuscript_pdf`), that PDF's text as a `.txt` export, and the API records
served by a local server for the document-number lookup (not published yet: the API answers
404 for documents/{number}.json, the public-inspection record points at the PDF).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import LocalServer, fixture_path
from tests.entity_list.manuscript_pdf import additions_manuscript, render
from watcher.cli.main import main
from watcher.entity_list.pdf_text import pdf_text

KEYS = {
    "document_number",
    "stage",
    "action",
    "country",
    "name",
    "aliases",
    "address",
    "addresses",
    "license_requirement",
    "license_policy",
    "citation",
}
RULE = "federal_register/fr_2023-03929_2023-02-27_additions_entity_list.xml"


def _run(tmp_path: Path, *args: str, url: str | None = None) -> str:
    config = tmp_path / "config.toml"
    text = f'[database]\nurl = "sqlite:///{tmp_path}/x.db"\n'
    if url:
        text += f'[sources.federal_register]\nurl = "{url}"\n'
    config.write_text(text)
    result = CliRunner().invoke(main, ["--config", str(config), "fr", "extract", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render(additions_manuscript())


def test_pdf_and_its_text_give_the_same_json(tmp_path: Path, pdf: bytes) -> None:
    (tmp_path / "pi.pdf").write_bytes(pdf)
    (tmp_path / "pi.txt").write_text(pdf_text(pdf), encoding="utf-8")
    from_pdf = json.loads(_run(tmp_path, str(tmp_path / "pi.pdf"), "--format", "json"))
    from_txt = json.loads(_run(tmp_path, str(tmp_path / "pi.txt"), "--format", "json"))
    assert from_pdf == from_txt and len(from_pdf) == 13
    assert all(KEYS <= set(row) for row in from_pdf)
    dexias = next(r for r in from_pdf if r["name"].startswith("Dexias"))
    assert (dexias["stage"], dexias["document_number"]) == ("public_inspection", "2023-03929")
    assert dexias["address"] == "Apartment 261, Building 3, Ryabinovaya Street, Moscow, Russia"
    assert dexias["citation"].startswith("88 FR [INSERT FR PAGE NUMBER]")


def test_published_xml_is_stage_published_in_csv(tmp_path: Path) -> None:
    out = _run(tmp_path, str(fixture_path(RULE)), "--format", "csv")
    lines = out.splitlines()
    assert lines[0] == "stage,action,country,name,aliases,address,license_requirement"
    assert len(lines) == 14 and all(line.startswith("published,add,") for line in lines[1:])


def test_a_document_number_on_public_inspection_is_fetched(
    tmp_path: Path, pdf: bytes, http_server: LocalServer
) -> None:
    http_server.serve("api/v1/documents/2023-03929.json", b'{"status":404}', status=404)
    record = {"document_number": "2023-03929", "pdf_url": http_server.url("pi.pdf") + "?16772"}
    http_server.serve(
        "api/v1/public-inspection-documents/2023-03929.json", json.dumps(record).encode()
    )
    http_server.serve("pi.pdf", pdf)
    url = http_server.url("api/v1/documents.json")
    out = _run(tmp_path, "2023-03929", url=url)
    assert out.splitlines()[0].split() == [c.upper() for c in ("stage", "action", "country")] + [
        "NAME",
        "ALIASES",
        "ADDRESS",
        "LICENSE_REQUIREMENT",
    ]
    assert out.count("public_inspection  add") == 13
