"""Every 4xx answer as a DAV:error with one sentence in Bahasa Indonesia (RFC 4918 §16).

Radicale answers most refusals with a short English ``text/plain`` body
("Bad Request", "Precondition failed."), and a few with a bare ``DAV:error``
holding only a precondition element (``C:no-uid-conflict``,
``D:resource-must-be-null``, ``D:supported-report``...). ``explain`` and
``reshaped`` turn each of them, in one place at the end of
``kalender.dav.app.Application._handle_request``, into a ``DAV:error`` whose
precondition element names what failed (the one RFC 4918/3744/4791/6578 names
where there is one, else one in the project's namespace) and a
``<K:message xml:lang="id">`` saying what to change. The status code stays;
the reason phrase becomes an Indonesian one (RFC 9110 §15: clients ignore
reason phrases, people read them). An answer that already carries a
``K:message`` (a ``kalender.errors`` refusal) is left exactly as it is.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as DefusedET

NS = "urn:x-kalender-opd:"
DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/xml; charset=utf-8"
#: Largest error body inspected (Radicale's are a few hundred bytes).
MAX_INSPECTED = 65_536

ET.register_namespace("K", NS)
ET.register_namespace("D", DAV)
ET.register_namespace("C", CALDAV)

WRITE_METHODS = frozenset({"PUT", "DELETE", "MOVE", "COPY", "PROPPATCH", "MKCALENDAR",
                           "MKCOL", "POST"})
XML_METHODS = frozenset({"PROPFIND", "PROPPATCH", "REPORT", "MKCALENDAR", "MKCOL"})


@dataclass(frozen=True)
class Explanation:
    """What a 4xx answer says: precondition (Clark name), reason phrase, sentence."""

    condition: str
    reason: str
    message: str


def k(name: str) -> str:
    """Clark name of an element in the project's namespace."""
    return f"{{{NS}}}{name}"


def dav_error(condition: str, message: str,
              children: Iterable[tuple[str, Mapping[str, str]]] = ()) -> bytes:
    """A DAV:error body: the precondition element (with children) and the sentence."""
    root = ET.Element(f"{{{DAV}}}error")
    element = ET.SubElement(root, condition)
    for tag, attributes in children:
        ET.SubElement(element, tag, dict(attributes))
    sentence = ET.SubElement(root, k("message"))
    sentence.set(XML_LANG, "id")
    sentence.text = message
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def throttled(retry_after: int) -> Explanation:
    """The 429 of too many failed logins (RFC 6585 §4)."""
    wait = (f"{retry_after} detik" if retry_after < 60
            else f"{-(-retry_after // 60)} menit")
    return Explanation(k("login-throttled"), "Terlalu Banyak Percobaan",
                       f"Terlalu banyak percobaan masuk yang gagal; tunggu {wait}, lalu "
                       "masuk lagi dengan nama pengguna dan kata sandi yang benar.")


