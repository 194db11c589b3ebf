"""The free-slot search and the refusal's suggestions, with numbers (pure: no server).

Every instant below is written as a time of day of MONDAY (7 January 2030)
in WIB, so each expected list can be checked by hand against the rules of
kalender.clash.rules (half-open intervals, buffers, capacity, halls).
"""

from __future__ import annotations

import datetime as dt

from kalender.clash import free, messages, suggest
from kalender.clash.free import Hours, Need, Suggestions
from kalender.clash.rules import Booking, Person, Venue, find_clashes

MONDAY = dt.date(2030, 1, 7)
TUESDAY, FRIDAY = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=4)
VENUES = {v.id: v for v in [
    Venue("ruang-joyoboyo", "Ruang Joyoboyo", "Balai Kota"),
    Venue("ruang-kilisuci", "Ruang Kilisuci", "Balai Kota"),
    Venue("gni", "Gedung Nasional Indonesia", "GNI"),
    Venue("aula", "Aula Utama", "Gedung Serbaguna"),
    Venue("aula-a", "Aula Utama Sisi A", "Gedung Serbaguna", parent="aula"),
    Venue("aula-b", "Aula Utama Sisi B", "Gedung Serbaguna", parent="aula"),
    Venue("lapangan", "Lapangan Upacara", "Lapangan", setup_min=60, teardown_min=30),
    Venue("lab", "Laboratorium Komputer", "Lab", capacity=2),
]}
PERSONS = {"wali-kota": Person("wali-kota", "Wali Kota Kediri")}
HOUR = 3600


def at(hour: float, day: dt.date = MONDAY) -> int:
    """``hour`` o'clock (WIB) of ``day`` as epoch seconds (9.5 = 09.30)."""
    return free.midnight(day) + int(hour * HOUR)


def booked(venue: str | None, start: float, end: float, *, opd: str = "dinkes",
           persons: tuple[str, ...] = (), uid: str = "", day: dt.date = MONDAY,
           title: str = "Rapat") -> Booking:
    """An existing booking of ``opd`` from ``start`` to ``end`` o'clock."""
    return Booking(uid or f"{venue}-{start}-{day}", opd, at(start, day), at(end, day),
                   frozenset({venue} if venue else ()), frozenset(persons), title)


def hours_of(slots: list[tuple[int, int]], day: dt.date = MONDAY) -> list[tuple[float, float]]:
    """(start, end) as hours of ``day``."""
    base = free.midnight(day)
    return [((s - base) / HOUR, (e - base) / HOUR) for s, e in slots]


def need(venue: str | None, hours: float, persons: tuple[str, ...] = ()) -> Need:
    """A booking of ``hours`` at ``venue`` by dinsos."""
    return Need(int(hours * HOUR), frozenset({venue} if venue else ()), frozenset(persons),
                "baru", "dinsos")


def test_midnight_is_wib() -> None:
    """00.00 WIB is 17.00 UTC of the day before."""
    assert free.midnight(MONDAY) == int(dt.datetime(2030, 1, 6, 17, tzinfo=dt.UTC).timestamp())


def test_candidates_within_working_hours() -> None:
    """2 h from 07.00 every 30 minutes, the last ending at 18.00; none before not_before."""
    found = free.candidates(need("gni", 2), [MONDAY])
    assert hours_of([(b.start, b.end) for b in found])[0] == (7, 9)
    assert hours_of([(b.start, b.end) for b in found])[-1] == (16, 18)
    assert len(found) == 19
    later = free.candidates(need("gni", 2), [MONDAY], not_before=at(12 + 10 / 60))
    assert hours_of([(later[0].start, later[0].end)]) == [(12.5, 14.5)]
    hourly = free.candidates(need("gni", 1), [TUESDAY, MONDAY], Hours(8 * 60, 10 * 60, 60))
    assert [b.start for b in hourly] == [at(8), at(9), at(8, TUESDAY), at(9, TUESDAY)]


def test_touching_bookings_leave_the_slot_free() -> None:
    """An existing 09.00-11.00: 07.00-09.00 and 11.00-13.00 are free, 07.30-09.30 is not."""
    existing = [booked("ruang-joyoboyo", 9, 11)]
    slots = free.free_slots(need("ruang-joyoboyo", 2), [MONDAY], existing, VENUES, limit=3)
    assert hours_of(slots) == [(7, 9), (11, 13), (11.5, 13.5)]


