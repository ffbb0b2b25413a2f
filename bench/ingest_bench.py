#!/usr/bin/env python3
"""Ingest throughput on a generated lake (no media fetch), as production sees
it: a first load, then the next day after the API client rewrote every
creator's newest 25 posts. Prints one JSON line per run and leaves the
indices `bench-<users>-*` in place for bench/search_bench.py.

With --s3 the lake is read from S3 (the SeaweedFS of scripts/services): the
generated posts are copied there with scout-s3sync before each run (timed
apart), and each run's line carries the S3 requests it sent by type.
With --s3-state the checkpoint lives in S3 too. With --shards N, N
scout-ingest processes (--shard i/N) run side by side and each line sums
their reports; the wall time is the slowest shard's.

--upload-changed-only (with --s3) uploads only the next day's files whose
bytes changed, not every rewritten one: what ingest reads is the same
either way (it compares ETags, and an equal rewrite keeps its ETag), and a
1.25 M-object upload would take longer than the run it feeds.

    eval "$(scripts/services up)"; bench/ingest_bench.py USERS [--days 50] [--s3 [--s3-state] [--upload-changed-only]] [--shards N] [--bin OTHER_CHECKOUT/build/bin]
"""
import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from search_bench import es_url  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "build" / "bin"


def children_cpu():
    """CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args, env=None):
    """Runs a binary; returns (stdout JSON, wall seconds, CPU seconds)."""
    before = children_cpu()
    start = time.monotonic()
    out = subprocess.run([str(a) for a in args], env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out), time.monotonic() - start, children_cpu() - before


def run_shards(args, shards, env):
    """Runs `shards` processes of `args` + --shard i/N at once; returns their
    reports summed (as one report), the slowest's wall seconds and the CPU
    seconds of all."""
    before = children_cpu()
    start = time.monotonic()
    procs = [subprocess.Popen([str(a) for a in args] + ["--shard", f"{i}/{shards}"], env=env,
                              stdout=subprocess.PIPE, text=True) for i in range(shards)]
    reports = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, proc.args, out)
        reports.append(json.loads(out))
    wall, cpu = time.monotonic() - start, children_cpu() - before
    total = {"error": "; ".join(r["error"] for r in reports if r.get("error")),
             "s3_requests": {}}
    for key in ("files_listed", "files_untouched", "files_unchanged", "posts_indexed",
                "files_quarantined"):
        total[key] = sum(int(r.get(key, 0)) for r in reports)
    for report in reports:
        for kind, count in report.get("s3_requests", {}).items():
            total["s3_requests"][kind] = total["s3_requests"].get(kind, 0) + int(count)
    if not total["s3_requests"]:
        del total["s3_requests"]
    return total, wall, cpu


def delete_indices(es, prefix):
    """Elasticsearch refuses wildcard deletes: name each index."""
    rows = json.load(urllib.request.urlopen(
        f"{es}/_cat/indices/{prefix}-*,{prefix}.quarantine*?format=json&h=index"))
    if rows:
        names = ",".join(row["index"] for row in rows)
        urllib.request.urlopen(urllib.request.Request(f"{es}/{names}", method="DELETE")).read()


def summarize(label, users, shards, report, wall, cpu):
    files, posts = int(report["files_listed"]), int(report["posts_indexed"])
    result = {"run": label, "users": users, "shards": shards, "files_listed": files,
            "files_read": files - int(report["files_untouched"]),
            "files_unchanged": int(report["files_unchanged"]), "posts_indexed": posts,
            "quarantined": int(report["files_quarantined"]), "seconds": round(wall, 1),
            "files_per_s": round(files / wall), "posts_per_s": round(posts / wall),
            "ingest_cpu_s": round(cpu, 1),
            "ingest_cpu_ms_per_indexed_post": round(1000 * cpu / max(posts, 1), 3),
            "error": report["error"]}
    if "s3_requests" in report:
        result["s3_requests"] = {kind: int(count)
                                 for kind, count in report["s3_requests"].items()}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("users", type=int)
    parser.add_argument("--days", type=int, default=50)
    parser.add_argument("--bin", type=pathlib.Path, default=BIN,
                        help="the binaries to measure (another checkout's build/bin: a baseline)")
    parser.add_argument("--s3", action="store_true", help="read the lake from S3")
    parser.add_argument("--s3-state", action="store_true",
                        help="keep the checkpoint in S3 as well (with --s3)")
    parser.add_argument("--upload-changed-only", action="store_true",
                        help="next day: upload only the files whose bytes changed (with --s3)")
    parser.add_argument("--shards", type=int, default=1, help="ingest processes side by side")
    args = parser.parse_args()
    es = es_url()
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
    if args.s3:
        # One bucket per size, mirrored with --delete: genlake is
        # deterministic, so a repeated run uploads only what differs.
        env["SCOUT_LAKE"] = f"s3://bench-{args.users}/lake"
        if args.s3_state:
            env["SCOUT_STATE"] = f"s3://bench-{args.users}/state-{int(time.time())}"
    local_lake = dict(env, SCOUT_LAKE=str(work / "lake"))

    def sync(label, rewritten_since=0):
        """Copies the posts genlake wrote into the bucket (ingest reads only
        posts; a local lake needs nothing). Files genlake rewrote since
        `rewritten_since` go up again even when equal: the API client PUTs
        them every day, so their LastModified changes and their ETag not."""
        if not args.s3:
            return
        posts = "instagram_graph/posts"
        copied, wall, _ = run([args.bin / "scout-s3sync", work / "lake" / posts,
                               f"{env['SCOUT_LAKE']}/{posts}", "--create_bucket", "--delete",
                               "--threads", 32, "--rewritten_since", rewritten_since], env)
        print(json.dumps({"run": f"s3sync {label}", "users": args.users,
                          "uploaded": copied["uploaded"], "unchanged": copied["unchanged"],
                          "seconds": round(wall, 1)}), flush=True)

    gen, gen_wall, _ = run([args.bin / "scout-genlake", "--users", args.users, "--days", args.days,
                            "--today", "2026-11-20", "--seed", 1, "--no-media",
                            "--threads", 16],  # Writers wait on the disk; the lake is the same.
                           local_lake)
    print(json.dumps({"run": "genlake", "users": args.users, "post_files":
                      gen["files"]["posts_new"], "seconds": round(gen_wall, 1)}), flush=True)
    sync("first-load")
    def ingest(now):
        return run_shards([args.bin / "scout-ingest", "--no_media", "--now", now], args.shards,
                          env)

    report, wall, cpu = ingest("2026-11-20T18:00:00Z")
    print(json.dumps(summarize("first-load", args.users, args.shards, report, wall, cpu)), flush=True)
    advance_start = int(time.time()) - 1
    advanced, _, _ = run([args.bin / "scout-genlake", "--advance", "--threads", 16], local_lake)
    sync("next-day", rewritten_since=0 if args.upload_changed_only else advance_start)
    report, wall, cpu = ingest("2026-11-21T18:00:00Z")
    result = summarize("next-day", args.users, args.shards, report, wall, cpu)
    result["new_posts"] = advanced["files"]["posts_new"]
    result["rewritten_files"] = advanced["files"]["posts_rewritten"]
    print(json.dumps(result), flush=True)
    for path in old:  # Earlier runs' lakes, now that this one is written.
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
