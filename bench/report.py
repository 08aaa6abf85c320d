#!/usr/bin/env python3
"""Writes bench/RESULTS.md from bench/run's samples: report.py META SAMPLES OUT PREVIOUS.

META is key=value lines (machine, versions); SAMPLES is `figure<TAB>value<TAB>load1` lines, one
per measurement. Each figure is shown as median, min and max over its runs, with the load average
range seen while it was measured. The hand-written history section of the previous RESULTS.md
(between the HISTORY markers) is carried over unchanged.
"""
import statistics
import sys

META, SAMPLES, OUT, PREVIOUS = sys.argv[1:5]

meta = {}
for line in open(META):
    if "=" in line:
        k, v = line.rstrip("\n").split("=", 1)
        meta[k] = v

samples = {}
for line in open(SAMPLES):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 3 or parts[1] == "":
        continue
    try:
        samples.setdefault(parts[0], []).append((float(parts[1]), float(parts[2])))
    except ValueError:
        pass


def fmt(x):
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if x != int(x) else f"{x:.0f}"


def stats(key):
    vals = samples.get(key)
    if not vals:
        return None
    v = [a for a, _ in vals]
    loads = [b for _, b in vals]
    return statistics.median(v), min(v), max(v), len(v), min(loads), max(loads)


def row(label, key, unit, goal="", check=None):
    s = stats(key)
    if s is None:
        return f"| {label} | not measured | | | | | {goal} | |\n"
    med, lo, hi, n, l0, l1 = s
    verdict = ""
    if check is not None:
        verdict = "met" if check(med) else "**not met**"
    return (f"| {label} | **{fmt(med)}** {unit} | {fmt(lo)} | {fmt(hi)} | {n} | "
            f"{l0:.1f}–{l1:.1f} | {goal} | {verdict} |\n")


def ratio(num, den):
    a, b = stats(num), stats(den)
    if a is None or b is None or b[0] == 0:
        return None
    return a[0] / b[0]


HEADER = "| figure | median | min | max | runs | load avg | goal | |\n|---|---|---|---|---|---|---|---|\n"

out = []
w = out.append
w("# Benchmark results\n\n")
w(f"Written by `bench/run{' --quick' if meta.get('mode') == 'quick' else ''}` on {meta.get('date')} "
  f"in {int(meta.get('duration_s', '0')) // 60} min {int(meta.get('duration_s', '0')) % 60} s"
  + (f" ({int(meta['bench_s']) // 60} min {int(meta['bench_s']) % 60} s of benchmarks after the build)"
     if 'bench_s' in meta else "") + ". "
  "Every figure is the median of the runs, with min and max; every baseline was measured in the "
  "same run of `bench/run`, on the same machine, against the same broker, database or simulator. "
  "The load average column is the 1-minute load average when each sample was taken: other "
  "people's compilers share these cores, so treat differences under about 20 % as noise.\n\n")
w("## Machine\n\n")
w(f"- CPU: {meta.get('cpu')}, {meta.get('cores')} cores (vCPUs); memory {meta.get('memory')}\n")
w(f"- {meta.get('os')}, kernel {meta.get('kernel')}\n")
w(f"- load average (1, 5, 15 min) at start {meta.get('load_start')}, at end {meta.get('load_end')}\n")
w(f"- {meta.get('gcc')}; build type {meta.get('build')}\n")
w(f"- {meta.get('postgres')} (private cluster, default settings, fsync on); {meta.get('mosquitto')}; {meta.get('wrk')}\n")
w(f"- commit {meta.get('commit')}\n\n")

w("## Footprint\n\n")
w("The bridge with N HTTP plugs (simulated Gen2, one shared simulator port, 30 s interval, "
  "Home Assistant discovery on), RSS (`VmRSS`) after the first round of polls. Per plug = "
  "(RSS at 10,000 − RSS at 100) / 9,900. Start to online = from `exec` of `intelergy run` to the "
  "retained `intelergy/bridge/state` = `online` arriving at a subscriber (migrations, loading "
  "the plugs from PostgreSQL and connecting included).\n\n")