def test_hall_and_its_part_block_each_other_siblings_do_not() -> None:
    """Sisi A booked 10-12: the hall is busy then, Sisi B is not."""
    existing = [booked("aula-a", 10, 12)]
    hall = free.free_slots(need("aula", 1), [MONDAY], existing, VENUES, limit=20)
    assert (9, 10) in hours_of(hall) and (12, 13) in hours_of(hall)
    assert not any(s < 12 and e > 10 for s, e in hours_of(hall))
    side_b = free.free_slots(need("aula-b", 2), [MONDAY], existing, VENUES,
                             Hours(10 * 60, 12 * 60))
    assert hours_of(side_b) == [(10, 12)]
    at_ten = free.free_venues([need(None, 2).at(at(10))], existing, VENUES)
    assert "aula-b" in at_ten and "aula" not in at_ten and "aula-a" not in at_ten
    # the hall booked: both sides are busy
    hall_booked = [booked("aula", 10, 12)]
    at_ten = free.free_venues([need(None, 2).at(at(10))], hall_booked, VENUES)
    assert not {"aula", "aula-a", "aula-b"} & set(at_ten)


def test_buffers_widen_both_bookings() -> None:
    """Lapangan (60 min setup, 30 min teardown) used 10-12 blocks 09.00-12.30 for itself.

    A 1 h candidate needs its own buffers too: [s - 60 min, s + 90 min) must miss
    [09.00, 12.30): s <= 07.30 or s >= 13.30.
    """
    existing = [booked("lapangan", 10, 12)]
    slots = free.free_slots(need("lapangan", 1), [MONDAY], existing, VENUES, limit=4)
    assert hours_of(slots) == [(7, 8), (7.5, 8.5), (13.5, 14.5), (14, 15)]


def test_capacity_two_counts_simultaneous_bookings() -> None:
    """Lab (capacity 2) with 09-11 and 10-12: a third fits only where one of them is."""
    existing = [booked("lab", 9, 11, uid="a"), booked("lab", 10, 12, uid="b")]
    slots = free.free_slots(need("lab", 1), [MONDAY], existing, VENUES,
                            Hours(7 * 60, 13 * 60), limit=20)
    assert hours_of(slots) == [(7, 8), (7.5, 8.5), (8, 9), (8.5, 9.5), (9, 10),
                               (11, 12), (11.5, 12.5), (12, 13)]


def test_person_busy_elsewhere() -> None:
    """The Wali Kota at GNI 09-11: the lab (free all day) is free with him only outside it."""
    existing = [booked("gni", 9, 11, persons=("wali-kota",), opd="dinkes")]
    with_him = free.free_slots(need("lab", 1, ("wali-kota",)), [MONDAY], existing, VENUES,
                               Hours(7 * 60, 13 * 60), limit=20)
    assert hours_of(with_him) == [(7, 8), (7.5, 8.5), (8, 9), (11, 12), (11.5, 12.5),
                                  (12, 13)]
    alone = free.free_slots(need("lab", 1), [MONDAY], existing, VENUES,
                            Hours(7 * 60, 13 * 60), limit=20)
    assert len(alone) == 11
    assert free.free_venues([need(None, 1, ("wali-kota",)).at(at(9))], existing, VENUES) == []


def test_recurring_series_occurrences_block_each_day() -> None:
    """A daily series 08-17 (one booking per occurrence) leaves only 07-08 and 17-18."""
    series = [Booking("seri", "dinkes", at(8, d), at(17, d), frozenset({"gni"}),
                      recurrence_id=at(8, d)) for d in (MONDAY, TUESDAY)]
    slots = free.free_slots(need("gni", 1), [MONDAY, TUESDAY], series, VENUES)
    assert hours_of(slots[:2]) == [(7, 8), (17, 18)]
    assert hours_of(slots[2:], TUESDAY) == [(7, 8), (17, 18)]


def test_own_item_does_not_block_itself() -> None:
    """Moving an item: its own bookings (same uid, same OPD) are ignored, another OPD's not."""
    own = Booking("baru", "dinsos", at(9), at(11), frozenset({"gni"}))
    same_uid_elsewhere = Booking("baru", "dinkes", at(13), at(15), frozenset({"gni"}))
    slots = free.free_slots(need("gni", 2), [MONDAY], [own, same_uid_elsewhere], VENUES,
                            limit=20)
    assert (9, 11) in hours_of(slots) and (13, 15) not in hours_of(slots)


