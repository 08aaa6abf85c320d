#!/usr/bin/env bash
# Checks the Debian packages built by ./scripts/package: control fields, file list, conffiles,
# maintainer scripts, and the extracted files themselves (the binary runs, the shipped config
# validates, `systemd-analyze verify` accepts the unit). Runs without root and without systemd
# as PID 1; touches nothing outside its temp dir, which it always removes.
#
#   tests/packaging/check_deb.sh DIR     DIR holds intelergy_*.deb (and intelergy-sim_*.deb)
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=${1:?usage: check_deb.sh DIR}
failures=0
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "  ok: $*"; }

tmp=$(mktemp -d /tmp/intelergy-deb-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

one_deb() {  # one_deb NAME -> the single NAME_*.deb in $dir
    local found=("$dir"/"$1"_*.deb)
    if [ ${#found[@]} -ne 1 ] || [ ! -f "${found[0]}" ]; then
        echo "check_deb: expected exactly one $1_*.deb in $dir, found: ${found[*]}" >&2
        exit 1
    fi
    echo "${found[0]}"
}

project_version=$(sed -n 's/^project(intelergy VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(dpkg --print-architecture)

# --- intelergy ---------------------------------------------------------------------------------
deb=$(one_deb intelergy)
echo "check_deb: $(basename "$deb")"
field() { dpkg-deb -f "$deb" "$1"; }

version=$(field Version)
sha=${version##*.}  # the Debian revision ends in .<git sha>
[[ "$(basename "$deb")" =~ ^intelergy_${project_version//./\\.}-[0-9A-Za-z.+~]+_${arch}\.deb$ ]] \
    && ok "file name carries version $version and arch $arch" \
    || fail "file name $(basename "$deb") is not intelergy_${project_version}-<rev>_${arch}.deb"
[ "$(field Package)" = intelergy ] && ok "Package: intelergy" || fail "Package: $(field Package)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
# libsystemd0: without it the binary was built without sd_notify and would never send READY=1.
for dep in adduser libc6 libpaho-mqttpp libpqxx libcurl libsystemd0; do
    [[ "$depends" == *"$dep"* ]] || fail "Depends lacks $dep (shlibdeps?): $depends"
done
ok "Depends: $depends"
[[ "$(field Recommends)" == *mosquitto* && "$(field Recommends)" == *postgresql* ]] \
    && ok "Recommends: $(field Recommends)" || fail "Recommends: $(field Recommends)"
maintainer=$(field Maintainer)
maintainer_re='^[^<]+ <[^@>]+@[^@>]+>$'
[[ "$maintainer" =~ $maintainer_re && "$maintainer" != *@localhost* ]] \
    && ok "Maintainer: $maintainer" || fail "Maintainer is a placeholder or malformed: $maintainer"

# Listings go to files first: `producer | grep -q` can fail under pipefail when grep exits early.
dpkg-deb -c "$deb" >"$tmp/list"
awk '{print $NF}' "$tmp/list" | sed 's#^\./#/#' >"$tmp/files"
for f in /usr/bin/intelergy /etc/intelergy/intelergy.toml /lib/systemd/system/intelergy.service \
         /usr/share/doc/intelergy/operations.md /usr/share/doc/intelergy/configuration.md \
         /usr/share/doc/intelergy/changelog.Debian.gz /usr/share/doc/intelergy/copyright \
         /usr/share/man/man1/intelergy.1.gz \
         /usr/share/doc/intelergy/examples/mosquitto-acl.example; do
    grep -qx "$f" "$tmp/files" || fail "missing $f"
done
if [ -f README.md ]; then
    grep -qx /usr/share/doc/intelergy/README.md "$tmp/files" || fail "missing README.md"
fi
grep -q '^/usr/bin/intelergy-sim$' "$tmp/files" && fail "intelergy-sim is in the intelergy package"
grep -q '^-rwxr-xr-x root/root .* \./usr/bin/intelergy$' "$tmp/list" \
    || fail "/usr/bin/intelergy is not -rwxr-xr-x root/root"
grep -q '^-rw-r--r-- root/root .* \./etc/intelergy/intelergy.toml$' "$tmp/list" \
    || fail "/etc/intelergy/intelergy.toml is not -rw-r--r-- root/root"
ok "file list ($(wc -l <"$tmp/files") entries)"

dpkg-deb -e "$deb" "$tmp/control"
[ "$(cat "$tmp/control/conffiles" 2>/dev/null)" = /etc/intelergy/intelergy.toml ] \
    && ok "conffiles: /etc/intelergy/intelergy.toml" || fail "DEBIAN/conffiles is wrong"
for s in postinst prerm postrm; do
    if [ -x "$tmp/control/$s" ] && sh -n "$tmp/control/$s"; then :; else fail "DEBIAN/$s"; fi
done
grep -q 'adduser --system' "$tmp/control/postinst" || fail "postinst creates no system user"
ok "maintainer scripts present, executable, parse"

dpkg-deb -x "$deb" "$tmp/root"
bin="$tmp/root/usr/bin/intelergy"
out=$(timeout 10 "$bin" --version 2>&1) || fail "intelergy --version exited non-zero: $out"
[[ "$out" == "intelergy ${project_version} (${sha})" ]] && ok "--version: $out" \
    || fail "--version printed '$out', expected 'intelergy ${project_version} (${sha})'"
# Shipped stripped (CPACK_STRIP_FILES), also when packaged from a RelWithDebInfo tree.
if readelf -S "$bin" | grep -q '\.debug_info'; then fail "/usr/bin/intelergy is not stripped"
else ok "/usr/bin/intelergy is stripped ($(stat -c %s "$bin") bytes)"; fi
copyright="$tmp/root/usr/share/doc/intelergy/copyright"
if head -1 "$copyright" | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
        && grep -q '^License: Expat$' "$copyright" && grep -q 'The Intelergy authors' "$copyright" \
        && cmp -s "$copyright" packaging/debian/copyright; then
    ok "copyright: machine-readable, Expat (MIT), The Intelergy authors"
else
    fail "/usr/share/doc/intelergy/copyright is not packaging/debian/copyright in DEP-5 format"
fi
conf="$tmp/root/etc/intelergy/intelergy.toml"
cmp -s "$conf" packaging/intelergy.toml || fail "shipped config differs from packaging/intelergy.toml"
grep -qx 'spool_dir = "/var/lib/intelergy/spool"' "$conf" \
    || fail "shipped config's spool_dir is not /var/lib/intelergy/spool"
out=$(timeout 10 "$bin" check-config -c "$conf" 2>&1) && ok "check-config accepts the shipped config" \
    || fail "check-config rejects the shipped config: $out"

unit="$tmp/root/lib/systemd/system/intelergy.service"
for line in Type=notify NotifyAccess=main WatchdogSec=30 Restart=on-failure RestartSec=5 \
            User=intelergy Group=intelergy StateDirectory=intelergy NoNewPrivileges=yes \
            ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
            ProtectKernelTunables=yes ProtectKernelModules=yes ProtectControlGroups=yes \
            CapabilityBoundingSet= AmbientCapabilities= LockPersonality=yes \
            MemoryDenyWriteExecute=yes RestrictRealtime=yes SystemCallArchitectures=native \
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" Wants=network-online.target \
            "After=network-online.target mosquitto.service postgresql.service" \
            "ExecStartPre=/usr/bin/intelergy check-config -c /etc/intelergy/intelergy.toml" \
            "ExecStart=/usr/bin/intelergy run -c /etc/intelergy/intelergy.toml"; do
    grep -qxF "$line" "$unit" || fail "unit lacks '$line'"
done
ok "unit directives"
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify checks that ExecStart's binary exists, so point it at the extracted one.
    mkdir -p "$tmp/unit"
    sed "s#/usr/bin/intelergy#$bin#g" "$unit" >"$tmp/unit/intelergy.service"
    if out=$(timeout 60 systemd-analyze verify --man=no "$tmp/unit/intelergy.service" 2>&1) \
            && [ -z "$out" ]; then
        ok "systemd-analyze verify: clean"
    else
        fail "systemd-analyze verify: $out"
    fi
else
    echo "  skip: systemd-analyze not installed"
fi

# --- intelergy-sim -----------------------------------------------------------------------------
sim_debs=("$dir"/intelergy-sim_*.deb)
if [ -f "${sim_debs[0]}" ]; then
    sim=$(one_deb intelergy-sim)
    echo "check_deb: $(basename "$sim")"
    [ "$(dpkg-deb -f "$sim" Version)" = "$version" ] || fail "intelergy-sim version differs"
    dpkg-deb -c "$sim" >"$tmp/sim-list"
    grep -q ' \./usr/bin/intelergy-sim$' "$tmp/sim-list" || fail "missing /usr/bin/intelergy-sim"
    for f in /usr/share/doc/intelergy-sim/copyright /usr/share/man/man1/intelergy-sim.1.gz; do
        grep -q " \.$f\$" "$tmp/sim-list" || fail "missing $f"
    done
    [[ "$(dpkg-deb -f "$sim" Depends)" == *libc6* ]] || fail "intelergy-sim Depends not computed"
    dpkg-deb -x "$sim" "$tmp/sim"
    timeout 10 "$tmp/sim/usr/bin/intelergy-sim" --help >/dev/null 2>&1 \
        && ok "intelergy-sim --help runs" || fail "intelergy-sim --help failed"
else
    fail "no intelergy-sim_*.deb in $dir"
fi

# --- lintian (advisory) ------------------------------------------------------------------------
if command -v lintian >/dev/null 2>&1; then
    echo "check_deb: lintian (advisory, does not fail the check)"
    timeout 300 lintian --no-tag-display-limit "$dir"/*.deb 2>&1 | sed 's/^/  /' || true
fi

if [ "$failures" -gt 0 ]; then
    echo "check_deb: $failures failure(s)"
    exit 1
fi
echo "check_deb: all checks passed"