w(HEADER)
w(row("RSS, no plugs", "rss_mb_0", "MB"))
w(row("RSS, 100 plugs", "rss_mb_100", "MB", "≤ 30 MB", lambda m: m <= 30))
w(row("RSS, 10,000 plugs", "rss_mb_10000", "MB"))
w(row("RSS per additional plug", "rss_kb_per_plug", "KB", "≤ 16 KB", lambda m: m <= 16))
w(row("start → bridge/state online, 100 plugs", "start_to_online_ms_100", "ms", "≤ 100 ms", lambda m: m <= 100))
w(row("start → bridge/state online, 10,000 plugs", "start_to_online_ms_10000", "ms"))
w(row("SIGTERM → exit, 100 plugs", "bridge_stop_s_footprint_100", "s"))
w(row("SIGTERM → exit, 10,000 plugs (killed at 20 s)", "bridge_stop_s_footprint_10000", "s"))
w("\n")

w("## MQTT ingest\n\n")
w("`bench/mqtt_load` plays the Gen2 plugs on one connection: it answers the bridge's "
  "`Shelly.GetStatus` baseline calls, then publishes `NotifyStatus` frames (`apower` and "
  "`aenergy.total` of `switch:0`, QoS 0) round-robin over the plugs, first at 1,000 msg/s, then "
  "2,000 and 4,000 msg/s, then a burst as fast as it can. The bridge parses, merges, advances the "
  "energy books, publishes `state`, `power` and `energy` per message and writes every reading to "
  "PostgreSQL. Lost = messages sent − live `intelergy/devices/<id>/state` publishes received "
  "(topics) and − rows in `readings` (database). Latency = from the plug's publish to the "
  "normalised `state` publish arriving at a subscriber (both clocks in the load generator). "
  "Processed rate = messages / (first publish → last `state` received). The plugs are "
  "registered by inserting device rows before the bridge starts (same rows `device/add` "
  "writes, without probing every plug).\n\n")
w("Baselines, same run: `mosquitto_pub -l` → `mosquitto_sub -C` of the same frames on one topic "
  "(the broker's own pass-through), and the load generator's own pass-through (Paho publish → "
  "Paho subscribe of `+/events/rpc`, no bridge).\n\n")
w(HEADER)
w(row("pass-through, mosquitto_pub → mosquitto_sub", "passthrough_mosquitto_rate", "msg/s"))
w(row("pass-through lost", "passthrough_mosquitto_lost", "msgs"))
w(row("pass-through: broker CPU", "passthrough_broker_cpu", "cores"))
w(row("pass-through, Paho → Paho (load generator)", "passthrough_paho_rate", "msg/s"))
for t, label in (("1000", "1,000 msg/s"), ("2000", "2,000 msg/s"), ("4000", "4,000 msg/s"), ("max", "burst")):
    if t in ("2000", "4000") and stats(f"ingest_{t}_processed_rate") is None and meta.get("mode") == "quick":
        continue  # full mode only
    w(row(f"bridge at {label}: processed", f"ingest_{t}_processed_rate", "msg/s"))
    w(row(f"bridge at {label}: lost on topics", f"ingest_{t}_lost_topics", "msgs", "0", lambda m: m == 0))
    w(row(f"bridge at {label}: lost in database", f"ingest_{t}_lost_db", "rows", "0", lambda m: m == 0))
    if t == "1000":
        w(row("bridge at 1,000 msg/s: latency p50", "ingest_1000_p50_ms", "ms"))
        w(row("bridge at 1,000 msg/s: latency p99", "ingest_1000_p99_ms", "ms", "< 10 ms", lambda m: m < 10))
    else:
        w(row(f"bridge at {label}: latency p99", f"ingest_{t}_p99_ms", "ms"))
    w(row(f"bridge at {label}: CPU", f"ingest_{t}_cpu_cores", "cores"))
    if t in ("1000", "max"):
        w(row(f"at {label}: broker CPU", f"ingest_{t}_cpu_broker", "cores"))
        w(row(f"at {label}: PostgreSQL CPU (all backends)", f"ingest_{t}_cpu_postgres", "cores"))
        w(row(f"at {label}: load generator CPU", f"ingest_{t}_cpu_loadgen", "cores"))
        w(row(f"at {label}: whole machine busy", f"ingest_{t}_machine_busy", "cores"))
