"""Venues and persons found by a distinctive word alone; generic words and ties never guess."""

from __future__ import annotations

import pytest

from tests.test_match import MATCHER


@pytest.mark.parametrize(("text", "venues", "suggested"), [
    ("Kilisuci", {"ruang-kilisuci"}, set()),  # distinctive: one venue has it
    ("Aula Kilisuci", {"ruang-kilisuci"}, set()),  # generic words around it are fine
    ("Sekartaji", {"taman-sekartaji"}, set()),
    ("Selomangleng", {"selomangleng"}, set()),
    ("RSUD Kilisuci", set(), {"ruang-kilisuci"}),  # another specific word: a hospital
    ("Joyoboyo", set(), {"ruang-joyoboyo", "gor-joyoboyo"}),  # two venues have it
    ("Jayabaya", set(), {"ruang-joyoboyo", "gor-joyoboyo"}),
    ("Ruang Kilisucii", set(), {"ruang-kilisuci"}),  # a typo: suggested, never matched
    ("Ruang Rapat", set(), set()),  # generic words only
    ("Gedung", set(), set()),
    ("Lantai 2", set(), set()),
    ("Kota Kediri", set(), set()),
    ("Kantor Kelurahan Bandar", set(), set()),
])
def test_venue_words(text: str, venues: set[str], suggested: set[str]) -> None:
    assert MATCHER.match_venue(text) == venues
    assert MATCHER.suggest_venues(text) == suggested


@pytest.mark.parametrize(("text", "persons", "suggested"), [
    ("Wakil", {"wakil-wali-kota"}, set()),
    ("Kesejahteraan Rakyat", {"asisten-1"}, set()),
    ("Asisten", set(), set()),  # generic: three assistants
    ("Kepala Dinas", set(), set()),
    ("Sekertaris Daerah", set(), {"sekda"}),  # a typo is only suggested
    ("Bupati Kediri", set(), set()),
])
def test_person_words(text: str, persons: set[str], suggested: set[str]) -> None:
    assert MATCHER.match_person(text) == persons
    assert MATCHER.suggest_persons(text) == suggested
