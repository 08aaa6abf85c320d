#!/usr/bin/env bash
# Install, upgrade, remove and purge of the intelergy package as a Debian admin does them, with
# the real dpkg and the real maintainer scripts, in a throwaway root: an overlay of / in a
# private mount namespace, so nothing reaches the machine's own /etc, /var or dpkg database and
# everything disappears when the namespace does.
#
#   tests/packaging/check_upgrade.sh DIR     DIR holds intelergy_*.deb (from ./scripts/package)
#
# From the built package it makes two later versions by repacking (dpkg-deb -R / -b):
#   +upgrade1  same files, a higher version
#   +upgrade2  a higher version whose packaged default config also changed
# and checks: the admin's edited /etc/intelergy/intelergy.toml (a conffile) survives both
# upgrades byte for byte (the second with --force-confold, leaving the new default as
# .dpkg-dist), the state in /var/lib/intelergy and the intelergy user survive, the upgraded
# binary accepts the kept config; remove keeps config, state and user; purge removes all three
# but leaves an admin's own file in /etc/intelergy. Needs root (for dpkg, unshare and mount);
# without it, or without overlayfs, it says SKIP and exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=${1:?usage: check_upgrade.sh DIR}
debs=("$dir"/intelergy_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then
    echo "check_upgrade: expected exactly one intelergy_*.deb in $dir" >&2
    exit 1
fi
deb=${debs[0]}

if [ "$(id -u)" -ne 0 ]; then
    echo "check_upgrade: SKIP: needs root for dpkg in a throwaway overlay root (unshare, mount)"
    exit 0
fi

tmp=$(mktemp -d /tmp/intelergy-upgrade.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/upper" "$tmp/work" "$tmp/root" "$tmp/debs"

if ! unshare --mount --propagation private -- sh -c \
        "mount -t overlay overlay -o lowerdir=/,upperdir=$tmp/upper,workdir=$tmp/work $tmp/root" \
        2>"$tmp/probe.err"; then
    echo "check_upgrade: SKIP: cannot mount an overlay root here: $(cat "$tmp/probe.err")"
    exit 0
fi
rm -rf "$tmp/upper" "$tmp/work"
mkdir -p "$tmp/upper" "$tmp/work"

# --- the later versions ----------------------------------------------------------------------
v1=$(dpkg-deb -f "$deb" Version)
repack() {  # repack SUFFIX CHANGE_CONFIG -> $tmp/debs/intelergy_<v1><SUFFIX>.deb
    local suffix=$1 change_config=$2 t="$tmp/repack"
    rm -rf "$t"
    dpkg-deb -R "$deb" "$t"
    sed -i "s/^Version: .*/Version: ${v1}${suffix}/" "$t/DEBIAN/control"
    if [ "$change_config" = yes ]; then
        printf '\n# A default added by %s.\n' "${v1}${suffix}" >>"$t/etc/intelergy/intelergy.toml"
    fi
    (cd "$t" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
        | xargs -0 md5sum >DEBIAN/md5sums)
    dpkg-deb --root-owner-group -Zxz -b "$t" "$tmp/debs/intelergy_${v1}${suffix}.deb" >/dev/null
    rm -rf "$t"
}
cp "$deb" "$tmp/debs/intelergy_${v1}.deb"
repack +upgrade1 no
repack +upgrade2 yes
dpkg --compare-versions "${v1}+upgrade1" gt "$v1" && dpkg --compare-versions "${v1}+upgrade2" gt "${v1}+upgrade1" \
    || { echo "check_upgrade: repacked versions do not sort higher" >&2; exit 1; }

# --- the steps, run by the chrooted shell ------------------------------------------------------
cat >"$tmp/debs/steps.sh" <<'STEPS'
#!/bin/sh
# Runs inside the throwaway root. Prints "ok:"/"FAIL:" lines; exits non-zero on any FAIL.
set -u
v1=$1
failures=0
ok() { echo "  ok: $*"; }
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }
check() {  # check DESCRIPTION COMMAND...
    d=$1; shift
    if "$@"; then ok "$d"; else fail "$d"; fi
}
installed_version() { dpkg-query -W -f='${Version} ${db:Status-Abbrev}' intelergy 2>/dev/null; }
conf=/etc/intelergy/intelergy.toml
export DEBIAN_FRONTEND=noninteractive

# The host may have intelergy installed; start from nothing inside the overlay.
dpkg --purge intelergy >/dev/null 2>&1 || true

echo "check_upgrade: install $v1"
dpkg -i "/tmp/debs/intelergy_$v1.deb" >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; fail "dpkg -i $v1"; }
check "installed $v1" test "$(installed_version)" = "$v1 ii "
check "conffile registered" sh -c "dpkg-query -W -f='\${Conffiles}' intelergy | grep -q ' $conf '"
check "user and group intelergy exist" sh -c 'getent passwd intelergy >/dev/null && getent group intelergy >/dev/null'
check "/var/lib/intelergy is intelergy:intelergy 0750" \
    test "$(stat -c '%U:%G %a' /var/lib/intelergy)" = "intelergy:intelergy 750"