w(row("bridge RSS during ingest (max)", "ingest_rss_mb_max", "MB"))
if meta.get("mode") == "quick":
    w("\n2,000 and 4,000 msg/s are measured in full mode only (`bench/run` without `--quick`).\n")
r = ratio("ingest_max_processed_rate", "passthrough_mosquitto_rate")
if r is not None:
    w(f"\nBurst rate / mosquitto pass-through (medians): **{r:.2f}** (goal ≥ 0.35: "
      f"{'met' if r >= 0.35 else '**not met**'}). Zero loss at the burst rate is the lost rows above.\n")
    parts = {k: stats(f"ingest_max_{k}") for k in ("cpu_cores", "cpu_broker", "cpu_postgres", "cpu_loadgen", "machine_busy")}
    if all(v is not None for v in parts.values()):
        m = {k: v[0] for k, v in parts.items()}
        rest = m["machine_busy"] - m["cpu_cores"] - m["cpu_broker"] - m["cpu_postgres"] - m["cpu_loadgen"]
        w(f"\nWhere the cores went during the burst (medians): the machine had {meta.get('cores')} cores, "
          f"{m['machine_busy']:.2f} busy: bridge {m['cpu_cores']:.2f}, broker {m['cpu_broker']:.2f}, "
          f"PostgreSQL {m['cpu_postgres']:.2f}, load generator {m['cpu_loadgen']:.2f}, everything else "
          f"(other processes on the machine, kernel work not charged to these) {max(rest, 0):.2f}. "
          "In the pass-through baseline the broker handles two messages per frame (in, and out to "
          "the subscriber); through the bridge six (the frame in and out to the bridge, the bridge's "
          "three publishes state, power and energy in, the state out to the subscriber), and "
          "PostgreSQL stores and rolls up every reading, all on the same cores.")
        rate = stats("ingest_max_processed_rate")[0]
        goal_rate = 0.35 * stats("passthrough_mosquitto_rate")[0]
        if rate > 0:
            per = {k: m[k] / rate * 1e6 for k in ("cpu_cores", "cpu_broker", "cpu_postgres")}
            need = sum(per.values()) * goal_rate / 1e6
            w(f" Per frame at the burst: bridge {per['cpu_cores']:.0f} µs of CPU, broker "
              f"{per['cpu_broker']:.0f} µs, PostgreSQL {per['cpu_postgres']:.0f} µs. At the goal rate "
              f"({goal_rate:,.0f} frames/s) these three alone would need {need:.1f} cores at that cost "
              f"per frame, on a machine with {meta.get('cores')}.")
        w("\n")
w("\n")

w("## HTTP polling\n\n")
w("5,000 simulated Gen2 plugs on one `intelergy-sim` port (64 HTTP threads) polled every 5 s "
  "(1,000 polls/s), measured after an 8 s warm-up. On time = share of polls whose start was at "
  "most 100 ms after its schedule (`intelergy_poll_start_delay_seconds`). Then the same plugs "
  "every 1 s (5,000 polls/s asked) for the highest rate the bridge sustains, against `wrk -t2 "
  "-c64` on the same simulator endpoint (`/gen2-1/rpc/Shelly.GetStatus`) in the same run. The "
  "simulator, the bridge (or wrk) and PostgreSQL share the same cores.\n\n")
