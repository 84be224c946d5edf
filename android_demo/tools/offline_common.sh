# Shared by build_offline.sh and test_jvm.sh (sourced). Installs Debian packages when missing and
# fails loudly when it cannot. See ../shared/notes/android-offline.md.

fail() {
    echo "$(basename "$0"): error: $*" >&2
    exit 1
}

# need_packages PKG... : apt-get install the packages not installed yet (needs root).
need_packages() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        fail "missing Debian packages: ${missing[*]}; install them (apt-get install --no-install-recommends ${missing[*]}) or run as root"
    fi
    echo "installing ${missing[*]} (apt-get)"
    apt-get update -qq || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null || fail "apt-get install ${missing[*]} failed"
}

need_java() {
    command -v javac >/dev/null 2>&1 || need_packages default-jdk-headless
    command -v javac >/dev/null 2>&1 || fail "no javac after installing default-jdk-headless"
}
