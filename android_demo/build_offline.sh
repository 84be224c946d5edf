#!/usr/bin/env bash
# Offline APK build of the demo app from Debian packages only, after
# ../shared/notes/android-offline.md. It proves that the app's sources compile against the
# Android API (android-23.jar) and package into a signed, aligned APK with the export as
# uncompressed assets. The APK lacks the TFLite runtime (compiled against a stub, never
# packaged) and cannot run; the Gradle build (README.md) is the one to install.
#
#   android_demo/build_offline.sh [EXPORT_DIR]
#
# EXPORT_DIR: the export to put into the APK's assets; default: the shipped reference export
# (tools/copy_export.py finds it), else the export already in app/src/main/assets, else a tiny
# untrained export made here with the repository's venv (packaging test only).
# Output: android_demo/build/offline/dkd-pose-demo-offline.apk. Fails loudly at the first problem.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
cd "$HERE"
. tools/offline_common.sh

PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
OUT="$HERE/build/offline"
PREV="$HERE/build/debian-prev"
APK="$OUT/dkd-pose-demo-offline.apk"

# --- what the app's Gradle file says (one place for name, version, SDK levels)
gradle_value() {
    sed -n "s/^ *$1 *['\"]\{0,1\}\([^'\"]*\)['\"]\{0,1\} *$/\1/p" app/build.gradle | head -n 1
}
APP_ID="$(gradle_value applicationId)"
VERSION_CODE="$(gradle_value versionCode)"
VERSION_NAME="$(gradle_value versionName)"
MIN_SDK="$(gradle_value minSdk)"
[ -n "$APP_ID" ] && [ -n "$VERSION_CODE" ] && [ -n "$VERSION_NAME" ] && [ -n "$MIN_SDK" ] \
    || fail "cannot read applicationId, versionCode, versionName and minSdk from app/build.gradle"

# --- tools: current Debian
need_java
need_packages aapt zipalign apksigner android-framework-res dexdump
FRAMEWORK_RES=/usr/share/android-framework-res/framework-res.apk
[ -f "$FRAMEWORK_RES" ] || fail "$FRAMEWORK_RES missing after installing android-framework-res"
for tool in aapt zipalign apksigner dexdump keytool; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found"
done

# --- android-23.jar and dx: Debian's previous release, through a sources list derived from the
# system's own (no host written here), downloaded and unpacked into build/ (not installed).
ANDROID_JAR="$PREV/root/usr/share/java/com.android.android-23.jar"
DX_JAR="$(ls "$PREV"/root/usr/share/java/com.android.dx-*.jar 2>/dev/null | head -n 1 || true)"
if [ ! -f "$ANDROID_JAR" ] || [ -z "$DX_JAR" ]; then
    SOURCES=/etc/apt/sources.list.d/debian.sources
    [ -f "$SOURCES" ] || fail "$SOURCES not found: cannot derive a sources list for Debian's previous release"
    . /etc/os-release
    case "${VERSION_CODENAME:-}" in
        bookworm) OLD=bullseye ;;
        trixie) OLD=bookworm ;;
        *) fail "no previous Debian release known for '${VERSION_CODENAME:-unknown}'" ;;
    esac
    rm -rf "$PREV"
    mkdir -p "$PREV/apt/lists/partial" "$PREV/debs" "$PREV/root"
    # The first stanza (the main archive) with the previous release as its only suite.
    awk 'BEGIN{RS=""; ORS="\n"} NR==1{print; exit}' "$SOURCES" \
        | sed "s/^Suites:.*/Suites: $OLD/" > "$PREV/apt/prev.sources"
    grep -q "^Suites: $OLD$" "$PREV/apt/prev.sources" || fail "could not derive the $OLD sources list from $SOURCES"
    O=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$PREV/apt"
       -o Dir::State::Lists="$PREV/apt/lists" -o Debug::NoLocking=1)
    echo "downloading libandroid-23-java and dalvik-exchange from Debian $OLD"
    apt-get "${O[@]}" update -qq || fail "apt-get update for Debian $OLD failed"
    (cd "$PREV/debs" && apt-get "${O[@]}" download libandroid-23-java dalvik-exchange 2>&1 \
        | grep -v "^W: Download is performed unsandboxed" || true)
    for deb in "$PREV"/debs/libandroid-23-java_*.deb "$PREV"/debs/dalvik-exchange_*.deb; do
        [ -f "$deb" ] || fail "apt-get download of libandroid-23-java / dalvik-exchange from $OLD failed"
        dpkg-deb -x "$deb" "$PREV/root"
    done
    DX_JAR="$(ls "$PREV"/root/usr/share/java/com.android.dx-*.jar 2>/dev/null | head -n 1 || true)"
