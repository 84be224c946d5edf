#!/usr/bin/env bash
# JUnit 4 tests of the app's pure-Java core on the desktop JVM (Debian's junit4 and hamcrest),
# golden vectors included. Compiles exactly the sources without Android or TFLite imports, at Java
# 8 level as the app is built; refuses Android imports in the core packages.
#   android_demo/test_jvm.sh            (from anywhere; make android-test runs it)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
. tools/offline_common.sh

need_java
need_packages junit4 libhamcrest-java
CP_JUNIT=/usr/share/java/junit4.jar:/usr/share/java/hamcrest.jar
for jar in ${CP_JUNIT//:/ }; do [ -f "$jar" ] || fail "$jar is missing after installing junit4 and libhamcrest-java"; done

SRC=app/src/main/java
CORE_DIRS="$SRC/org/dkdtf/posedemo/core $SRC/org/dkdtf/posedemo/data"
if grep -rln "^import android\.\|^import org\.tensorflow\." $CORE_DIRS; then
    fail "the files above are in the pure-Java core but import Android or TFLite classes"
fi
mapfile -t MAIN < <(grep -rL "^import android\.\|^import org\.tensorflow\." --include='*.java' "$SRC" | sort)
mapfile -t TESTS < <(find app/src/test/java -name '*.java' | sort)
[ ${#TESTS[@]} -gt 0 ] || fail "no tests under app/src/test/java"

OUT=build/jvm
rm -rf "$OUT"
mkdir -p "$OUT/main" "$OUT/test"
javac -nowarn -source 8 -target 8 -Xlint:-options -encoding UTF-8 -d "$OUT/main" "${MAIN[@]}" \
    || fail "javac failed on the pure-Java sources"
javac -nowarn -source 8 -target 8 -Xlint:-options -encoding UTF-8 -cp "$OUT/main:$CP_JUNIT" \
    -d "$OUT/test" "${TESTS[@]}" || fail "javac failed on the tests"
cp -r app/src/test/resources/. "$OUT/test/"
CLASSES=()
for f in "${TESTS[@]}"; do
    grep -q "@Test" "$f" || continue
    c="${f#app/src/test/java/}"
    CLASSES+=("$(echo "${c%.java}" | tr / .)")
done
echo "JUnit: ${CLASSES[*]}"
java -cp "$OUT/main:$OUT/test:$CP_JUNIT" org.junit.runner.JUnitCore "${CLASSES[@]}" \
    || fail "JUnit tests failed"
