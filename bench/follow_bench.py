#!/usr/bin/env python3
"""Freshness lag of scout-ingest --follow on an S3 lake: a steady trickle of
post files (new posts and rewrites) is PUT into a bucket of a SeaweedFS of
the bench's own (its filer webhook pointing at the follower), and each post
is timed from its PUT returning to a search finding it with its new caption.
Two modes, one after the other: "events" (SeaweedFS's webhook, plus the
sweep) and "sweep" (the periodic listing alone, --follow_sweep). Prints JSON.

--burst N puts the trickle behind a backlog: N post files (25 per creator)
are uploaded and indexed first; then the follower is stopped, all N are
rewritten and uploaded again (the daily refresh, landing while no follower
runs, or faster than one indexes), and a new follower starts with the
trickle: its start-up sweep queues the N rewrites, and the trickle's lag is
timed while it works through them. New posts and rewrites of the trickle
are reported apart, with the time until the whole burst was searchable.
--bin DIR runs another build's scout-ingest (a baseline in the same run).

    eval "$(scripts/services up)"       # Elasticsearch (SCOUT_ES_URL)
    bench/follow_bench.py [--rate 20] [--seconds 60] [--sweep 30s]
    bench/follow_bench.py --modes events --burst 50000 [--bin OTHER/build/bin]
"""
import argparse
import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from search_bench import BIN, ROOT, es_url  # noqa: E402

ACCESS, SECRET = "FOLLOWBENCH", "followbenchsecret"
TOKEN = "bench-hook-token"


def free_port_pair(used):
    """A port p with p + 10000 free too (weed's gRPC twin of each port)."""
    for port in range(21000 + os.getpid() % 5000, 40000):
        if port in used:
            continue
        ok = True
        for p in (port, port + 10000):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
        if ok:
            used.add(port)
            return port
    sys.exit("no free ports")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weed_binary():
    version = next(line.split("=", 1)[1].strip() for line in
                   (ROOT / "scripts" / "lib.sh").read_text().splitlines()
                   if line.startswith("WEED_VERSION="))
    return os.environ.get("SCOUT_WEED", str(ROOT / ".scout" / "bin" / f"weed-{version}"))


