#!/usr/bin/env bash
# Issue 7's "Done when", for real, with systemd as PID 1: a fresh Debian 12 container booted with
# systemd-nspawn, where an admin installs Mosquitto and PostgreSQL, creates the role and database,
# installs the intelergy packages, edits the config and starts the service; then simulated plugs
# move the metrics, the watchdog restarts a stopped process, an upgrade to a newer build keeps
# config and data and restarts the service, and purge removes what docs/operations.md says.
#
#   sudo tests/packaging/systemd_acceptance.sh DIR [NEWDIR]
#
#   DIR     holds intelergy_*.deb and intelergy-sim_*.deb (./scripts/package)
#   NEWDIR  holds a newer build of intelergy_*.deb to upgrade to; without it the package from DIR
#           is repacked with a higher version (+acc1), which is a version-only upgrade
#
# Needs root, systemd-nspawn (systemd-container) and debootstrap; installs both with apt-get when
# missing. The Debian 12 root is debootstrapped once into $INTELERGY_NSPAWN_CACHE (default
# /var/tmp/intelergy-nspawn/base) with the .debs of mosquitto, postgresql and intelergy's
# dependencies pre-downloaded, and copied for every run, so the container boots with
# --private-network (loopback only, no clash with other services on the host's ports).
# Every wait is bounded. On exit the container is shut down (by the PID of the systemd-nspawn this
# script started) and its copy deleted. Exit: 0 all checks passed, 1 a check failed, 77 skipped
# (not root, no network for the first debootstrap, or systemd-nspawn cannot boot here).
# INTELERGY_ACC_WATCHDOG=0 skips the watchdog step (it takes about 45 s).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

say() { echo "acceptance: $*"; }
skip() { echo "acceptance: SKIP: $*"; exit 77; }
dir=${1:?usage: systemd_acceptance.sh DIR [NEWDIR]}
newdir=${2:-}
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, systemd-nspawn, dpkg inside the container)"

