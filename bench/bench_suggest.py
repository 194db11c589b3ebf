"""What the suggestions of a refusal cost inside the write lock (issue 10), in process.

Not a test: prints medians. A deployment (``kalender init``) whose clash index
holds N bookings (1-3 h, 07-20 WIB, random venues and persons over the next
two years, plus a busy target day), then, for each kind of refused write,
``Guard.check`` (which now computes the suggestions) against the same clash
computation without them (``Guard._clashes`` + the sentence): the difference
is what a refusal costs extra.

    .venv/bin/python bench/bench_suggest.py [--size 20000] [--reps 30]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kalender.admin import cli
from kalender.clash import messages
from kalender.clash.guard import Guard
from kalender.clash.index import ItemRow
from kalender.clash.rules import Booking
from kalender.deployment import CachedRegistry, Deployment
from kalender.errors import ClashError

DAY = 86400


def fill(guard: Guard, size: int, target: int) -> None:
    """``size`` bookings over two years, and the target day's 07-18 mostly taken."""
    rng = random.Random(7)
    venues = sorted(guard.registry.venues())
    persons = sorted(guard.registry.persons())
    with guard.index.transaction() as db:
        for n in range(size):
            start = target - 30 * DAY + rng.randrange(730) * DAY + rng.randrange(7, 18) * 3600
            booking = Booking(uuid.uuid4().hex, "dinkes", start,
                              start + rng.choice((1, 2, 3)) * 3600,
                              frozenset({rng.choice(venues)}),
                              frozenset({rng.choice(persons)}) if n % 3 == 0 else frozenset())
            guard.index.put(db, ItemRow("opd/dinkes", f"{n}.ics", booking.uid, "e", 0, False,
                                        ()), "dinkes", [booking])
        for n, venue in enumerate(venues):  # the target day: every venue busy 07-16
            booking = Booking(f"hari-{n}", "dinkes", target + 7 * 3600, target + 16 * 3600,
                              frozenset({venue}), frozenset({"wali-kota"}) if n == 0 else
                              frozenset())
            guard.index.put(db, ItemRow("opd/dinkes", f"hari-{n}.ics", booking.uid, "e", 0,
                                        False, ()), "dinkes", [booking])


def ics(start: str, end: str, extra: str = "") -> str:
    """One refused event at Ruang Joyoboyo with the Wali Kota."""
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//ID", "BEGIN:VEVENT",
                        f"UID:{uuid.uuid4()}", "DTSTAMP:20300101T000000Z",
                        f"DTSTART;TZID=Asia/Jakarta:{start}",
                        f"DTEND;TZID=Asia/Jakarta:{end}", "SUMMARY:Rapat",
                        "LOCATION:Ruang Joyoboyo", "DESCRIPTION:Narasumber: Wali Kota Kediri",
                        *([extra] if extra else []), "END:VEVENT", "END:VCALENDAR", ""])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per kind."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="kalender-saran-")) / "kediri"
    assert cli.main(["init", str(root)]) == 0
    dep = Deployment(root)
    guard = Guard(dep, CachedRegistry(dep))
    target = (guard.now() // DAY + 40) * DAY - 7 * 3600  # 00.00 WIB, 40 days ahead
    fill(guard, args.size, target)
    day = time.strftime("%Y%m%d", time.gmtime(target + 7 * 3600))
    kinds = {
        "single 2 h, venue + person": ics(f"{day}T100000", f"{day}T120000"),
        "weekly series (~100 occurrences)": ics(f"{day}T100000", f"{day}T120000",
                                                "RRULE:FREQ=WEEKLY"),
    }
    print(f"{args.size} bookings, {args.reps} reps; median / max ms")
    for kind, text in kinds.items():
        planned = guard.plan("opd/dinsos", "x.ics", text, text.split("UID:")[1].split("\r")[0])
        with_offer, without = [], []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            try:
                guard.check([planned], "pic-y")
            except ClashError as e:
                offer = e.suggestions
            t1 = time.perf_counter()
            clashes = guard._clashes([planned])
            messages.explain(clashes, guard._name, guard._opd_names())
            t2 = time.perf_counter()
            with_offer.append((t1 - t0) * 1000)
            without.append((t2 - t1) * 1000)
        extra = [a - b for a, b in zip(with_offer, without, strict=True)]
        print(f"{kind}: check {statistics.median(with_offer):.1f} / {max(with_offer):.1f}, "
              f"without suggestions {statistics.median(without):.1f}, extra "
              f"{statistics.median(extra):.1f} / {max(extra):.1f}; offered "
              f"{len(offer.times)} times, {len(offer.venues)} venues")
    return 0


if __name__ == "__main__":
    sys.exit(main())
