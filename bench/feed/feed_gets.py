"""Items 2 and 3: feed GETs against vanilla, and PUT -> visible in the public feed."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import http.client
import statistics
import time
import uuid
from urllib.parse import urlsplit

import requests
from common import Server, summary
from data import Dataset

from feed.servers import IDENTITY, PUBLIC, put_event


class Client:
    """A keep-alive http.client connection (less client overhead than requests: the
    304 answer takes about a millisecond, so the client's own cost matters)."""

    def __init__(self, base: str, auth: tuple[str, str] | None = None) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        self.auth = {}
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self.auth = {"Authorization": f"Basic {token}"}

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.conn.request("GET", path, headers={**self.auth, **headers})
        r = self.conn.getresponse()
        body = r.read()
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def close(self) -> None:
        self.conn.close()


def timed_get(client: Client, path: str, headers: dict[str, str],
              expect: int = 200) -> tuple[float, int, bytes, dict[str, str]]:
    """(seconds, bytes on the wire, body, headers) of one GET, body read completely."""
    began = time.perf_counter()
    status, hdrs, body = client.get(path, headers)
    elapsed = time.perf_counter() - began
    if status != expect:
        raise RuntimeError(f"GET {path} -> {status}, expected {expect}")
    return elapsed, len(body), body, hdrs


def bench_get(kal: Server, van: Server, ds: Dataset, reps: int, van_reps: int
              ) -> dict[str, object]:
    anon = Client(kal.url)
    vc = Client(van.url, (ds.login, ds.password))
    out: dict[str, object] = {}
    try:
        _, _, feed, hdrs = timed_get(anon, PUBLIC, IDENTITY)
        etag = hdrs["etag"]
        _, _, full, _ = timed_get(anon, PUBLIC + "?penuh=1", IDENTITY)
        out["feed_bytes"] = len(feed)
        out["feed_gzip_bytes"] = len(gzip.compress(feed, 6))
        out["feed_events"] = feed.count(b"BEGIN:VEVENT")
        out["full_bytes"] = len(full)
        out["full_gzip_bytes"] = len(gzip.compress(full, 6))
        out["full_events"] = full.count(b"BEGIN:VEVENT")
        cases = {
            "kal_feed": (PUBLIC, IDENTITY, 200),
            "kal_full": (PUBLIC + "?penuh=1", IDENTITY, 200),
            "kal_304": (PUBLIC, {**IDENTITY, "If-None-Match": etag}, 304),
            "kal_gzip": (PUBLIC, {"Accept-Encoding": "gzip"}, 200),
        }
        times: dict[str, list[float]] = {k: [] for k in cases}
        wire: dict[str, int] = {}
        for name, (path, h, code) in cases.items():
            timed_get(anon, path, h, code)  # untimed warm-up
            for _ in range(reps):
                t, size, _, _ = timed_get(anon, path, h, code)
                times[name].append(t)
                wire[name] = size
        # vanilla: one GET fills its item cache (untimed, reported), then measured
        first, _, body, _ = timed_get(vc, PUBLIC, IDENTITY)
        out["van_first_get_s"] = first
        out["van_bytes"] = len(body)
        out["van_events"] = body.count(b"BEGIN:VEVENT")
        times["van_get"] = [timed_get(vc, PUBLIC, IDENTITY)[0] for _ in range(van_reps)]
        times["van_gzip"] = []
        for _ in range(max(1, van_reps // 2)):
            t, size, _, _ = timed_get(vc, PUBLIC, {"Accept-Encoding": "gzip"})
            times["van_gzip"].append(t)
            wire["van_gzip"] = size
        out["wire_bytes"] = wire
        t = {k: summary(v) for k, v in times.items()}
        out["times"] = t
        v = t["van_get"]["median"]
        out["ratio_feed"] = v / t["kal_feed"]["median"]
        out["ratio_full"] = v / t["kal_full"]["median"]
        out["ratio_304"] = v / t["kal_304"]["median"]
        out["ratio_gzip"] = t["van_gzip"]["median"] / t["kal_gzip"]["median"]
    finally:
        anon.close()
        vc.close()
    return out

# -- 3: PUT -> visible ------------------------------------------------------------------
def bench_visible(kal: Server, ds: Dataset, reps: int, first_day: int,
                  limit: float = 120) -> dict[str, object]:
    anon = requests.Session()
    today = dt.date.fromisoformat(ds.today)
    collection = f"/opd/{ds.target}/"
    samples, puts, polls = [], [], []
    try:
        etag = anon.get(kal.url + PUBLIC, headers=IDENTITY, timeout=60).headers.get("ETag", "")
        for i in range(reps):
            marker = f"Bench Publik {i} {uuid.uuid4().hex[:8]}"
            put_s, _ = put_event(kal, collection, today + dt.timedelta(days=first_day + i), marker)
            accepted = time.perf_counter()
            needle = marker.encode()
            n = 0
            while True:
                n += 1
                tick = time.perf_counter()
                r = anon.get(kal.url + PUBLIC, headers={**IDENTITY, "If-None-Match": etag},
                             timeout=60)
                if r.status_code == 200:
                    etag = r.headers.get("ETag", etag)
                    if needle in r.content:
                        break
                if tick - accepted > limit:
                    raise RuntimeError(f"event not visible after {limit} s")
                time.sleep(max(0.0, 0.02 - (time.perf_counter() - tick)))
            samples.append(time.perf_counter() - accepted)
            puts.append(put_s)
            polls.append(n)
            time.sleep(1.0)  # let the pass finish its remaining feeds
    finally:
        anon.close()
    return {"visible": summary(samples), "put": summary(puts), "polls_median":
            statistics.median(polls), "samples": [round(x, 3) for x in samples]}