w(HEADER)
w(row("polls on time (≤ 100 ms late) at 1,000/s", "poll_on_time_pct", "%", "≥ 99.9 %", lambda m: m >= 99.9))
w(row("polls completed/s at 5 s interval", "poll_rate_5s", "polls/s", "1,000"))
w(row("failed polls during that window", "poll_failed", ""))
w(row("bridge CPU at 1,000 polls/s", "poll_cpu_cores", "cores", "< 0.33", lambda m: m < 1 / 3))
w(row("bridge RSS at 5,000 plugs polled", "poll_rss_mb", "MB"))
w(row("highest poll rate (1 s interval)", "poll_rate_max", "polls/s"))
w(row("bridge CPU at that rate", "poll_max_cpu_cores", "cores"))
w(row("wrk, same endpoint", "wrk_rate", "req/s"))
r = ratio("poll_rate_max", "wrk_rate")
if r is not None:
    w(f"\nHighest poll rate / wrk (medians): **{r:.2f}** (goal ≥ 0.5: {'met' if r >= 0.5 else '**not met**'}).\n")
w("\n")

w("## Database\n\n")
w("`bench/store_bench` (each part in its own throwaway database): readings/s through the store "
  "writer (`ReadingWriter`, new rows, then the same rows again as duplicates) against `psql "
  "\\copy` of the same rows into the same schema, then one device-year of minute readings "
  "(525,600) recomputed into every rollup tier, against `psql \\copy … (FORMAT binary)` of the "
  "525,600 minute rows that recompute wrote, into the same emptied table with its indexes (the "
  "floor of the minute tier alone: no readings read, no minutes computed, no parents). Rollup "
  "catch-up = after the last MQTT ingest step ended and every reading was committed, the time until no dirty mark was left (`rollup_dirty` empty), "
  "bounded (10 s quick, 30 s full): an upper bound on how long a closed minute waited for its rollup.\n\n")
w(HEADER)
w(row("store writer", "store_writer_rows_s", "rows/s"))
w(row("store writer, replay (all duplicates)", "store_replay_rows_s", "rows/s"))
w(row("psql \\copy, same rows", "store_copy_rows_s", "rows/s"))
w(row("writer / \\copy (per run)", "store_ratio", "", "≥ 0.5", lambda m: m >= 0.5))
w(row("recompute one device-year into all tiers", "year_recompute_s", "s", "≤ 2 s", lambda m: m <= 2))
w(row("\\copy of the same 525,600 minute rows (floor of the minute tier)", "year_minute_copy_s", "s"))
w(row("recompute / minute \\copy (per run)", "year_recompute_vs_copy", ""))
w(row("rollup catch-up after the ingest run (−1: not within the bound)", "rollup_catchup_s", "s", "≤ 5 s", lambda m: 0 <= m <= 5))
w(row("dirty marks left when the catch-up ended", "rollup_marks_left", "marks", "0", lambda m: m == 0))
w("\n")

history = ""
try:
    prev = open(PREVIOUS).read()
    if "<!-- HISTORY -->" in prev:
        history = prev[prev.index("<!-- HISTORY -->"):prev.index("<!-- /HISTORY -->") + len("<!-- /HISTORY -->")]
    elif "## Store writer vs" in prev:
        body = prev[prev.index("## Store writer vs"):].rstrip()
        history = "<!-- HISTORY -->\n" + body.replace("## ", "### ", 1) + "\n<!-- /HISTORY -->"
except OSError:
    pass
if history:
    w("## History (written by hand, kept by bench/run)\n\n")
    w(history + "\n")
# Other hand-written sections in their own <!-- NAME --> … <!-- /NAME --> markers are kept too.
try:
    import re
    for m in re.finditer(r"<!-- ([A-Z0-9][A-Z0-9-]*) -->.*?<!-- /\1 -->", prev, re.S):
        if m.group(1) != "HISTORY":
            w("\n" + m.group(0) + "\n")
except NameError:
    pass

with open(OUT, "w") as f:
    f.write("".join(out))
