#!/usr/bin/env python3
"""Workers killed with SIGKILL at arbitrary points, or stopped with SIGTERM,
then run again, end in exactly the state of an undisturbed run: nothing
lost, nothing duplicated.

Usage: crash_test.py BIN_DIR   (needs SCOUT_ES_URL and SCOUT_PG_DSN)
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
from search_bench import es_url  # noqa: E402  (SCOUT_ES_URL may list several nodes)

BIN = pathlib.Path(sys.argv.pop(1))
ES_URL = es_url() if os.environ.get("SCOUT_ES_URL") else ""
PG_DSN = os.environ.get("SCOUT_PG_DSN", "")
NOW = "2026-11-20T18:00:00Z"
KILL_AFTER = [0.05, 0.2, 0.5, 1.0]  # Seconds into a run.


def es(path, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{ES_URL}/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))


def psql(dsn, sql):
    return subprocess.run(["psql", dsn, "-Atqc", sql], check=True, capture_output=True,
                          text=True).stdout


class CrashTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not ES_URL or not PG_DSN:
            raise AssertionError("SCOUT_ES_URL / SCOUT_PG_DSN not set: run through scripts/test")
        cls.root = pathlib.Path(tempfile.mkdtemp(prefix="scout-crash-"))
        subprocess.run([BIN / "scout-genlake", "--lake", cls.root / "lake", "--cdn",
                        cls.root / "cdn", "--users", "60", "--days", "40", "--today",
                        "2026-11-20", "--seed", "9", "--image-size", "32",
                        "--malformed-rate", "0.02"], check=True, capture_output=True)
        cls.tag = f"crash-{os.getpid()}"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        for index in es(f"_cat/indices/{cls.tag}*?format=json&h=index"):
            es(index["index"], method="DELETE")
        for db in psql(PG_DSN, f"SELECT datname FROM pg_database WHERE datname LIKE "
                               f"'{cls.tag.replace('-', '_')}%'").split():
            psql(PG_DSN, f"DROP DATABASE {db} WITH (FORCE)")

    def env(self, name):
        database = f"{self.tag}_{name}".replace("-", "_")
        psql(PG_DSN, f"DROP DATABASE IF EXISTS {database}")
        psql(PG_DSN, f"CREATE DATABASE {database}")
        return dict(os.environ, SCOUT_LAKE=str(self.root / "lake"),
                    SCOUT_MEDIA=str(self.root / name / "media"),
                    SCOUT_STATE=str(self.root / name / "state"),
                    SCOUT_MEDIA_SOURCE_ALLOW=f"file://{os.path.abspath(self.root / 'cdn')}/",
                    SCOUT_INDEX_PREFIX=f"{self.tag}-{name}",
                    SCOUT_PG_DSN=f"{PG_DSN} dbname={database}", SCOUT_NOW=NOW)

    def run_to_end(self, args, env):
        done = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        return json.loads(done.stdout)

    def kill_during(self, args, env, after, committed=False):
        """SIGKILLs the worker `after` seconds into its run, or, with
        `committed`, `after` seconds past its first committed ingest batch
        (timing alone is at the mercy of the machine's load)."""
        started = time.time_ns()
        process = subprocess.Popen([str(a) for a in args], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        if committed:
            self.wait_for_commit(env, started, process)
        time.sleep(after)
        process.kill()
        process.wait()

    def wait_for_commit(self, env, started, process):
        """Until the ingest journal has a batch written after `started`."""
        journal = pathlib.Path(
            env["SCOUT_STATE"], f'ingest-{env["SCOUT_INDEX_PREFIX"]}-shard-0-of-1.ckpt.journal')
        deadline = time.monotonic() + 60
        while True:
            if journal.exists():
                stat = journal.stat()
                if stat.st_mtime_ns >= started and stat.st_size > 0:
                    return
            if process.poll() is not None:
                # It committed and compacted (emptying the journal) between
                # two polls and finished: nothing left to kill in.
                self.assertEqual(process.returncode, 0, "the worker failed before a commit")
                return
            self.assertLess(time.monotonic(), deadline, "no batch committed within 60 s")
            time.sleep(0.01)

    def posts(self, env):
        prefix = env["SCOUT_INDEX_PREFIX"]
        es(f"{prefix}*/_refresh", method="POST")
        hits = es(f"{prefix}/_search", {"size": 10000, "sort": [{"id": "asc"}],
                                        "_source": ["id", "like_count", "comments_count",
                                                    "caption", "media_url", "lake_key"]})
        # Runs differ only in names: index prefix and media folder.
        media = f'file://{env["SCOUT_MEDIA"]}/'
        docs = [(h["_index"].removeprefix(prefix),
                 dict(h["_source"], media_url=h["_source"].get("media_url", "").removeprefix(media)))
                for h in hits["hits"]["hits"]]
        quarantine = es(f"{prefix}.quarantine/_search", {"size": 10000, "sort": [{"key": "asc"}],
                                                         "_source": ["key", "reason"]})
        return docs, [h["_source"] for h in quarantine["hits"]["hits"]]

    def loads(self, env):
        """Rows in load_versions (one per day loaded); 0 before the first migration."""
        try:
            return int(psql(env["SCOUT_PG_DSN"], "SELECT COUNT(*) FROM load_versions"))
        except subprocess.CalledProcessError:
            return 0

    def tables(self, env):
        dsn = env["SCOUT_PG_DSN"]
        return {
            "stats": psql(dsn, "SELECT creator_id, day, followers_count, impressions, reach, "
                               "is_business FROM creator_daily_stats ORDER BY 1, 2"),
            "facts": psql(dsn, "SELECT creator_id, as_of, followers_count, daily_json, doc_count, "
                               "fol_avg, eng_avg, palette_json FROM profile_facts ORDER BY 1"),
            "quarantine": psql(dsn, "SELECT source_key, reason FROM stats_quarantine ORDER BY 1"),
        }

    def undisturbed_ingest(self):
        if not hasattr(CrashTest, "ingested"):
            reference = self.env("ingest-ref")
            self.run_to_end([BIN / "scout-ingest"], reference)
            CrashTest.ingested = self.posts(reference)
        self.assertGreater(len(CrashTest.ingested[0]), 500)
        return CrashTest.ingested

    def test_ingest_killed_then_rerun_matches_an_undisturbed_run(self):
        want = self.undisturbed_ingest()

        env = self.env("ingest-killed")
        partial = []
        for n, after in enumerate(KILL_AFTER):
            self.kill_during([BIN / "scout-ingest", "--batch", "100"], env, after,
                             committed=n >= 2)
            try:
                partial.append(len(self.posts(env)[0]))
            except urllib.error.HTTPError:  # Killed before the first index existed.
                partial.append(0)
        # The kills did land mid-run: some but not all posts were in.
        self.assertTrue(any(0 < n < len(want[0]) for n in partial), partial)
        report = self.run_to_end([BIN / "scout-ingest"], env)
        self.assertEqual(report["error"], "")
        self.assertEqual(self.posts(env), want)

    def test_ingest_stopped_by_sigterm_between_batches_then_rerun(self):
        want = self.undisturbed_ingest()
        env = self.env("ingest-stopped")
        started = time.time_ns()
        process = subprocess.Popen([str(BIN / "scout-ingest"), "--batch", "20"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wait_for_commit(env, started, process)
        process.terminate()
        out, err = process.communicate(timeout=60)
        # Exit 1 ("run again"), with the report saying why.
        self.assertEqual(process.returncode, 1, err[-2000:])
        report = json.loads(out)
        self.assertIn("interrupted by a signal between batches", report["error"])
        done = int(report["posts_indexed"])
        self.assertGreater(done, 0, report)
        self.assertLess(done, len(want[0]), report)
        # Stopped between batches: exactly the batches it reported are in.
        self.assertEqual(len(self.posts(env)[0]), done)
        self.assertEqual(json.loads(err.strip().splitlines()[-1])["exit_code"], 1)

        report = self.run_to_end([BIN / "scout-ingest"], env)
        self.assertEqual(report["error"], "")
        self.assertEqual(int(report["posts_indexed"]), len(want[0]) - done)
        self.assertEqual(self.posts(env), want)

    def test_aggregate_killed_then_rerun_matches_an_undisturbed_run(self):
        reference = self.env("agg-ref")
        self.run_to_end([BIN / "scout-ingest", "--no_media"], reference)
        dates = ["--from", "2026-11-14", "--to", "2026-11-20"]
        self.run_to_end([BIN / "scout-aggregate", "--no_pictures", *dates], reference)
        want = self.tables(reference)
        self.assertEqual(len(want["facts"].splitlines()), 60)

        env = self.env("agg-killed")
        self.run_to_end([BIN / "scout-ingest", "--no_media"], env)
        # Every run loads the 7 days from the first, so each kill's own
        # increment shows where it landed: before any load, or after k of them
        # (never all 7: the run was cut). Kills follow the loads, not a
        # clock, so they land mid-run however fast the machine is.
        args = [str(a) for a in [BIN / "scout-aggregate", "--no_pictures", *dates]]
        added = []
        for loads in [0, 1, 3, 5]:
            before = self.loads(env)
            process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while loads and self.loads(env) < before + loads:
                self.assertIsNone(process.poll(), f"the run ended before {loads} loads")
                self.assertLess(time.monotonic(), deadline, f"no {loads} loads within 60 s")
                time.sleep(0.01)
            self.assertIsNone(process.poll(), "the run ended before the kill")
            process.kill()
            process.wait()
            added.append(self.loads(env) - before)
        self.assertEqual(added[0], 0, added)                      # Killed before any load ...
        self.assertTrue(all(0 < n < 7 for n in added[1:]), added)  # ... or mid-run, after some.
        report = self.run_to_end([BIN / "scout-aggregate", "--no_pictures", *dates], env)
        self.assertEqual(report["error"], "")
        self.assertEqual(self.tables(env), want)


if __name__ == "__main__":
    unittest.main(verbosity=2)
