"""The activities of the demo city (``kalender init --demo``), as a PIC would type them.

Each entry names its OPD, a title (unique), the place as typed in the client's
Location field (registered venues under their names or aliases, or a free
place that is not checked), when it happens (``kerja`` = Monday-Friday, or one
weekday by its Indonesian name, with a time or ``N hari`` for an all-day
event), the description with the labelled lines of docs/konvensi-pic.md
(only registered key persons are named on those lines) and the CLASS.
``kalender.admin.demo`` picks the dates and keeps the schedule free of clashes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Activity:
    """One demo activity before it gets a date."""

    opd: str
    title: str
    place: str
    when: str  # "kerja 08:00-10:00", "sabtu 19:00-22:00", "kamis 3 hari"
    description: str = ""
    klass: str = "PUBLIC"
    attendees: tuple[tuple[str, str], ...] = ()  # (CN, PARTSTAT) of invited key persons


@dataclass(frozen=True)
class Series:
    """A weekly activity over the whole demo window."""

    opd: str
    title: str
    place: str
    weekday: int  # 0 = Monday
    hours: str  # "08:00-09:30"
    description: str
    klass: str = "PUBLIC"


#: The staff meeting: one occurrence moved, one cancelled (RECURRENCE-ID overrides).
RAPIM = Series(
    "setda", "Rapat Staf Pimpinan Mingguan", "Ruang Kilisuci", 0, "08:00-09:30",
    "Pimpinan: Wali Kota Kediri\nHadir: Wakil Wali Kota; Sekda; Asisten I; Asisten II; "
    "Asisten III\nAgenda: laporan mingguan para asisten dan tindak lanjut arahan pimpinan.",
    "CONFIDENTIAL")
CFD = Series(
    "dishub", "Car Free Day Jalan Dhoho", "CFD Jalan Dhoho", 6, "06:00-09:00",
    "Jalan Dhoho ditutup untuk kendaraan bermotor pukul 05.30-09.30 WIB.\n"
    "Pengalihan arus melalui Jalan Hasanudin dan Jalan Patimura.")
SERIES = (RAPIM, CFD)

A = Activity
ACTIVITIES: tuple[Activity, ...] = (
    A("setda", "Rapat Koordinasi Forkopimda Kota Kediri", "Ruang Joyoboyo, Balai Kota Kediri",
      "kerja 09:00-11:30", "Pimpinan: Wali Kota Kediri\nHadir: Wakil Wali Kota dan Sekda\n"
      "Undangan: Kapolres Kediri Kota, Dandim 0809, Kajari Kota Kediri"),
    A("setda", "Apel Pagi Gabungan ASN Pemkot Kediri", "Halaman Balai Kota Kediri",
      "kerja 07:00-08:00", "Pimpinan upacara: Wali Kota Kediri\nDiikuti oleh: seluruh ASN Pemkot"),
    A("bappeda", "Musrenbang RKPD Kota Kediri Tahun {tahun}", "Gedung Nasional Indonesia",
      "kerja 08:00-12:00", "Narasumber: Wali Kota Kediri; Asisten II\n"
      "Undangan: camat, lurah dan perwakilan LPMK se-Kota Kediri"),
    A("bappeda", "Forum Konsultasi Publik Rancangan Awal RKPD", "R. Joyoboyo",
      "kerja 13:00-15:30", "Narasumber: Asisten Perekonomian dan Pembangunan"),
    A("bappeda", "Evaluasi Capaian Indikator Kinerja Utama Perangkat Daerah", "Ruang Kilisuci",
      "kerja 13:00-15:00", "Pimpinan: Sekda\nBahan: laporan capaian triwulan dari setiap OPD",
      "CONFIDENTIAL"),
    A("dinkes", "Rapat Koordinasi Percepatan Penurunan Stunting",
      "Ruang Joyoboyo Balai Kota Kediri", "kerja 09:00-11:00",
      "Pimpinan: Wakil Wali Kota Kediri\nUndangan: kepala puskesmas se-Kota Kediri"),
    A("dinkes", "Pencanangan Bulan Imunisasi Anak Sekolah", "Alun-Alun Kota Kediri",
      "kerja 07:30-09:30", "Pimpinan: Walikota Kediri (Mbak Wali)"),
    A("dinkes", "Evaluasi Kinerja Puskesmas Triwulan", "Ruang Kilisuci", "kerja 10:00-12:00",
      "Rapat internal dinas bersama kepala puskesmas", "CONFIDENTIAL"),
    A("dinkes", "Koordinasi Layanan Kesehatan Jiwa dengan RSUD Gambiran",
      "RSUD Gambiran, Jl. Kapten Tendean", "kerja 13:00-14:30",
      "Pembahasan rujukan pasien; data pasien tidak dibawa keluar ruang rapat", "PRIVATE"),
    A("dinkes", "Pelatihan Kader Posyandu Tingkat Kota", "Gedung GNI", "kerja 08:00-15:00",
      "Hadir: Asisten Pemerintahan dan Kesra"),
    A("diskominfo", "Sosialisasi Keamanan Informasi bagi Admin Website OPD",
      "Ruang Command Center", "kerja 09:00-12:00",
      "Pemateri dari BSSN Provinsi Jawa Timur\nDiikuti oleh: admin website setiap OPD"),
    A("diskominfo", "Rapat Persiapan Satu Data Kota Kediri", "R. Command Center Balaikota",
      "kerja 13:00-15:00", "Pimpinan: Asisten Administrasi Umum"),
    A("diskominfo", "Uji Coba Aplikasi Pengaduan Masyarakat Terpadu", "Zoom Meeting",
      "kerja 10:00-11:30", "Tautan rapat dikirim lewat grup PIC", "CONFIDENTIAL"),
    A("setwan", "Rapat Paripurna Penyampaian Nota Keuangan Raperda APBD",
      "Ruang Sidang DPRD Kota Kediri", "kerja 09:00-12:00",
      "Hadir: Wali Kota Kediri; Sekda"),
    A("setwan", "Rapat Dengar Pendapat Komisi C dengan Dinas PUPR", "Gedung DPRD Kota Kediri",
      "kerja 13:00-15:00", "Hadir: Asisten II"),
    A("inspektorat", "Entry Meeting Pemeriksaan Reguler Inspektorat", "Ruang Kilisuci",
      "kerja 08:30-10:00", "Pimpinan: Asisten III", "CONFIDENTIAL"),
    A("inspektorat", "Sosialisasi Pencegahan Gratifikasi dan Benturan Kepentingan",
      "Gedung Nasional Indonesia", "kerja 13:00-15:30",
      "Pimpinan: Sekretaris Daerah\nPemateri: tim koordinasi supervisi pencegahan KPK"),
    A("bppkad", "Rapat Koordinasi Optimalisasi Pendapatan Asli Daerah", "Ruang Rapat Joyoboyo",
      "kerja 13:00-15:00", "Pimpinan: Asisten II"),
    A("bppkad", "Sosialisasi Pembayaran PBB-P2 Secara Daring", "MPP Kota Kediri",
      "kerja 09:00-11:00", "Diikuti oleh: wajib pajak dan petugas kelurahan"),
    A("bkpsdm", "Pelantikan Pejabat Administrator dan Pengawas", "Ruang Joyoboyo",
      "kerja 14:00-15:30", "Pimpinan: Wali Kota Kediri\nHadir: Sekda"),
    A("bkpsdm", "Wawancara Seleksi Terbuka Jabatan Pimpinan Tinggi Pratama", "Ruang Kilisuci",
      "kerja 08:00-12:00", "Hadir: Sekda\nPanitia seleksi dan peserta saja", "CONFIDENTIAL"),
    A("bpbd", "Apel Siaga Bencana Hidrometeorologi", "Halaman Balaikota Kediri",
      "kerja 07:30-09:00", "Pimpinan: Wali Kota Kediri\nDiikuti oleh: BPBD, Satpol PP, relawan"),
    A("bpbd", "Simulasi Evakuasi Gempa Bumi di Sekolah", "SMP Negeri 1 Kediri",
      "kerja 09:00-11:00", "Bersama tim siaga bencana sekolah"),
    A("bakesbangpol", "Dialog Kebangsaan Bersama Tokoh Lintas Agama",
      "Gedung Nasional Indonesia (GNI)", "kerja 19:00-21:30", "Narasumber: Wawali"),
    A("bakesbangpol", "Rapat Forum Kewaspadaan Dini Masyarakat", "Ruang Kilisuci",
      "kerja 13:30-15:30", "Pimpinan: Asisten I", "CONFIDENTIAL"),
    A("disdik", "Lomba Literasi Pelajar Tingkat Kota", "GOR Jayabaya", "kerja 08:00-12:00",
      "Pimpinan: Wakil Wali Kota Kediri"),
    A("disdik", "Rapat Persiapan Penerimaan Murid Baru", "Ruang Command Center",
      "kerja 13:00-15:00", "Pimpinan: Asisten Pemerintahan dan Kesejahteraan Rakyat"),
    A("dpupr", "Peninjauan Rehabilitasi Jembatan Brawijaya", "Jembatan Brawijaya",
      "kerja 15:00-16:30", "Hadir: Wali Kota Kediri dan Asisten II"),
    A("dpupr", "Rapat Teknis Penataan Drainase Kawasan Kota Lama", "Ruang Kilisuci",
      "kerja 09:00-11:00", "Bersama konsultan perencana"),
    A("dpkp", "Serah Terima Bantuan Rumah Tidak Layak Huni", "Kelurahan Bandar Kidul",
      "kerja 09:30-11:00", "Hadir: Wakil Wali Kota"),
    A("dinsos", "Penyaluran Bantuan Permakanan Lansia dan Disabilitas",
      "Pendopo Kecamatan Mojoroto", "kerja 08:00-10:00", "Hadir: Asisten I"),
    A("dinsos", "Verifikasi dan Validasi Data Terpadu Kesejahteraan Sosial",
      "Ruang Command Center Balaikota Kediri", "kerja 09:00-12:00",
      "Data penerima bantuan bersifat terbatas", "CONFIDENTIAL"),
    A("dp3ap2kb", "Pelayanan KB Serentak Hari Keluarga", "Gedung Nasional Indonesia",
      "kerja 08:00-12:00", "Hadir: Wakil Wali Kota Kediri"),
    A("dp3ap2kb", "Rapat Penanganan Kasus Perlindungan Anak", "Ruang Kilisuci",
      "kerja 13:00-14:30", "Bersama UPTD PPA dan pendamping hukum", "PRIVATE"),
    A("dlhkp", "Gerakan Jumat Bersih di Bantaran Sungai Brantas", "Taman Brantas",
      "jumat 06:30-08:30",
      "Pimpinan: Wali Kota Kediri\nDiikuti oleh: ASN, komunitas peduli sungai"),
    A("dlhkp", "Penanaman Seribu Pohon di Hutan Kota Joyoboyo", "Hutan Kota Joyoboyo",
      "kerja 07:30-09:30", "Hadir: Wawali"),
    A("dispendukcapil", "Perekaman KTP Elektronik bagi Pemilih Pemula", "SMA Negeri 2 Kediri",
      "kerja 08:00-12:00", "Petugas membawa dua perangkat perekaman"),
    A("dispendukcapil", "Sosialisasi Identitas Kependudukan Digital",
      "Mal Pelayanan Publik Kota Kediri", "kerja 13:00-15:00", "Narasumber: Asisten III"),
    A("dishub", "Uji Coba Rekayasa Lalu Lintas Kawasan Jalan Dhoho", "Jalan Dhoho",
      "kerja 16:00-18:00", "Hadir: Asisten Perekonomian dan Pembangunan"),
    A("dishub", "Rapat Forum Lalu Lintas dan Angkutan Jalan", "Ruang Joyoboyo",
      "kerja 10:00-12:00", "Pimpinan: Sekda\nUndangan: Satlantas Polres Kediri Kota"),
    A("dinkop-umtk", "Bursa Kerja (Job Fair) Kota Kediri", "GOR Joyoboyo", "kerja 09:00-15:00",
      "Pembukaan oleh: Wakil Wali Kota", attendees=(("Wakil Wali Kota Kediri", "ACCEPTED"),)),
    A("dinkop-umtk", "Pelatihan Pemasaran Digital bagi Pelaku UMKM", "R. Kilisuci",
      "kerja 13:00-16:00", "Diikuti oleh: 40 pelaku UMKM binaan"),
    A("dpmptsp", "Forum Konsultasi Publik Standar Pelayanan Perizinan", "MPP Kota Kediri",
      "kerja 09:00-11:30", "Hadir: Asisten Administrasi Umum"),
    A("dpmptsp", "Pertemuan Wali Kota dengan Calon Investor Kawasan Industri",
      "Rumah Dinas Wali Kota Kediri", "kerja 19:00-21:00", "Hadir: Wali Kota Kediri", "PRIVATE"),
    A("disbudparpora", "Rapat Panitia Kediri Night Carnival", "Taman Sekartaji",
      "kerja 15:30-17:30", "Bersama komunitas dan sanggar tari"),
    A("disbudparpora", "Pembukaan Turnamen Sepak Bola Pelajar Wali Kota Cup",
      "Stadion Brawijaya", "kerja 15:00-17:00", "Hadir: Wali Kota Kediri"),
    A("disbudparpora", "Festival Kuliner Nusantara Taman Sekartaji", "Bundaran Sekartaji",
      "sabtu 16:00-22:00", "Hadir: Wakil Wali Kota\n40 stan kuliner dan panggung musik"),
    A("disbudparpora", "Kediri Night Carnival", "Alun-Alun Kota Kediri", "sabtu 19:00-22:30",
      "Pimpinan: Wali Kota Kediri\nHadir: Wakil Wali Kota; Sekda"),
    A("disbudparpora", "Pentas Seni Budaya Panji di Goa Selomangleng", "Goa Selomangleng",
      "sabtu 19:30-22:00", "Hadir: Asisten I"),
    A("disbudparpora", "Kejuaraan Pencak Silat Pelajar Tingkat Kota", "Sport Center Ngronggo",
      "sabtu 08:00-16:00", "Pertandingan semua kelas usia"),
    A("dkpp", "Gerakan Pangan Murah Menjelang Hari Raya", "Halaman Balai Kota Kediri",
      "kerja 07:00-11:00", "Hadir: Asisten II"),
    A("dkpp", "Panen Raya Padi Bersama Kelompok Tani", "Persawahan Kelurahan Ngronggo",
      "kerja 07:00-09:00", "Hadir: Wali Kota Kediri"),
    A("disperdagin", "Pemantauan Harga Bahan Pokok di Pasar Setonobetek", "Pasar Setonobetek",
      "kerja 07:00-08:30", "Pimpinan: Asisten II"),
    A("disperdagin", "Kediri Expo UMKM dan Produk Unggulan Daerah", "Gedung Nasional Indonesia",
      "kamis 3 hari", "Pameran terbuka untuk umum pukul 09.00-21.00 WIB"),
    A("dinas-arpus", "Bimbingan Teknis Aplikasi Srikandi bagi Pengelola Arsip OPD",
      "Command Center Balaikota Kediri", "kerja 08:30-12:00", "Diikuti oleh: arsiparis setiap OPD"),
    A("dinas-arpus", "Lomba Bercerita Tingkat SD Se-Kota Kediri", "Perpustakaan Umum Kota Kediri",
      "kerja 08:00-11:00", "Dewan juri dari komunitas literasi"),
    A("satpolpp", "Apel Gelar Pasukan Operasi Penegakan Perda", "Halaman Balai Kota Kediri",
      "kerja 07:00-08:30", "Pimpinan: Sekda"),
    A("satpolpp", "Rapat Koordinasi Penertiban Pedagang Kaki Lima", "Ruang Kilisuci",
      "kerja 10:00-11:30", "Pimpinan: Asisten I", "CONFIDENTIAL"),
    A("kec-kota", "Musrenbang Kecamatan Kota", "Pendopo Kecamatan Kota", "kerja 08:30-12:00",
      "Hadir: Asisten II"),
    A("kec-mojoroto", "Pelayanan Terpadu Keliling Kecamatan Mojoroto", "Kelurahan Bandar Lor",
      "kerja 08:00-12:00", "Layanan adminduk, kesehatan dan perizinan"),
    A("kec-pesantren", "Penilaian Lomba Kampung Bersih dan Hijau", "Kelurahan Ketami",
      "kerja 09:00-11:00", "Hadir: Wakil Wali Kota"),
    A("rsud-gambiran", "Peresmian Gedung Instalasi Gawat Darurat RSUD Gambiran",
      "RSUD Gambiran Kota Kediri", "kerja 09:00-10:30", "Pimpinan: Wali Kota Kediri"),
    A("rsud-kilisuci", "Rapat Persiapan Survei Akreditasi Rumah Sakit", "Aula RSUD Kilisuci",
      "kerja 13:00-15:00", "Rapat internal tim akreditasi", "CONFIDENTIAL"),
    A("bag-prokopim", "Konferensi Pers Capaian Program Prioritas Daerah",
      "Ruang Command Center", "kerja 10:00-11:30", "Narasumber: Wali Kota Kediri"),
    A("bag-prokopim", "Penerimaan Kunjungan Kerja DPRD Kabupaten Blitar", "Ruang Joyoboyo",
      "kerja 13:00-15:00", "Diterima oleh: Sekda", attendees=(("Sekda", "ACCEPTED"),)),
    A("bag-prokopim", "Silaturahmi Wali Kota dengan Tokoh Masyarakat", "Rumah Dinas Wali Kota",
      "kerja 19:00-21:00", "Wali Kota berhalangan hadir, diwakili Asisten I.",
      attendees=(("Wali Kota Kediri", "DECLINED"), ("Asisten Pemerintahan dan Kesra", "ACCEPTED"))),
    A("bag-perekonomian", "Rapat Tim Pengendalian Inflasi Daerah", "Ruang Command Center",
      "kerja 13:00-15:00", "Pimpinan: Sekda\nNarasumber: Asisten II"),
    A("bag-pemerintahan", "Rapat Koordinasi Penegasan Batas Wilayah Kelurahan",
      "Ruang Kilisuci", "kerja 09:00-11:00", "Pimpinan: Asisten I"),
    A("bag-pemerintahan", "Rapat Persiapan Pelantikan Ketua RT dan RW", "Ruang Joyoboyo",
      "kerja 15:30-17:00", "Hadir: Staf Ahli Wali Kota", "CONFIDENTIAL"),
    A("dp3ap2kb", "Jalan Sehat Keluarga Berencana", "Kediri Memorial Park", "minggu 06:00-09:00",
      "Hadir: Wakil Wali Kota Kediri"),
    A("dinkes", "Senam Sehat dan Cek Kesehatan Gratis", "Taman Brantas", "minggu 06:00-08:30",
      "Hadir: Sekda\nLayanan cek tensi dan gula darah"),
    A("disbudparpora", "Festival Layang-Layang Kota Kediri", "Stadion Brawijaya",
      "minggu 08:00-15:00", "Pimpinan: Wali Kota Kediri"),
)