fi
[ -f "$ANDROID_JAR" ] || fail "$ANDROID_JAR missing from libandroid-23-java"
[ -n "$DX_JAR" ] || fail "dx jar missing from dalvik-exchange"

# --- assets: the export
rm -rf "$OUT"
mkdir -p "$OUT/assets" "$OUT/gen" "$OUT/classes" "$OUT/stubs" "$OUT/dex"
EXPORT_DIR="${1:-}"
if [ -z "$EXPORT_DIR" ]; then
    EXPORT_DIR="$("$PYTHON" -c 'import sys; sys.path.insert(0, "tools"); import copy_export; print(copy_export.default_export_dir() or "")')" \
        || fail "cannot run $PYTHON (set PYTHON, or make venv)"
fi
if [ -z "$EXPORT_DIR" ] && [ -f app/src/main/assets/manifest.json ]; then
    EXPORT_DIR=app/src/main/assets
fi
if [ -z "$EXPORT_DIR" ]; then
    EXPORT_DIR="$HERE/build/tiny_export"
    if [ ! -f "$EXPORT_DIR/manifest.json" ]; then
        echo "no shipped reference export: making a tiny untrained one for the packaging test"
        (cd "$REPO" && "$PYTHON" - "$HERE/build/tiny_model" "$EXPORT_DIR" <<'PY'
import sys
from export import tflite
from tests.helpers import make_model_dir
make_model_dir(sys.argv[1], seed=0, input_size=64, calibrate=True)
tflite.export_tflite(sys.argv[1], sys.argv[2], "none", log=lambda *a: None)
PY
        ) || fail "could not make the tiny export with $PYTHON"
    fi
