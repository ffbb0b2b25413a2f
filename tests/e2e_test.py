#!/usr/bin/env python3
"""End to end, through the binaries as Airflow and a person use them:
scout-genlake -> scout-ingest -> scout-server -> grpcurl and scoutctl, then a
second day (--advance) -> scout-ingest -> updated like counts served.
Values are checked against the lake files themselves.

Usage: e2e_test.py BIN_DIR   (needs SCOUT_ES_URL; grpcurl from SCOUT_GRPCURL)
"""
import datetime
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
from search_bench import es_url, listening_address  # noqa: E402  (one way to start a server)

BIN = pathlib.Path(sys.argv.pop(1)) if len(sys.argv) > 1 else None
ES_URL = es_url() if os.environ.get("SCOUT_ES_URL") else ""
PG_DSN = os.environ.get("SCOUT_PG_DSN", "")
GRPCURL = os.environ.get("SCOUT_GRPCURL", "grpcurl")
PROTOS = pathlib.Path(__file__).resolve().parent.parent / "protos"
TODAY = "2026-11-20"
NOW = ["2026-11-20T18:00:00Z", "2026-11-21T18:00:00Z"]


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


WINDOW_START = parse_time(NOW[0].replace("Z", "+0000")) - datetime.timedelta(days=180)


