#!/usr/bin/env bash
# Build the real, signed test APKs from tests/fixtures/apk-src into OUTDIR.
#
#   scripts/build-fixture-apks.sh OUTDIR
#
# Uses Debian's Android toolchain: aapt (package, add), zipalign, apksigner, plus keytool from
# the JDK for a throwaway signing key kept in OUTDIR/.keystore. Safe to run again: every APK is
# rebuilt from scratch and moved into place with a rename; the key is reused if it exists.
# Tests reach the result through `playrack_test_support::fixtures` (crates/test-support/src/fixtures.rs), which
# runs this script on demand. tests/fixtures/README.md describes the layout.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

# No external commands before the tool check (not even dirname), so its message always shows.
script_path="${BASH_SOURCE[0]}"
[[ "$script_path" == */* ]] || script_path="./$script_path"
here="$(cd "${script_path%/*}" && pwd)"
src_root="$here/../tests/fixtures/apk-src"
framework_res=/usr/share/android-framework-res/framework-res.apk

# --- tools: fail early and name the Debian package that provides each one ------------------
missing=()
need() { # need COMMAND DEBIAN-PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        missing+=("'$1' (Debian package: $2)")
    fi
}
need aapt aapt
need zipalign zipalign
need apksigner apksigner
need keytool default-jdk-headless
need python3 python3
if [[ ! -f "$framework_res" ]]; then
    missing+=("'$framework_res' (Debian package: android-framework-res)")
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "build-fixture-apks.sh: missing tools:" >&2
    for m in "${missing[@]}"; do echo "  - $m" >&2; done
    echo "install them with: apt-get install aapt zipalign apksigner android-framework-res default-jdk-headless python3" >&2
    echo "(scripts/install-deps.sh does this on a fresh machine)" >&2
    exit 1
fi

mkdir -p "$1"
out="$(cd "$1" && pwd)"
work="$out/.work"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# --- signing key: generated once per OUTDIR -------------------------------------------------
keystore="$out/.keystore/fixtures.p12"
ks_pass=playrack-fixtures
if [[ ! -f "$keystore" ]]; then
    mkdir -p "$out/.keystore"
    keytool -genkeypair -keystore "$keystore.tmp" -storetype PKCS12 \
        -storepass "$ks_pass" -keypass "$ks_pass" -alias fixtures \
        -keyalg RSA -keysize 2048 -validity 36500 \
        -dname "CN=Playrack test fixtures, O=Playrack" >/dev/null 2>&1 \
        || { rm -f "$keystore.tmp"; echo "build-fixture-apks.sh: keytool failed" >&2; exit 1; }
    mv "$keystore.tmp" "$keystore"
fi

# make_png OUT SIZE RRGGBB: a solid-colour RGBA PNG, written with zlib only (no imagemagick).
make_png() {
    python3 - "$1" "$2" "$3" <<'PY'
import struct, sys, zlib
out, size, rgb = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
row = b"\x00" + (rgb + b"\xff") * size          # filter byte 0, then RGBA pixels
png = (b"\x89PNG\r\n\x1a\n"
       + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(row * size, 9))
       + chunk(b"IEND", b""))
open(out, "wb").write(png)
PY
}

# make_so OUT ABI: a tiny stand-in for a native library (an ELF ident plus a marker string).
make_so() {
    printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000playrack fixture libgame.so for %s\n' "$2" >"$1"
}

# build NAME SOURCE VERSION_CODE VERSION_NAME ABIS(comma-separated or -)
build() {
    local name=$1 source=$2 code=$3 vname=$4 abis=$5
    local dir="$work/$name"
    mkdir -p "$dir"
    cp -R "$src_root/$source/." "$dir/"

    sed -e "s/@VERSION_CODE@/$code/g" -e "s/@VERSION_NAME@/$vname/g" \
        "$dir/AndroidManifest.xml.in" >"$dir/AndroidManifest.xml"
    rm "$dir/AndroidManifest.xml.in"

    if [[ -f "$dir/icons.txt" ]]; then
        local path size colour
        while read -r path size colour; do
            [[ -z "$path" || "$path" == \#* ]] && continue
            mkdir -p "$dir/$(dirname "$path")"
            make_png "$dir/$path" "$size" "$colour"
        done <"$dir/icons.txt"
        rm "$dir/icons.txt"
    fi

    local res_args=()
    [[ -d "$dir/res" ]] && res_args=(-S "$dir/res")
    aapt package -f -M "$dir/AndroidManifest.xml" "${res_args[@]}" -I "$framework_res" \
        -F "$dir/unaligned.apk" >"$dir/aapt.log" 2>&1 \
        || { cat "$dir/aapt.log" >&2; echo "build-fixture-apks.sh: aapt package failed for $name" >&2; exit 1; }

    if [[ "$abis" != "-" ]]; then
        local abi libs=()
        for abi in ${abis//,/ }; do
            mkdir -p "$dir/lib/$abi"
            make_so "$dir/lib/$abi/libgame.so" "$abi"
            libs+=("lib/$abi/libgame.so")
        done
        # Native libraries stay uncompressed (-0 so), as Android wants them for mmap.
        (cd "$dir" && aapt add -0 so unaligned.apk "${libs[@]}" >/dev/null)
    fi

    zipalign -f -p 4 "$dir/unaligned.apk" "$dir/aligned.apk"
    apksigner sign --ks "$keystore" --ks-pass "pass:$ks_pass" --ks-key-alias fixtures \
        --v4-signing-enabled false --out "$dir/signed.apk" "$dir/aligned.apk"
    apksigner verify "$dir/signed.apk" >/dev/null
    mv -f "$dir/signed.apk" "$out/$name.apk"
    echo "built $out/$name.apk"
}

#     name        source      versionCode versionName abis
build tapper-v1   tapper      1           1.0         arm64-v8a,armeabi-v7a
build tapper-v2   tapper      2           1.1         arm64-v8a,armeabi-v7a
build runner-v1   runner      7           2.3.0       -
build nolauncher  nolauncher  3           0.3         x86_64
