#!/usr/bin/env python3
"""What a shard of scout-aggregate costs when Elasticsearch filters the shard's
posts (shard_bucket in the query) against a baseline build that reads every
creator's posts and drops the other shards' afterwards. Runs on the lake and
index bench/ingest_bench.py left (ingested by THIS build, so the posts carry
shard_bucket); each build and shard loads one day into a database of its own.
Builds alternate, REPEAT times, so both see the same machine.

    eval "$(scripts/services up)"; bench/ingest_bench.py 5000
    bench/shard_bench.py 5000 --baseline-bin OTHER_CHECKOUT/build/bin [--shards 4] [--repeat 3]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from search_bench import BIN, ROOT  # noqa: E402


def psql(dsn, sql):
    subprocess.run(["psql", dsn, "-qc", sql], check=True, capture_output=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("users", type=int)
    parser.add_argument("--baseline-bin", required=True, type=pathlib.Path)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--date", default="2026-11-21")
    args = parser.parse_args()
    lakes = sorted((ROOT / ".scout" / "bench").glob(f"ingest-{args.users}-*/lake"))
    if not lakes:
        sys.exit(f"run bench/ingest_bench.py {args.users} first")
    dsn = os.environ["SCOUT_PG_DSN"]
    builds = {"baseline": args.baseline_bin, "this": BIN}
    seconds = {name: [] for name in builds}
    for repeat in range(args.repeat):
        for name, bin_dir in builds.items():
            total = 0.0
            for shard in range(args.shards):
                database = f"bench_shard_{name}_{shard}"
                psql(dsn, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
                psql(dsn, f"CREATE DATABASE {database}")
                env = dict(os.environ, SCOUT_LAKE=str(lakes[-1]),
                           SCOUT_INDEX_PREFIX=f"bench-{args.users}",
                           SCOUT_PG_DSN=f"{dsn} dbname={database}",
                           SCOUT_NOW=f"{args.date}T18:00:00Z")
                start = time.monotonic()
                out = subprocess.run([bin_dir / "scout-aggregate", "--no_pictures", "--date",
                                      args.date, "--shard", f"{shard}/{args.shards}"],
                                     env=env, check=True, capture_output=True, text=True).stdout
                wall = time.monotonic() - start
                total += wall
                report = json.loads(out)
                print(json.dumps({"build": name, "repeat": repeat, "shard": shard,
                                  "facts_written": int(report["facts_written"]),
                                  "seconds": round(wall, 2), "error": report["error"]}),
                      flush=True)
            seconds[name].append(total)
    summary = {name: {"runs_s": [round(s, 2) for s in runs],
                      "median_s": round(statistics.median(runs), 2)}
               for name, runs in seconds.items()}
    summary["ratio_this_to_baseline"] = round(
        summary["this"]["median_s"] / summary["baseline"]["median_s"], 3)
    print(json.dumps({"run": "all-shards", "shards": args.shards, **summary}), flush=True)


if __name__ == "__main__":
    main()
