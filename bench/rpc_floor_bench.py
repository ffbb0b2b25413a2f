#!/usr/bin/env python3
"""The server's own CPU per call, with the load generator kept off its core
(issue 13 section 3): scout-server pinned to core 0 (taskset), the load
generator pinned to core 1, so what the server costs is not hidden by what
the client costs. The load comes from build/bin/rpc_load (open loop, C++;
ghz, at 60-90 µs of CPU a call, saturates its core near 12,000 calls/s),
and from ghz for SearchPosts, at a low rate.

For each call (grpc.health.v1 Check, the baseline; GetUserProfile with
recent_posts 0; GetPalette; and SearchPosts, whose Elasticsearch work runs
in other processes and is not counted) and each rate, it reports:
  - cpu_us_per_call: the server process's utime + stime (/proc/PID/stat,
    every thread) over the run, divided by the calls answered;
  - p50 / p99 (p99.9 from rpc_load) as the client saw them.
Calls alternate within each repetition, so every figure has a baseline
from the same minute. The last line per call gives the highest rate whose
p99 stayed at most 2 ms in every repetition.

The profiles come from build/bin/gencreators in the database `rpc_floor`
(created once; --creators sets how many). SearchPosts runs over the posts
of bench/ingest_bench.py's `bench-<users>` indices when --search-users is
given (at --search-rps: the figure wanted is CPU per call, not a peak).

    eval "$(scripts/services up)"; bench/rpc_floor_bench.py [--rates 2000,5000,10000]
        [--seconds 10] [--repeat 3] [--search-users 50000] [--server-arg=--flag=value ...]
        [--server-bin OTHER/build/bin]   # another build's server, for a baseline
"""
import argparse
import json
import os
import subprocess
import sys
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from search_bench import BIN, QUERIES, ghz, listening_address  # noqa: E402

DATABASE = "rpc_floor"
TICKS = os.sysconf("SC_CLK_TCK")
P99_GOAL_MS = 2.0


def psql(dsn, sql):
    return subprocess.run(["psql", dsn, "-Atqc", sql], check=True, capture_output=True,
                          text=True).stdout


def cpu_seconds(pid):
    """utime + stime of every thread of the process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def load_pinned(core, address, call, ids_file, rps, seconds):
    """build/bin/rpc_load on one core: open loop at a fixed rate, latency from
    each call's scheduled time, every call waited for."""
    out = subprocess.run(
        ["taskset", "-c", str(core), BIN / "rpc_load", "--target", address, "--call", call,
         "--ids", ids_file, "--rps", str(rps), "--seconds", str(seconds)],
        capture_output=True, text=True).stdout
    r = json.loads(out)
    return {"requests": r["calls"], "ok": r["ok"], "rps": r["rps"], "p50_ms": round(r["p50_ms"], 3),
            "p99_ms": round(r["p99_ms"], 3), "p999_ms": round(r["p999_ms"], 3),
            "codes": r["codes"], "client_cpu_us_per_call": round(r["client_cpu_us_per_call"], 1)}