def test_free_choices_judges_groups_together() -> None:
    """A group is free only if all its bookings are; one booking in two groups counts in both."""
    existing = [booked("gni", 9, 10)]
    a = need("gni", 1).at(at(8))
    b = need("gni", 1).at(at(9))
    assert free.free_choices([[a], [a, b], [b], []], existing, VENUES) == [0]


def test_free_venues_same_building_first() -> None:
    """Instead of Ruang Joyoboyo: Ruang Kilisuci (same building) first, then by name."""
    event = [need("ruang-joyoboyo", 2).at(at(10))]
    ids = free.free_venues(event, [], VENUES, instead="ruang-joyoboyo")
    assert ids[0] == "ruang-kilisuci" and "ruang-joyoboyo" not in ids
    assert ids[1:] == ["aula", "aula-a", "aula-b", "gni", "lab", "lapangan"]


# -- suggestions for a refused write -------------------------------------------
def refuse(bookings: list[Booking], existing: list[Booking], now: int = 0) -> Suggestions:
    """The suggestions for ``bookings`` refused against ``existing``."""
    clashes = find_clashes(bookings, existing, VENUES)
    assert clashes
    fetched: list[list[Booking]] = []

    def fetch(envelope: object) -> list[Booking]:
        fetched.append(list(envelope))  # type: ignore[call-overload]
        return existing

    found = suggest.suggest(bookings, clashes, fetch, VENUES, now)
    assert len(fetched) <= 2  # two index reads at most
    for start, end in found.times:  # every offer is accepted by the engine itself
        delta = start - clashes[0].booking.start
        moved = [Booking(b.uid, b.opd, b.start + delta, b.end + delta, b.venues, b.persons)
                 for b in bookings]
        assert end - start == bookings[0].end - bookings[0].start
        assert find_clashes(moved, existing, VENUES) == []
    for venue in found.venues:
        moved = [Booking(b.uid, b.opd, b.start, b.end, (b.venues - {found.venue or ""})
                         | {venue}, b.persons) for b in bookings]
        assert find_clashes(moved, existing, VENUES) == []
    return found


def offer(found: Suggestions) -> str:
    """The sentence of ``found``."""
    return messages.offer(found, lambda p: PERSONS[p].title)


def test_nearest_free_times_same_day_and_free_venues() -> None:
    """Joyoboyo 10-12 refused (09-11 taken): 07-09, 11-13, 13-15; Kilisuci free at 10-12."""
    existing = [booked("ruang-joyoboyo", 9, 11), booked("gni", 10, 11)]
    found = refuse([need("ruang-joyoboyo", 2).at(at(10))], existing)
    assert hours_of(list(found.times)) == [(7, 9), (11, 13), (13, 15)]
    assert found.venue == "ruang-joyoboyo" and found.venues[0] == "ruang-kilisuci"
    assert "gni" not in found.venues and len(found.venues) == suggest.MAX_VENUES
    assert offer(found) == (
        "Waktu kosong terdekat di Ruang Joyoboyo: 07.00-09.00, 11.00-13.00 atau 13.00-15.00; "
        "Ruang Kilisuci, Aula Utama, Aula Utama Sisi A dan 2 tempat lain kosong pada jam itu.")
    elements = messages.offered(found)
    assert elements[0] == ("free-time", {"start": "2030-01-07T07:00:00+07:00",
                                         "end": "2030-01-07T09:00:00+07:00",
                                         "venue": "ruang-joyoboyo"})
    assert elements[3] == ("free-venue", {"id": "ruang-kilisuci", "name": "Ruang Kilisuci"})


def test_no_time_in_the_past() -> None:
    """At 11.10 the morning is gone: only 11.30-13.30 and later are offered."""
    existing = [booked("ruang-joyoboyo", 9, 11)]
    found = refuse([need("ruang-joyoboyo", 2).at(at(10))], existing, now=at(11 + 10 / 60))
    assert hours_of(list(found.times)) == [(11.5, 13.5), (13.5, 15.5), (15.5, 17.5)]