# The admin edits the config, adds a secret file, and the service leaves state behind.
sed -i 's/^level = "info"/level = "debug"/' "$conf"
grep -q '^level = "debug"' "$conf" || fail "could not edit $conf (no 'level = \"info\"' line?)"
printf '\n# edited by the admin\n' >>"$conf"
cp "$conf" /tmp/edited.toml
printf 'secret\n' >/etc/intelergy/mqtt-password
install -d -o intelergy -g intelergy /var/lib/intelergy/spool
printf 'spooled\n' >/var/lib/intelergy/spool/0001.seg
chown intelergy:intelergy /var/lib/intelergy/spool/0001.seg

echo "check_upgrade: upgrade to $v1+upgrade1 (same packaged config)"
dpkg -i "/tmp/debs/intelergy_$v1+upgrade1.deb" >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; fail "dpkg -i +upgrade1"; }
check "installed $v1+upgrade1" test "$(installed_version)" = "$v1+upgrade1 ii "
check "edited config kept byte for byte" cmp -s "$conf" /tmp/edited.toml
check "no .dpkg-* files next to it" sh -c '! ls /etc/intelergy/*.dpkg-* >/dev/null 2>&1'
check "spool kept" test "$(cat /var/lib/intelergy/spool/0001.seg)" = spooled
check "user kept" sh -c "getent passwd intelergy >/dev/null"

echo "check_upgrade: upgrade to $v1+upgrade2 (packaged config changed too; --force-confold)"
dpkg --force-confold -i "/tmp/debs/intelergy_$v1+upgrade2.deb" >/tmp/dpkg.log 2>&1 \
    || { cat /tmp/dpkg.log; fail "dpkg -i +upgrade2"; }
check "installed $v1+upgrade2" test "$(installed_version)" = "$v1+upgrade2 ii "
check "edited config kept byte for byte" cmp -s "$conf" /tmp/edited.toml
check "new default saved as intelergy.toml.dpkg-dist" grep -q "A default added by $v1+upgrade2" "$conf.dpkg-dist"
check "the upgraded binary accepts the kept config" \
    sh -c "intelergy check-config -c $conf >/tmp/check.log 2>&1 || { cat /tmp/check.log; false; }"
check "secret file untouched" test "$(cat /etc/intelergy/mqtt-password)" = secret

echo "check_upgrade: remove"
dpkg --remove intelergy >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; fail "dpkg --remove"; }
check "binary gone" test ! -e /usr/bin/intelergy
check "unit gone" test ! -e /lib/systemd/system/intelergy.service
check "config kept (rc)" cmp -s "$conf" /tmp/edited.toml
check "state kept" test -f /var/lib/intelergy/spool/0001.seg
check "user kept" sh -c "getent passwd intelergy >/dev/null"

echo "check_upgrade: purge"
dpkg --purge intelergy >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; fail "dpkg --purge"; }
check "package forgotten" test -z "$(installed_version)"
check "config gone" test ! -e "$conf"
check ".dpkg-dist gone" test ! -e "$conf.dpkg-dist"
check "/var/lib/intelergy gone" test ! -e /var/lib/intelergy
check "user gone" sh -c '! getent passwd intelergy >/dev/null'
check "group gone" sh -c '! getent group intelergy >/dev/null'
check "the admin's own file in /etc/intelergy left alone" test -f /etc/intelergy/mqtt-password

exit "$failures"
STEPS
chmod 0755 "$tmp/debs/steps.sh"

# --- run them in the throwaway root -----------------------------------------------------------
# The namespace's mounts (overlay, /dev, /proc, tmpfs) vanish with it; $tmp is removed on exit.
set +e
timeout 300 unshare --mount --propagation private -- sh -ec '
    tmp=$1 v1=$2
    root=$tmp/root
    mount -t overlay overlay -o lowerdir=/,upperdir=$tmp/upper,workdir=$tmp/work "$root"
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    mount -t tmpfs tmpfs "$root/run"
    mount -t tmpfs tmpfs "$root/tmp"
    mkdir "$root/tmp/debs"
    cp "$tmp"/debs/* "$root/tmp/debs/"
    exec chroot "$root" /tmp/debs/steps.sh "$v1"
' sh "$tmp" "$v1"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "check_upgrade: FAILED ($rc)"
    exit 1
fi
echo "check_upgrade: all checks passed"
