#!/usr/bin/env python3
"""Soak: the website's mix of calls at a fixed total rate for minutes against
one scout-server on loopback, sampling the server's resident memory. Three
ghz processes run side by side, one per method (ghz calls one method per run):
SearchPosts (bench/search_bench.py's query mix), GetUserProfile (with its 12
recent posts, as the profile page asks) and GetPalette, over creators picked
at random. Reports requests, errors by status code, p50/p99 per method and
RSS after the warm-up, at the end, its maximum and its least-squares slope.
Exits 1 on any error or when RSS grew by more than --max-growth.

The dataset (lake with pictures, ingest, a week of aggregates, palettes) is
built once into .scout/bench/soak-USERS, index `soak-USERS`, database
`soak_USERS`; --reuse skips rebuilding it.

    eval "$(scripts/services up)"; bench/soak.py [--seconds 300] [--rps 100] [--users 2000] [--reuse]
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ingest_bench import delete_indices, run  # noqa: E402
from profile_bench import rss_mb  # noqa: E402
from search_bench import BIN, QUERIES, ROOT, es_url, ghz, listening_address  # noqa: E402

NOW = "2026-11-20T18:00:00Z"
# Share of the total rate per method: people search and open profiles; the
# palette is a tab of the profile page.
MIX = {"SearchPosts": 0.4, "GetUserProfile": 0.4, "GetPalette": 0.2}


def build_dataset(users, work, env):
    """A lake with pictures, ingested, a week aggregated, palettes computed."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    delete_indices(es_url(), env["SCOUT_INDEX_PREFIX"])
    dsn = os.environ["SCOUT_PG_DSN"]
    database = env["SCOUT_PG_DSN"].rsplit("dbname=", 1)[1]
    subprocess.run(["psql", dsn, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
                   check=True)
    subprocess.run(["psql", dsn, "-qc", f"CREATE DATABASE {database}"], check=True)
    steps = [
        ("genlake", [BIN / "scout-genlake", "--cdn", work / "cdn", "--users", users, "--days", 60,
                     "--today", "2026-11-20", "--seed", 3, "--image_size", 64]),
        ("ingest", [BIN / "scout-ingest"]),
        ("aggregate", [BIN / "scout-aggregate", "--from", "2026-11-14", "--to", "2026-11-20"]),
        ("palette", [BIN / "scout-palette"]),
    ]
    for name, args in steps:
        report, wall, _ = run(args, env)
        if report.get("error"):
            sys.exit(f"{name}: {report['error']}")
        print(json.dumps({"setup": name, "seconds": round(wall, 1)}), flush=True)


def least_squares_slope(points):
    """Slope of y over x for [(x, y)]."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def mixed_load(address, data, rps, seconds):
    """The three ghz runs side by side; their results by method."""
    results, threads = {}, []
    for method, share in MIX.items():
        def one(method=method, share=share):
            results[method] = ghz(address, f"scout.v1.BrandService/{method}", data[method],
                                  max(1, round(rps * share)), seconds, concurrency=20,
                                  connections=2, duration_stop="wait")
        threads.append(threading.Thread(target=one))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    missing = set(MIX) - set(results)
    if missing:
        sys.exit(f"ghz failed for {sorted(missing)}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=300, help="length of the measured run")
    parser.add_argument("--rps", type=int, default=100, help="total requests per second")
    parser.add_argument("--users", type=int, default=2000, help="creators in the dataset")
    parser.add_argument("--warmup", type=int, default=30, help="seconds of load before measuring")
    parser.add_argument("--sample", type=float, default=5, help="seconds between RSS samples")
    parser.add_argument("--max-growth", type=float, default=0.10,
                        help="fail when RSS at the end exceeds RSS after the warm-up by this share")
    parser.add_argument("--reuse", action="store_true", help="keep the dataset of a previous run")
    args = parser.parse_args()

    work = ROOT / ".scout" / "bench" / f"soak-{args.users}"
    env = dict(os.environ, SCOUT_LAKE=str(work / "lake"), SCOUT_MEDIA=str(work / "media"),
               SCOUT_STATE=str(work / "state"), SCOUT_INDEX_PREFIX=f"soak-{args.users}",
               SCOUT_PG_DSN=f"{os.environ['SCOUT_PG_DSN']} dbname=soak_{args.users}",
               SCOUT_NOW=NOW)
    if not args.reuse or not (work / "lake").is_dir():
        build_dataset(args.users, work, env)

    creators = sorted(p.name for p in (work / "lake" / "instagram_graph" / "stats").iterdir())
    random.seed(1)
    picked = random.sample(creators, min(500, len(creators)))
    data = {"SearchPosts": QUERIES,
            "GetUserProfile": [{"user_id": c} for c in picked],
            "GetPalette": [{"user_id": c} for c in picked]}

    server = subprocess.Popen([BIN / "scout-server", "--listen", "127.0.0.1:0"], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        address = listening_address(server)  # It keeps draining the server's log.
        warm = mixed_load(address, data, args.rps, args.warmup)
        warm_errors = {m: {k: v for k, v in r["status"].items() if k != "OK"}
                       for m, r in warm.items()}
        print(json.dumps({"warmup_seconds": args.warmup, "errors": warm_errors}), flush=True)

        samples, stop = [], threading.Event()
        start = time.monotonic()

        def sample():
            while True:
                samples.append((time.monotonic() - start, rss_mb(server.pid)))
                if stop.wait(args.sample):
                    break

        sampler = threading.Thread(target=sample)
        sampler.start()
        results = mixed_load(address, data, args.rps, args.seconds)
        stop.set()
        sampler.join()
        samples.append((time.monotonic() - start, rss_mb(server.pid)))
        if server.poll() is not None:
            sys.exit(f"scout-server exited ({server.returncode}) during the soak")
    finally:
        server.terminate()
        server.wait(timeout=20)

    errors = {}
    for method, r in results.items():
        r["target_rps"] = max(1, round(args.rps * MIX[method]))
        print(json.dumps(r), flush=True)
        for code, n in r["status"].items():
            if code != "OK":
                errors[code] = errors.get(code, 0) + n
    rss_start, rss_end = samples[0][1], samples[-1][1]
    summary = {
        "seconds": args.seconds, "target_rps": args.rps,
        "requests": sum(r["requests"] for r in results.values()),
        "errors_by_code": errors,
        "rss_start_mb": round(rss_start, 1), "rss_end_mb": round(rss_end, 1),
        "rss_max_mb": round(max(mb for _, mb in samples), 1),
        "rss_growth": round(rss_end / rss_start - 1, 4),
        "rss_slope_mb_per_min": round(60 * least_squares_slope(samples), 3),
        "rss_samples": len(samples),
    }
    print(json.dumps(summary), flush=True)
    failed = []
    if errors:
        failed.append(f"errors: {errors}")
    if summary["rss_growth"] > args.max_growth:
        failed.append(f"RSS grew {summary['rss_growth']:.1%} (limit {args.max_growth:.0%})")
    if failed:
        sys.exit("soak failed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