def _plain(status: int, method: str, environ: Mapping[str, object], text: str,
           path_ok: bool) -> Explanation:
    """The explanation of one of Radicale's text/plain answers (see radicale.httputils)."""
    write = method in WRITE_METHODS
    if status == 400:
        if not path_ok:
            return Explanation(k("valid-path"), "Alamat Tidak Valid",
                               "Alamat (nama berkas) permintaan memuat karakter yang tidak "
                               "diizinkan; gunakan nama tanpa karakter khusus lalu ulangi.")
        if method == "PUT":
            return Explanation(k("valid-calendar-data"), "Data Kalender Tidak Valid",
                               "Data kegiatan tidak dapat dibaca sebagai iCalendar (RFC 5545); "
                               "buat ulang kegiatan di aplikasi kalender lalu simpan lagi.")
        if method in ("MOVE", "COPY"):
            return Explanation(k("valid-destination"), "Tujuan Tidak Valid",
                               "Tujuan pemindahan (header Destination) tidak valid; pilih "
                               "kalender tujuan di server ini lalu ulangi.")
        if method in XML_METHODS:
            return Explanation(k("valid-xml-request"), "Permintaan Tidak Valid",
                               "Isi XML permintaan tidak dapat dibaca; perbarui aplikasi "
                               "kalender atau periksa isi permintaan lalu ulangi.")
        return Explanation(k("valid-request"), "Permintaan Tidak Valid",
                           "Permintaan tidak dapat diproses; periksa alamat dan isi "
                           "permintaan lalu ulangi.")
    if status == 401:
        if environ.get("HTTP_AUTHORIZATION"):
            return Explanation(k("valid-credentials"), "Login Gagal",
                               "Nama pengguna atau kata sandi salah; periksa keduanya lalu "
                               "masuk kembali.")
        return Explanation(k("authentication-required"), "Perlu Login",
                           "Silakan masuk (login) dengan nama pengguna dan kata sandi akun "
                           "Kalender OPD Anda.")
    if status == 403:
        if text.startswith("Directory listings"):
            return Explanation(k("no-directory-listing"), "Tidak Diizinkan",
                               "Isi folder ini tidak dapat ditampilkan di peramban; buka "
                               "kalender yang tampil di daftar kalender Anda.")
        if text.startswith("Action on the requested resource refused"):
            if method == "MOVE":
                message = ("Kegiatan hanya dapat dipindahkan ke kalender lain, bukan menimpa "
                           "sebuah kalender; pilih kalender tujuan lain.")
            elif method in ("MKCALENDAR", "MKCOL"):
                message = ("Kalender tidak dapat dibuat di dalam kalender lain; buat "
                           "kalender baru di folder pengguna.")
            else:
                message = "Server menolak tindakan ini pada alamat tersebut; periksa alamatnya."
            return Explanation(k("action-allowed"), "Tidak Diizinkan", message)
        # RFC 3744 §7.1.1: the privilege the request needs is not granted.
        if write:
            return Explanation(f"{{{DAV}}}need-privileges", "Tidak Diizinkan",
                               "Akun Anda tidak berhak mengubah kalender ini; simpan kegiatan "
                               "di kalender OPD Anda sendiri atau hubungi admin Kalender OPD.")
        return Explanation(f"{{{DAV}}}need-privileges", "Tidak Diizinkan",
                           "Akun Anda tidak berhak membuka alamat ini; buka kalender yang "
                           "tampil di daftar kalender Anda.")
    if status == 404:
        message = {
            "DELETE": "Kegiatan ini sudah tidak ada di server (mungkin sudah dihapus di "
                      "perangkat lain); muat ulang kalender.",
            "MOVE": "Kegiatan yang akan dipindahkan sudah tidak ada di server; muat ulang "
                    "kalender.",
        }.get(method, "Alamat ini tidak ditemukan di server; muat ulang daftar kalender "
                      "lalu ulangi.")
        return Explanation(k("resource-exists"), "Tidak Ditemukan", message)
    if status == 405:
        shown = method[:20] or "ini"
        if method == "MKCOL":
            message = "Alamat ini sudah terpakai; pilih nama lain untuk kalender baru."
        elif method == "MOVE":
            message = "Kalender tidak dapat dipindahkan; pindahkan kegiatannya satu per satu."
        else:
            message = (f"Metode {shown} tidak dapat dipakai pada alamat ini; perbarui "
                       "aplikasi kalender atau pilih alamat lain.")
        return Explanation(k("supported-method"), "Metode Tidak Didukung", message)
    if status == 408:
        return Explanation(k("complete-request"), "Waktu Habis",
                           "Isi permintaan tidak diterima lengkap; periksa koneksi lalu "
                           "kirim ulang.")
    if status == 409:
        message = {
            "PUT": "Kalender tujuan kegiatan ini tidak ada; simpan kegiatan di kalender yang "
                   "tampil di daftar kalender Anda.",
            "MOVE": "Kalender tujuan pemindahan tidak ada; pilih kalender tujuan yang ada.",
            "MKCALENDAR": "Folder induk kalender baru tidak ada atau alamatnya bentrok; buat "
                          "kalender di folder pengguna dengan nama lain.",
            "DELETE": "Kalender ini masih dibagikan; hentikan pembagiannya dulu lalu hapus.",
        }.get(method, "Permintaan bertentangan dengan isi server; muat ulang lalu ulangi.")
        return Explanation(k("parent-exists"), "Konflik", message)
    if status == 412:
        return _precondition(method, environ)
    if status == 413:
        return Explanation(k("max-request-size"), "Terlalu Besar",
                           "Isi permintaan terlalu besar untuk server ini; kirim kegiatan "
                           "satu per satu atau perkecil deskripsi dan lampirannya.")
    return Explanation(k("valid-request"), "Permintaan Ditolak",
                       f"Permintaan ditolak server (kode {status}); periksa alamat dan isi "
                       "permintaan lalu ulangi.")


def _precondition(method: str, environ: Mapping[str, object]) -> Explanation:
    """412 (RFC 9110 §13.1): which precondition failed, from the request's headers."""
    if method == "PUT" and environ.get("HTTP_IF_NONE_MATCH") == "*":
        return Explanation(k("no-existing-resource"), "Sudah Ada",
                           "Kegiatan dengan alamat ini sudah ada di server; muat ulang "
                           "kalender lalu ubah kegiatan yang sudah ada.")
    if method == "PUT" and not environ.get("HTTP_IF_MATCH"):
        # Radicale's item-size limit ([server] max_resource_size) answers 412 too.
        return Explanation(k("max-resource-size"), "Terlalu Besar",
                           "Kegiatan ini terlalu besar untuk disimpan; perpendek deskripsinya "
                           "atau kurangi lampirannya lalu simpan lagi.")
    if method == "MOVE":
        return Explanation(k("no-existing-resource"), "Sudah Ada",
                           "Di kalender tujuan sudah ada kegiatan dengan nama berkas yang "
                           "sama; muat ulang kalender lalu ulangi.")
    action = "penghapusan" if method == "DELETE" else "perubahan"
    return Explanation(k("matching-etag"), "Sudah Berubah",
                       "Kegiatan ini sudah diubah di perangkat lain; muat ulang kalender lalu "
                       f"ulangi {action}.")