def test_full_day_offers_the_next_day() -> None:
    """Joyoboyo taken 07-18 on Monday: Tuesday around 10.00 is offered, with its date."""
    existing = [booked("ruang-joyoboyo", 7, 18)]
    found = refuse([need("ruang-joyoboyo", 2).at(at(10))], existing)
    assert hours_of(list(found.times), TUESDAY) == [(8, 10), (10, 12), (12, 14)]
    assert offer(found).startswith("Waktu kosong terdekat di Ruang Joyoboyo: Selasa 8 Jan 2030 "
                                   "08.00-10.00, 10.00-12.00 atau 12.00-14.00; ")


def test_weekday_event_skips_the_weekend() -> None:
    """Friday full: the next offer is Monday, not Saturday."""
    existing = [booked("gni", 7, 18, day=FRIDAY)]
    found = refuse([need("gni", 1).at(at(9, FRIDAY))], existing)
    monday = FRIDAY + dt.timedelta(days=3)
    assert hours_of(list(found.times), monday) == [(8, 9), (9, 10), (10, 11)]


def test_evening_event_keeps_its_hours() -> None:
    """An event at 20-22 is offered 19-21 (the hours stretch to hold its own time)."""
    existing = [booked("gni", 7, 19), booked("gni", 21, 23)]
    found = refuse([need("gni", 2).at(at(20))], existing)
    assert hours_of(list(found.times)) == [(19, 21)]


def test_person_clash_offers_times_for_the_person() -> None:
    """The Wali Kota at GNI 09-11: times he is free, no venue (a venue does not help)."""
    existing = [booked("gni", 9, 11, persons=("wali-kota",))]
    found = refuse([need("lab", 1, ("wali-kota",)).at(at(9.5))], existing)
    assert found.venue is None and found.venues == () and found.persons == ("wali-kota",)
    assert hours_of(list(found.times)) == [(7, 8), (8, 9), (11, 12)]
    assert offer(found) == ("Waktu kosong terdekat untuk Wali Kota Kediri: 07.00-08.00, "
                            "08.00-09.00 atau 11.00-12.00.")
    assert all("venue" not in attrs for _, attrs in messages.offered(found))


def test_series_moves_every_occurrence_the_same_day() -> None:
    """A weekly series whose second Monday clashes at 10-11: 11-12 is free both Mondays."""
    next_monday = MONDAY + dt.timedelta(days=7)
    series = [Booking("seri", "dinsos", at(10, d), at(11, d), frozenset({"gni"}),
                      recurrence_id=at(10, d)) for d in (MONDAY, next_monday)]
    existing = [booked("gni", 10, 11, day=next_monday),
                booked("gni", 9, 10, day=MONDAY), booked("gni", 11, 12, day=MONDAY)]
    found = refuse(series, existing)
    assert found.series and hours_of(list(found.times), next_monday) == [(7, 8), (8, 9),
                                                                         (12, 13)]
    assert "untuk semua jadwal kegiatan berulang ini" in offer(found)


def test_nothing_free_offers_nothing() -> None:
    """Every venue (the lab twice: capacity 2) taken all week: no sentence, no elements."""
    existing = [Booking(uid, "dinkes", at(0), at(0, MONDAY + dt.timedelta(days=8)),
                        frozenset(VENUES)) for uid in ("x", "y")]
    found = refuse([need("gni", 1).at(at(9))], existing)
    assert not found and offer(found) == "" and messages.offered(found) == []


def test_venues_listed_in_indonesian() -> None:
    """'A', 'A dan B', 'A, B dan C'."""
    assert messages.listed(["A"]) == "A"
    assert messages.listed(["A", "B"]) == "A dan B"
    assert messages.listed(["A", "B", "C"], "atau") == "A, B atau C"


def test_long_series_stays_within_the_candidate_budget() -> None:
    """A daily series of 400 occurrences: at most suggest.LOCKED candidate bookings judged."""
    days = [MONDAY + dt.timedelta(days=n) for n in range(400)]
    series = [Booking("seri", "dinsos", at(10, d), at(11, d), frozenset({"gni"})) for d in days]
    existing = [booked("gni", 10, 11, day=days[0])]
    found = refuse(series, existing)
    assert suggest.LOCKED // 400 == 3  # shifts judged: the nearest, 09.30, 10.30 and 09.00
    assert hours_of(list(found.times)) == [(9, 10)]
    # venues: 3 x 400 bookings fit the budget, a fourth would not
    assert found.venues == ("aula", "aula-a", "aula-b")