fi
# The person finder the export names goes in only when this machine has it converted already:
# the offline build fetches nothing (copy_export.py would fetch it with npm).
FINDER_ARGS=()
if ! (cd "$REPO" && "$PYTHON" -c 'import os, sys
from dkd_tf.pretrained import fetch, peers
sys.exit(0 if os.path.isfile(os.path.join(fetch.cache_dir(), peers.CONVERTED, "movenet_multipose.tflite")) else 1)'); then
    FINDER_ARGS=(--finder none)
    echo "note: no converted person finder cached here; the offline APK is built without one"
fi
"$PYTHON" tools/copy_export.py "$EXPORT_DIR" --assets "$OUT/assets" "${FINDER_ARGS[@]}" \
    || fail "copying $EXPORT_DIR failed"

# --- AndroidManifest.xml with the package and version (Gradle takes them from build.gradle)
sed "s#<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\">#<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\" package=\"$APP_ID\" android:versionCode=\"$VERSION_CODE\" android:versionName=\"$VERSION_NAME\">#" \
    app/src/main/AndroidManifest.xml > "$OUT/AndroidManifest.xml"
grep -q "package=\"$APP_ID\"" "$OUT/AndroidManifest.xml" || fail "could not set the package in AndroidManifest.xml"
TARGET_SDK=29  # framework-res.apk from Debian is API 29

echo "aapt: R.java"
aapt package -f -m -J "$OUT/gen" -M "$OUT/AndroidManifest.xml" -S app/src/main/res \
    -I "$FRAMEWORK_RES" --min-sdk-version "$MIN_SDK" --target-sdk-version "$TARGET_SDK" \
    || fail "aapt could not compile the resources"

echo "javac: app sources (Java 8) against android-23.jar and the TFLite stub"
javac -nowarn -source 8 -target 8 -Xlint:-options -encoding UTF-8 -d "$OUT/stubs" \
    $(find offline_stubs -name '*.java') || fail "javac failed on offline_stubs"
mapfile -t SOURCES_JAVA < <(find app/src/main/java "$OUT/gen" -name '*.java' | sort)
javac -nowarn -source 8 -target 8 -Xlint:-options -encoding UTF-8 -bootclasspath "$ANDROID_JAR" \
    -cp "$OUT/stubs" -d "$OUT/classes" "${SOURCES_JAVA[@]}" || fail "javac failed on the app"
if find "$OUT/classes" -path '*org/tensorflow*' | grep -q .; then
    fail "TFLite stub classes ended up among the app classes"
fi

echo "dx: classes.dex"
java -jar "$DX_JAR" --dex --min-sdk-version="$MIN_SDK" --output="$OUT/dex/classes.dex" "$OUT/classes" \
    || fail "dx failed (lambdas or Java > 8 class files?)"

echo "aapt: package (tflite stored uncompressed), zipalign, sign"
aapt package -f -M "$OUT/AndroidManifest.xml" -S app/src/main/res -A "$OUT/assets" \
    -I "$FRAMEWORK_RES" --min-sdk-version "$MIN_SDK" --target-sdk-version "$TARGET_SDK" \
    -0 tflite -F "$OUT/app.unaligned.apk" || fail "aapt package failed"
(cd "$OUT/dex" && aapt add "$OUT/app.unaligned.apk" classes.dex >/dev/null) || fail "aapt add classes.dex failed"
zipalign -p -f 4 "$OUT/app.unaligned.apk" "$OUT/app.aligned.apk" || fail "zipalign failed"
KEYSTORE="$HERE/build/debug.keystore"
if [ ! -f "$KEYSTORE" ]; then
    keytool -genkeypair -keystore "$KEYSTORE" -storepass android -keypass android \
        -alias androiddebugkey -keyalg RSA -keysize 2048 -validity 10000 \
        -dname "CN=Android Debug,O=Android,C=US" >/dev/null 2>&1 || fail "keytool could not make a debug key"
fi
apksigner sign --ks "$KEYSTORE" --ks-pass pass:android --key-pass pass:android \
    --out "$APK" "$OUT/app.aligned.apk" || fail "apksigner sign failed"

# --- checks
echo "checking $APK"
apksigner verify "$APK" || fail "apksigner verify failed"
zipalign -c 4 "$APK" || fail "zipalign -c 4: the APK is not aligned"
BADGING="$(aapt dump badging "$APK")" || fail "aapt dump badging failed"
echo "$BADGING" | grep -q "^package: name='$APP_ID'" || fail "badging: package is not $APP_ID"
echo "$BADGING" | grep -q "^uses-permission: name='android.permission.CAMERA'" || fail "badging: no CAMERA permission"
echo "$BADGING" | grep -q "^launchable-activity: name='$APP_ID.MainActivity'" || fail "badging: no launchable MainActivity"
echo "$BADGING" | grep -q "^sdkVersion:'$MIN_SDK'" || fail "badging: minSdk is not $MIN_SDK"
LISTING="$(aapt list -v "$APK")" || fail "aapt list failed"
for name in $(cd "$OUT/assets" && ls); do
    line="$(echo "$LISTING" | awk -v n="assets/$name" '$NF == n')"
    [ -n "$line" ] || fail "asset $name is missing from the APK"
    case "$name" in
        *.tflite) echo "$line" | grep -q " Stored " || fail "asset $name is compressed in the APK (needs -0 tflite)" ;;
    esac
done
DEX_CLASSES="$(dexdump "$OUT/dex/classes.dex" | sed -n "s/^ *Class descriptor *: *'\(.*\)'/\1/p")"
echo "$DEX_CLASSES" | grep -q "^Lorg/dkdtf/posedemo/MainActivity;$" || fail "classes.dex has no MainActivity"
if echo "$DEX_CLASSES" | grep -q "^Lorg/tensorflow/"; then
    fail "classes.dex contains org.tensorflow classes: the compile-only stub was packaged"
fi
echo "$BADGING" | sed -n "1p;/^sdkVersion/p;/^targetSdkVersion/p;/^uses-permission/p;/^launchable-activity/p"
echo "assets: $(cd "$OUT/assets" && ls | tr '\n' ' ')(tflite stored uncompressed)"
echo "ok: $APK ($(du -k "$APK" | cut -f1) KB; compiles and packages; no TFLite runtime inside, not installable)"
