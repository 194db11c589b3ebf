"""The clash rules as pure tables of plain numbers (no iCalendar, no clock)."""

from __future__ import annotations

import random
import time

import pytest

from kalender.clash.rules import Booking, Clash, Venue, find_clashes, overlaps, venue_family

H = 3600  # one hour in seconds; times below are "hours since an arbitrary epoch"

VENUES = {
    "joyoboyo": Venue("joyoboyo", "Ruang Joyoboyo"),
    "aula": Venue("aula", "Aula Balai Kota", capacity=2),
    "gni": Venue("gni", "Gedung Nasional Indonesia", setup_min=30, teardown_min=60),
    "gni-timur": Venue("gni-timur", "Sayap Timur GNI", parent="gni", setup_min=15),
    "gni-barat": Venue("gni-barat", "Sayap Barat GNI", parent="gni"),
    "gni-timur-a": Venue("gni-timur-a", "Sayap Timur A", parent="gni-timur"),
}


def b(uid: str, start: float, end: float, venues: str = "", persons: str = "",
      opd: str = "dinkes") -> Booking:
    """A booking from hours and space-separated ids."""
    return Booking(uid=uid, opd=opd, start=int(start * H), end=int(end * H),
                   venues=frozenset(venues.split()), persons=frozenset(persons.split()))


def summary(clashes: list[Clash]) -> list[tuple[str, str, str, str]]:
    return [(c.kind, c.resource, c.booking.uid, c.other.uid) for c in clashes]


@pytest.mark.parametrize(("a", "b_", "expected"), [
    ((0, 10), (5, 15), True),
    ((0, 10), (10, 20), False),  # touching does not overlap
    ((10, 20), (0, 10), False),
    ((0, 10), (2, 3), True),  # containment
    ((0, 10), (0, 10), True),
    ((5, 5), (0, 10), False),  # an empty interval overlaps nothing
    ((0, 10), (-5, 0), False),
])
def test_overlaps_half_open(a: tuple[int, int], b_: tuple[int, int], expected: bool) -> None:
    assert overlaps(*a, *b_) is expected
    assert overlaps(*b_, *a) is expected


@pytest.mark.parametrize(("existing", "candidate", "expected_others"), [
    # capacity 1 (Ruang Joyoboyo)
    ([b("x", 9, 11, "joyoboyo")], b("c", 10, 12, "joyoboyo"), ["x"]),
    ([b("x", 9, 11, "joyoboyo")], b("c", 11, 12, "joyoboyo"), []),  # touching
    ([b("x", 9, 11, "joyoboyo")], b("c", 8, 9, "joyoboyo"), []),
    ([b("x", 9, 11, "aula")], b("c", 9, 11, "joyoboyo"), []),  # another room
    # capacity 2 (Aula): two concurrent existing are full, one is fine
    ([b("x", 9, 11, "aula")], b("c", 10, 12, "aula"), []),
    ([b("x", 9, 11, "aula"), b("y", 10, 12, "aula")], b("c", 10, 11, "aula"), ["x", "y"]),
    # three existing in the window but never more than one at a time: fits
    ([b("x", 8, 9, "aula"), b("y", 9, 10, "aula"), b("z", 10, 11, "aula")],
     b("c", 8, 11, "aula"), []),
    # 3 concurrent existing: the two that make it full are offending, not the early one
    ([b("x", 8, 9, "aula"), b("y", 10, 12, "aula"), b("z", 10.5, 11, "aula")],
     b("c", 8.5, 11, "aula"), ["y", "z"]),
    # buffers: GNI needs 30 min setup and 60 min teardown, so touching bookings clash
    ([b("x", 9, 11, "gni")], b("c", 11, 12, "gni"), ["x"]),
    ([b("x", 9, 11, "gni")], b("c", 12.5, 13, "gni"), []),  # 60 + 30 min gap is enough
    ([b("x", 9, 11, "gni")], b("c", 12.4, 13, "gni"), ["x"]),
    # parent/child block each other in both directions, siblings do not
    ([b("x", 9, 11, "gni-timur")], b("c", 10, 12, "gni"), ["x"]),
    ([b("x", 9, 11, "gni")], b("c", 10, 12, "gni-timur"), ["x"]),
    ([b("x", 9, 11, "gni-timur-a")], b("c", 10, 12, "gni"), ["x"]),  # grandchild
    ([b("x", 9, 11, "gni")], b("c", 10, 12, "gni-timur-a"), ["x"]),  # grandparent
    ([b("x", 9, 11, "gni-barat")], b("c", 9, 11, "gni-timur"), []),  # siblings
    # each booking widened by its own venue's buffers: GNI teardown 60 reaches 12:00
    ([b("x", 9, 11, "gni")], b("c", 11.75, 12.5, "gni-timur"), ["x"]),
    ([b("x", 9, 11, "gni-barat")], b("c", 11, 12, "gni"), ["x"]),  # GNI setup 30
    # unknown venue id: capacity 1, no buffers, no family
    ([b("x", 9, 11, "balai-rw")], b("c", 10.5, 12, "balai-rw"), ["x"]),
    ([b("x", 9, 11, "balai-rw")], b("c", 11, 12, "balai-rw"), []),
    # the same item (uid and OPD) is ignored: a change never clashes with itself ...
    ([b("c", 9, 11, "joyoboyo")], b("c", 9, 11, "joyoboyo"), []),
    # ... but the same UID in another OPD's calendar is another event
    ([b("c", 9, 11, "joyoboyo", opd="dinsos")], b("c", 9, 11, "joyoboyo"), ["c"]),
])
def test_venue_table(existing: list[Booking], candidate: Booking,
                     expected_others: list[str]) -> None:
    clashes = find_clashes([candidate], existing, VENUES)
    assert [c.other.uid for c in clashes] == expected_others
    assert all(c.kind == "venue" and c.resource in candidate.venues for c in clashes)


