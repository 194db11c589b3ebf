"""Protocol details as DESCRIPTION lines (kalender.pemda.protocol): pure tables."""

from __future__ import annotations

import dataclasses

import pytest

from kalender.pemda import protocol
from kalender.pemda.protocol import Protocol


@pytest.mark.parametrize(("line", "expected"), [
    ("Pakaian: PDH Khaki", Protocol(pakaian="PDH Khaki")),
    ("pakaian : pdh khaki", Protocol(pakaian="PDH Khaki")),  # the registered spelling
    ("- Pakaian:   Batik  ", Protocol(pakaian="Batik")),
    ("• Dress code: Batik lengan panjang", Protocol(pakaian="Batik lengan panjang")),
    ("DRESSCODE: PDL", Protocol(pakaian="PDL")),
    ("Seragam: Pakaian Dinas Upacara", Protocol(pakaian="Pakaian Dinas Upacara")),
    ("Nomor surat: 005/123/419.42/2026", Protocol(nomor_surat="005/123/419.42/2026")),
    ("No. Surat: 005/123/419.42/2026", Protocol(nomor_surat="005/123/419.42/2026")),
    ("no surat : 005/9", Protocol(nomor_surat="005/9")),
    ("Nomor Undangan: 800/1", Protocol(nomor_surat="800/1")),
    ("Perihal: Undangan Rakor", Protocol(perihal="Undangan Rakor")),
    ("Hal : Undangan Musrenbang", Protocol(perihal="Undangan Musrenbang")),
    ("Narahubung: Budi 081234567890", Protocol(narahubung="Budi 081234567890")),
    ("Kontak: Sari (Bagian Umum) 0812", Protocol(narahubung="Sari (Bagian Umum) 0812")),
    ("CP: Budi 0812", Protocol(narahubung="Budi 0812")),
    ("* cp : Budi", Protocol(narahubung="Budi")),
    ("Contact person: Budi", Protocol(narahubung="Budi")),
    ("Sambutan: Ya", Protocol(sambutan=True)),
    ("sambutan: perlu", Protocol(sambutan=True)),
    ("Sambutan: Tidak", Protocol(sambutan=False)),
    ("Sambutan: -", Protocol(sambutan=False)),
    ("Sambutan: tidak perlu", Protocol(sambutan=False)),
])
def test_lines_as_pics_type_them(line: str, expected: Protocol) -> None:
    assert protocol.read(f"Rapat bulanan.\n{line}\nBawa data.") == expected
    assert protocol.without(f"Rapat bulanan.\n{line}\nBawa data.") == "Rapat bulanan.\nBawa data."


@pytest.mark.parametrize("line", [
    "Pakaian:",  # says nothing
    "Sambutan: mungkin",  # neither yes nor no
    "Halaman: 3",  # not "Hal:"
    "Pakaiannya bebas",  # no label
    "Catatan: Pakaian: PDH",  # the label is not at the start
    "Kontaknya nanti: Budi",
    "Narasumber: Wali Kota",
])
def test_other_lines_stay_in_the_description(line: str) -> None:
    assert protocol.read(line) == Protocol()
    assert protocol.without(line) == line


def test_google_html_and_line_ends() -> None:
    text = ("<p>Rapat koordinasi</p>Pakaian: PDH&nbsp;Khaki<br>No. Surat: 005/1<br/>"
            "Hal: Undangan &amp; Rakor<br>CP: Budi 0812<br>Sambutan: Ya")
    assert protocol.read(text) == Protocol("PDH Khaki", "005/1", "Undangan & Rakor",
                                           "Budi 0812", True)
    assert protocol.without(text) == "Rapat koordinasi"
    assert protocol.read("Pakaian: Batik\r\nSambutan: Tidak\r\n") == Protocol(
        pakaian="Batik", sambutan=False)


def test_the_first_line_of_a_kind_counts_and_the_second_stays() -> None:
    text = "Pakaian: PDH\nPakaian: Batik"
    assert protocol.read(text).pakaian == "PDH"
    assert protocol.without(text) == "Pakaian: Batik"


@pytest.mark.parametrize(("details", "lines"), [
    (Protocol(), []),
    (Protocol(pakaian="PDH Khaki"), ["Pakaian: PDH Khaki"]),
    (Protocol("PDL", "005/1", "Undangan", "Budi 0812", True),
     ["Pakaian: PDL", "Nomor surat: 005/1", "Perihal: Undangan", "Narahubung: Budi 0812",
      "Sambutan: Ya"]),
    (Protocol(sambutan=False), ["Sambutan: Tidak"]),
    (Protocol(perihal="  Undangan\nRakor  "), ["Perihal: Undangan Rakor"]),  # one line
])
def test_lines_are_written_in_one_shape(details: Protocol, lines: list[str]) -> None:
    assert details.lines() == lines
    assert protocol.read("\n".join(lines)) == dataclasses.replace(
        details, perihal=" ".join(details.perihal.split()))
    assert protocol.without("Agenda.\n" + "\n".join(lines)) == "Agenda."


def test_protocol_is_frozen_data() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Protocol().pakaian = "PDH"  # type: ignore[misc]