def ensure_profiles(dsn, creators):
    if not psql(dsn, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'").strip():
        subprocess.run(["psql", dsn, "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    db = f"{dsn} dbname={DATABASE}"
    have = psql(db, "SELECT to_regclass('profile_facts') IS NOT NULL").strip() == "t" and int(
        psql(db, "SELECT COUNT(*) FROM profile_facts")) == creators
    if not have:
        subprocess.run([BIN / "gencreators", "--creators", str(creators), "--pg_dsn", db],
                       check=True, capture_output=True)
    with_palette = psql(db, "SELECT creator_id FROM profile_facts WHERE palette_json IS NOT NULL "
                            "ORDER BY creator_id LIMIT 1000").split()
    return db, with_palette


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creators", type=int, default=20000)
    parser.add_argument("--rates", default="2000,5000,10000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--search-users", type=int, help="also SearchPosts over bench-<N>")
    parser.add_argument("--search-rps", type=int, default=200)
    parser.add_argument("--server-bin", type=pathlib.Path, default=BIN,
                        help="where scout-server comes from (another build, for a baseline)")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra scout-server flag (repeatable)")
    args = parser.parse_args()

    dsn, ids = ensure_profiles(os.environ["SCOUT_PG_DSN"], args.creators)
    ids_file = pathlib.Path(f"/tmp/rpc_floor_ids_{os.getpid()}.txt")
    ids_file.write_text("\n".join(ids) + "\n")
    calls = [("Check", None), ("GetUserProfile", None), ("GetPalette", None)]
    env = dict(os.environ, SCOUT_PG_DSN=dsn, SCOUT_NOW="2026-11-21T18:00:00Z")
    if args.search_users:
        env["SCOUT_INDEX_PREFIX"] = f"bench-{args.search_users}"
        calls.append(("SearchPosts", args.search_rps))

    def run(call, rps, seconds):
        if call == "SearchPosts":  # Its rate here is low: ghz keeps up.
            r = ghz(address, "scout.v1.BrandService/SearchPosts", QUERIES, rps, seconds,
                    concurrency=32, connections=4, duration_stop="wait", core=1)
            return dict(r, ok=r["status"].get("OK", 0))
        return load_pinned(1, address, call, ids_file, rps, seconds)

    server = subprocess.Popen(
        ["taskset", "-c", "0", args.server_bin / "scout-server", "--listen", "127.0.0.1:0",
         "--log_requests=false", *args.server_arg], env=env, stderr=subprocess.PIPE, text=True)
    rates = [int(r) for r in args.rates.split(",")]
    results = {}
    try:
        address = listening_address(server)
        for call, fixed in calls:  # Warm-up: connections, caches, the profile snapshot.
            run(call, fixed or 1000, 2)
        for rep in range(args.repeat):
            for rate in rates:
                for call, fixed in calls:
                    if fixed is not None and rate != rates[0]:
                        continue
                    rps = fixed or rate
                    before = cpu_seconds(server.pid)
                    r = run(call, rps, args.seconds)
                    used = cpu_seconds(server.pid) - before
                    r.update(call=call, target_rps=rps, repetition=rep,
                             server_cpu_s=round(used, 2),
                             cpu_us_per_call=round(1e6 * used / max(r["ok"], 1), 1),
                             server_args=args.server_arg, server_bin=str(args.server_bin))
                    results.setdefault((r["call"], rps), []).append(r)
                    print(json.dumps(r), flush=True)
    finally:
        ids_file.unlink()
        server.terminate()
        server.wait(timeout=20)

    summary = {}
    for (call, rps), runs in sorted(results.items()):
        cpu = sorted(r["cpu_us_per_call"] for r in runs)
        p99 = sorted(r["p99_ms"] for r in runs)
        summary.setdefault(call, []).append(
            {"rps": rps, "cpu_us_per_call_median": cpu[len(cpu) // 2], "cpu_us_range": [cpu[0],
             cpu[-1]], "p99_ms_median": p99[len(p99) // 2], "p99_ms_range": [p99[0], p99[-1]],
             "all_answered": all(r["ok"] == r["requests"] for r in runs)})
    health = {s["rps"]: s["cpu_us_per_call_median"] for s in summary.get("Check", [])}
    for call, rows in summary.items():
        for row in rows:
            if row["rps"] in health:
                row["cpu_vs_health"] = round(row["cpu_us_per_call_median"] / health[row["rps"]], 2)
        within = [row["rps"] for row in rows
                  if row["p99_ms_range"][1] <= P99_GOAL_MS and row["all_answered"]]
        print(json.dumps({"summary": call, "rates": rows,
                          "highest_rps_with_p99_within_2ms": max(within, default=None)}))


if __name__ == "__main__":
    main()
