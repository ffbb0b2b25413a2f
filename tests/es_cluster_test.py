#!/usr/bin/env python3
"""A node of a 3-node Elasticsearch cluster killed under the workers and the
server (issue 12, section 6), on a cluster of its own: `scripts/services up es
--es-nodes 3` with SCOUT_SERVICES_DIR in a temporary directory, ports pinned,
loopback only, stopped at the end. The shared services are not touched.

scout-ingest and scout-server get every node (SCOUT_ES_URL="a,b,c"). While an
ingest runs and a loop of SearchPosts calls runs, the first node, the one both
talk to, is killed (SIGKILL):
- every search started after the kill answers, with posts as in the lake;
- the ingest loses nothing: after a rerun the index holds exactly the lake's
  posts, none twice; searched page by page while the node is still down, it
  gives the same;
- the node comes back (`services up es` starts it where it was): the cluster
  is green again with 3 nodes, every index with its replica, the same answers.

Usage: es_cluster_test.py BIN_DIR   (grpcurl from SCOUT_GRPCURL or .scout/bin/grpcurl)
"""
import datetime
import json
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
from search_bench import listening_address  # noqa: E402  (one way to start a server)

BIN = pathlib.Path(sys.argv.pop(1)) if len(sys.argv) > 1 else None
ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVICES = ROOT / "scripts" / "services"
GRPCURL = os.environ.get("SCOUT_GRPCURL") or str(ROOT / ".scout" / "bin" / "grpcurl")
NODES = 3
NOW = "2026-11-20T18:00:00Z"
PREFIX = "cluster"
RECENT = {"sort": "SORT_ORDER_RECENT", "page_size": 20}
START = time.monotonic()


def log(what):
    """Progress on stderr, so a slow or stuck phase shows in ctest's output."""
    print(f"[{time.monotonic() - START:6.1f} s] {what}", file=sys.stderr, flush=True)


