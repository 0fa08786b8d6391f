# Shared helpers for scripts/setup, scripts/test, scripts/lint and .ci/run.
# Sourced, not executed: no `set` here, the caller owns its shell options.
# shellcheck shell=bash

# The repository root, whatever the caller's cwd.
TOTEM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TOTEM_ROOT

# Debian packages the test suite drives (tshark for counter checks, tcpreplay and
# iproute2 for the veth/netns tests, nftables for the blocking backend, softflowd as a
# real NetFlow/IPFIX exporter for the collector test), keyed by the
# command that proves each one is installed.
TOTEM_APT_TOOLS=(tshark:tshark tcpreplay:tcpreplay nft:nftables ip:iproute2 ping:iputils-ping tcpdump:tcpdump ethtool:ethtool softflowd:softflowd
    mosquitto:mosquitto mosquitto_sub:mosquitto-clients chromium:chromium chromedriver:chromium-driver node:nodejs npm:npm)

say() { printf '%s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 2
}

# Prints the Debian packages whose command is missing (one line, space separated).
missing_apt_packages() {
    local entry tool pkg absent=()
    for entry in "${TOTEM_APT_TOOLS[@]}" "$@"; do
        tool="${entry%%:*}"
        pkg="${entry#*:}"
        # nft and ip live in /usr/sbin, which a non-login shell may not have on PATH.
        if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1; then
            absent+=("$pkg")
        fi
    done
    printf '%s\n' "${absent[*]}"
}

# apt-get install PACKAGES... non-interactively. wireshark-common would otherwise stop
# and ask whether non-root users may capture.
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    echo 'wireshark-common wireshark-common/install-setuid boolean false' |
        debconf-set-selections 2>/dev/null || true
    local log
    log="$(mktemp /tmp/totem-apt.XXXXXX)"
    if ! { apt-get update -q && apt-get install -y -q -o DPkg::Lock::Timeout=300 \
        --no-install-recommends "$@"; } \
        >"$log" 2>&1; then
        tail -n 10 "$log" | sed 's/^/    apt: /' >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# Succeeds when $1 is a runnable Python >= 3.13. pyenv shims exist on PATH for
# versions that are not selected and then fail with "command not found", so the only
# trustworthy test is to run the candidate.
is_python_313_plus() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' >/dev/null 2>&1
}

# Prints the real path of the first Python >= 3.13 found, or nothing.
# TOTEM_PYTHON overrides the search. 3.13 comes before 3.14 because requirements_test.txt
# pins the floor leg (Home Assistant 2025.4.4), which targets 3.13.
find_python() {
    local candidates=() c pyenv_root
    if [[ -n "${TOTEM_PYTHON:-}" ]]; then
        candidates+=("$TOTEM_PYTHON")
    fi
    for c in python3.13 python3.14; do
        if command -v "$c" >/dev/null 2>&1; then
            candidates+=("$(command -v "$c")")
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        pyenv_root="$(pyenv root 2>/dev/null || true)"
    else
        pyenv_root="${HOME:-/root}/.pyenv"
    fi
    if [[ -n "$pyenv_root" && -d "$pyenv_root/versions" ]]; then
        # 3.13.x first (newest patch first), then later minors.
        local versions
        versions="$(find "$pyenv_root/versions" -mindepth 1 -maxdepth 1 -name '3.1[3-9]*' \
            -printf '%f\n' | sort -V -r)"
        for c in $(grep '^3\.13' <<<"$versions") $(grep -v '^3\.13' <<<"$versions"); do
            candidates+=("$pyenv_root/versions/$c/bin/python3")
        done
    fi
    for c in "${candidates[@]}"; do
        if is_python_313_plus "$c"; then
            "$c" -c 'import os, sys; print(os.path.realpath(sys.executable))'
            return 0
        fi
    done
    return 1
}

# Prints a runnable uv: one on PATH, else one in .venv-tools (made with $1 if needed).
find_uv() {
    local python="$1" tools="$TOTEM_ROOT/.venv-tools"
    if command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then
        command -v uv
        return 0
    fi
    if [[ -x "$tools/bin/uv" ]] && "$tools/bin/uv" --version >/dev/null 2>&1; then
        printf '%s\n' "$tools/bin/uv"
        return 0
    fi
    say "uv: not found; installing it into .venv-tools with $python -m pip" >&2
    "$python" -m venv --clear "$tools" >&2 || return 1
    "$tools/bin/python" -m pip install -q uv >&2 || return 1
    printf '%s\n' "$tools/bin/uv"
}

# Seconds since $1 (a `date +%s.%N` value), one decimal.
elapsed_since() {
    awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
