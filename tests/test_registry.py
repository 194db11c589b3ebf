"""Logins and unambiguous registries (issue 7, items 11 and 12), through the CLI and HTTP."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kalender import places, registry, upgrade
from kalender.clash.match import Matcher
from kalender.deployment import Deployment
from kalender.registry import RegistryError
from tests.conftest import (
    KALENDER,
    PASSWORD,
    LiveServer,
    event_ics,
    make_deployment,
    serve_in_thread,
)
from tests.test_upgrade import unpack


def run(*args: str, stdin: str = PASSWORD + "\n") -> subprocess.CompletedProcess:
    """The kalender command as an admin runs it."""
    return subprocess.run([*KALENDER, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, check=False, env=dict(os.environ))


@pytest.fixture
def dep(tmp_path: Path) -> Deployment:
    """A deployment with one PIC."""
    return make_deployment(tmp_path / "kediri", {"pic-demo": ("pic", ("dinkes",))})


def add_user(dep: Deployment, login: str) -> subprocess.CompletedProcess:
    """``kalender user add LOGIN --role admin``."""
    return run("user", "add", login, "--role", "admin", "--password-stdin",
               "--dir", str(dep.root))


REFUSED = ("Pic-Demo", "PIC-DEMO", "a..b", "budi.", ".budi", "-budi", "_budi", "budi:x",
           "budi/x", "budi x", "x" * 65, "", "Opd", "bentrok")
ACCEPTED = ("budi", "budi.santoso", "b_s-2", "siti@kedirikota.go.id", "1pic", "a.b", "x" * 64)


def test_login_pattern(dep: Deployment) -> None:
    """One pattern for new logins; refusals through the CLI are one line and write nothing."""
    for login in REFUSED:
        with pytest.raises(RegistryError):
            registry.check_login(login)
    for login in ACCEPTED:
        assert registry.check_login(login) == login
    before = dep.users_csv.read_bytes()
    for login in ("Pic-Demo", "a..b", "budi."):
        result = add_user(dep, login)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert dep.users_csv.read_bytes() == before
    assert add_user(dep, "siti@kedirikota.go.id").returncode == 0


def test_existing_mixed_case_login_keeps_working(dep: Deployment) -> None:
    """A users.csv row made under the old pattern is read, listed and blocks its lowercase twin."""
    with dep.users_csv.open("a", encoding="utf-8") as f:
        f.write("Budi.Lama,admin,\n")
    dep.validate()
    listed = run("user", "list", "--dir", str(dep.root))
    assert listed.returncode == 0 and "Budi.Lama" in listed.stdout and "login lama" in listed.stdout
    twin = add_user(dep, "budi.lama")
    assert twin.returncode == 1 and "'Budi.Lama'" in twin.stderr
    hint = run("user", "remove", "budi.lama", "--dir", str(dep.root))
    assert hint.returncode == 1 and "maksud Anda 'Budi.Lama'" in hint.stderr


def test_ambiguous_venue_and_person_refused(dep: Deployment) -> None:
    """An alias or title that already names another entry is refused, naming that entry."""
    venues, persons = dep.venues_csv.read_bytes(), dep.persons_csv.read_bytes()
    d = str(dep.root)
    gor = run("venue", "add", "gor", "GOR", "--alias", "R. Joyoboyo", "--dir", d)
    assert gor.returncode == 1 and "ruang-joyoboyo" in gor.stderr, gor.stderr
    spelled = run("venue", "add", "rapat", "Ruang Rapat", "--alias", "Rg Joyoboyo", "--dir", d)
    assert spelled.returncode == 1 and "ruang-joyoboyo" in spelled.stderr
    walkot = run("person", "add", "wali-kota-2", "Wali Kota", "--dir", d)
    assert walkot.returncode == 1 and "wali-kota" in walkot.stderr and "Wali Kota Kediri" in \
        walkot.stderr
    walikota = run("person", "add", "x", "Walikota Kediri", "--dir", d)
    assert walikota.returncode == 1 and "wali-kota" in walikota.stderr
    email = run("person", "add", "y", "Ajudan", "--email", "a@kedirikota.go.id", "--dir", d)
    assert email.returncode == 0
    twice = run("person", "add", "z", "Ajudan Dua", "--email", "A@kedirikota.go.id", "--dir", d)
    assert twice.returncode == 1 and "'y'" in twice.stderr
    assert dep.venues_csv.read_bytes() == venues
    assert "Ajudan Dua" not in dep.persons_csv.read_text("utf-8") and persons
    assert run("venue", "add", "gor-baru", "GOR Baru", "--alias", "GOR Mojoroto",
               "--dir", d).returncode == 0


def test_ambiguous_registry_file_names_file_and_line(dep: Deployment) -> None:
    """A hand-made ambiguity stops start-up with FILE:LINE; list and remove still work."""
    with dep.venues_csv.open("a", encoding="utf-8") as f:
        f.write("gor,GOR,,R. Joyoboyo,1,0,0,\n")
    line = len(dep.venues_csv.read_text("utf-8").splitlines())
    with pytest.raises(RegistryError, match=rf"venues.csv:{line}: .*ruang-joyoboyo"):
        dep.validate()
    d = str(dep.root)
    verify = run("verify", "--dir", d)
    assert verify.returncode == 1 and f"venues.csv:{line}:" in verify.stderr
    assert "gor" in run("venue", "list", "--dir", d).stdout
    assert run("venue", "remove", "gor", "--dir", d).returncode == 0
    dep.validate()


def test_shipped_registry_names_the_building_as_no_venue(dep: Deployment) -> None:
    """"Balai Kota Kediri" is the building of four venues, not the courtyard; no typo alias."""
    matcher = Matcher(dep.venues(), dep.persons())
    assert matcher.match_venue("Balai Kota Kediri") == frozenset()
    assert matcher.match_venue("Balaikota Kediri") == frozenset()
    assert matcher.match_venue("GOR Joyobo") == frozenset()
    assert matcher.match_venue("Halaman Balai Kota Kediri") == {"halaman-balai-kota"}
    assert matcher.match_venue("Ruang Joyoboyo, Balai Kota Kediri") == {"ruang-joyoboyo"}
    assert matcher.match_venue("GOR Jayabaya") == {"gor-joyoboyo"}


@pytest.fixture
def served(dep: Deployment) -> Iterator[LiveServer]:
    """The deployment served over HTTP."""
    yield from serve_in_thread(dep)


def test_typing_the_building_does_not_book_the_courtyard(served: LiveServer) -> None:
    """Two meetings "at Balai Kota Kediri" at one time: neither books the courtyard."""
    for n in (1, 2):
        r = served.request("pic-demo", "PUT", f"/opd/dinkes/bk{n}.ics", data=event_ics(
            f"bk{n}", location="Balai Kota Kediri", summary=f"Rapat {n}"))
        assert r.status_code == 201, r.text
    r = served.request("pic-demo", "PUT", "/opd/dinkes/hl.ics", data=event_ics(
        "hl", location="Halaman Balai Kota Kediri", summary="Apel"))
    assert r.status_code == 201


def test_upgrade_fixes_shipped_venue_rows_only(tmp_path: Path) -> None:
    """The step rewrites rows still as shipped before, keeps edited rows, runs once."""
    old = unpack("main-24ffd88.tar.gz", tmp_path / "a")
    before = old.venues_csv.read_text("utf-8")
    assert ";Balai Kota Kediri;Balaikota Kediri," in before and "GOR Joyobo," in before
    done = upgrade.upgrade(old)
    assert any("venues.csv" in line for line in done)
    after = old.venues_csv.read_text("utf-8")
    assert ";Balai Kota Kediri;" not in after and "GOR Joyobo," not in after
    assert after.count("\n") == before.count("\n")
    assert "halaman-balai-kota,Halaman Balai Kota Kediri,Balai Kota Kediri,Halaman Balaikota " \
        "Kediri,1,60,30," in after
    assert upgrade.upgrade(old) == []

    edited = unpack("main-24ffd88.tar.gz", tmp_path / "b")
    text = edited.venues_csv.read_text("utf-8").replace(
        "Halaman Balaikota Kediri;Balai Kota Kediri;Balaikota Kediri,1,60,30,",
        "Halaman Balaikota Kediri;Balai Kota Kediri;Balaikota Kediri;Lapangan Upacara,1,60,30,")
    edited.venues_csv.write_text(text, encoding="utf-8")
    upgrade.upgrade(edited)
    kept = edited.venues_csv.read_text("utf-8")
    assert "Balaikota Kediri;Lapangan Upacara" in kept and "GOR Joyobo," not in kept


VENUES_WITH_COORDINATES = (
    "id,name,building,aliases,capacity,setup_min,teardown_min,parent,coordinates\n"
    'balai,Balai Kota,,,1,0,0,,"-7.8166,112.0119"\n'
    "gni,Gedung Nasional Indonesia,,,1,0,0,,\n"
    'ujung,Ujung Dunia,,,1,0,0,,"-90,180.0"\n')


def test_venue_coordinates_read_validate_and_round_trip(tmp_path: Path) -> None:
    """lat,lon in decimal degrees: read, written back as read; a bad cell names its line."""
    path = tmp_path / "venues.csv"
    path.write_text(VENUES_WITH_COORDINATES, encoding="utf-8")
    venues = places.read_venues(path)
    assert [v.coordinates for v in venues] == [(-7.8166, 112.0119), None, (-90.0, 180.0)]
    assert places.venues_text(venues) == VENUES_WITH_COORDINATES.replace("-90,", "-90.0,")
    assert places.read_venues(path) == places.parse_venues(
        io.StringIO(places.venues_text(venues), newline=""))
    assert places.parse_coordinates(" -7.8166 , 112.0119 ") == (-7.8166, 112.0119)
    for bad in ("95,1", "-7.8,181", "-7.8166", "-7.8,112.0,3", "1e1,2", "nan,1", "inf,1",
                "7°49'S,112°0'E", "-7,8166;112,0119", ",", "-7.8, "):
        path.write_text(VENUES_WITH_COORDINATES.replace("-7.8166,112.0119", bad), "utf-8")
        with pytest.raises(RegistryError, match=r"venues.csv:2: koordinat .* tidak valid"):
            places.read_venues(path)
    # a venues.csv from before the column reads as venues without coordinates
    path.write_text("id,name,building,aliases,capacity,setup_min,teardown_min,parent\n"
                    "balai,Balai Kota,,,1,0,0,\n", encoding="utf-8")
    assert [v.coordinates for v in places.read_venues(path)] == [None]


def test_venue_coordinates_through_the_cli(dep: Deployment) -> None:
    """``venue add --koordinat`` and ``venue set --koordinat``; a bad pair writes nothing."""
    d = str(dep.root)
    added = run("venue", "add", "aula-baru", "Aula Baru", "--koordinat", "-7.8201,112.0107",
                "--dir", d)
    assert added.returncode == 0, added.stderr
    assert {v.id: v.coordinates for v in dep.venues()}["aula-baru"] == (-7.8201, 112.0107)
    before = dep.venues_csv.read_bytes()
    for args, why in ((("add", "aula-lain", "Aula Lain", "--koordinat", "112.0107,-7.8201"),
                       "lintang -90..90"), (("set", "gni", "--koordinat", "-7.8201"),
                                            "tulis lintang,bujur"),
                      (("set", "tidak-ada", "--koordinat", "-7.8,112.0"), "tidak terdaftar")):
        refused = run("venue", *args, "--dir", d)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
        assert why in refused.stderr and "Traceback" not in refused.stderr
    assert dep.venues_csv.read_bytes() == before
    assert run("venue", "set", "gni", "--koordinat=-7.8190, 112.0150", "--dir", d).returncode == 0
    assert {v.id: v.coordinates for v in dep.venues()}["gni"] == (-7.819, 112.015)
    assert "gni" in run("venue", "list", "--dir", d).stdout.split("koordinat -7.819,112.015")[0]
    assert run("venue", "set", "gni", "--koordinat", "", "--dir", d).returncode == 0
    assert {v.id: v.coordinates for v in dep.venues()}["gni"] is None
    # the shipped registry places the rooms of Balai Kota Kediri on the map
    assert {v.id: v.coordinates for v in dep.venues()}["ruang-joyoboyo"] == (-7.8166, 112.0119)
