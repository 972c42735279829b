#!/usr/bin/env python3
"""scripts/bench's arithmetic and report (standard library only):

  benchcalc.py cpu-ticks PID       user and system clock ticks of PID and all its
                                   descendants ("U S"; NSD's started PID becomes xfrd,
                                   its child is main, whose children serve)
  benchcalc.py unique-names COUNT  COUNT unique unregistered `heavy-<random>-<i>.1bz A` lines
  benchcalc.py report --runs FILE --miss FILE --heavy FILE --heavy-rate N [--memory LABEL=LINE]...
                                   the results table (medians, ratios, CPU per query), the
                                   miss latencies and the memory lines

--runs has one line per dnsperf run: `SERVER MODE U0 S0 U1 S1 REPORT` (CPU ticks
before and after, dnsperf's report file); --miss is scripts/bench-miss's output.
"""
import argparse
import os
import re
import statistics
import sys

SERVERS = ("onebzd", "nsd", "knot")
BASELINE = "base"  # scripts/bench's BENCH_BASELINE_BIN: another onebzd build, same rounds
MODES = ("udp", "tcp", "dot")  # dot: onebzd and NSD only (Knot 3.2 serves no DoT)
MISS_KEYS = ("rpc", "rpc_proof", "registry", "miss_absent", "miss_found", "hit_python")


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the ")" closing the command name (NSD's names, "nsd: server
    1", hold spaces): index 1 is the parent PID, 11 and 12 utime and stime (fields 4, 14, 15)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_ticks(pid: int) -> tuple[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents.setdefault(int(stat_fields(int(entry))[1]), []).append(int(entry))
            except (OSError, IndexError):
                pass  # gone meanwhile
    user = system = 0
    queue = [pid]
    while queue:
        current = queue.pop(0)
        try:
            fields = stat_fields(current)
        except OSError:
            continue
        user += int(fields[11])
        system += int(fields[12])
        queue += parents.get(current, [])
    return user, system


def dnsperf_value(report: str, label: str, index: int = 0) -> str | None:
    """The `index`th word after `label:` in a dnsperf report, as written."""
    match = re.search(rf"^\s*{label}:\s*(.*)$", report, re.MULTILINE)
    if not match:
        return None
    words = match.group(1).split()
    return words[index] if index < len(words) else None


def number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def median(values: list[float]) -> str:
    return "-" if not values else "%.0f" % statistics.median(values)


def ratio(a, b) -> str:
    a, b = number(a), number(b)
    return "%.2f" % (a / b) if a is not None and b else "-"


def per_query_us(ticks: tuple[int, int], queries: int) -> str:
    hz = os.sysconf("SC_CLK_TCK")
    if queries <= 0:
        return "-/-"
    return "%.2f/%.2f" % tuple(t / hz / queries * 1e6 for t in ticks)


def server_table(runs_path: str) -> list[str]:
    qps, shown, ticks, done = {}, {}, {}, {}
    with open(runs_path) as f:
        for line in f:
            server, mode, u0, s0, u1, s1, path = line.split(maxsplit=6)
            with open(path.strip()) as r:
                report = r.read()
            key = (server, mode)
            value = dnsperf_value(report, "Queries per second")
            shown.setdefault(key, []).append(value or "-")
            if number(value) is not None:
                qps.setdefault(key, []).append(float(value))
            u, s = ticks.get(key, (0, 0))
            ticks[key] = (u + int(u1) - int(u0), s + int(s1) - int(s0))
            done[key] = done.get(key, 0) + int(dnsperf_value(report, "Queries completed") or 0)
    out = ["%-10s %12s %12s %12s %10s %10s  %s" % ("run", "onebzd", "nsd", "knot", "onebzd/NSD", "onebzd/Knot",
                                                    "user/sys us per query")]
    for mode in MODES:
        med = {s: median(qps.get((s, mode), [])) for s in SERVERS}
        cpu = {s: per_query_us(ticks.get((s, mode), (0, 0)), done.get((s, mode), 0)) for s in SERVERS}
        out.append("%-10s %12s %12s %12s %10s %10s  %s" % (
            f"{mode} q/s", med["onebzd"], med["nsd"], med["knot"], ratio(med["onebzd"], med["nsd"]),
            ratio(med["onebzd"], med["knot"]), f"{cpu['onebzd']} (nsd {cpu['nsd']}, knot {cpu['knot']})"))
    # BENCH_BASELINE_BIN: another onebzd build measured in the same rounds.
    for mode in MODES:
        if (BASELINE, mode) in shown:
            base = median(qps.get((BASELINE, mode), []))
            cpu = per_query_us(ticks.get((BASELINE, mode), (0, 0)), done.get((BASELINE, mode), 0))
            out.append("%-10s %12s %12s  onebzd/base %s  user/sys us per query %s" % (
                f"{mode} q/s", "base", base, ratio(med_of(qps, "onebzd", mode), base), cpu))
    for mode in MODES:
        for server in SERVERS + (BASELINE,):
            if (server, mode) in shown:
                out.append(f"  {mode} {server} runs:" + "".join(" " + v for v in shown[(server, mode)]))
    return out


def med_of(qps, server, mode) -> str:
    return median(qps.get((server, mode), []))


def miss_lines(miss_path: str) -> list[str]:
    with open(miss_path) as f:
        lines = [line.split(maxsplit=1) for line in f.read().splitlines() if line.strip()]
    miss = {k: v for k, v in (line for line in lines if len(line) == 2)}
    out = [f"miss latency, one query at a time, {miss.get('rpc_n', '?')} each (ms, mean / p50 / p90):"]
    for key in MISS_KEYS:
        out.append("  %-12s %7s %7s %7s" % (key, *(miss.get(f"{key}_{s}_ms", "") for s in ("mean", "p50", "p90"))))
    slower = max(number(miss.get("rpc_p50_ms")) or 0, number(miss.get("registry_p50_ms")) or 0)
    out.append(f"  miss_absent/max(rpc, registry) p50 = {ratio(miss.get('miss_absent_p50_ms'), slower)}"
               f"   miss_found/max(rpc, registry) p50 = {ratio(miss.get('miss_found_p50_ms'), slower)} (target <= 1.2)")
    out.append("  rcodes: " + "".join(f"{k} {v} " for k, v in miss.items() if "rcode" in k))
    return out


def metric_total(path: str, name: str) -> float:
    """Sum of a Prometheus counter's samples (all label sets) in a /metrics scrape."""
    total = 0.0
    with open(path) as f:
        for line in f:
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(maxsplit=1)[-1])
    return total


