#!/usr/bin/env python3
"""scout-aggregate for every creator of the lake that bench/ingest_bench.py
left, then GetUserProfile with ghz at a fixed rate (recent posts aside:
recent_posts = 0), next to grpc.health.v1 Check at the same rate as the
baseline, and the server's memory per 100,000 profiles.

    eval "$(scripts/services up)"; bench/profile_bench.py USERS [--rps 10000] [--history 6]
        [--server-arg=--log_requests=false ...]
"""
import argparse
import json
import os
import pathlib
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from search_bench import BIN, ROOT, ghz, listening_address  # noqa: E402


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("users", type=int)
    parser.add_argument("--rps", default="10000", help="comma-separated rates, each its own run")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database of a previous run (skip the aggregation)")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--history", type=int, default=6, help="days loaded before the timed one")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra scout-server flag for the timed server (repeatable)")
    args = parser.parse_args()
    lakes = sorted((ROOT / ".scout" / "bench").glob(f"ingest-{args.users}-*/lake"))
    if not lakes:
        sys.exit(f"run bench/ingest_bench.py {args.users} first")
    database = f"bench_{args.users}"
    dsn = os.environ["SCOUT_PG_DSN"]
    if not args.reuse:
        subprocess.run(["psql", dsn, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
                       check=True)
        subprocess.run(["psql", dsn, "-qc", f"CREATE DATABASE {database}"], check=True)
    env = dict(os.environ, SCOUT_LAKE=str(lakes[-1]), SCOUT_INDEX_PREFIX=f"bench-{args.users}",
               SCOUT_PG_DSN=f"{dsn} dbname={database}", SCOUT_NOW="2026-11-21T18:00:00Z")

    def aggregate(*dates):
        start = time.monotonic()
        out = subprocess.run([BIN / "scout-aggregate", "--no_pictures", *dates], env=env,
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out), time.monotonic() - start

    if args.reuse:
        profiles = int(subprocess.run(["psql", env["SCOUT_PG_DSN"], "-Atqc",
                                       "SELECT COUNT(*) FROM profile_facts"], check=True,
                                      capture_output=True, text=True).stdout)
    else:
        history, seconds = aggregate("--from", "2026-11-15", "--to", "2026-11-20")
        print(json.dumps({"run": "aggregate-history", "dates": history["dates"],
                          "seconds": round(seconds, 1)}), flush=True)
        report, seconds = aggregate("--date", "2026-11-21")
        print(json.dumps({"run": "aggregate-one-day", "users": args.users,
                          "stats_loaded": int(report["stats_loaded"]),
                          "facts_written": int(report["facts_written"]),
                          "creators_with_posts": int(report["creators_with_posts"]),
                          "seconds": round(seconds, 1), "error": report["error"]}), flush=True)
        profiles = int(report["facts_written"])

    baseline = subprocess.Popen([BIN / "scout-server", "--listen", "127.0.0.1:0"],
                                env=dict(env, SCOUT_PG_DSN=""), stderr=subprocess.PIPE, text=True)
    listening_address(baseline)
    empty_mb = rss_mb(baseline.pid)
    baseline.terminate()
    baseline.wait(timeout=20)

    server = subprocess.Popen([BIN / "scout-server", "--listen", "127.0.0.1:0", *args.server_arg],
                              env=env, stderr=subprocess.PIPE, text=True)
    try:
        address = listening_address(server)
        loaded_mb = rss_mb(server.pid)
        print(json.dumps({"run": "server-memory", "profiles": profiles,
                          "rss_without_profiles_mb": round(empty_mb, 1),
                          "rss_with_profiles_mb": round(loaded_mb, 1),
                          "mb_per_100k_profiles": round(
                              (loaded_mb - empty_mb) * 100000 / profiles, 1)}),
              flush=True)
        ids = sorted(p.name for p in (lakes[-1] / "instagram_graph/stats").iterdir())
        random.seed(1)
        requests = [{"user_id": i, "recent_posts": 0} for i in random.sample(ids, 1000)]
        ghz(address, "scout.v1.BrandService/GetUserProfile", requests, 1000, 3)  # Warm-up.
        for rps in [int(r) for r in args.rps.split(",")]:
            for call, data in [("grpc.health.v1.Health/Check", {}),
                               ("scout.v1.BrandService/GetUserProfile", requests)]:
                result = ghz(address, call, data, rps, args.seconds, concurrency=64,
                             connections=4, duration_stop="wait")
                result["target_rps"] = rps
                result["server_args"] = args.server_arg
                print(json.dumps(result), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
