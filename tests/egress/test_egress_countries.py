"""The country table: every spelling a source may answer maps to one ISO alpha-2 code."""

from __future__ import annotations

import pytest

from arbees.egress.countries import (
    COUNTRY_NAMES,
    _key,
    country_label,
    normalize_country,
    parse_country_list,
)
from arbees.errors import ConfigError


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        # Gluetun's own names (internal/constants CountryCodes)
        ("United Kingdom", "GB"),
        ("Netherlands", "NL"),
        ("United States", "US"),
        ("Korea", "KR"),
        ("Russian Federation", "RU"),
        ("Czech Republic", "CZ"),
        ("Cote d'Ivoire", "CI"),
        ("Macedonia", "MK"),
        ("Swaziland", "SZ"),
        ("Vatican City State", "VA"),
        ("Palestine, State of", "PS"),
        ("Lao People's Democratic Republic", "LA"),
        ("US Virgin Islands", "VI"),
        # common variants
        ("United States of America", "US"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("Czechia", "CZ"),
        ("Türkiye", "TR"),
        ("Turkiye", "TR"),
        ("Turkey", "TR"),
        ("South Korea", "KR"),
        ("Korea (Republic of)", "KR"),
        ("North Korea", "KP"),
        ("The Netherlands", "NL"),
        ("Holland", "NL"),
        ("Côte d’Ivoire", "CI"),
        ("Bosnia & Herzegovina", "BA"),
        ("Viet Nam", "VN"),
        ("Democratic Republic of the Congo", "CD"),
        ("Congo", "CG"),
        ("Iran (Islamic Republic of)", "IR"),
        ("Taiwan (Province of China)", "TW"),
        ("Kosovo", "XK"),
        # codes, any case, with whitespace
        ("GB", "GB"),
        ("gb", "GB"),
        (" us ", "US"),
        ("XK", "XK"),
        ("  united   KINGDOM ", "GB"),
    ],
)
def test_spellings_normalize_to_iso_codes(spelling: str, code: str) -> None:
    assert normalize_country(spelling) == code


@pytest.mark.parametrize(
    "spelling", ["Atlantis", "", "   ", "XX", "ZZ", "U", "Englandia", "Korea2"]
)
def test_unknown_spellings_are_unknown_not_guessed(spelling: str) -> None:
    assert normalize_country(spelling) is None


def test_table_covers_every_assigned_code_and_round_trips() -> None:
    assert len(COUNTRY_NAMES) == 250  # 249 ISO 3166-1 codes + XK
    for code, name in COUNTRY_NAMES.items():
        assert len(code) == 2
        assert code.isupper()
        assert normalize_country(code) == code
        assert normalize_country(code.lower()) == code
        assert normalize_country(name) == code, name


def test_no_two_letter_alias_shadows_a_code() -> None:
    # "UK" is an alias of GB; no alias may look like a different assigned code
    for code in COUNTRY_NAMES:
        assert normalize_country(code) == code
    assert _key("U.K.") == "uk"
    assert "UK" not in COUNTRY_NAMES


def test_country_label() -> None:
    assert country_label("GB") == "GB (United Kingdom)"
    assert country_label(None) == "unknown"
    assert country_label("QQ") == "QQ"


def test_parse_country_list_accepts_codes_and_names() -> None:
    assert parse_country_list("US, United Kingdom,nl,,Türkiye") == {"US", "GB", "NL", "TR"}
    assert parse_country_list(["usa", "Czechia"]) == {"US", "CZ"}
    assert parse_country_list("") == frozenset()


def test_parse_country_list_rejects_unknown_names_loudly() -> None:
    with pytest.raises(ConfigError, match=r"EGRESS_X: unknown country 'Atlantis'"):
        parse_country_list("US,Atlantis", setting="EGRESS_X")
