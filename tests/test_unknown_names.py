"""``kalender venue unknown`` and ``kalender person unknown`` after writes over real HTTP.

Events are PUT by a PIC to a served deployment; the commands read what the
clash index kept: free-text locations and names of key persons
("Narasumber: ...", docs/konvensi-pic.md) that matched no registry entry,
with counts and the entries they may mean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from kalender import database
from kalender.admin import cli
from tests.conftest import LiveServer, event_ics, make_deployment, serve_in_thread

#: Days well inside the clash horizon, computed from today (never hard-coded).
BASE = dt.date.today() + dt.timedelta(days=70)


def day(offset: int) -> str:
    """BASE + offset days as YYYYMMDD."""
    return (BASE + dt.timedelta(days=offset)).strftime("%Y%m%d")


@pytest.fixture
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own: the counts below are exact."""
    dep = make_deployment(tmp_path_factory.mktemp("names") / "kediri",
                          {"pic-x": ("pic", ("dinkes",)), "pic-y": ("pic", ("dinsos",))})
    yield from serve_in_thread(dep)


def put(srv: LiveServer, login: str, opd: str, name: str, offset: int, *,
        location: str = "", description: str = "") -> None:
    """PUT one event as ``login``; it must be accepted."""
    extra = f"DESCRIPTION:{description}" if description else ""
    body = event_ics(name, f"{day(offset)}T090000", f"{day(offset)}T100000", location=location,
                     extra=extra)
    r = srv.request(login, "PUT", f"/opd/{opd}/{name}.ics", data=body.encode(),
                    headers={"Content-Type": "text/calendar; charset=utf-8"})
    assert r.status_code in (201, 204), r.text


def lines(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    """The output lines of one kalender command (exit code 0)."""
    capsys.readouterr()
    assert cli.main(list(args)) == 0
    return [line.strip() for line in capsys.readouterr().out.splitlines()]


def test_venue_unknown_names_likely_venues(srv: LiveServer,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A typo names its venue, a name three venues share names all three, a stranger none."""
    d = ("--dir", str(srv.dep.root))
    put(srv, "pic-x", "dinkes", "typo-1", 1, location="Ruang Kilisuchi")
    put(srv, "pic-y", "dinsos", "typo-2", 2, location="Ruang Kilisuchi")
    put(srv, "pic-x", "dinkes", "shared", 3, location="Joyoboyo")
    put(srv, "pic-x", "dinkes", "strange", 4, location="Pendopo Kelurahan Bangsal")
    put(srv, "pic-x", "dinkes", "known", 5, location="Ruang Kilisuci")
    assert lines(capsys, "venue", "unknown", *d) == [
        "2  Ruang Kilisuchi  (mungkin: Ruang Kilisuci)",
        "1  Joyoboyo  (mungkin: GOR Joyoboyo, Hutan Kota Joyoboyo, Ruang Joyoboyo)",
        "1  Pendopo Kelurahan Bangsal",
    ]


def test_person_unknown_after_puts_updates_and_deletes(srv: LiveServer,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """Unmatched names of labelled lines, counted per event, follow every write."""
    d = ("--dir", str(srv.dep.root))
    empty = lines(capsys, "person", "unknown", *d)
    assert len(empty) == 1 and "kalender reindex" in empty[0]

    put(srv, "pic-x", "dinkes", "n-1", 11,
        description=r"Rapat koordinasi.\nNarasumber: Sekertaris Daerah\; Kapolres Kediri")
    put(srv, "pic-y", "dinsos", "n-2", 12,
        description=r"Pimpinan rapat: Wali Kota dan Kapolres Kediri")
    put(srv, "pic-x", "dinkes", "n-3", 13, description=r"Narasumber: Wali Kota Kediri\, Sekda")
    put(srv, "pic-x", "dinkes", "n-4", 14, description=r"Kapolres Kediri akan hadir")  # no label
    sekda = "Penjabat (Pj) Sekretaris Daerah Kota Kediri, Sekretaris Daerah Kota Kediri"
    assert lines(capsys, "person", "unknown", *d) == [
        "2  Kapolres Kediri",
        f"1  Sekertaris Daerah  (mungkin: {sekda})",
    ]

    put(srv, "pic-x", "dinkes", "n-1", 11, description=r"Narasumber: Sekretaris Daerah")
    assert lines(capsys, "person", "unknown", *d) == ["1  Kapolres Kediri"]
    r = srv.request("pic-y", "DELETE", "/opd/dinsos/n-2.ics")
    assert r.status_code in (200, 204)
    after = lines(capsys, "person", "unknown", *d)
    assert len(after) == 1 and "kalender reindex" in after[0]


def test_items_indexed_before_show_after_reindex(srv: LiveServer,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """An index written before the table existed says to reindex; the reindex fills it."""
    d = ("--dir", str(srv.dep.root))
    put(srv, "pic-x", "dinkes", "old-1", 21, description=r"Narasumber: Kepala Dinsos")
    database.connect(srv.dep.database).execute("DELETE FROM unknown_persons")  # as before
    assert "kalender reindex" in lines(capsys, "person", "unknown", *d)[0]
    assert cli.main(["reindex", *d]) == 0
    assert lines(capsys, "person", "unknown", *d) == ["1  Kepala Dinsos"]
