"""The rebuild extrapolation of seeded sizes and the Markdown table."""

from __future__ import annotations

TARGETS = {"get_ratio": 50.0, "get304_ratio": 500.0, "visible_p95_s": 2.0,
           "resync_fraction": 0.05, "put_p95_s": 1.0, "put_load_ratio": 2.0}


def extrapolate(sizes: list[dict]) -> None:  # type: ignore[type-arg]
    """Full rebuild time of seeded sizes from the measured ones: t = a*N + b*N^2 (Radicale
    scans the whole history folder of the collection on every PUT), or linear with one."""
    real = [(s["n"], s["full"]["seconds"]) for s in sizes if not s["seeded"]]
    for s in sizes:
        s["resync_fraction"] = None
    if not real:
        return
    if len(real) >= 2:
        (n1, t1), (n2, t2) = real[-2], real[-1]
        b = (t2 / n2 - t1 / n1) / (n2 - n1)
        a = t1 / n1 - b * n1
        if b < 0:
            a, b = t2 / n2, 0.0
    else:
        a, b = real[0][1] / real[0][0], 0.0
    for s in sizes:
        if s["seeded"]:
            n = s["n"]
            s["full"] = {"seconds": a * n + b * n * n,
                         "linear_seconds": real[-1][1] / real[-1][0] * n,
                         "estimated": True, "actions": s["seed"]["actions"],
                         "model": f"{a:.4g}*N + {b:.4g}*N^2"}
    for s in sizes:
        s["resync_fraction"] = s["resync"]["median"] / s["full"]["seconds"]


# -- report -----------------------------------------------------------------------------
def machine() -> dict[str, object]:
    import run as bench_run  # bench/run.py: machine info (read-only git)
    return bench_run.machine()


