"""Country names -> ISO codes from the bundled table, equal to ICU's own table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from watcher.matching import normalize


def test_bundled_table_is_icus_table() -> None:
    """data/country_names.toml was generated from ICU: regenerate it when ICU renames a country."""
    bundled = normalize._country_names()
    for name, code in normalize.icu_country_names().items():
        assert bundled.get(name) == code, name


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("China", "CN"),
        ("CN", "CN"),
        ("Hong Kong SAR", "HK"),
        ("Côte d’Ivoire", "CI"),
        ("Curaçao", "CW"),
        ("Réunion", "RE"),
        ("Russia", "RU"),
        ("Korea, North", "KP"),
        ("Atlantis", None),
        (None, None),
    ],
)
def test_country_code(country: str | None, code: str | None) -> None:
    assert normalize.country_code(country) == code


def test_reading_an_ascii_country_name_does_not_load_icu() -> None:
    code = (
        "import sys; from watcher.matching.normalize import country_code;"
        "assert country_code('Turkey') == 'TR' and country_code('United Arab Emirates') == 'AE';"
        "print('icu' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
