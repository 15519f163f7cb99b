#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into corpus/<target>/ (run from anywhere).

  tests/fuzz/seeds.py [FIXTURES_DIR]

Seeds are byte-exact protocol traffic as the real peers send it (adb 29 host packets, scrcpy
4.1 client/server messages, SDK input and signaling JSON) plus pieces of the real fixture APKs
built by scripts/build-fixture-apks.sh (default FIXTURES_DIR: target/fixtures). The output is
committed; rerun it only when a protocol changes. Targets whose first input byte selects a mode
get one seed per mode."""
import gzip, io, json, os, struct, sys, tarfile, zipfile, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FIX = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "fixtures")
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- APK pieces ---------------------------------------------------------------------------
for apk in ["tapper-v1.apk", "nolauncher.apk"]:
    raw = open(os.path.join(FIX, apk), "rb").read()
    stem = apk[:-4]
    put("apk_inspect", stem, raw)
    put("apk_zip", stem, raw)
    z = zipfile.ZipFile(io.BytesIO(raw))
    manifest = z.read("AndroidManifest.xml")
    put("apk_axml", stem, manifest)
    put("apk_manifest", stem, manifest)
    if "resources.arsc" in z.namelist():
        put("apk_arsc", stem, z.read("resources.arsc"))
# A small zip with a stored and a deflated entry (no signing block).
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    z.writestr(zipfile.ZipInfo("a.txt"), b"stored entry\n", compress_type=zipfile.ZIP_STORED)
    z.writestr(zipfile.ZipInfo("lib/arm64-v8a/libx.so"), b"\0" * 300, compress_type=zipfile.ZIP_DEFLATED)
put("apk_zip", "two-entries", b.getvalue())

# --- adb ----------------------------------------------------------------------------------
CNXN, AUTH, OPEN, OKAY, WRTE, CLSE = (struct.unpack("<I", c)[0] for c in [b"CNXN", b"AUTH", b"OPEN", b"OKAY", b"WRTE", b"CLSE"])


def pkt(cmd, a0, a1, data=b""):
    return struct.pack("<6I", cmd, a0, a1, len(data), sum(data) & 0xFFFFFFFF, cmd ^ 0xFFFFFFFF) + data


HOST_BANNER = b"host::features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,fixed_push_symlink_timestamp,abb_exec,remount_shell,track_app,sendrecv_v2,sendrecv_v2_brotli,sendrecv_v2_lz4,sendrecv_v2_zstd,sendrecv_v2_dry_run_send\0"
cnxn = pkt(CNXN, 0x01000001, 256 * 1024, HOST_BANNER)
shell = (pkt(OPEN, 1, 0, b"shell,v2,raw:getprop ro.build.version.sdk\0")
         + pkt(OKAY, 1, 1) + pkt(WRTE, 1, 1, b"\x00\x03\x00\x00\x00hi\n") + pkt(OKAY, 1, 1) + pkt(CLSE, 1, 1))
sync = (pkt(OPEN, 2, 0, b"sync:\0") + pkt(WRTE, 2, 2, b"STAT\x05\x00\x00\x00/data")
        + pkt(OKAY, 2, 2) + pkt(CLSE, 2, 2))
fwd = pkt(OPEN, 3, 0, b"localabstract:scrcpy_0000002a\0") + pkt(WRTE, 3, 4, b"\x00\x00") + pkt(OKAY, 3, 4)
put("adb_packet", "session-v1", bytes([0]) + cnxn + shell + sync)
put("adb_packet", "session-v2", bytes([1]) + cnxn + shell + sync + fwd)
put("adb_packet", "session-skip", bytes([5]) + cnxn + fwd)
put("adb_transport", "no-auth", bytes([0]) + cnxn + shell + sync + fwd)
put("adb_transport", "no-auth-reverse", bytes([2]) + cnxn + pkt(OKAY, 9, 1) + pkt(WRTE, 9, 1, b"x") + pkt(CLSE, 9, 1))
pub_key = open(os.path.join(ROOT, "crates", "adb-proto", "src", "testdata", "adbkey.pub"), "rb").read().strip() + b"\0"
sig = open(os.path.join(ROOT, "crates", "adb-proto", "src", "testdata", "token.sig"), "rb").read()
put("adb_transport", "auth-key", bytes([1]) + cnxn + pkt(AUTH, 2, 0, sig) + pkt(AUTH, 3, 0, pub_key) + shell)


def sreq(i, arg):
    return i + struct.pack("<I", len(arg)) + arg


put("adb_sync", "push", bytes([3]) + sreq(b"SEND", b"/data/local/tmp/x.apk,33188") + sreq(b"DATA", b"PK\x03\x04" + b"z" * 40)
    + b"DONE" + struct.pack("<I", 1700000000) + b"QUIT\0\0\0\0")
put("adb_sync", "stat-list-pull", bytes([11]) + sreq(b"STA2", b"/sdcard") + sreq(b"LST2", b"/sdcard/x") + sreq(b"LIS2", b"/data/data")
    + sreq(b"LIST", b"/") + sreq(b"STAT", b"/a") + sreq(b"RECV", b"/data/local/tmp/save.tgz") + b"QUIT\0\0\0\0")
put("adb_shell", "stdin-size-close", bytes([7]) + b"\x00" + struct.pack("<I", 6) + b"ls -l\n" + b"\x05" + struct.pack("<I", 12)
    + b"24x80,0x0\0\0\0" + b"\x04" + struct.pack("<I", 0))

# --- scrcpy -------------------------------------------------------------------------------
def pos(x, y, w=1080, h=1920):
    return struct.pack(">iiHH", x, y, w, h)


ctl = [
    b"\x00" + struct.pack(">BiIi", 0, 66, 0, 0),                     # keycode ENTER down
    b"\x01" + struct.pack(">I", 5) + b"hello",                       # text
    b"\x02" + struct.pack(">BQ", 0, 0xFFFFFFFFFFFFFFFE) + pos(540, 960) + struct.pack(">HII", 0xFFFF, 1, 1),  # touch
    b"\x03" + pos(10, 20) + struct.pack(">hhI", 0x0800, -0x0800, 0),  # scroll
    b"\x04\x00", b"\x05", b"\x06", b"\x07", b"\x08\x01",
    b"\x09" + struct.pack(">QB", 7, 1) + struct.pack(">I", 3) + b"abc",  # set clipboard
    b"\x0a\x01", b"\x0b",
    b"\x0c" + struct.pack(">HHH", 1, 0x046d, 0xc077) + b"\x05mouse" + struct.pack(">H", 4) + b"\x05\x01\x09\x02",
    b"\x0d" + struct.pack(">HH", 1, 3) + b"\x01\x02\x03",
    b"\x0e" + struct.pack(">H", 1), b"\x0f",
    b"\x10\x13com.playrack.tapper", b"\x11", b"\x12\x01", b"\x13", b"\x14",
    b"\x15" + struct.pack(">HH", 720, 1280),
    b"\x16" + struct.pack(">I", 14) + b"/sdcard/a.png\0"[:14],
]
put("scrcpy_control", "all-types", bytes([9]) + b"".join(ctl))
put("scrcpy_control", "touch-drag", bytes([1]) + b"".join(
    b"\x02" + struct.pack(">BQ", a, 0) + pos(100 + 10 * i, 200) + struct.pack(">HII", 0xFFFF if a != 1 else 0, 0, 0)
    for i, a in enumerate([0, 2, 2, 2, 1])))
put("scrcpy_device", "all-types", bytes([5]) + b"\x00" + struct.pack(">I", 9) + b"clipboard" + b"\x01" + struct.pack(">Q", 7)
    + b"\x02" + struct.pack(">HH", 1, 2) + b"\x01\x02")
# Playrack's extensions: SET_VIDEO_BIT_RATE and CUSTOM, and the device's CUSTOM answer
put("scrcpy_control", "playrack", bytes([3]) + b"\xc0" + struct.pack(">I", 2_500_000)
    + b"\xc1" + struct.pack(">I", 11) + "ping 你好".encode())
# SENSOR (an accelerometer reading) and LOCATION, and a gamepad plugged in, fed and unplugged
put("scrcpy_control", "playrack-sensors", bytes([2]) + b"\xc2\x01" + struct.pack(">fff", 0.5, 9.81, -1.0)
    + b"\xc3" + struct.pack(">ddf", 31.2304, 121.4737, 12.5) + b"\xc2\x04" + struct.pack(">fff", float("nan"), 0, 0))
GAMEPAD_DESC = bytes.fromhex("05010905a101a1000501093009310933093415002 7ffff0000751095048102050109320935150026ff7f751095028102050919012910150025019510750181020501093915012508750495018142c0c0".replace(" ", ""))
put("scrcpy_control", "uhid-gamepad", bytes([4]) + b"\x0c" + struct.pack(">HHH", 3, 0x045e, 0x028e) + b"\x11Playrack Gamepad 1"
    + struct.pack(">H", len(GAMEPAD_DESC)) + GAMEPAD_DESC
    + b"\x0d" + struct.pack(">HH", 3, 15) + struct.pack("<HHHHHHHB", 1, 0x8000, 0x8000, 0x8000, 0, 16384, 0x0801, 1)
    + b"\x0e" + struct.pack(">H", 3))
put("scrcpy_device", "playrack", bytes([3]) + b"\xc1" + struct.pack(">I", 11) + "pong 你好".encode())


def media(pts, config, key, data):
    flags = (1 << 62) if config else (pts | ((1 << 61) if key else 0))
    return struct.pack(">QI", flags, len(data)) + data


name = b"Playrack Virtual Device".ljust(64, b"\0")
sps = bytes.fromhex("0000000167428028da0780227e5c05a808080a000007d00001d4c1") + bytes.fromhex("0000000168ce3c80")
video = (b"\x00" + name + b"h264" + struct.pack(">III", 0x80000000, 1080, 1920) + media(0, True, False, sps)
         + media(16666, False, True, b"\x00\x00\x00\x01\x65\x88\x84" + b"\x11" * 20) + media(33333, False, False, b"\x00\x00\x00\x01\x41\x9a" + b"\x22" * 10)
         + struct.pack(">III", 0x80000001, 720, 1280))
put("scrcpy_demux", "video-forward-first", bytes([0b110]) + video)
put("scrcpy_demux", "video", bytes([0]) + video[1 + 64:])
put("scrcpy_demux", "audio", bytes([1]) + b"opus" + media(0, True, False, b"OpusHead\x01\x02\x38\x01\x80\xbb\0\0\0\0\0")
    + media(20000, False, False, b"\xfc" + b"\x33" * 30))
put("scrcpy_demux", "disabled", bytes([1]) + b"\0\0\0\0")
put("scrcpy_demux", "raw", bytes([0b11000]) + b"\x00\x00\x00\x01\x67" * 5)
put("scrcpy_options", "forward", b"CLASSPATH=/data/local/tmp/scrcpy-server.jar app_process / com.genymobile.scrcpy.Server 4.1 "
    b"scid=0badcafe log_level=info video_bit_rate=4000000 max_size=1920 max_fps=60 audio=true audio_codec=opus "
    b"tunnel_forward=true control=true video_codec=h264 send_dummy_byte=true")
put("scrcpy_options", "reverse", b"CLASSPATH=/data/local/tmp/scrcpy-server.jar app_process / com.genymobile.scrcpy.Server 4.1 "
    b"scid=1 audio=false raw_stream=true video_codec_options=profile:int=1,level=4096 new_display=1280x720/240 crop=100:100:0:0")

# --- shared volume addresses ---------------------------------------------------------------
put("volume_address", "local", b"/mnt/packages/room-1")
put("volume_address", "daemon", b"rsync://fra-1.storage.test:8730/packages/sub")
put("volume_address", "relative", b"apk/ab/abababababababababababababababababababababababababababababababab.apk")
put("volume_address", "option", b"rsync://-oProxyCommand=sh/m")

# --- links' embed origins -----------------------------------------------------------------
put("embed_origin", "https", b"https://Games.Example.com/")
put("embed_origin", "port", b"https://a.example:8443")
put("embed_origin", "loopback", b"http://[::1]:3000")
put("embed_origin", "injection", b"https://a.example; script-src *")

# --- try-play links as players paste them ----------------------------------------------------
put("play_link", "https", b"https://play.example.com/play/abc_DEF-1")
put("play_link", "query", b"http://127.0.0.1:8080/t/acme/play/xyz/?low_latency=0#top")
put("play_link", "ipv6", b"http://[::1]:9/play/v6")
put("play_link", "encoded", b"https://h/play/a%20b")
put("play_link", "traversal", b"https://h/play/../etc")
put("switch_scope", "platform", b"platform")
put("switch_scope", "room", b"room:room_01m92rfvxhcbzyvkb4qxqfj6k")
put("switch_scope", "traversal", b"room:../../etc")

# --- signaling and input -----------------------------------------------------------------
put("signaling", "hello", json.dumps({"type": "hello", "token": json.dumps({"session": "ses_1", "board": "brd_fuzz", "role": "player", "exp": 2000, "jti": "j1"}), "role": "player"}).encode())
put("signaling", "hello-spectator", b'{"type":"hello","token":"pst1.eyJ9.AAAA","role":"spectator"}')
put("signaling", "offer", json.dumps({"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"}).encode())
put("signaling", "candidate", b'{"type":"candidate","candidate":"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host","sdp_mid":"0"}')
put("signaling", "bye", b'{"type":"bye"}')
for n, m in {
    "touch-down": {"t": "touch", "phase": "down", "pointer": 0, "x": 0.5, "y": 0.25, "pressure": 1.0},
    "touch-move": {"t": "touch", "phase": "move", "pointer": 3, "x": 1.0, "y": 0.0},
    "touch-cancel": {"t": "touch", "phase": "cancel", "pointer": 9, "x": 0.999, "y": 0.001},
    "key": {"t": "key", "action": "down", "keycode": 66, "meta": 1},
    "key-home": {"t": "key", "action": "up", "keycode": 3},
    "text": {"t": "text", "text": "héllo ☃"},
    "back": {"t": "back"}, "home": {"t": "home"}, "probe": {"t": "probe", "seq": 42},
    "scroll": {"t": "scroll", "x": 0.5, "y": 0.5, "h": 1, "v": -2.5},
    "clipboard": {"t": "clipboard", "text": "礼包码 GIFT-2026", "paste": True},
    "custom": {"t": "custom", "data": "{\"level\": 3}"},
    "gamepad": {"t": "gamepad", "pad": 0, "buttons": 0x1201, "axes": [-1, 0, 0.5, 1], "triggers": [0, 0.5], "vendor": 0x045e, "product": 0x028e},
    "gamepad-gone": {"t": "gamepad_gone", "pad": 7},
    "mouse": {"t": "mouse", "dx": 300, "dy": -4096, "buttons": 1, "wheel": -1},
    "sensor": {"t": "sensor", "kind": "gyroscope", "values": [0.1, 0, -3.14]},
    "location": {"t": "location", "lat": 31.2304, "lon": 121.4737, "accuracy": 12},
}.items():
    put("input", n, json.dumps(m, ensure_ascii=False).encode())

# --- save archives ------------------------------------------------------------------------
def tar_of(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                t.addfile(info)
            elif kind == "sym":
                info.type = tarfile.SYMTYPE
                info.linkname = data.decode()
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return b.getvalue()


put("archive_check", "save", tar_of([
    ("data/", "dir", b""), ("data/data/", "dir", b""), ("data/data/com.x.game/", "dir", b""),
    ("data/data/com.x.game/shared_prefs/", "dir", b""), ("data/data/com.x.game/shared_prefs/save.xml", "file", b"<map><int name='level' value='3'/></map>"),
    ("sdcard/Android/data/com.x.game/files/slot1.bin", "file", b"\x01\x02\x03"),
]))
put("archive_check", "dot-slash", tar_of([("./data/data/com.x.game/f", "file", b"x")]))
put("archive_check", "escape", tar_of([("data/data/com.x.game/../../../etc/passwd", "file", b"x")]))
put("archive_check", "symlink", tar_of([("data/data/com.x.game/l", "sym", b"/system")]))
put("archive_check", "long-name", tar_of([("data/data/com.x.game/" + "d" * 150 + "/f", "file", b"y")]))
pax = io.BytesIO()
with tarfile.open(fileobj=pax, mode="w", format=tarfile.PAX_FORMAT) as t:
    info = tarfile.TarInfo("data/data/com.x.game/" + "é" * 60)
    info.size = 1
    t.addfile(info, io.BytesIO(b"z"))
put("archive_check", "pax", pax.getvalue())


# --- topology files (first byte: 0 CSV, 1 YAML) -----------------------------------------------
CSV_HEADER = b"region,room,instance_cap,shared_volume,probe_url,placement,array,serial,model,capacity\n"
put("topology_file", "csv", b"\x00" + CSV_HEADER
    + b"east,hz-1,64,rsync://10.0.0.2/packages,http://10.0.0.3:7700/probe,spread,rack-a,RK-1,RK3588,hd-60=8;sd-30=16\n"
    + b"east,hz-1,,,,,rack-a,RK-2,RK3588,hd-60=8\n"
    + b"west,sz-1,8,/mnt/v,http://10.1.0.3:7700/probe,binpack,,,,\n")
put("topology_file", "csv-quoted", b"\x00" + CSV_HEADER
    + b'"east","hz 1","4","/mnt/v","http://p/probe","","rack, a","RK-1","RK3588","hd-60=1"\n')
put("topology_file", "csv-bad-row", b"\x00" + CSV_HEADER + b"east,hz-1\n")
put("topology_file", "yaml", b"\x01regions:\n  - name: east\n    rooms:\n      - name: hz-1\n        instance_cap: 4\n        shared_volume: /mnt/v\n        probe_url: http://p/probe\n        placement: binpack\n        arrays:\n          - name: rack-a\n            boards:\n              - { serial: RK-1, model: RK3588, capacity: { hd-60: 8 } }\n")
put("topology_file", "json", b'\x01{"regions":[{"name":"east","rooms":[{"name":"hz-1","instance_cap":4,"shared_volume":"/v","probe_url":"http://p","arrays":[]}]}]}')
put("topology_file", "yaml-anchors", b"\x01regions:\n  - &r { name: a, rooms: [] }\n  - *r\n")