def _ms(x: float) -> str:
    return f"{x * 1e3:.1f}" if x < 10 else f"{x * 1e3:.0f}"


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def table(res: dict) -> str:  # type: ignore[type-arg]
    m = res["machine"]
    lines = [f"Machine: {m['nproc']} CPU ({m['cpu']}), Python {m['python']}, "
             f"Radicale {m['radicale']}, waitress {m['waitress']}, Linux {m['kernel']}; "
             f"code {m['commit']}; run {m['date']}, {res['reps']} reps, "
             f"total {res['total_seconds'] / 60:.1f} min.", "",
             "| # | measure | " + " | ".join(f"N = {s['n']:,}" for s in res["sizes"])
             + " | target |",
             "|---|---|" + "---|" * len(res["sizes"]) + "---|"]

    def row(num: str, label: str, fn, target: str = "") -> None:  # type: ignore[no-untyped-def]
        lines.append(f"| {num} | {label} | " + " | ".join(fn(s) for s in res["sizes"])
                     + f" | {target} |")

    T = TARGETS  # noqa: N806
    row("1", "full rebuild, `run_once` (s) [writes]",
        lambda s: "-" if "full" not in s else (
            f"~{s['full']['seconds'] / 60:.0f} min est. (linear: "
            f"{s['full']['linear_seconds'] / 60:.0f} min) [{s['full']['actions']:,}]"
                   if s["full"].get("estimated") else
                   f"{s['full']['seconds']:.1f} [{s['full']['actions']:,}]"), "(info)")
    row("2", "feed size: windowed / whole (KiB)",
        lambda s: f"{s['get']['feed_bytes'] / 1024:,.0f} / {s['get']['full_bytes'] / 1024:,.0f}",
        "windowed < 1 MiB")
    row("2", "feed gzip: windowed / whole (KiB)",
        lambda s: f"{s['get']['feed_gzip_bytes'] / 1024:,.0f} / "
                  f"{s['get']['full_gzip_bytes'] / 1024:,.0f}", "(info)")
    row("2", "events: windowed / whole / vanilla coll.",
        lambda s: f"{s['get']['feed_events']:,} / {s['get']['full_events']:,} / "
                  f"{s['get']['van_events']:,}", "(info)")
    row("2", "vanilla GET merged collection, median (ms)",
        lambda s: _ms(s["get"]["times"]["van_get"]["median"]), "")
    row("2", "GET /publik/agenda/ median (ms), vanilla ÷ it",
        lambda s: f"{_ms(s['get']['times']['kal_feed']['median'])}, "
                  f"**{s['get']['ratio_feed']:,.0f}x**", f">= {T['get_ratio']:.0f}x")
    row("2", "GET ?penuh=1 (same events) median (ms), ratio",
        lambda s: f"{_ms(s['get']['times']['kal_full']['median'])}, "
                  f"{s['get']['ratio_full']:,.0f}x", f">= {T['get_ratio']:.0f}x")
    row("2", "GET 304 (If-None-Match) median (ms), ratio",
        lambda s: f"{_ms(s['get']['times']['kal_304']['median'])}, "
                  f"**{s['get']['ratio_304']:,.0f}x**", f">= {T['get304_ratio']:.0f}x")
    row("2", "GET gzip median (ms): Kalender / vanilla, ratio",
        lambda s: f"{_ms(s['get']['times']['kal_gzip']['median'])} / "
                  f"{_ms(s['get']['times']['van_gzip']['median'])}, "
                  f"{s['get']['ratio_gzip']:,.0f}x", "(info)")
    row("3", "PUT -> visible in feed, median / p95 (s)",
        lambda s: f"{s['visible']['visible']['median']:.2f} / "
                  f"**{s['visible']['visible']['p95']:.2f}**", f"p95 <= {T['visible_p95_s']} s")
    row("4", "re-sync after 1 PUT, median (s), ÷ full",
        lambda s: f"{s['resync']['median']:.2f}, **{s['resync_fraction'] * 100:.1f}%**"
        if s["resync_fraction"] is not None else f"{s['resync']['median']:.2f}, -",
        f"<= {T['resync_fraction'] * 100:.0f}%")
    row("4", "re-sync as `serve` runs it (changed OPD only), median (s), ÷ full",
        lambda s: "-" if "resync_serve" not in s else (
            f"{s['resync_serve']['median']:.2f}"
            + (f", {s['resync_serve']['median'] / s['full']['seconds'] * 100:.2f}%"
               if s.get("full") else "")), "(info)")
    row("5", "Kalender PUT p95 (ms): idle / 20 readers",
        lambda s: f"{_ms(s['load']['kal_idle']['p95'])} / "
                  f"**{_ms(s['load']['kal_load']['put']['p95'])}**", "loaded <= 1000")
    row("5", "diag.: PUT p95 (ms) 20 readers, no sync thread",
        lambda s: _ms(s["load_nosync"]["put"]["p95"]), "(info)")
    row("5", "Kalender PUT p95 loaded ÷ idle",
        lambda s: f"**{s['load']['kal_load_ratio_p95']:.2f}x**", f"<= {T['put_load_ratio']}x")
    row("5", "Kalender PUT p95 (ms), 20 readers polling with If-None-Match, ÷ idle",
        lambda s: (f"{s['load']['kal_load_conditional']['put']['p95'] * 1000:.1f}, "
                   f"**{s['load']['kal_load_conditional_ratio_p95']:.2f}x**")
        if "kal_load_conditional" in s["load"] else "-", "(info)")
    row("5", "Kalender readers: GETs/s [errors]",
        lambda s: f"{s['load']['kal_load']['readers']['gets_per_s']} "
                  f"[{s['load']['kal_load']['readers']['error_count']}]", "(info)")
    row("5", "vanilla PUT p95 (ms): idle / 20 readers [timeouts]",
        lambda s: f"{_ms(s['load']['van_idle']['p95'])} / "
                  f"{_ms(s['load']['van_load']['put']['p95'])} "
                  f"[{s['load']['van_load']['put']['timeouts']}/{s['load']['van_load']['put']['n']}]",
        "(info)")
    row("5", "vanilla readers: GETs/s [errors]",
        lambda s: f"{s['load']['van_load']['readers']['gets_per_s']} "
                  f"[{s['load']['van_load']['readers']['error_count']}]", "(info)")
    lines.append("")
    met = []
    for s in res["sizes"]:
        g, v, ld = s["get"], s["visible"], s["load"]
        checks = {"GET >= 50x": g["ratio_feed"] >= T["get_ratio"],
                  "304 >= 500x": g["ratio_304"] >= T["get304_ratio"],
                  "feed < 1 MiB": g["feed_bytes"] < 1024 * 1024,
                  "visible p95 <= 2 s": v["visible"]["p95"] <= T["visible_p95_s"],
                  "re-sync <= 5%": (s["resync_fraction"] or 1) <= T["resync_fraction"],
                  "PUT p95 <= 1 s": ld["kal_load"]["put"]["p95"] <= T["put_p95_s"],
                  "PUT p95 <= 2x idle": ld["kal_load_ratio_p95"] <= T["put_load_ratio"]}
        met.append(f"N = {s['n']:,}: " + ", ".join(f"{k} {_yes(ok)}" for k, ok in checks.items()))
    lines += ["Targets met: " + "; ".join(met) + "."]
    return "\n".join(lines)