def free_ports(count):
    """Distinct ports outside the ephemeral range (a node restarted must get its own back)."""
    ports = set()
    while len(ports) < count:
        port = random.randrange(20000, 30000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.add(port)
    return sorted(ports)


def pid_alive(pid):
    """Alive and not a zombie (where pid 1 does not reap, a killed daemon lingers as one)."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return re.search(r"^State:\s+Z", status, re.M) is None


def lake_posts(lake):
    """Post id -> the post file, for every post of the lake within the 180-day
    search window (the lake is generated without malformed files, so those
    are exactly the posts to index)."""
    window_start = (datetime.datetime.strptime(NOW, "%Y-%m-%dT%H:%M:%S%z")
                    - datetime.timedelta(days=180))
    posts = {}
    for path in (lake / "instagram_graph/posts").rglob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["id"] not in posts, f"two files for post {data['id']}"
        if datetime.datetime.strptime(data["timestamp"], "%Y-%m-%dT%H:%M:%S%z") >= window_start:
            posts[data["id"]] = data
    return posts


def run_json(*args, env=None, timeout=300):
    done = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


class Cluster:
    """A separate scripts/services instance running Elasticsearch only, as a
    cluster whose ports are pinned in its env file up front."""

    def __init__(self, state):
        self.state = state
        self.urls = []

    def run(self, *args, timeout=600):
        done = subprocess.run([SERVICES, *args], capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, SCOUT_SERVICES_DIR=str(self.state)))
        if done.returncode != 0:
            raise AssertionError(f"services {' '.join(args)} exited {done.returncode}: "
                                 f"{done.stderr[-3000:]}")
        return done.stdout

    def pin_ports(self):
        (self.state / "es-cluster").mkdir(parents=True)
        ports = free_ports(2 * NODES)
        lines = [f"ES_NODES={NODES}"]
        for i in range(NODES):
            lines += [f"ES_HTTP_{i + 1}={ports[2 * i]}", f"ES_TRANSPORT_{i + 1}={ports[2 * i + 1]}"]
        (self.state / "es-cluster" / "env").write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:  # The services run as user scout, who writes there.
            for path in (self.state, self.state / "es-cluster", self.state / "es-cluster" / "env"):
                shutil.chown(path, user="scout")

    def up(self):
        out = self.run("up", "es", "--es-nodes", str(NODES))
        urls = re.search(r"export SCOUT_ES_URL=(\S+)", out).group(1).split(",")
        if self.urls and urls != self.urls:
            raise AssertionError(f"the cluster came back elsewhere: {urls}, was {self.urls}")
        self.urls = urls
        log(f"cluster up: {','.join(urls)}")

    def down(self):
        self.run("down", "es")

    def node_pid(self, node):
        """The pid of node `node` (1-based)."""
        pid = int((self.state / "es-cluster" / f"node{node}" / "run" / "es.pid").read_text())
        cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"org.elasticsearch" in cmdline, f"pid {pid} is not our Elasticsearch"
        return pid

    def kill(self, node):
        pid = self.node_pid(node)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while pid_alive(pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"Elasticsearch {pid} still alive 30 s after SIGKILL")
            time.sleep(0.05)
        log(f"node scout-{node} ({pid}) killed")


def clean_leftovers():
    """Clusters of earlier runs killed before their cleanup (a ctest timeout, say)."""
    for owner in pathlib.Path(tempfile.gettempdir()).glob("scout-cluster-*/owner.pid"):
        try:
            pid = int(owner.read_text())
            if b"es_cluster_test" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes():
                continue  # Another run, still going.
        except (OSError, ValueError):
            pass
        subprocess.run([SERVICES, "down", "es"], capture_output=True, timeout=240,
                       env=dict(os.environ, SCOUT_SERVICES_DIR=str(owner.parent / "services")))
        shutil.rmtree(owner.parent, ignore_errors=True)


class Searches(threading.Thread):
    """SearchPosts in a loop until stopped: (start, end, code, answer) per call."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.calls, self.stopping = call, [], threading.Event()

    def run(self):
        while not self.stopping.is_set():
            start = time.monotonic()
            code, answer = self.call("SearchPosts", RECENT)
            self.calls.append((start, time.monotonic(), code, answer))
            time.sleep(0.1)


class ClusterFaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        clean_leftovers()
        cls.root = pathlib.Path(tempfile.mkdtemp(prefix="scout-cluster-"))
        cls.root.chmod(0o755)  # The services run as user scout, who must reach their dirs.
        (cls.root / "owner.pid").write_text(str(os.getpid()))
        cls.server = None
        cls.cluster = Cluster(cls.root / "services")
        cls.addClassCleanup(cls.cleanup)
        cls.cluster.pin_ports()
        cls.cluster.up()

        cls.lake = cls.root / "lake"
        run_json(BIN / "scout-genlake", "--lake", cls.lake, "--cdn", cls.root / "cdn",
                 "--users", 40, "--days", 40, "--today", "2026-11-20", "--seed", 12,
                 "--image_size", 16, "--malformed_rate", 0)
        cls.posts = lake_posts(cls.lake)
        log(f"lake of {len(cls.posts)} posts")
        cls.env = dict(os.environ, SCOUT_ES_URL=",".join(cls.cluster.urls),
                       SCOUT_LAKE=str(cls.lake), SCOUT_MEDIA=str(cls.root / "media"),
                       SCOUT_STATE=str(cls.root / "state"),
                       SCOUT_MEDIA_SOURCE_ALLOW=f"file://{os.path.abspath(cls.root / 'cdn')}/",
                       SCOUT_INDEX_PREFIX=PREFIX, SCOUT_NOW=NOW)
        cls.env.pop("SCOUT_PG_DSN", None)  # Search only: no warehouse.
        cls.server = subprocess.Popen([BIN / "scout-server", "--listen", "127.0.0.1:0"],
                                      env=cls.env, stderr=subprocess.PIPE, text=True)
        cls.address = listening_address(cls.server)

    @classmethod
    def cleanup(cls):
        if cls.server is not None:
            cls.server.terminate()
            try:
                cls.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cls.server.kill()
                cls.server.wait()
        try:
            cls.cluster.down()
        finally:
            shutil.rmtree(cls.root, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------

    def es(self, path, body=None, method=None, node=None):
        """A call to one node (by default any live one)."""
        data = json.dumps(body).encode() if body is not None else None
        urls = [self.cluster.urls[node - 1]] if node else self.cluster.urls
        for url in urls:
            request = urllib.request.Request(f"{url}/{path}", data=data, method=method,
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=120) as answer:
                    return json.load(answer)
            except urllib.error.URLError as error:
                if isinstance(error, urllib.error.HTTPError) or url == urls[-1]:
                    raise
        raise AssertionError("no node")

    def indexed(self):
        try:
            self.es(f"{PREFIX}*/_refresh", method="POST")
            return self.es(f"{PREFIX}/_count")["count"]
        except urllib.error.HTTPError:  # No index yet.
            return 0

    def call(self, method, request, max_time=5):
        """(status code name, answer or message) of one call through grpcurl."""
        done = subprocess.run([GRPCURL, "-plaintext", "-max-time", str(max_time), "-d",
                               json.dumps(request), self.address, f"scout.v1.BrandService/{method}"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            return "OK", json.loads(done.stdout)
        code = re.search(r"Code: (\w+)", done.stderr)
        return code.group(1) if code else f"grpcurl exit {done.returncode}", done.stderr.strip()

    def assert_lake_post(self, post):
        """A post as served: the values of its lake file."""
        raw = self.posts.get(post["id"])
        self.assertIsNotNone(raw, f"post {post['id']} is not in the lake")
        self.assertEqual(post.get("caption", ""), raw.get("caption", ""), post["id"])
        self.assertEqual(int(post.get("like_count", 0)), raw.get("like_count", 0), post["id"])
        self.assertEqual(post["timestamp"][:19], raw["timestamp"][:19], post["id"])

    def search_everything(self):
        """Every post through SearchPosts, newest first, page by page: id -> post."""
        request, found, pages = {"sort": "SORT_ORDER_RECENT", "page_size": 100}, {}, 0
        while True:
            code, answer = self.call("SearchPosts", request)
            self.assertEqual(code, "OK", answer)
            self.assertEqual(int(answer["total_size"]), len(self.posts))
            for post in answer.get("posts", []):
                self.assertNotIn(post["id"], found, "a post on two pages")
                found[post["id"]] = post
            pages += 1
            if not answer.get("next_page_token"):
                return found
            request["page_token"] = answer["next_page_token"]
            self.assertLess(pages, 100)

    def assert_index_is_the_lake(self):
        """The posts in Elasticsearch are the lake's: the same ids, once each, same values."""
        self.es(f"{PREFIX}*/_refresh", method="POST")
        self.assertEqual(self.es(f"{PREFIX}/_count")["count"], len(self.posts))
        ids, after = [], None
        while True:
            body = {"size": 1000, "sort": [{"id": "asc"}], "_source": ["id", "like_count"]}
            if after:
                body["search_after"] = after
            hits = self.es(f"{PREFIX}/_search", body)["hits"]["hits"]
            if not hits:
                break
            for hit in hits:
                ids.append(hit["_id"])
                self.assertEqual(int(hit["_source"].get("like_count", 0)),
                                 self.posts[hit["_id"]].get("like_count", 0), hit["_id"])
            after = hits[-1]["sort"]
        self.assertEqual(len(ids), len(set(ids)), "a post indexed twice")
        self.assertEqual(set(ids), set(self.posts))

    def shards(self):
        """(index, primary?, state, node) of every copy of our indices."""
        rows = self.es(f"_cat/shards/{PREFIX}-*,{PREFIX}.quarantine?format=json&h=index,prirep,state,node")
        return [(r["index"], r["prirep"] == "p", r["state"], r["node"]) for r in rows]

    # --- the fault -------------------------------------------------------------------

    def test_node_killed_during_ingest_and_search(self):
        total = len(self.posts)
        self.assertGreater(total, 500)
        ingest = subprocess.Popen([BIN / "scout-ingest", "--batch", "50"], env=self.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        searches = Searches(self.call)
        try:
            # Kill once a third of the lake is in: mid-run. The ingest is paused around
            # the kill so that, on a loaded machine, it cannot finish in between.
            deadline = time.monotonic() + 120
            while ingest.poll() is None and self.indexed() < total // 3:
                self.assertLess(time.monotonic(), deadline, "the ingest indexed little in 120 s")
                time.sleep(0.05)
            self.assertIsNone(ingest.poll(), "the ingest finished before the kill")
            searches.start()
            time.sleep(1)
            ingest.send_signal(signal.SIGSTOP)
            copies = self.shards()
            # Every index of ours has its replica on the cluster (auto_expand_replicas).
            for index in {c[0] for c in copies}:
                self.assertEqual(len([c for c in copies if c[0] == index]), 2, copies)
            on_victim = [c for c in copies if c[3] == "scout-1"]
            self.assertTrue(on_victim, copies)
            log(f"killing scout-1, which holds {len(on_victim)} of {len(copies)} copies "
                f"({len([c for c in on_victim if c[1]])} primaries); "
                f"{self.indexed()} of {total} posts in")
            killed_at = time.monotonic()
            self.cluster.kill(1)
            ingest.send_signal(signal.SIGCONT)
            out, err = ingest.communicate(timeout=300)
            log(f"the ingest went on and exited {ingest.returncode}: {out.strip()[-300:]}")
            time.sleep(2)  # Searches with the node gone and the ingest over.
        finally:
            searches.stopping.set()
            if ingest.poll() is None:
                ingest.kill()
                ingest.wait()
        searches.join(timeout=60)

        # Searches: only a call in flight at the kill may have failed; every one
        # started after it answered, with the lake's values.
        after = [c for c in searches.calls if c[0] > killed_at]
        self.assertGreater(len(after), 3, "too few searches while the node was down")
        for start, end, code, answer in after:
            self.assertEqual(code, "OK", f"search at +{start - killed_at:.1f} s: {answer}")
            self.assertEqual(len(answer["posts"]), 20)
            for post in answer["posts"]:
                self.assert_lake_post(post)
        log(f"{len(after)} searches after the kill, all answered "
            f"({len(searches.calls) - len(after)} before)")

        # The ingest lost nothing: a rerun (with the node still down) completes, and
        # the index is the lake.
        report = run_json(BIN / "scout-ingest", env=self.env)
        self.assertEqual(report["error"], "")
        self.assert_index_is_the_lake()
        found = self.search_everything()
        self.assertEqual(set(found), set(self.posts))
        for post in found.values():
            self.assert_lake_post(post)
        recent = self.call("SearchPosts", RECENT)
        self.assertEqual(recent[0], "OK", recent[1])
        log("rerun done: the index is the lake, searched with the node down")

        # The node comes back where it was; the cluster heals.
        self.cluster.up()
        health = self.es("_cluster/health?wait_for_status=green&timeout=180s")
        self.assertEqual(health["status"], "green", health)
        self.assertEqual(health["number_of_nodes"], NODES)
        # The returned node gets shards again (recovered, or moved back by the
        # balancer once the other two took over its copies).
        deadline = time.monotonic() + 120
        while True:
            self.es("_cluster/health?wait_for_no_relocating_shards=true&timeout=60s")
            copies = self.shards()
            if any(c[3] == "scout-1" for c in copies) or time.monotonic() > deadline:
                break
            time.sleep(1)
        self.assertTrue(any(c[3] == "scout-1" for c in copies), f"scout-1 holds nothing: {copies}")
        self.assertTrue(all(c[2] == "STARTED" for c in copies), copies)
        for index in {c[0] for c in copies}:
            self.assertEqual(len([c for c in copies if c[0] == index]), 2, copies)
        self.assert_index_is_the_lake()
        self.assertEqual(self.call("SearchPosts", RECENT), recent)
        self.assertEqual(self.es(f"{PREFIX}/_count", node=1)["count"], len(self.posts))
        log("healed: green, 3 nodes, same answers")


if __name__ == "__main__":
    unittest.main(verbosity=2)