#: Sentences for the bare DAV:error answers of Radicale, by precondition element.
CONDITIONS: dict[str, tuple[str, str]] = {
    f"{{{CALDAV}}}no-uid-conflict": (
        "UID Sudah Dipakai",
        "Kegiatan dengan UID yang sama sudah ada di kalender ini dengan nama berkas lain; "
        "ubah kegiatan yang sudah ada alih-alih menyimpannya sebagai kegiatan baru."),
    f"{{{DAV}}}resource-must-be-null": (
        "Sudah Ada", "Sudah ada kalender di alamat ini; pilih nama lain untuk kalender baru."),
    f"{{{DAV}}}supported-report": (
        "Laporan Tidak Didukung",
        "Jenis laporan (REPORT) ini tidak didukung untuk alamat ini; pilih kalender lain "
        "atau perbarui aplikasi kalender."),
    f"{{{DAV}}}valid-sync-token": (
        "Token Tidak Berlaku",
        "Token sinkronisasi sudah tidak berlaku; aplikasi kalender perlu menyinkronkan "
        "ulang kalender ini dari awal."),
    f"{{{CALDAV}}}expand": (
        "Permintaan Tidak Valid",
        "Permintaan expand pada REPORT tidak valid; periksa rentang waktunya (start dan "
        "end) lalu ulangi."),
}


def _body(headers: list[tuple[str, str]], answers: Iterable[bytes]) -> bytes | None:
    """The answer's body, un-gzipped; None when it is too large to inspect."""
    body = b"".join(answers)
    if any(k.lower() == "content-encoding" and v.lower() == "gzip" for k, v in headers):
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = inflater.decompress(body, MAX_INSPECTED)
        except zlib.error:
            return None
        if inflater.unconsumed_tail:
            return None
    return body if len(body) <= MAX_INSPECTED else None


def explain(environ: Mapping[str, object], status: int, headers: list[tuple[str, str]],
            answers: Iterable[bytes], path_ok: bool = True) -> Explanation | None:
    """What a 4xx answer should say; None for other answers and ones already explained."""
    if not 400 <= status < 500:
        return None
    body = _body(headers, answers)
    if body is None:
        return None
    method = str(environ.get("REQUEST_METHOD", "")).upper()
    ctype = next((v for k_, v in headers if k_.lower() == "content-type"), "")
    if "xml" in ctype.lower() and body.strip():
        try:
            root = DefusedET.fromstring(body)
        except (ET.ParseError, defusedxml.DefusedXmlException, ValueError):
            root = None
        if root is not None and root.tag == f"{{{DAV}}}error":
            if root.find(k("message")) is not None:
                return None  # a kalender.errors refusal: kept as it is
            condition = next((c.tag for c in root), "")
            if condition in CONDITIONS:
                return Explanation(condition, *CONDITIONS[condition])
            if condition:
                base = _plain(status, method, environ, "", path_ok)
                return Explanation(condition, base.reason, base.message)
    text = body.decode("utf-8", "replace").strip()
    return _plain(status, method, environ, text, path_ok)


def sentence(headers: list[tuple[str, str]], answers: Iterable[bytes]) -> str | None:
    """The ``K:message`` of a DAV:error answer; None for any other answer."""
    ctype = next((v for k_, v in headers if k_.lower() == "content-type"), "")
    body = _body(headers, answers) if "xml" in ctype.lower() else None
    if not body:
        return None
    try:
        root = DefusedET.fromstring(body)
    except (ET.ParseError, defusedxml.DefusedXmlException, ValueError):
        return None
    return root.findtext(k("message")) if root.tag == f"{{{DAV}}}error" else None


def reshaped(status: int, headers: list[tuple[str, str]], explanation: Explanation
             ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """The answer with ``explanation`` as its body and reason phrase, other headers kept."""
    body = dav_error(explanation.condition, explanation.message)
    kept = [(k_, v) for k_, v in headers
            if k_.lower() not in ("content-type", "content-length", "content-encoding")]
    kept += [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
    return f"{status} {explanation.reason}", kept, [body]


def plain_explanation(status: int, method: str, environ: Mapping[str, object]) -> Explanation:
    """The default explanation of ``status`` for ``method`` (answers made before Radicale)."""
    return _plain(status, method.upper(), environ, "", True)
