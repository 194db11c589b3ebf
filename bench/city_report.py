"""bench_city.py's measured feed sizes and GETs, and its Markdown table."""

from __future__ import annotations

import gzip

from bench_feed import IDENTITY, Client, timed_get
from common import Server, summary
from data import Dataset
from feed.servers import LEADERS, PIMPINAN, PUBLIC
from feed.under_load import largest_venues


def sizes_and_gets(kal: Server, ds: Dataset, reps: int) -> dict[str, object]:
    """Sizes (bytes, events, gzip) of the feeds a subscriber polls; GET and 304 timings."""
    anon, lead = Client(kal.url), Client(kal.url, PIMPINAN)
    venues = largest_venues(ds, 1)
    out: dict[str, object] = {}
    try:
        paths = {"public": (anon, PUBLIC), "public_full": (anon, PUBLIC + "?penuh=1"),
                 "leaders": (lead, LEADERS)}
        if venues:
            paths["venue"] = (lead, f"/ruang/{venues[0]}/")
        for name, (client, path) in paths.items():
            _, size, body, hdrs = timed_get(client, path, IDENTITY)
            out[name] = {"bytes": size, "gzip_bytes": len(gzip.compress(body, 6)),
                         "events": body.count(b"BEGIN:VEVENT"), "path": path}
            etag = hdrs.get("etag", "")
            out[name]["get"] = summary([timed_get(client, path, IDENTITY)[0]  # type: ignore[index]
                                        for _ in range(reps)])
            if etag and name != "public_full":
                try:
                    out[name]["get_304"] = summary([timed_get(  # type: ignore[index]
                        client, path, {**IDENTITY, "If-None-Match": etag}, 304)[0]
                        for _ in range(reps)])
                except RuntimeError:
                    out[name]["get_304"] = None  # type: ignore[index]
    finally:
        anon.close()
        lead.close()
    return out


def _ms(x: float) -> str:
    return f"{x * 1e3:.1f}" if x < 10 else f"{x * 1e3:.0f}"


def table(res: dict) -> str:  # type: ignore[type-arg]
    """The run as a Markdown table (measured figures, ratios against vanilla)."""
    m, d, a, f, h = res["machine"], res["dataset"], res["args"], res["feeds"], res["hour"]
    rb = res["rebuild"]
    van_get, van_put = res["van_get"]["median"], res["van_put_idle"]["p95"]
    rows = [
        ("data", f"{d['n']:,} events ({d['recurring']:,} weekly series), {a['opds']} OPD, "
                 f"{a['years']} years x {a['per_day']}/day x scale {a['scale']}"),
        ("first sync pass (full rebuild)",
         f"seeded in {rb['seconds']:.1f} s (not a rebuild) [{rb['actions']:,} writes]"
         if rb["seeded"] else f"**{rb['seconds']:.1f} s** [{rb['actions']:,} writes], "
         f"{rb['seconds'] / d['n'] * 1000:.0f} s per 1,000 events"),
    ]
    for name in ("public", "public_full", "leaders", "venue"):
        if name in f:
            x = f[name]
            g304 = x.get("get_304")
            rows.append((f"`{x['path']}`: KiB (gzip), events",
                         f"{x['bytes'] / 1024:,.0f} ({x['gzip_bytes'] / 1024:,.0f}), "
                         f"{x['events']:,}; GET {_ms(x['get']['median'])} ms"
                         + (f", 304 {_ms(g304['median'])} ms" if g304 else "")))
    pub = f["public"]
    rows += [
        ("vanilla GET of the merged collection (ms), ÷ feed GET / ÷ 304",
         f"{_ms(van_get)}, {van_get / pub['get']['median']:,.0f}x"
         + (f" / {van_get / pub['get_304']['median']:,.0f}x" if pub.get("get_304") else "")),
        ("PUT p95 idle (ms), vanilla idle, ratio",
         f"{_ms(res['put_idle']['p95'])}, {_ms(van_put)}, "
         f"{res['put_idle']['p95'] / van_put:.2f}x"),
        ("PUT -> visible idle, median / p95 (s)",
         f"{res['visible_idle']['visible']['median']:.2f} / "
         f"**{res['visible_idle']['visible']['p95']:.2f}**"),
        (f"the hour ({a['hour_seconds']:.0f} s): {h['put']['n']} PIC PUTs, p95 (ms), ÷ idle",
         f"**{_ms(h['put']['p95'])}**, {h['put']['p95'] / res['put_idle']['p95']:.2f}x"),
        ("the hour: PUT -> visible, median / p95 (s)",
         f"{h['visible']['median']:.2f} / **{h['visible']['p95']:.2f}**"),
        ("the hour: subscriber polls (status: n, median ms)",
         ", ".join(f"{k}: {v['count']}, {_ms(v['median'])}"
                   for k, v in sorted(h["polls"]["by_status"].items()))),
        ("RSS of `kalender serve` (MiB): start / end / peak",
         f"{res['rss_start']['VmRSS'] / 1024:.0f} / {res['rss_end']['VmRSS'] / 1024:.0f} / "
         f"{res['rss_end']['VmHWM'] / 1024:.0f}"),
    ]
    head = (f"Machine: {m['nproc']} CPU ({m['cpu']}), Python {m['python']}, Radicale "
            f"{m['radicale']}; code {m['commit']}; run {m['date']}, total "
            f"{res['total_seconds'] / 60:.1f} min.")
    return "\n".join([head, "", "| measure | value |", "|---|---|"]
                     + [f"| {k} | {v} |" for k, v in rows])