def run(*args, env=None):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          env=env, timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"{args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def lake_posts(lake):
    """Well-formed post files of the lake, by post id."""
    posts = {}
    for path in (lake / "instagram_graph/posts").rglob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            continue
        try:
            parse_time(data.get("timestamp", ""))
        except ValueError:
            continue
        if isinstance(data.get("like_count", 0), int):
            posts[data["id"]] = data
    return posts


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not ES_URL or not PG_DSN:
            raise AssertionError("SCOUT_ES_URL / SCOUT_PG_DSN not set: run through scripts/test")
        cls.root = pathlib.Path(tempfile.mkdtemp(prefix="scout-e2e-"))
        cls.lake = cls.root / "lake"
        cls.prefix = f"e2e-{os.getpid()}"
        cls.database = cls.prefix.replace("-", "_")
        run("psql", PG_DSN, "-qc", f"DROP DATABASE IF EXISTS {cls.database}")
        run("psql", PG_DSN, "-qc", f"CREATE DATABASE {cls.database}")
        cls.env = dict(os.environ, SCOUT_LAKE=str(cls.lake), SCOUT_MEDIA=str(cls.root / "media"),
                       SCOUT_STATE=str(cls.root / "state"), SCOUT_INDEX_PREFIX=cls.prefix,
                       # genlake's pictures are local files: allowed explicitly.
                       SCOUT_MEDIA_SOURCE_ALLOW=f"file://{os.path.abspath(cls.root / 'cdn')}/",
                       SCOUT_PG_DSN=f"{PG_DSN} dbname={cls.database}")
        cls.generated = json.loads(run(
            BIN / "scout-genlake", "--lake", cls.lake, "--cdn", cls.root / "cdn",
            "--users", 25, "--days", 45, "--today", TODAY, "--seed", 5,
            "--image_size", 48, "--malformed_rate", 0.03))
        cls.day1 = json.loads(run(BIN / "scout-ingest", "--now", NOW[0], env=cls.env))
        cls.aggregated = json.loads(run(BIN / "scout-aggregate", "--from", "2026-11-14", "--to",
                                        TODAY, "--now", NOW[0], env=cls.env))
        cls.server = None
        cls.start_server(NOW[0])

    @classmethod
    def start_server(cls, now):
        if cls.server:
            cls.server.terminate()
            cls.server.wait(timeout=20)
        cls.server = subprocess.Popen(
            [BIN / "scout-server", "--listen", "127.0.0.1:0", "--now", now],
            env=cls.env, stderr=subprocess.PIPE, text=True)
        cls.address = listening_address(cls.server)

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.terminate()
            cls.server.wait(timeout=20)
        # Elasticsearch refuses wildcard deletes: name each index.
        listed = subprocess.run(["curl", "-s", f"{ES_URL}/_cat/indices/{cls.prefix}-*,"
                                 f"{cls.prefix}.quarantine*?h=index"], capture_output=True, text=True)
        for index in listed.stdout.split():
            subprocess.run(["curl", "-s", "-XDELETE", f"{ES_URL}/{index}"], capture_output=True)
        shutil.rmtree(cls.root, ignore_errors=True)
        subprocess.run(["psql", PG_DSN, "-qc", f"DROP DATABASE IF EXISTS {cls.database} WITH (FORCE)"],
                       capture_output=True)

    def grpcurl(self, method, request):
        out = run(GRPCURL, "-plaintext", "-d", json.dumps(request), self.address,
                  f"scout.v1.BrandService/{method}")
        return json.loads(out)

    def test_1_ingest_report_accounts_for_every_file(self):
        r = self.day1
        malformed = sum(self.generated["malformed"].values())
        self.assertEqual(int(r["files_quarantined"]), malformed)
        self.assertEqual(int(r["posts_indexed"]) + int(r["files_too_old"]) +
                         int(r["files_quarantined"]), int(r["files_listed"]))
        self.assertGreater(int(r["posts_indexed"]), 100)
        self.assertEqual(r["error"], "")

    def test_2_grpcurl_lists_and_describes_without_protos(self):
        services = run(GRPCURL, "-plaintext", self.address, "list").split()
        self.assertIn("scout.v1.BrandService", services)
        self.assertIn("grpc.health.v1.Health", services)
        described = run(GRPCURL, "-plaintext", self.address, "describe",
                        "scout.v1.SearchPostsRequest")
        self.assertIn("page_token", described)

    def test_3_search_returns_the_lake_values(self):
        posts = lake_posts(self.lake)
        # Newest first: compare every returned post with its file.
        answer = self.grpcurl("SearchPosts", {"sort": "SORT_ORDER_RECENT", "page_size": 30})
        self.assertEqual(len(answer["posts"]), 30)
        times = [p["timestamp"] for p in answer["posts"]]
        self.assertEqual(times, sorted(times, reverse=True))
        for post in answer["posts"]:
            raw = posts[post["id"]]
            self.assertEqual(post.get("caption", ""), raw.get("caption", ""))
            if "like_count" in raw:
                self.assertEqual(int(post["like_count"]), raw["like_count"])
            else:
                self.assertNotIn("like_count", post)
            self.assertEqual("reach" in post, "reach" in raw)
            self.assertTrue(post["media_url"].startswith("file://"))
            self.assertTrue(pathlib.Path(post["media_url"][7:]).is_file())

    def test_4_hashtags_match_across_case_and_accents(self):
        posts = lake_posts(self.lake)
        want = {pid for pid, p in posts.items()
                if re.search(r"#caf[eé]\b", p.get("caption", ""), re.IGNORECASE)
                or re.search(r"(^|,)\s*caf[eé]\s*(,|$)", p.get("hashtags", ""), re.IGNORECASE)}
        self.assertTrue(want, "the generated lake should use #Café")
        for spelling in ["Café", "#cafe", "CAFÉ"]:
            got = set()
            request = {"hashtags": [spelling], "page_size": 100}
            while True:
                answer = self.grpcurl("SearchPosts", request)
                got |= {p["id"] for p in answer.get("posts", [])}
                if not answer.get("next_page_token"):
                    break
                request["page_token"] = answer["next_page_token"]
            in_window = {pid for pid in want if parse_time(posts[pid]["timestamp"]) >= WINDOW_START}
            self.assertEqual(got, in_window, spelling)

    def test_5_scoutctl_prints_for_people_and_machines(self):
        env = dict(self.env, SCOUT_SERVER=self.address)
        machine = json.loads(run(BIN / "scoutctl", "search", "--hashtags", "cafe",
                                 "--page_size", "3", "--json", env=env))
        self.assertEqual(len(machine["posts"]), 3)
        person = run(BIN / "scoutctl", "search", "--hashtags", "cafe", "--page_size", "3", env=env)
        self.assertIn(f'{machine["total_size"]} posts', person)
        self.assertIn("@" + machine["posts"][0]["username"], person)
        self.assertIn("more: --page_token", person)

    def test_6_bad_requests_are_invalid_argument(self):
        done = subprocess.run([GRPCURL, "-plaintext", "-d", '{"page_token": "forged"}', self.address,
                               "scout.v1.BrandService/SearchPosts"], capture_output=True, text=True)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("InvalidArgument", done.stderr)
        self.assertIn("page_token", done.stderr)

    def test_6b_profiles_carry_the_stats_files(self):
        r = self.aggregated
        self.assertEqual(r["error"], "")
        self.assertEqual(len(r["dates"]), 7)
        self.assertEqual(int(r["facts_written"]), 7 * 25)
        stats_dir = self.lake / "instagram_graph/stats"
        creator = sorted(p.name for p in stats_dir.iterdir())[3]
        files = {p.stem: json.loads(p.read_text(encoding="utf-8"))
                 for p in (stats_dir / creator).glob("*.json") if "2026-11-14" <= p.stem <= TODAY}
        profile = self.grpcurl("GetUserProfile", {"user_id": creator})
        self.assertEqual(profile["id"], creator)
        self.assertEqual(int(profile["followers_count"]), files[TODAY]["followers_count"])
        self.assertEqual([d["date"] for d in profile["daily"]], sorted(files))
        self.assertEqual([int(d["followers"]) for d in profile["daily"]],
                         [files[d]["followers_count"] for d in sorted(files)])
        self.assertEqual("impressions" in profile["daily"][0], "impressions" in files[TODAY])
        self.assertEqual(profile.get("username"), files[TODAY]["username"])
        self.assertTrue(profile["profile_picture_url"].startswith("file://"))
        self.assertTrue(pathlib.Path(profile["profile_picture_url"][7:]).is_file())
        person = run(BIN / "scoutctl", "profile", creator, env=dict(self.env, SCOUT_SERVER=self.address))
        self.assertIn("@" + files[TODAY]["username"], person)
        self.assertRegex(person, "followers +[▁▂▃▄▅▆▇█]{7} ")
        done = subprocess.run([GRPCURL, "-plaintext", "-d", '{"user_id": "1"}', self.address,
                               "scout.v1.BrandService/GetUserProfile"], capture_output=True, text=True)
        self.assertIn("NotFound", done.stderr)

    def test_7_next_day_updates_likes_and_skips_the_unchanged(self):
        before = lake_posts(self.lake)
        advanced = json.loads(run(BIN / "scout-genlake", "--advance", "--lake", self.lake))
        day2 = json.loads(run(BIN / "scout-ingest", "--now", NOW[1], env=self.env))
        self.assertEqual(day2["error"], "")
        self.assertGreater(int(day2["files_unchanged"]), 0)
        self.assertGreater(int(day2["files_untouched"]), 0)
        self.assertGreaterEqual(int(day2["posts_indexed"]), int(advanced["files"]["posts_new"]))
        self.assertLess(int(day2["posts_indexed"]), int(advanced["files"]["posts_rewritten"]))
        after = lake_posts(self.lake)
        grown = [pid for pid, p in after.items()
                 if pid in before and p.get("like_count") != before[pid].get("like_count")]
        self.assertTrue(grown)
        self.start_server(NOW[1])
        for pid in grown[:10]:
            owner = after[pid]["owner"]["id"]
            answer = self.grpcurl("SearchPosts", {"owner_ids": [owner], "page_size": 100})
            served = {p["id"]: p for p in answer["posts"]}
            self.assertEqual(int(served[pid]["like_count"]), after[pid]["like_count"])

    def test_8_a_production_server_wants_keys_counts_calls_and_drains(self):
        keys = self.root / "api-keys"
        keys.write_text("# sha256 of the key, name\n" +
                        hashlib.sha256(b"k-e2e").hexdigest() + "  e2e\n")
        server = subprocess.Popen(
            [BIN / "scout-server", "--listen", "127.0.0.1:0", "--now", NOW[1],
             "--api_keys", keys, "--metrics_listen", "127.0.0.1:0"],
            env=self.env, stderr=subprocess.PIPE, text=True)
        log = []
        try:
            address = listening_address(server, log)
            call = [GRPCURL, "-plaintext", "-import-path", PROTOS, "-proto", "scout/v1/service.proto",
                    "-d", json.dumps({"hashtags": ["cafe"], "page_size": 3}), address,
                    "scout.v1.BrandService/SearchPosts"]
            refused = subprocess.run(call, capture_output=True, text=True)
            self.assertIn("Unauthenticated", refused.stderr)
            answer = json.loads(run(*call[:1], "-H", "authorization: Bearer k-e2e", *call[1:]))
            # The same posts as the open server (after test 7, on day 2).
            want = self.grpcurl("SearchPosts", {"hashtags": ["cafe"], "page_size": 3})["posts"]
            self.assertEqual([(p["id"], p["caption"]) for p in answer["posts"]],
                             [(p["id"], p["caption"]) for p in want])
            scoutctl = subprocess.run([BIN / "scoutctl", "--server", address, "search",
                                       "--hashtags", "cafe", "--json"], capture_output=True,
                                      text=True, env=dict(self.env, SCOUT_API_KEY="k-e2e"))
            self.assertEqual(scoutctl.returncode, 0, scoutctl.stderr)
            listing = subprocess.run([GRPCURL, "-plaintext", address, "list"],
                                     capture_output=True, text=True)
            # With keys, reflection is off by default: grpcurl says so, rather
            # than failing for any other reason (say, a refused key).
            self.assertNotEqual(listing.returncode, 0)
            self.assertIn("server does not support the reflection API", listing.stderr)

            started = next(json.loads(l) for l in log if "listening on" in l)
            metrics_address = started["metrics"]
            metrics = urllib.request.urlopen(f"http://{metrics_address}/metrics").read().decode()
            self.assertRegex(metrics, r'scout_rpc_requests_total\{code="UNAUTHENTICATED",'
                                      r'method="SearchPosts"\} 1\b')
            self.assertRegex(metrics, r'scout_rpc_requests_total\{code="OK",'
                                      r'method="SearchPosts"\} 2\b')
        finally:
            server.terminate()
            code = server.wait(timeout=30)
        self.assertEqual(code, 0)
        lines = [json.loads(l) for l in log]  # Every line is one JSON object.
        calls = [l for l in lines if l["msg"] == "rpc"]
        self.assertEqual([c["code"] for c in calls], ["UNAUTHENTICATED", "OK", "OK"])
        self.assertEqual(len({c["request_id"] for c in calls}), 3)

        # A key file or a certificate that is not there: bad configuration
        # (exit 2, "fix it first"), not a backend failure (exit 1, "retry").
        missing = self.root / "no-such-file"
        for flags in (["--api_keys", missing], ["--tls_cert", missing, "--tls_key", missing]):
            done = subprocess.run([BIN / "scout-server", "--listen", "127.0.0.1:0", *flags],
                                  env=self.env, capture_output=True, text=True, timeout=60)
            self.assertEqual(done.returncode, 2, done.stderr[-2000:])
            self.assertIn(str(missing), done.stderr)
        self.assertEqual(calls[1]["client"], "e2e")
        self.assertEqual([l["msg"] for l in lines[-2:]], ["draining", "stopped"])
        self.assertTrue(started["api_keys"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