pick() {  # pick DIR GLOB -> the one file matching
    # shellcheck disable=SC2206  # $2 is a glob on purpose
    local m=("$1"/$2)
    [ ${#m[@]} -eq 1 ] && [ -f "${m[0]}" ] || { echo "acceptance: expected one $2 in $1" >&2; exit 1; }
    echo "${m[0]}"
}
deb=$(pick "$dir" 'intelergy_*.deb')
simdeb=$(pick "$dir" 'intelergy-sim_*.deb')
[ -z "$newdir" ] || newdeb=$(pick "$newdir" 'intelergy_*.deb')

start=$SECONDS
cache=${INTELERGY_NSPAWN_CACHE:-/var/tmp/intelergy-nspawn/base}
run=$(dirname "$cache")/run.$$
machine=intelergy-acc-$$
nspawn_pid=""
failures=0
ok() { echo "  ok: $*"; }
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }

export DEBIAN_FRONTEND=noninteractive
need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null \
        || skip "cannot install ${need[*]}"
fi

# --- the cached Debian 12 root ----------------------------------------------------------------
mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
if [ ! -f "$cache/.intelergy-base-ok" ]; then
    say "debootstrapping Debian 12 into $cache from $mirror (once; a few minutes)"
    rm -rf "$cache.tmp"
    mkdir -p "$(dirname "$cache")"
    if ! timeout 1200 debootstrap --variant=minbase \
            --include=systemd,systemd-sysv,dbus,curl,ca-certificates,procps,iproute2,less \
            bookworm "$cache.tmp" "$mirror" >"$(dirname "$cache")/debootstrap.log" 2>&1; then
        tail -n 5 "$(dirname "$cache")/debootstrap.log"
        rm -rf "$cache.tmp"
        skip "debootstrap failed (no mirror?), log in $(dirname "$cache")/debootstrap.log"
    fi
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
        "$mirror" "$mirror" "$mirror" >"$cache.tmp/etc/apt/sources.list"
    echo intelergy-acc >"$cache.tmp/etc/hostname"
    rm -rf "$cache"
    mv "$cache.tmp" "$cache"
    touch "$cache/.intelergy-base-ok"
fi
# What the admin installs comes from the archive cache inside the root: the container has no
# network. Download (or refresh) it on the host's network through a chroot.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[(|].*//; s/ //g' | grep -v '^$' | tr '\n' ' ')
say "refreshing the package cache in $cache (mosquitto postgresql $deps)"
cp /etc/resolv.conf "$cache/etc/resolv.conf"
if ! timeout 900 chroot "$cache" sh -c "apt-get update -qq && apt-get install -y -qq --download-only \
        mosquitto mosquitto-clients postgresql $deps" >"$(dirname "$cache")/download.log" 2>&1; then
    tail -n 5 "$(dirname "$cache")/download.log"
    if ! ls "$cache"/var/cache/apt/archives/postgresql-15_*.deb >/dev/null 2>&1; then
        skip "cannot download the packages into the cache (no mirror?)"
    fi
    say "download failed; using the packages cached earlier"
fi

# --- boot it ----------------------------------------------------------------------------------
cleanup() {
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        say "shutting the container down (systemd-nspawn PID $nspawn_pid)"
        kill -TERM "$nspawn_pid" 2>/dev/null   # nspawn turns it into SIGRTMIN+3: a clean poweroff
        for _ in $(seq 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 1; done
        kill -0 "$nspawn_pid" 2>/dev/null && kill -KILL "$nspawn_pid" 2>/dev/null
        wait "$nspawn_pid" 2>/dev/null
    fi
    rm -rf "$run" "$run".*
    # systemd-nspawn's mount propagation directory for this machine, if it left one behind.
    rm -rf "/run/systemd/nspawn/propagate/$machine"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "copying the root to $run"
cp -a --reflink=auto "$cache" "$run" || { echo "acceptance: copy failed" >&2; exit 1; }
mkdir -p "$run/root/debs"
cp "$deb" "$simdeb" "$run/root/debs/"
if [ -n "$newdir" ]; then
    mkdir -p "$run/root/debs/new" && cp "$newdeb" "$run/root/debs/new/"
else
    # A version-only upgrade: the same files with a higher version.
    t=$(mktemp -d)
    v=$(dpkg-deb -f "$deb" Version)
    dpkg-deb -R "$deb" "$t/p"
    sed -i "s/^Version: .*/Version: ${v}+acc1/" "$t/p/DEBIAN/control"
    mkdir -p "$run/root/debs/new"
    dpkg-deb --root-owner-group -Zxz -b "$t/p" "$run/root/debs/new/intelergy_${v}+acc1.deb" >/dev/null
    rm -rf "$t"
fi

say "booting $machine: systemd-nspawn --boot --private-network"
systemd-nspawn --boot --register=no --keep-unit --private-network --console=read-only -q \
    -D "$run" -M "$machine" >"$run.console" 2>&1 &
nspawn_pid=$!

# The container's PID 1 is the descendant of systemd-nspawn whose PID in its own namespace is 1.
leader=""
find_leader() {
    local todo=("$nspawn_pid") p c
    while [ ${#todo[@]} -gt 0 ]; do
        p=${todo[0]}; todo=("${todo[@]:1}")
        if [ "$p" != "$nspawn_pid" ] && grep -Eq '^NSpid:\s+[0-9]+\s+1$' "/proc/$p/status" 2>/dev/null; then
            leader=$p; return 0
        fi
        for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do todo+=("$c"); done
    done
    return 1
}
for _ in $(seq 60); do
    find_leader && break
    kill -0 "$nspawn_pid" 2>/dev/null || break
    sleep 0.5
done
if [ -z "$leader" ]; then
    cat "$run.console"; rm -f "$run.console"
    skip "systemd-nspawn did not start a container here (output above)"
fi
c() {  # c 'shell command' -> run in the container as root, as an admin would at its shell
    nsenter -t "$leader" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root \
        TERM=dumb DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= SYSTEMD_COLORS=0 \
        /bin/bash -c "$1"
}
check() {  # check DESCRIPTION 'shell command in the container'
    if c "$2"; then ok "$1"; else fail "$1"; fi
}
# Until systemd has its private socket up, systemctl says "Failed to connect to bus"; then wait
# for the boot to finish (running, or degraded when some unit failed).
state=""
for _ in $(seq 180); do
    state=$(c 'systemctl is-system-running' 2>&1)
    case "$state" in running|degraded) break ;; esac
    kill -0 "$nspawn_pid" 2>/dev/null || break
    sleep 1
done
if [ "$state" != running ] && [ "$state" != degraded ]; then
    cat "$run.console"
    skip "the container's systemd did not finish booting (is-system-running: '$state')"
fi
rm -f "$run.console"
say "booted in $((SECONDS - start)) s since the start, PID 1 $(c 'cat /proc/1/comm'): system $state"
[ "$state" = degraded ] && c 'systemctl --failed --no-legend'

# --- the admin's steps ------------------------------------------------------------------------
say "apt-get install mosquitto mosquitto-clients postgresql"
c 'apt-get install -y -q --no-download mosquitto mosquitto-clients postgresql' >"$run.apt.log" 2>&1 \
    || { tail -n 20 "$run.apt.log"; fail "apt-get install mosquitto postgresql"; exit 1; }
check "mosquitto and postgresql started by their packages" \
    'systemctl is-active -q mosquitto && systemctl is-active -q postgresql@15-main'
say "create the role and the database (docs/operations.md, Install step 1)"
c 'cd / && runuser -u postgres -- createuser intelergy && runuser -u postgres -- createdb -O intelergy intelergy' \
    || fail "createuser/createdb"

say "apt-get install ./$(basename "$deb") ./$(basename "$simdeb")"
c 'apt-get install -y -q /root/debs/intelergy_*.deb /root/debs/intelergy-sim_*.deb' >"$run.apt.log" 2>&1 \
    || { tail -n 20 "$run.apt.log"; fail "apt-get install ./intelergy"; exit 1; }
v1=$(c "dpkg-query -W -f='\${Version}' intelergy")
say "installed intelergy $v1"
check "a fresh install neither enables nor starts the service" \
    '[ "$(systemctl is-enabled intelergy)" = disabled ] && ! systemctl is-active -q intelergy'

say "edit /etc/intelergy/intelergy.toml (polling.default_interval_s = 2) and check it"
c "sed -i 's/^default_interval_s = 10\$/default_interval_s = 2/' /etc/intelergy/intelergy.toml
   printf '\n# edited by the admin on %s\n' \"\$(date -u +%F)\" >>/etc/intelergy/intelergy.toml
   grep -q '^default_interval_s = 2\$' /etc/intelergy/intelergy.toml" || fail "could not edit the config"
c 'intelergy check-config -c /etc/intelergy/intelergy.toml' || fail "check-config of the edited config"
conf_sum=$(c 'sha256sum /etc/intelergy/intelergy.toml')

say "systemctl enable --now intelergy"
t0=$SECONDS
c 'timeout 150 systemctl enable --now intelergy' || fail "systemctl enable --now intelergy"
say "the start returned after $((SECONDS - t0)) s"
check "systemctl is-active intelergy: active" '[ "$(systemctl is-active intelergy)" = active ]'
c 'systemctl show -p Type,NotifyAccess,WatchdogUSec,NRestarts,StatusText,MainPID,ExecMainStatus,User intelergy' \
    | sed 's/^/    /'
check "Type=notify, watchdog 30 s, no restarts" \
    'systemctl show -p Type,WatchdogUSec,NRestarts intelergy | tr "\n" " " | grep -qx "Type=notify WatchdogUSec=30s NRestarts=0 "'
c 'systemctl status --no-pager -n 20 intelergy' | sed 's/^/    /'
check "status shows a Status: summary line" \
    'systemctl status --no-pager intelergy | grep -Eq "Status: \"[0-9]+ devices \([0-9]+ online\), mqtt connected, database ok\""'
check "ExecStartPre (check-config) ran and succeeded" \
    'systemctl status --no-pager intelergy | grep -q "ExecStartPre=/usr/bin/intelergy check-config .*status=0/SUCCESS"'
check "runs as user intelergy" '[ "$(ps -o user= -p "$(systemctl show -P MainPID intelergy)")" = intelergy ]'

check "/healthz 200" "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9469/healthz)\" = 200 ]"
check "/readyz 200" "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9469/readyz)\" = 200 ]"
metric() {  # metric 'name{labels}' -> its value
    c 'curl -s --max-time 5 http://127.0.0.1:9469/metrics' | awk -v k="$1" '$1 == k { print $2 }'
}
check "/metrics is Prometheus text" \
    'curl -s --max-time 5 http://127.0.0.1:9469/metrics | grep -q "^# TYPE intelergy_polls_total counter"'

# --- simulated plugs --------------------------------------------------------------------------
say "start intelergy-sim (Gen1 and Gen3 PM over HTTP with a password, a Gen2 over MQTT only)"
c 'systemd-run -q --unit=acc-sim intelergy-sim --gen1 1 --gen3pm 1 --password s3cret \
       --mqtt-only-gen2 1 --mqtt-url mqtt://127.0.0.1:1883 --plugs-out /root/plugs.json' \
    || fail "systemd-run intelergy-sim"
for _ in $(seq 30); do [ -s "$run/root/plugs.json" ] && break; sleep 0.5; done
plug() {  # plug NAME FIELD -> from plugs.json
    tr -d ' \n' <"$run/root/plugs.json" | grep -o '{[^{}]*}' | grep "\"name\":\"$1\"" \
        | sed -n "s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p"
}
gen1_url=$(plug gen1-1 url); pm_url=$(plug gen3pm-1 url); mqtt_prefix=$(plug mqtt-gen2-1 mqtt_prefix)
say "plugs: $gen1_url $pm_url mqtt:$mqtt_prefix"
say "register them with the intelergy CLI"
c "set -e; printf 's3cret\n' >/root/plug.pw
   intelergy user add acc
   intelergy profile add acc/home --timezone Europe/Berlin --tariff 0.32 --currency EUR
   intelergy room add acc/home/lab
   intelergy device add acc/home/lab/gen1 --url $gen1_url --username admin --password-file /root/plug.pw
   intelergy device add acc/home/lab/pm --url $pm_url --username admin --password-file /root/plug.pw
   intelergy device add acc/home/lab/pv --mqtt --topic-prefix $mqtt_prefix" | sed 's/^/    /' \
    || fail "registering plugs with the CLI"
sleep 3
p0=$(metric 'intelergy_polls_total{outcome="ok"}'); r0=$(metric intelergy_readings_written_total)
m0=$(metric 'intelergy_mqtt_messages_total{direction="in"}')
sleep 15
p1=$(metric 'intelergy_polls_total{outcome="ok"}'); r1=$(metric intelergy_readings_written_total)
m1=$(metric 'intelergy_mqtt_messages_total{direction="in"}')
say "over 15 s: polls ok $p0 -> $p1, readings written $r0 -> $r1, mqtt in $m0 -> $m1"
if [ "${p1:-0}" -gt "${p0:-0}" ] && [ "${r1:-0}" -gt "${r0:-0}" ] && [ "${m1:-0}" -gt "${m0:-0}" ]; then
    ok "metrics move with the simulated plugs"
else
    fail "metrics move with the simulated plugs"
fi
c 'curl -s --max-time 5 http://127.0.0.1:9469/metrics' \
    | grep -E '^intelergy_(devices|polls_total|readings_written_total|mqtt_messages_total|database_up|mqtt_connected|rollup_lag_seconds)' \
    | sed 's/^/    /'
online=$(metric 'intelergy_devices{state="online"}')
if [ "$online" = 3 ]; then ok "intelergy_devices{state=\"online\"} 3"; else fail "devices online: '$online', not 3"; fi
sql() { c "cd / && runuser -u postgres -- psql -d intelergy -Atc \"$1\""; }
say "readings in PostgreSQL: $(sql 'select count(*) from readings')"

say "the journal (journalctl -u intelergy -o short-iso)"
c 'journalctl -u intelergy -o short-iso --no-pager' | sed 's/^/    /'
check "no double timestamps: no message starts with a date or time" \
    '! journalctl -u intelergy -o cat --no-pager | grep -Eq "^\[?([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}:[0-9]{2}:[0-9]{2})"'
check "every line of the bridge is <level> <module>: <message>" \
    '! journalctl -o cat --no-pager _PID="$(systemctl show -P MainPID intelergy)" | grep -Ev "^(trace|debug|info|warning|error|critical) [a-z_]+: " | grep .'
check "journalctl -p warning shows the warnings, and only those" \
    'journalctl -u intelergy -p warning -o cat --no-pager | grep -q "^warning intelergy: store.credentials_key_file is not set" && ! journalctl -u intelergy -p warning -o cat --no-pager | grep -q "^info "'

# --- watchdog ---------------------------------------------------------------------------------
if [ "${INTELERGY_ACC_WATCHDOG:-1}" != 0 ]; then
    pid=$(c 'systemctl show -P MainPID intelergy')
    say "watchdog: kill -STOP $pid (the core loop stops pinging); waiting for systemd"
    c "kill -STOP $pid"
    t0=$SECONDS
    restarted=""
    while [ $((SECONDS - t0)) -lt 90 ]; do
        sleep 2
        npid=$(c 'systemctl show -P MainPID intelergy')
        if [ "$npid" != "$pid" ] && [ "$npid" != 0 ] && [ "$(c 'systemctl is-active intelergy')" = active ]; then
            restarted=yes; break
        fi
    done
    say "after $((SECONDS - t0)) s: MainPID $pid -> $npid, $(c 'systemctl show -p NRestarts intelergy')"
    c "journalctl -u intelergy --no-pager -o short-iso | grep -E 'Watchdog timeout|Main process exited|Scheduled restart|Started intelergy|intelergy starting' | tail -n 6" \
        | sed 's/^/    /'
    if [ -n "$restarted" ] && c 'journalctl -u intelergy --no-pager | grep -q "Watchdog timeout"' \
            && [ "$(c 'systemctl show -P NRestarts intelergy')" = 1 ]; then
        ok "a stopped core loop is killed by the watchdog and the service restarted, ready again"
    else
        fail "watchdog restart"
    fi
fi

# --- upgrade ----------------------------------------------------------------------------------
sleep 5
# Readings are written up to flush_interval_ms after their timestamp: compare those older than 5 s,
# by count and by a digest of every row.
cut=$(sql "select now() - interval '5 seconds'")
digest="select count(*) || ' rows, md5 ' || md5(coalesce(string_agg(device_id || '/' || channel || '/' || ts || '/' || coalesce(energy_wh::text, ''), ',' order by device_id, channel, ts), '')) from readings where ts <= '$cut'"
before=$(sql "$digest")
devices_before=$(sql "select count(*) from devices")
pid=$(c 'systemctl show -P MainPID intelergy')
newv=$(dpkg-deb -f "$(ls "$run"/root/debs/new/intelergy_*.deb)" Version)
say "upgrade $v1 -> $newv with dpkg -i (readings up to now: $before, devices: $devices_before)"
if dpkg --compare-versions "$newv" le "$v1"; then fail "the new package's version $newv is not higher than $v1"; fi
confopt=""
oldconf=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/intelergy/intelergy.toml | sha256sum)
newconf=$(dpkg-deb --fsys-tarfile "$(ls "$run"/root/debs/new/intelergy_*.deb)" | tar -xO ./etc/intelergy/intelergy.toml | sha256sum)
if [ "$oldconf" != "$newconf" ]; then
    confopt=--force-confold   # the packaged default changed too: dpkg would ask; keep ours
    say "the packaged default config changed; upgrading with $confopt"
fi
t0=$SECONDS
c "dpkg -i $confopt /root/debs/new/intelergy_*.deb </dev/null" 2>&1 | sed 's/^/    /'
say "dpkg -i returned after $((SECONDS - t0)) s"
check "installed $newv" "[ \"\$(dpkg-query -W -f='\${Version} \${db:Status-Abbrev}' intelergy)\" = '$newv ii ' ]"
check "the edited config is kept byte for byte" "[ \"\$(sha256sum /etc/intelergy/intelergy.toml)\" = '$conf_sum' ]"
if [ -z "$confopt" ]; then
    check "no .dpkg-dist/.dpkg-old (no prompt needed)" '! ls /etc/intelergy/*.dpkg-* >/dev/null 2>&1'
else
    check "new default saved as .dpkg-dist" 'test -f /etc/intelergy/intelergy.toml.dpkg-dist'
fi
npid=$(c 'systemctl show -P MainPID intelergy')
check "the service was restarted by the upgrade (MainPID $pid -> $npid) and is active" \
    "[ '$npid' != '$pid' ] && [ \"\$(systemctl is-active intelergy)\" = active ]"
check "/readyz 200 after the upgrade" "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9469/readyz)\" = 200 ]"
after=$(sql "$digest")
say "readings up to $cut: before $before, after $after; devices $(sql 'select count(*) from devices')"
if [ "$before" = "$after" ] && [ "${before%% *}" -gt 0 ] 2>/dev/null && [ "$(sql 'select count(*) from devices')" = "$devices_before" ]; then
    ok "data intact across the upgrade"
else
    fail "data intact across the upgrade"
fi
r2=$(metric intelergy_readings_written_total); sleep 8; r3=$(metric intelergy_readings_written_total)
say "after the upgrade, readings written $r2 -> $r3 in 8 s"
if [ "${r3:-0}" -gt "${r2:-0}" ]; then ok "the upgraded bridge keeps writing readings"; else fail "readings after upgrade"; fi
c 'journalctl -u intelergy -o short-iso --no-pager -n 8' | sed 's/^/    /'
say "the upgraded process: $(c "journalctl -o cat --no-pager _PID=$npid | grep 'database schema at version'")"
check "every line of the upgraded bridge is <level> <module>: <message>" \
    '! journalctl -o cat --no-pager _PID="$(systemctl show -P MainPID intelergy)" | grep -Ev "^(trace|debug|info|warning|error|critical) [a-z_]+: " | grep .'
check "journalctl -p warning has the upgraded bridge's warning" \
    "journalctl -p warning -o cat --no-pager _PID=$npid | grep -q '^warning intelergy: store.credentials_key_file is not set'"

# --- purge ------------------------------------------------------------------------------------
c 'systemctl stop acc-sim' || true
say "apt-get purge intelergy"
c 'apt-get purge -y -q intelergy' 2>&1 | tail -n 4 | sed 's/^/    /'
check "the service is stopped and the unit gone" \
    '! systemctl is-active -q intelergy && test ! -e /lib/systemd/system/intelergy.service'
check "config gone" 'test ! -e /etc/intelergy/intelergy.toml'
check "/var/lib/intelergy gone" 'test ! -e /var/lib/intelergy'
check "user and group intelergy gone" '! getent passwd intelergy && ! getent group intelergy'
check "no enablement symlink left" 'test -z "$(find /etc/systemd/system -name intelergy.service)"'
check "the database is kept (purge never touches it)" \
    "[ \"\$(cd / && runuser -u postgres -- psql -d intelergy -Atc \"select count(*) >= ${before%% *} from readings\")\" = t ]"

say "took $((SECONDS - start)) s"
if [ "$failures" -ne 0 ]; then
    say "FAILED ($failures checks)"
    exit 1
fi
say "all checks passed"
