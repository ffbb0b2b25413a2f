#!/usr/bin/env python3
"""Creator discovery at scale (issue 11): N creators in the warehouse (a
genlake lake of LAKE creators through Scout's own workers, the rest from
build/bin/gencreators), then
  rebuild  `scout-aggregate --rebuild_creators` over all of them, against the
           time to read the same rows from the warehouse (the rebuild's input);
  latency  SearchCreators p99 with ghz at a fixed rate for each kind of query
           (filters only, text, palette, lookalike), REPEAT times, each repeat
           next to grpc.health.v1 Check at the same rate (the baseline);
  recall   SearchCreators' top 20 for TARGETS palettes against the exact top 20
           by PaletteDistance over every palette in the warehouse
           (build/bin/palette_exact, whose time is the baseline).
Loopback only; every result is printed and appended to
bench/out/creators_bench.jsonl. Uses the index prefix `bench-creators` and
the database `bench_creators`, deleted at the end unless --keep.

    eval "$(scripts/services up)"; bench/creators_bench.py [--creators 500000] [--lake 5000]
        [--stages ingest,lake,generate,rebuild,latency,recall,clean] [--seconds 30] [--repeat 3]
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from search_bench import BIN, ROOT, es_url, ghz, listening_address  # noqa: E402

PREFIX = "bench-creators"
DATABASE = "bench_creators"
TODAY = "2026-11-21"
NOW = f"{TODAY}T18:00:00Z"
WORK = ROOT / ".scout" / "bench" / "creators"
OUT = ROOT / "bench" / "out" / "creators_bench.jsonl"
GRPCURL = ROOT / ".scout" / "bin" / "grpcurl"
SEARCH = "scout.v1.BrandService/SearchCreators"
STAGES = ["ingest", "lake", "generate", "rebuild", "latency", "recall", "clean"]


def report(row):
    row = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **row}
    print(json.dumps(row), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "a") as f:
        f.write(json.dumps(row) + "\n")


def run(args, env, timeout=3600):
    """Runs a binary; returns (its JSON report or None, wall seconds)."""
    start = time.monotonic()
    proc = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"{pathlib.Path(str(args[0])).name} exited {proc.returncode}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else None), wall


def es_indices(es):
    rows = json.load(urllib.request.urlopen(f"{es}/_cat/indices/{PREFIX}*?format=json&h=index"))
    return sorted(row["index"] for row in rows)


def delete_indices(es):
    """Elasticsearch refuses wildcard deletes: name each index."""
    names = es_indices(es)
    if names:
        urllib.request.urlopen(urllib.request.Request(f"{es}/{','.join(names)}",
                                                      method="DELETE")).read()
    return names


def psql(dsn, sql):
    return subprocess.run(["psql", dsn, "-Atqc", sql], check=True, capture_output=True,
                          text=True).stdout


def spread(values):
    return {"runs": [round(v, 2) for v in values], "median": round(statistics.median(values), 2),
            "min": round(min(values), 2), "max": round(max(values), 2)}


# --- stages -----------------------------------------------------------------

def lake_env(env):
    return dict(env, SCOUT_LAKE=str(WORK / "lake"), SCOUT_STATE=str(WORK / "state"),
                SCOUT_MEDIA=str(WORK / "media"),
                SCOUT_MEDIA_SOURCE_ALLOW=f"file://{WORK / 'cdn'}/")


def lake_step(args, env, name, command):
    out, wall = run(command, lake_env(env))
    keep = {k: v for k, v in (out or {}).items()
            if k in ("facts_written", "creators_with_posts", "posts_indexed", "media_fetched",
                     "palettes_written", "creators", "error", "files")}
    report({"stage": "lake", "step": name, "creators": args.lake, "seconds": round(wall, 1),
            **keep})


def stage_ingest(args, env):
    """genlake -> scout-ingest (with its pictures) for the first LAKE
    creators: the posts Scout's own aggregate reads."""
    delete_indices(es_url())
    subprocess.run(["psql", os.environ["SCOUT_PG_DSN"], "-qc",
                    f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"], check=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    lake_step(args, env, "genlake",
              [BIN / "scout-genlake", "--lake", WORK / "lake", "--cdn", WORK / "cdn",
               "--users", args.lake, "--days", args.lake_days, "--today", TODAY, "--seed", 1,
               "--image-size", 64])
    lake_step(args, env, "ingest", [BIN / "scout-ingest", "--now", NOW])


def stage_lake(args, env):
    """scout-aggregate -> scout-palette over the ingested lake: the lake
    creators' rows as Scout's own workers write them (a rerun replaces them
    and leaves the generated creators alone)."""
    dsn = os.environ["SCOUT_PG_DSN"]
    if not psql(dsn, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'").strip():
        subprocess.run(["psql", dsn, "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    lake_step(args, env, "aggregate", [BIN / "scout-aggregate", "--no_pictures", "--date", TODAY])
    lake_step(args, env, "palette", [BIN / "scout-palette", "--max_images", 10])


def stage_generate(args, env):
    out, wall = run([BIN / "gencreators", "--first", args.lake, "--creators", args.creators,
                     "--seed", 1, "--as_of", TODAY, "--threads", 2], env, timeout=3000)
    counts = psql(env["SCOUT_PG_DSN"],
                  "SELECT COUNT(*), COUNT(palette_json), SUM(CASE WHEN is_business THEN 1 ELSE 0 "
                  "END), COUNT(topics_json) FROM profile_facts").strip().split("|")
    tiers = psql(env["SCOUT_PG_DSN"],
                 "SELECT SUM(CASE WHEN followers_count < 10000 THEN 1 ELSE 0 END), "
                 "SUM(CASE WHEN followers_count >= 10000 AND followers_count < 100000 THEN 1 "
                 "ELSE 0 END), SUM(CASE WHEN followers_count >= 100000 AND followers_count < "
                 "500000 THEN 1 ELSE 0 END), SUM(CASE WHEN followers_count >= 500000 AND "
                 "followers_count < 1000000 THEN 1 ELSE 0 END), SUM(CASE WHEN followers_count "
                 ">= 1000000 THEN 1 ELSE 0 END) FROM profile_facts").strip().split("|")
    size = psql(env["SCOUT_PG_DSN"],
                "SELECT pg_total_relation_size('profile_facts') + "
                "pg_total_relation_size('creator_content')").strip()
    report({"stage": "generate", "generated": out["written"], "seconds": round(wall, 1),
            "profile_facts_rows": int(counts[0]), "with_palette": int(counts[1]),
            "business": int(counts[2]), "with_topics": int(counts[3]),
            "tiers_nano_micro_mid_macro_mega": [int(t) for t in tiers],
            "warehouse_mb": round(int(size) / 2**20)})


def stage_rebuild(args, env):
    dsn = env["SCOUT_PG_DSN"]
    # Baseline: reading the rows the rebuild reads (facts joined to content)
    # out of the warehouse, nothing else.
    read = ("COPY (SELECT f.*, c.hashtags_json, c.mentions_json, c.captions_json, c.posts_90d "
            "FROM profile_facts f LEFT JOIN creator_content c ON c.creator_id = f.creator_id) "
            "TO STDOUT")
    baseline = []
    for _ in range(args.repeat):
        start = time.monotonic()
        subprocess.run(["psql", dsn, "-qc", read], check=True, stdout=subprocess.DEVNULL)
        baseline.append(time.monotonic() - start)
    rebuilds, documents, reports = [], None, []
    for _ in range(args.rebuild_repeat):
        try:
            out, wall = run([BIN / "scout-aggregate", "--rebuild_creators"], env, timeout=1800)
        except RuntimeError as e:
            report({"stage": "rebuild", "error": str(e), "baseline_read_rows_s": spread(baseline)})
            return
        rebuilds.append(wall)
        reports.append(out)
        es = es_url()
        urllib.request.urlopen(f"{es}/{PREFIX}.creators/_refresh").read()
        documents = json.load(urllib.request.urlopen(f"{es}/{PREFIX}.creators/_count"))["count"]
    rows = int(psql(dsn, "SELECT COUNT(*) FROM profile_facts").strip())
    report({"stage": "rebuild", "creators": rows, "documents": documents,
            "baseline_read_rows_s": spread(baseline), "rebuild_s": spread(rebuilds),
            "ratio_rebuild_to_read": round(statistics.median(rebuilds) /
                                           statistics.median(baseline), 1),
            "target_s": 300, "reports": reports})


def hex_weighted(colours):
    return [f"{c}:{w:.2f}" for c, w in colours]


def random_palettes(rng, rows, count):
    """Half are a creator's own palette with every colour moved a little (a
    brand that likes a feed), half 2-4 free colours (a brand's own colours)."""
    targets = []
    for i in range(count):
        if i % 2 == 0 and rows:
            colours = json.loads(rng.choice(rows))["colors"]
            target = []
            for c in colours:
                rgb = [min(255, max(0, c[k] + rng.randint(-12, 12)))
                       for k in ("red", "green", "blue")]
                target.append(("#%02x%02x%02x" % tuple(rgb), round(c["percentage"], 2)))
        else:
            n = rng.randint(2, 4)
            weights = [rng.uniform(0.1, 1) for _ in range(n)]
            total = sum(weights)
            target = [("#%06x" % rng.randrange(1 << 24), round(w / total, 2)) for w in weights]
        targets.append([(c, w) for c, w in target if w > 0])
    return targets


def query_sets(args, env):
    rng = random.Random(11)
    dsn = env["SCOUT_PG_DSN"]
    # --lake-only: the lake's creators (when the index holds only those).
    only = (" AND load_version NOT IN (SELECT version FROM load_versions "
            "WHERE kind = 'gencreators')") if args.lake_only else ""
    sample = psql(dsn, "SELECT creator_id, palette_json FROM profile_facts "
                       f"WHERE palette_json IS NOT NULL{only} ORDER BY md5(creator_id) LIMIT 400")
    ids, palettes = [], []
    for line in sample.splitlines():
        creator_id, palette_json = line.split("|", 1)
        ids.append(creator_id)
        palettes.append(palette_json)
    topics = ["food", "travel", "fashion", "beauty", "fitness", "pets", "art", "music"]
    filters = []
    for i in range(40):
        q = {"min_followers": str(rng.choice([1000, 5000, 10000, 50000])),
             "page_size": 20}
        if i % 2:
            q["max_followers"] = str(rng.choice([100000, 500000, 1000000]))
        if i % 3 == 0:
            q["min_engagement_rate"] = rng.choice([0.01, 0.02, 0.03])
        if i % 4 == 0:
            q["topics"] = [rng.choice(topics)]
        if i % 5 == 0:
            q["is_business"] = True
        if i % 6 == 0:
            q["active_within_days"] = rng.choice([7, 14, 30])
        if i % 7 == 0:
            q["min_follower_growth"] = 0.02
        q["sort"] = rng.choice(["CREATOR_SORT_FOLLOWERS", "CREATOR_SORT_ENGAGEMENT_RATE",
                                "CREATOR_SORT_GROWTH"])
        filters.append(q)
    words = ["pasta", "sourdough", "crème brûlée", "ramen", "sunrise", "night train", "beach",
             "lipstick", "eyeliner", "sneakers", "denim", "trench coat", "yoga flow",
             "deadlift", "puppy", "kitten", "parrot", "road trip", "tiramisu", "blazer"]
    text = []
    for i, w in enumerate(words * 2):
        q = {"query": w, "page_size": 20}
        if i % 3 == 0:
            q["min_followers"] = "10000"
        text.append(q)
    palette = [{"palette": hex_weighted(t), "page_size": 20}
               for t in random_palettes(rng, palettes, 40)]
    for i, q in enumerate(palette):
        if i % 4 == 1:
            q["min_followers"] = "10000"
    lookalike = [{"similar_to": creator_id, "page_size": 20} for creator_id in ids[:40]]
    return {"filters": filters, "text": text, "palette": palette, "lookalike": lookalike}, \
        palettes


def start_server(env):
    server = subprocess.Popen([BIN / "scout-server", "--listen", "127.0.0.1:0"], env=env,
                              stderr=subprocess.PIPE, text=True)
    log = []
    start = time.monotonic()
    address = listening_address(server, log)
    return server, address, time.monotonic() - start, log


def stage_latency(args, env):
    queries, _ = query_sets(args, env)
    server, address, startup, log = start_server(env)
    try:
        report({"stage": "latency", "server_start_s": round(startup, 1)})
        # Each kind checked once by hand, then warmed up.
        for kind, data in queries.items():
            out = subprocess.run([GRPCURL, "-plaintext", "-d", json.dumps(data[0]), address,
                                  SEARCH], capture_output=True, text=True)
            hits = len(json.loads(out.stdout).get("creators", [])) if out.returncode == 0 else -1
            report({"stage": "latency", "check": kind, "request": data[0], "hits": hits,
                    "error": out.stderr.strip()[:300]})
            if "Unimplemented" in out.stderr:
                return
            ghz(address, SEARCH, data, args.rps, 5)
        results = {kind: [] for kind in ["baseline", *queries]}
        raw = {kind: [] for kind in results}
        for repeat in range(args.repeat):
            for kind in results:
                call = "grpc.health.v1.Health/Check" if kind == "baseline" else SEARCH
                data = {} if kind == "baseline" else queries[kind]
                r = ghz(address, call, data, args.rps, args.seconds, duration_stop="wait")
                r.update({"stage": "latency", "kind": kind, "repeat": repeat,
                          "target_rps": args.rps})
                report(r)
                results[kind].append(r["p99_ms"])
                raw[kind].append(r)
        base = statistics.median(results["baseline"])
        for kind, p99s in results.items():
            errors = sum(sum(v for k, v in r["status"].items() if k != "OK") for r in raw[kind])
            report({"stage": "latency-summary", "kind": kind, "rps": args.rps,
                    "seconds": args.seconds, "p99_ms": spread(p99s),
                    "p50_ms": spread([r["p50_ms"] for r in raw[kind]]),
                    "p99_ratio_to_baseline": round(statistics.median(p99s) / base, 1),
                    "requests": sum(r["requests"] for r in raw[kind]), "not_ok": errors,
                    "target_p99_ms": 50})
    finally:
        server.terminate()
        server.wait(timeout=30)


def stage_recall(args, env):
    _, palettes = query_sets(args, env)
    rng = random.Random(12)
    targets = random_palettes(rng, palettes, args.targets)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump([[[c, w] for c, w in t] for t in targets], f)
    start = time.monotonic()
    proc = subprocess.run([str(a) for a in [BIN / "palette_exact", "--targets", f.name, "--top",
                                            20, "--threads", args.threads]],
                          env=env, capture_output=True, text=True, check=True)
    exact_wall = time.monotonic() - start
    os.unlink(f.name)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    exact, tail = lines[:-1], lines[-1]
    server, address, _, _ = start_server(env)
    recalls, server_s, misses = [], [], []
    try:
        for i, target in enumerate(targets):
            request = {"palette": hex_weighted(target), "page_size": 20}
            start = time.monotonic()
            out = subprocess.run([GRPCURL, "-plaintext", "-d", json.dumps(request), address,
                                  SEARCH], capture_output=True, text=True)
            server_s.append(time.monotonic() - start)
            if out.returncode != 0:
                report({"stage": "recall", "target": i, "error": out.stderr.strip()[:300]})
                if "Unimplemented" in out.stderr:
                    break
                recalls.append(0.0)
                continue
            got = [c["id"] for c in json.loads(out.stdout).get("creators", [])]
            want = [row[0] for row in exact[i]["top"]]
            # The 20th exact distance, to tell a near-tie from a real miss.
            cut = exact[i]["top"][-1][1]
            recalls.append(len(set(got) & set(want)) / len(want))
            if recalls[-1] < 1:
                misses.append({"target": i, "palette": request["palette"],
                               "missed": [row for row in exact[i]["top"] if row[0] not in got],
                               "twentieth_distance": cut})
    finally:
        server.terminate()
        server.wait(timeout=30)
    brute = [row["seconds"] for row in exact]
    report({"stage": "recall", "targets": len(targets), "palettes": tail["palettes"],
            "recall_mean": round(statistics.mean(recalls), 4) if recalls else None,
            "recall_min": round(min(recalls), 4) if recalls else None,
            "targets_with_full_recall": sum(1 for r in recalls if r == 1),
            "brute_force_s_per_target": spread(brute), "brute_force_threads": args.threads,
            "brute_force_load_s": round(tail["load_seconds"], 1),
            "brute_force_wall_s": round(exact_wall, 1),
            "search_via_grpcurl_s": spread(server_s) if recalls else None,
            "target_recall": 0.95, "misses": misses[:5]})


def stage_clean(args, env):
    names = delete_indices(es_url())
    subprocess.run(["psql", os.environ["SCOUT_PG_DSN"], "-qc",
                    f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"], check=True)
    shutil.rmtree(WORK, ignore_errors=True)
    report({"stage": "clean", "deleted_indices": names, "dropped_database": DATABASE})


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--creators", type=int, default=500000)
    parser.add_argument("--lake", type=int, default=5000)
    parser.add_argument("--lake-days", type=int, default=30)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--rps", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild-repeat", type=int, default=1)
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="brute-force threads")
    parser.add_argument("--lake-only", action="store_true",
                        help="sample lookalikes and palettes from the lake's creators only")
    parser.add_argument("--keep", action="store_true", help="skip the clean stage")
    args = parser.parse_args()
    stages = args.stages.split(",")
    if unknown := set(stages) - set(STAGES):
        sys.exit(f"unknown stages {sorted(unknown)}")
    dsn = os.environ["SCOUT_PG_DSN"]
    env = dict(os.environ, SCOUT_INDEX_PREFIX=PREFIX, SCOUT_PG_DSN=f"{dsn} dbname={DATABASE}",
               SCOUT_NOW=NOW)
    try:
        for stage in STAGES[:-1]:
            if stage in stages:
                globals()[f"stage_{stage}"](args, env)
    finally:
        if "clean" in stages and not args.keep:
            stage_clean(args, env)


if __name__ == "__main__":
    main()