@pytest.mark.parametrize(("existing", "candidate", "expected"), [
    ([b("x", 9, 11, "", "wali-kota")], b("c", 10, 12, "", "wali-kota"), ["x"]),
    ([b("x", 9, 11, "", "wali-kota")], b("c", 11, 12, "", "wali-kota"), []),  # touching
    ([b("x", 9, 11, "", "sekda")], b("c", 10, 12, "", "wali-kota"), []),
    # persons have no buffers even at a venue that has them
    ([b("x", 9, 11, "gni", "sekda")], b("c", 11, 12, "joyoboyo", "sekda"), []),
])
def test_person_table(existing: list[Booking], candidate: Booking, expected: list[str]) -> None:
    assert [c.other.uid for c in find_clashes([candidate], existing, VENUES)] == expected


def test_every_clash_is_reported_in_deterministic_order() -> None:
    series = [b("rakor", day * 24 + 9, day * 24 + 11, "joyoboyo gni", "wali-kota")
              for day in (0, 1)]
    existing = [
        b("b-late", 10.5, 12, "joyoboyo"),
        b("a-early", 8, 9.5, "", "wali-kota"),
        b("c-gni", 24 + 8, 24 + 10, "gni-timur", "wali-kota"),
        b("d-gni", 9, 10, "gni"),
        b("rakor", 9, 11, "joyoboyo"),  # the series' own old version: ignored
    ]
    expected = [
        ("person", "wali-kota", "rakor", "a-early"),
        ("venue", "gni", "rakor", "d-gni"),
        ("venue", "joyoboyo", "rakor", "b-late"),
        ("person", "wali-kota", "rakor", "c-gni"),
        ("venue", "gni", "rakor", "c-gni"),
    ]
    for _ in range(5):  # the order never depends on the input order
        random.shuffle(existing)
        clashes = find_clashes(series, existing, VENUES)
        assert summary(clashes) == expected
    assert [c.booking.start for c in clashes] == [9 * H] * 3 + [33 * H] * 2


def test_candidates_do_not_clash_with_each_other() -> None:
    series = [b("seri", 9, 11, "joyoboyo", "sekda"), b("seri", 10, 12, "joyoboyo", "sekda")]
    assert find_clashes(series, [], VENUES) == []


def test_one_existing_booking_at_two_family_members_is_reported_once() -> None:
    clashes = find_clashes([b("c", 9, 10, "gni")], [b("x", 9, 10, "gni-timur gni-barat")],
                           VENUES)
    assert summary(clashes) == [("venue", "gni", "c", "x")]


def test_venue_family_both_directions_and_cycles() -> None:
    assert venue_family("gni", VENUES) == {"gni", "gni-timur", "gni-barat", "gni-timur-a"}
    assert venue_family("gni-timur-a", VENUES) == {"gni-timur-a", "gni-timur", "gni"}
    assert venue_family("gni-barat", VENUES) == {"gni-barat", "gni"}
    assert venue_family("tak-dikenal", VENUES) == {"tak-dikenal"}
    loop = {"a": Venue("a", "A", parent="b"), "b": Venue("b", "B", parent="a")}
    assert venue_family("a", loop) == {"a", "b"}


def test_thousands_of_existing_bookings_are_fast() -> None:
    rng = random.Random(7)
    rooms = ["joyoboyo", "aula", "gni", "gni-timur", "lain-1", "lain-2"]
    existing = []
    for i in range(5000):
        start = rng.randrange(0, 2 * 365 * 24)
        existing.append(b(f"e{i}", start, start + rng.choice([1, 2, 3]),
                          rng.choice(rooms), rng.choice(["wali-kota", "sekda", ""])))
    series = [b("seri", d * 24 + 9, d * 24 + 11, "gni aula", "wali-kota")
              for d in range(0, 730, 7)]
    began = time.perf_counter()
    clashes = find_clashes(series, existing, VENUES)
    assert time.perf_counter() - began < 0.5
    brute = {(c.uid, e.uid) for c in series for e in existing
             if "wali-kota" in e.persons and overlaps(c.start, c.end, e.start, e.end)}
    assert {(c.booking.uid, c.other.uid) for c in clashes if c.kind == "person"} == brute
