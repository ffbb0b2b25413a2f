#!/usr/bin/env python3
"""SearchPosts latency with ghz at a fixed request rate, over the indices that
bench/ingest_bench.py left (`bench-<users>`), next to a baseline measured in
the same run: grpc.health.v1 Check on the same server (the cost of a gRPC
round trip with no backend work).

    eval "$(scripts/services up)"; bench/search_bench.py USERS [--rps 100] [--seconds 30] [--bin DIR] [--churn 10]
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import tempfile
import threading
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "build" / "bin"
GHZ = ROOT / ".scout" / "bin" / "ghz"

# Round-robin mix of what the website asks: text, tags, creators, sorts, pages.
QUERIES = [
    {"query": "pasta"},
    {"query": "crème brûlée", "sort": "SORT_ORDER_ENGAGEMENT"},
    {"hashtags": ["cafe"]},
    {"hashtags": ["TravelGram"], "media_types": ["MEDIA_TYPE_VIDEO", "MEDIA_TYPE_STORY_VIDEO"]},
    {"query": "sunrise beach", "sort": "SORT_ORDER_RECENT", "page_size": 50},
    {"owner_ids": ["178410000000042", "178410000001234"]},
    {"hashtags": ["москва"], "sort": "SORT_ORDER_ENGAGEMENT"},
    {},
]


def es_url():
    """One node for the bench's own HTTP calls to Elasticsearch: SCOUT_ES_URL
    may list several (scripts/services up --es-nodes 3), as the binaries take it."""
    return os.environ["SCOUT_ES_URL"].split(",")[0].rstrip("/")


def _drain(stream, log):
    for line in stream:
        if log is not None:
            log.append(line)


def listening_address(server, log=None):
    """The address scout-server logs once it listens (after any warnings).
    Its log keeps being read afterwards (every line into the list `log`, if
    given), so the server never blocks on a full pipe."""
    for line in server.stderr:
        if log is not None:
            log.append(line)
        match = re.search(r'listening on ([^\s"]+)', line)
        if match:
            threading.Thread(target=_drain, args=(server.stderr, log), daemon=True).start()
            return match.group(1)
    raise RuntimeError("scout-server exited before listening")


def ghz(address, call, data, rps, seconds, concurrency=20, connections=2, duration_stop="close",
        core=None):
    """duration_stop "wait" lets the requests in flight at the end finish (with
    ghz's default "close" they are cut off and counted as Unavailable). `core`:
    run ghz on that CPU only (taskset)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(data, f)
    pin = [] if core is None else ["taskset", "-c", str(core)]
    out = subprocess.run(
        [*pin, GHZ, "--insecure", "--call", call, "--data-file", f.name, "--rps", str(rps),
         "--duration", f"{seconds}s", "--duration-stop", duration_stop,
         "--concurrency", str(concurrency), "--connections", str(connections),
         "--timeout", "5s", "--format", "json", address],
        check=True, capture_output=True, text=True).stdout
    os.unlink(f.name)
    r = json.loads(out)
    pct = {int(p["percentage"]): p["latency"] / 1e6 for p in r["latencyDistribution"]}
    return {"call": call.split("/")[-1], "requests": r["count"], "rps": round(r["rps"], 1),
            "p50_ms": round(pct[50], 2), "p95_ms": round(pct[95], 2),
            "p99_ms": round(pct[99], 2), "status": r["statusCodeDistribution"],
            "errors": r.get("errorDistribution", {})}


def cache_counts(users):
    """Hits and misses so far of Elasticsearch's shard request cache and its
    filter (query) cache over the bench's indices."""
    stats = json.load(urllib.request.urlopen(
        f"{es_url()}/bench-{users}/_stats/request_cache,query_cache"))["_all"]["total"]
    return {"request_cache_hits": stats["request_cache"]["hit_count"],
            "request_cache_misses": stats["request_cache"]["miss_count"],
            "query_cache_hits": stats["query_cache"]["hit_count"],
            "query_cache_misses": stats["query_cache"]["miss_count"]}


class Churn:
    """Rewrites `per_second` posts a second of the newest month, as
    `scout-ingest --follow` does in production: each rewrite changes that
    month's shard, so its next refresh (1 s) drops what Elasticsearch had
    cached for it."""

    def __init__(self, users, per_second):
        es = es_url()
        months = sorted(json.load(urllib.request.urlopen(
            f"{es}/_cat/indices/bench-{users}-*?format=json&h=index")), key=lambda i: i["index"])
        self.index = months[-1]["index"]
        hits = json.load(urllib.request.urlopen(urllib.request.Request(
            f"{es}/{self.index}/_search", data=json.dumps({"size": 1000}).encode(),
            headers={"Content-Type": "application/json"})))["hits"]["hits"]
        self.posts = [(h["_id"], json.dumps(h["_source"]).encode()) for h in hits]
        self.es, self.period, self.writes = es, 1.0 / per_second, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(self.period):
            post_id, source = self.posts[self.writes % len(self.posts)]
            urllib.request.urlopen(urllib.request.Request(
                f"{self.es}/{self.index}/_doc/{post_id}", data=source, method="PUT",
                headers={"Content-Type": "application/json"})).read()
            self.writes += 1

    def close(self):
        self.stop.set()
        self.thread.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("users", type=int)
    parser.add_argument("--rps", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--bin", type=pathlib.Path, default=BIN,
                        help="the scout-server to measure (another checkout's build/bin: a baseline)")
    parser.add_argument("--churn", type=float, default=0,
                        help="posts of the newest month rewritten a second during the run")
    args = parser.parse_args()
    env = dict(os.environ, SCOUT_INDEX_PREFIX=f"bench-{args.users}",
               SCOUT_NOW="2026-11-21T18:00:00Z")
    server = subprocess.Popen([args.bin / "scout-server", "--listen", "127.0.0.1:0"], env=env,
                              stderr=subprocess.PIPE, text=True)
    churn = Churn(args.users, args.churn) if args.churn else None
    try:
        address = listening_address(server)
        count = json.load(urllib.request.urlopen(
            f"{es_url()}/bench-{args.users}/_count"))["count"]
        print(json.dumps({"indexed_posts": count}), flush=True)
        # Warm up caches the way a running service would have them.
        ghz(address, "scout.v1.BrandService/SearchPosts", QUERIES, args.rps, 5)
        for call, data in [("grpc.health.v1.Health/Check", {}),
                           ("scout.v1.BrandService/SearchPosts", QUERIES)]:
            before = cache_counts(args.users)
            result = ghz(address, call, data, args.rps, args.seconds)
            result["target_rps"] = args.rps
            result["churn_per_s"] = args.churn
            # What Elasticsearch's caches answered during the run, so a fast
            # figure says whether it was served from them.
            result["es_caches"] = {k: v - before[k] for k, v in cache_counts(args.users).items()}
            print(json.dumps(result), flush=True)
    finally:
        if churn:
            churn.close()
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