class S3:
    """PUTs through curl's SigV4 (as scripts/services probes the server). No
    "Expect:" removal line: curl 7.88 would sign it (docs/s3.md)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.complained = False

    def request(self, method, path, body=b""):
        digest = hashlib.sha256(body).hexdigest()
        result = subprocess.run(
            ["curl", "-sf", "-m", "30", "-X", method, "--aws-sigv4", "aws:amz:us-east-1:s3",
             "-u", f"{ACCESS}:{SECRET}", "-H", f"x-amz-content-sha256: {digest}",
             "-sS", "--data-binary", "@-", f"{self.endpoint}/{path}"],
            input=body, capture_output=True)
        if result.returncode != 0 and not self.complained:
            self.complained = True
            print(f"{method} {path}: curl exit {result.returncode} {result.stderr[-300:]}",
                  file=sys.stderr)
        return result.returncode == 0


def es(method, path, body=None):
    url = f"{es_url()}/{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return {"status": error.code}


def post_json(owner, post_id, caption):
    return json.dumps({"id": post_id, "media_type": "IMAGE",
                       "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime()),
                       "caption": caption, "like_count": 1, "owner": {"id": owner}}).encode()


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)


def write_burst(folder, files, version):
    """`files` post files, 25 per creator (owners 66000000..), as the API
    client writes them; `version` goes into every caption."""
    for n in range(files):
        owner, post_id = f"66{n // 25:08d}", f"55{n:010d}"
        path = folder / "instagram_graph" / "posts" / owner / f"{post_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(post_json(owner, post_id, f"burst {version} {post_id}"))


def count(prefix, query=None):
    body = {"query": query} if query else None
    return es("POST" if body else "GET", f"{prefix}-*/_count", body).get("count", 0)


def wait_for(predicate, seconds):
    until = time.time() + seconds
    while time.time() < until:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def run_mode(mode, args, s3, bucket, events_port, weed_env, work):
    prefix = f"bench-follow-{mode}-{os.getpid()}"
    state = work / f"state-{mode}"
    state.mkdir()
    lake = f"s3://{bucket}/{mode}/"
    cmd = [str(args.bin / "scout-ingest"), "--follow", "--lake", lake,
           "--es_url", os.environ["SCOUT_ES_URL"], "--state", str(state), "--index_prefix", prefix,
           "--no_media", f"--follow_sweep={args.sweep}"]
    if mode == "events":
        cmd.append(f"--follow_events_listen=127.0.0.1:{events_port}")
    cmd += args.follower_arg
    env = dict(os.environ, **weed_env, SCOUT_EVENTS_TOKEN=TOKEN)
    logs = open(work / f"follow-{mode}.log", "w")
    burst = {}
    if args.burst:
        folder = work / f"burst-{mode}"

        def upload(version):
            write_burst(folder, args.burst, version)
            started = time.time()
            subprocess.run([str(BIN / "scout-s3sync"), str(folder), lake, "--threads", "16"],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            return time.time() - started

        burst["upload_first_s"] = round(upload("v1"), 1)
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=logs)
        if not wait_for(lambda: count(prefix) >= args.burst, 900):
            sys.exit(f"the burst's first load did not finish: {count(prefix)} of {args.burst}")
        first.terminate()
        first.wait(timeout=120)
        burst["upload_rewrites_s"] = round(upload("v2"), 1)
    follower = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=logs)
    follower_start = time.time()
    if not args.burst:
        time.sleep(3)  # Its first sweep of the (empty) lake, the receiver up.

    written = {}  # post id -> (caption, time the PUT returned, "new" | "rewrite") of its last write
    seen = {}  # post id -> the caption a search last found
    lags = {"new": [], "rewrite": []}  # of each write found before a later one replaced it
    lock = threading.Lock()
    done = threading.Event()

    def unseen():
        with lock:
            return {k: v for k, v in written.items() if seen.get(k) != v[0]}

    def poll():
        while True:
            pending = unseen()
            if done.is_set() and (not pending or time.time() > deadline[0]):
                return
            if pending:
                answer = es("POST", f"{prefix}-*/_search",
                            {"size": len(pending), "_source": ["id", "caption"],
                             "query": {"terms": {"id": list(pending)}}})
                now = time.time()
                for hit in answer.get("hits", {}).get("hits", []):
                    source = hit["_source"]
                    want = pending.get(source["id"])
                    if want and source.get("caption") == want[0]:
                        with lock:
                            if written[source["id"]][0] == want[0]:
                                seen[source["id"]] = want[0]
                                lags[want[2]].append(now - want[1])
            time.sleep(0.1)

    deadline = [float("inf")]
    poller = threading.Thread(target=poll)
    poller.start()
    total = int(args.rate * args.seconds)
    start = time.time()
    failed = 0
    gap = args.rewrite_gap
    for n in range(total):
        # Every other file rewrites the post created `gap` files earlier (a
        # new caption); the rest are new posts.
        post = n if n % 2 == 0 or n < gap else n - gap
        owner = f"77{post % 50:08d}"
        post_id = f"88{post:010d}"
        caption = f"caption {post_id} version {n}"
        target = start + n / args.rate
        if time.time() < target:
            time.sleep(target - time.time())
        ok = s3.request("PUT", f"{bucket}/{mode}/instagram_graph/posts/{owner}/{post_id}.json",
                        post_json(owner, post_id, caption))
        with lock:
            if ok:
                written[post_id] = (caption, time.time(), "new" if post == n else "rewrite")
            else:
                failed += 1
    trickle = time.time() - start
    if args.burst:
        # The caption is searched through text_folded (it is not indexed itself).
        rewritten = {"match_phrase": {"text_folded": "burst v2"}}
        if wait_for(lambda: count(prefix, rewritten) >= args.burst, 1800):
            burst["searchable_after_s"] = round(time.time() - follower_start, 1)
        burst["searchable"] = count(prefix, rewritten)
    deadline[0] = time.time() + 120
    done.set()
    poller.join()
    follower.terminate()
    out, _ = follower.communicate(timeout=120)
    report = json.loads(out.decode().strip().splitlines()[-1]) if out.strip() else {}
    for index in es("GET", f"_cat/indices/{prefix}-*,{prefix}.*?format=json&h=index") or []:
        if isinstance(index, dict):
            es("DELETE", index["index"])
    timed = lags["new"] + lags["rewrite"]
    result = {"mode": mode, "files": total, "put_failed": failed,
              "rate_achieved": round(total / trickle, 1), "writes_timed": len(timed),
              "never_searchable": len(unseen()),
              "lag_p50_s": percentile(timed, 50), "lag_p99_s": percentile(timed, 99),
              "lag_max_s": round(max(timed), 3) if timed else None}
    if gap > 1:  # Rewrites of posts indexed a while ago: apart from new posts.
        for kind in ("new", "rewrite"):
            result[f"{kind}_timed"] = len(lags[kind])
            result[f"{kind}_lag_p50_s"] = percentile(lags[kind], 50)
            result[f"{kind}_lag_p99_s"] = percentile(lags[kind], 99)
    if burst:
        result["burst"] = dict(burst, files=args.burst)
    result.update({"follower_exit": follower.returncode,
                   "posts_indexed": report.get("posts_indexed"),
                   "s3_requests": report.get("s3_requests")})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=20, help="files per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--sweep", default="30s", help="--follow_sweep of both modes")
    parser.add_argument("--modes", default="events,sweep")
    parser.add_argument("--follower-arg", action="append", default=[],
                        help="extra scout-ingest flag (repeatable), e.g. --follower-arg=--batch=500")
    parser.add_argument("--burst", type=int, default=0,
                        help="rewritten files queued ahead of the trickle (see above)")
    parser.add_argument("--rewrite-gap", type=int, default=1,
                        help="files between a trickle post's creation and its rewrite (odd)")
    parser.add_argument("--bin", type=pathlib.Path, default=BIN,
                        help="the scout-ingest to follow with (scout-s3sync is this build's)")
    args = parser.parse_args()
    if args.rewrite_gap < 1 or args.rewrite_gap % 2 == 0:
        sys.exit("--rewrite-gap must be odd (a rewrite follows a new post)")
    if "SCOUT_ES_URL" not in os.environ:
        sys.exit('SCOUT_ES_URL is not set: eval "$(scripts/services up)" first')

    work = pathlib.Path(tempfile.mkdtemp(prefix="follow-bench-"))
    used = set()
    ports = [free_port_pair(used) for _ in range(4)]
    events_port = free_port()
    (work / "data").mkdir()
    (work / "notification.toml").write_text(
        f'[notification.webhook]\nenabled = true\n'
        f'endpoint = "http://127.0.0.1:{events_port}/events/seaweedfs"\n'
        f'bearer_token = "{TOKEN}"\nevent_types = ["create", "update", "rename"]\n')
    (work / "identities.json").write_text(json.dumps({"identities": [{
        "name": "bench", "credentials": [{"accessKey": ACCESS, "secretKey": SECRET}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
    weed = subprocess.Popen(
        [weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={work / 'data'}",
         f"-master.port={ports[0]}", "-master.volumeSizeLimitMB=64", f"-volume.port={ports[1]}",
         "-volume.max=16", "-volume.preStopSeconds=0", "-filer", f"-filer.port={ports[2]}",
         "-s3", f"-s3.port={ports[3]}", f"-s3.config={work / 'identities.json'}",
         "-s3.port.iceberg=0", "-s3.port.lance=0"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=open(work / "weed.log", "w"))
    endpoint = f"http://127.0.0.1:{ports[3]}"
    s3 = S3(endpoint)
    weed_env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_S3": endpoint,
                "AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_REGION": "us-east-1"}
    results = []
    try:
        # One bucket (each new one takes volumes of its own), a lake prefix per mode.
        bucket = f"follow-bench-{os.getpid()}"
        deadline = time.time() + 90
        while not s3.request("PUT", bucket):
            if time.time() > deadline or weed.poll() is not None:
                print((work / "weed.log").read_text()[-3000:], file=sys.stderr)
                sys.exit("the bench's weed did not come up (its log above)")
            time.sleep(0.5)
        s3.complained = False
        for mode in args.modes.split(","):
            results.append(run_mode(mode, args, s3, bucket, events_port, weed_env, work))
            print(json.dumps(results[-1]), file=sys.stderr)
    finally:
        weed.terminate()
        weed.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"rate": args.rate, "seconds": args.seconds, "sweep": args.sweep,
                      "burst": args.burst, "rewrite_gap": args.rewrite_gap,
                      "bin": str(args.bin), "follower_args": args.follower_arg,
                      "results": results}, indent=1))


if __name__ == "__main__":
    main()