def heavy_lines(heavy_path: str, rate: int, metrics: list[str] | None = None) -> list[str]:
    with open(heavy_path) as f:
        report = f.read()
    completed = " ".join(filter(None, (dnsperf_value(report, "Queries completed", i) for i in (0, 1))))
    lost = " ".join(filter(None, (dnsperf_value(report, "Queries lost", i) for i in (0, 1))))
    latency = number(dnsperf_value(report, "Average Latency \\(s\\)")) or 0
    codes = re.search(r"^\s*Response codes:\s*(.*)$", report, re.MULTILINE)
    return [f"miss-heavy ({rate} unique names/s offered for 5 s, all misses): "
            f"completed {completed}, lost {lost}, average latency {latency * 1000:.1f} ms",
            "  rcodes: " + (codes.group(1) if codes else "")] + heavy_upstream_lines(report, metrics)


def heavy_upstream_lines(report: str, metrics: list[str] | None) -> list[str]:
    """What the flood cost upstream (onebzd's /metrics before and after): eth_calls
    (upstream lookups: one eth_call each) and names answered from the name set."""
    if not metrics:
        return []
    before, after = metrics
    delta = lambda name: int(metric_total(after, name) - metric_total(before, name))
    completed = number(dnsperf_value(report, "Queries completed")) or 0
    nx = re.search(r"NXDOMAIN\s+(\d+)", report)
    share = f"{100 * int(nx.group(1)) / completed:.1f} %" if nx and completed else "?"
    return [f"  NXDOMAIN {share} of completed; eth_calls (upstream lookups) during the step: "
            f"{delta('onebz_upstream_lookups_total')}; answered from the name set: "
            f"{delta('onebz_dynamic_absent_total')}"]


def memory_lines(memory: list[str]) -> list[str]:
    out = ["", "memory (onebz-cachefill: TXT answers + facts through the real miss path):"]
    for item in memory:
        label, line = item.split("=", 1)
        kv = dict(word.split("=", 1) for word in line.split() if "=" in word)
        out.append("  %-5s cached=%s RSS %s MiB -> %s MiB, %s bytes per name" % (
            label, kv.get("cached", ""), kv.get("rss_before_mib", ""), kv.get("rss_after_mib", ""),
            kv.get("bytes_per_name", "")))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchcalc.py")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("cpu-ticks").add_argument("pid", type=int)
    commands.add_parser("unique-names").add_argument("count", type=int)
    commands.add_parser("dnsperf-qps").add_argument("report")
    report = commands.add_parser("report")
    report.add_argument("--runs", required=True)
    report.add_argument("--miss", required=True)
    report.add_argument("--heavy", required=True)
    report.add_argument("--heavy-rate", type=int, required=True)
    report.add_argument("--memory", action="append", default=[], metavar="LABEL=LINE")
    report.add_argument("--heavy-metrics", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="onebzd /metrics scrapes around the miss-heavy step")
    args = parser.parse_args()
    if args.command == "cpu-ticks":
        print("%d %d" % cpu_ticks(args.pid))
    elif args.command == "dnsperf-qps":
        with open(args.report) as file:
            print(dnsperf_value(file.read(), "Queries per second") or "0")
    elif args.command == "unique-names":
        run = os.urandom(3).hex()
        sys.stdout.writelines(f"heavy-{run}-{i}.1bz A\n" for i in range(args.count))
    else:
        lines = server_table(args.runs) + [""] + miss_lines(args.miss) + heavy_lines(args.heavy, args.heavy_rate, args.heavy_metrics)
        if args.memory:
            lines += memory_lines(args.memory)
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
