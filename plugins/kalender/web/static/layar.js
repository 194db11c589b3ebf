/* Lobby screen (/layar/): keeps the server-rendered page current without a reload.
 *
 * Every 30 s it fetches /layar/data.json (revalidated with its ETag, so an unchanged
 * agenda costs a 304) and re-renders the lists; every second it ticks the clock and,
 * when the minute changes, moves activities between "Berikutnya", "Sedang berlangsung"
 * and "Selesai". The time is the server's (the HTTP Date header, RFC 9110 section 6.6.1)
 * shown in WIB (UTC+7) whatever zone or clock error the TV has. Text is always set
 * with textContent, never as HTML. Markup mirrors templates/layar.html.
 */
(function () {
  "use strict";

  var WIB_MS = 7 * 3600 * 1000;
  var POLL_MS = 30 * 1000;
  var NOW_MAX = 2;
  var NEXT_MAX = 2;
  var offset = 0;      // server clock minus this clock, in ms
  var data = null;     // the last /layar/data.json
  var shownMinute = "";
  var shownTicker = null;

  function byId(id) { return document.getElementById(id); }
  function now() { return Date.now() + offset; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function wibClock(ms) {
    var d = new Date(ms + WIB_MS);
    return pad(d.getUTCHours()) + "." + pad(d.getUTCMinutes());
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function state(item, t) {  // as Item.state in lobby.py
    if (Date.parse(item.end) <= t) { return "selesai"; }
    if (item.cancelled) { return "batal"; }
    return Date.parse(item.start) <= t ? "berlangsung" : "nanti";
  }

  function card(item, current) {
    var li = el("li", current ? "kartu kartu-kini" : "kartu");
    li.appendChild(el("p", "kartu-waktu", item.time));
    li.appendChild(el("p", "kartu-judul", item.title));
    if (item.place) { li.appendChild(el("p", "kartu-tempat", item.place)); }
    if (!item.internal) { li.appendChild(el("p", "kartu-opd", item.opd)); }
    return li;
  }

  function row(item, st) {
    var li = el("li", "baris baris-" + st);
    li.appendChild(el("span", "baris-waktu", item.startTime || "Sepanjang hari"));
    var title = el("span", "baris-judul", item.title);
    var marks = { batal: "DIBATALKAN", berlangsung: "Sedang berlangsung" };
    if (marks[st]) {
      title.appendChild(document.createTextNode(" "));
      title.appendChild(el("strong", "tanda", marks[st]));
    }
    li.appendChild(title);
    li.appendChild(el("span", "baris-tempat", item.place || (item.internal ? "" : item.opd)));
    return li;
  }

  function fill(list, nodes, empty) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!nodes.length) { list.appendChild(el("li", "kosong", empty)); }
    nodes.forEach(function (n) { list.appendChild(n); });
  }

  function render() {
    if (!data) { return; }
    var t = now();
    var current = [], coming = [], rows = [], done = 0;
    data.today.forEach(function (item) {
      var st = state(item, t);
      if (st === "berlangsung" && current.length < NOW_MAX) { current.push(card(item, true)); }
      if (st === "nanti" && coming.length < NEXT_MAX) { coming.push(card(item, false)); }
      if (st === "selesai") { done += 1; } else { rows.push(row(item, st)); }
    });
    fill(byId("daftar-kini"), current, "Tidak ada kegiatan yang sedang berlangsung.");
    fill(byId("daftar-berikut"), coming, "Tidak ada kegiatan berikutnya hari ini.");
    if (done) {  // rows that are over give way to one line (lobby.remaining)
      rows.unshift(el("li", "baris-lewat", done + " kegiatan sebelumnya sudah lewat."));
    }
    fill(byId("daftar-hari"), rows, "Tidak ada kegiatan publik hari ini.");
    if (done && rows.length === 1) {
      byId("daftar-hari").appendChild(el("li", "kosong", "Tidak ada kegiatan lagi hari ini."));
    }
    byId("jumlah").textContent = "(" + data.count + ")";
    byId("layar-tanggal").textContent = data.dateText;
    if (data.ticker !== shownTicker) {  // restarting the animation on every poll would jump
      byId("berita-teks").textContent = data.ticker;
      pace();
    }
  }

  function pace() {
    // about six characters a second, whatever the length of tomorrow's line (CSSOM, not a
    // style attribute: the Content-Security-Policy allows no inline style)
    var text = byId("berita-teks");
    shownTicker = text.textContent;
    text.style.animationDuration = Math.max(20, Math.round(shownTicker.length / 6)) + "s";
  }

  function tick() {
    var t = now();
    var clock = byId("layar-jam");
    var minute = wibClock(t);
    if (minute !== shownMinute) {
      clock.textContent = minute;
      clock.setAttribute("datetime", new Date(t).toISOString());
      shownMinute = minute;
      render();
    }
  }

  function poll() {
    fetch("/layar/data.json", { cache: "no-cache", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        var date = Date.parse(response.headers.get("Date") || "");
        if (!isNaN(date)) { offset = date + 500 - Date.now(); }  // Date has 1 s resolution
        return response.json();
      })
      .then(function (fresh) {
        data = fresh;
        document.body.classList.remove("layar-putus");
        render();
      })
      .catch(function () {
        document.body.classList.add("layar-putus");  // keep the last data on screen
      });
  }

  function start() {
    pace();
    poll();
    window.setInterval(tick, 1000);
    window.setInterval(poll, POLL_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
