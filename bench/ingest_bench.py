#!/usr/bin/env python3
"""Ingest throughput on a generated lake (no media fetch), as production sees
it: a first load, then the next day after the API client rewrote every
creator's newest 25 posts. Prints one JSON line per run and leaves the
indices `bench-<users>-*` in place for bench/search_bench.py.

    eval "$(scripts/services up)"; bench/ingest_bench.py USERS [--days 50] [--bin OTHER_CHECKOUT/build/bin]
"""
import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "build" / "bin"


def run(args, env=None):
    """Runs a binary; returns (stdout JSON, wall seconds, CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run([str(a) for a in args], env=env, check=True, capture_output=True,
                         text=True).stdout
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(out), wall, cpu


def delete_indices(es, prefix):
    """Elasticsearch refuses wildcard deletes: name each index."""
    rows = json.load(urllib.request.urlopen(
        f"{es}/_cat/indices/{prefix}-*,{prefix}.quarantine*?format=json&h=index"))
    if rows:
        names = ",".join(row["index"] for row in rows)
        urllib.request.urlopen(urllib.request.Request(f"{es}/{names}", method="DELETE")).read()


def summarize(label, users, report, wall, cpu):
    files, posts = int(report["files_listed"]), int(report["posts_indexed"])
    return {"run": label, "users": users, "files_listed": files,
            "files_read": files - int(report["files_untouched"]),
            "files_unchanged": int(report["files_unchanged"]), "posts_indexed": posts,
            "quarantined": int(report["files_quarantined"]), "seconds": round(wall, 1),
            "files_per_s": round(files / wall), "posts_per_s": round(posts / wall),
            "ingest_cpu_s": round(cpu, 1),
            "ingest_cpu_ms_per_indexed_post": round(1000 * cpu / max(posts, 1), 3),
            "error": report["error"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("users", type=int)
    parser.add_argument("--days", type=int, default=50)
    parser.add_argument("--bin", type=pathlib.Path, default=BIN,
                        help="the binaries to measure (another checkout's build/bin: a baseline)")
    args = parser.parse_args()
    es = os.environ["SCOUT_ES_URL"]
    prefix = f"bench-{args.users}"
    bench_dir = ROOT / ".scout" / "bench"
    # A new directory each time: creating files right after deleting a large
    # lake is ~10x slower on ext4, which would measure the filesystem.
    old = list(bench_dir.glob(f"ingest-{args.users}-*"))
    work = bench_dir / f"ingest-{args.users}-{int(time.time())}"
    work.mkdir(parents=True)
    env = dict(os.environ, SCOUT_LAKE=str(work / "lake"), SCOUT_STATE=str(work / "state"),
               SCOUT_INDEX_PREFIX=prefix)
    delete_indices(es, prefix)

    gen, gen_wall, _ = run([args.bin / "scout-genlake", "--users", args.users, "--days", args.days,
                            "--today", "2026-11-20", "--seed", 1, "--no-media"], env)
    print(json.dumps({"run": "genlake", "users": args.users, "post_files":
                      gen["files"]["posts_new"], "seconds": round(gen_wall, 1)}), flush=True)
    report, wall, cpu = run([args.bin / "scout-ingest", "--no_media", "--now",
                             "2026-11-20T18:00:00Z"], env)
    print(json.dumps(summarize("first-load", args.users, report, wall, cpu)), flush=True)
    advanced, _, _ = run([args.bin / "scout-genlake", "--advance"], env)
    report, wall, cpu = run([args.bin / "scout-ingest", "--no_media", "--now",
                             "2026-11-21T18:00:00Z"], env)
    result = summarize("next-day", args.users, report, wall, cpu)
    result["new_posts"] = advanced["files"]["posts_new"]
    result["rewritten_files"] = advanced["files"]["posts_rewritten"]
    print(json.dumps(result), flush=True)
    for path in old:  # Earlier runs' lakes, now that this one is written.
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
