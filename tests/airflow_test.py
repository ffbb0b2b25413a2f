#!/usr/bin/env python3
"""Scout's Airflow DAGs (deploy/airflow) in a real Apache Airflow: they load
with the expected tasks, order and schedules; worker exit codes map to retry
or fail; `airflow dags test` runs the daily DAG against the local services on
a small generated lake (warehouse and Elasticsearch checked afterwards, the
workers' reports found in XCom), a broken configuration fails the run at once,
and the weekly palette DAG fans out over shards, sums their reports and then
rebuilds the creators index (its last task, retried on exit 1 and not on 2/3).
The Kubernetes DAG (scout_k8s.py) loads with one ingest pod per shard when
the cncf-kubernetes provider is there (stood in for: it is not installed).

Airflow comes from scripts/airflow: installed from PyPI once into
.scout/airflow-venv, cached afterwards. Each run has its own AIRFLOW_HOME
(sqlite metadata DB), PostgreSQL database and index prefix.

Usage: airflow_test.py BIN_DIR   (needs SCOUT_ES_URL and SCOUT_PG_DSN)
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
import urllib.request

BIN = pathlib.Path(sys.argv.pop(1)).resolve() if len(sys.argv) > 1 else None
ROOT = pathlib.Path(__file__).resolve().parent.parent
ES_URL = os.environ.get("SCOUT_ES_URL", "")
PG_DSN = os.environ.get("SCOUT_PG_DSN", "")
TODAY = "2026-11-20"
USERS = 20


def es(path):
    return json.load(urllib.request.urlopen(f"{ES_URL}/{path}"))


def psql(dsn, sql):
    return subprocess.run(["psql", dsn, "-Atqc", sql], check=True, capture_output=True,
                          text=True).stdout


class AirflowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not ES_URL or not PG_DSN or BIN is None:
            raise AssertionError("usage: airflow_test.py BIN_DIR with SCOUT_ES_URL / SCOUT_PG_DSN "
                                 "set: run through scripts/test")
        cls.root = pathlib.Path(tempfile.mkdtemp(prefix="scout-airflow-"))
        cls.tag = f"airflow-{os.getpid()}"
        cls.database = cls.tag.replace("-", "_")
        psql(PG_DSN, f"DROP DATABASE IF EXISTS {cls.database}")
        psql(PG_DSN, f"CREATE DATABASE {cls.database}")
        cls.lake = cls.root / "lake"
        subprocess.run([BIN / "scout-genlake", "--lake", cls.lake, "--cdn", cls.root / "cdn",
                        "--users", str(USERS), "--days", "30", "--today", TODAY, "--seed", "11",
                        "--image-size", "32"], check=True, capture_output=True)
        # SCOUT_ES_URL reaches the workers through the inherited environment;
        # the rest through the Variable scout_env, as a deployment would do.
        cls.scout_env = {
            "SCOUT_LAKE": str(cls.lake), "SCOUT_MEDIA": str(cls.root / "media"),
            "SCOUT_STATE": str(cls.root / "state"), "SCOUT_INDEX_PREFIX": cls.tag,
            "SCOUT_MEDIA_SOURCE_ALLOW": f"file://{os.path.abspath(cls.root / 'cdn')}/",
            "SCOUT_PG_DSN": f"{PG_DSN} dbname={cls.database}", "SCOUT_NOW": f"{TODAY}T18:00:00Z",
        }
        cls.env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("AIRFLOW", "SCOUT_"))
                   or k in ("SCOUT_ES_URL", "SCOUT_AIRFLOW_VENV")}
        cls.env.update(AIRFLOW_HOME=str(cls.root / "airflow-home"),
                       AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "deploy/airflow"),
                       AIRFLOW__CORE__LOAD_EXAMPLES="False",
                       # Retries keep their count and backoff, but start at 1 s.
                       AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY="1")
        # The first run installs Airflow (minutes); later runs reuse the venv.
        cls.airflow("db", "migrate", timeout=1200)
        cls.airflow("variables", "set", "scout_bin_dir", str(BIN))
        cls.airflow("variables", "set", "scout_env", json.dumps(cls.scout_env))

    @classmethod
    def tearDownClass(cls):
        listed = subprocess.run(["curl", "-s", f"{ES_URL}/_cat/indices/{cls.tag}-*,"
                                 f"{cls.tag}.quarantine*,{cls.tag}.creators*?h=index"],
                                capture_output=True, text=True)
        for index in listed.stdout.split():  # Elasticsearch refuses wildcard deletes.
            subprocess.run(["curl", "-s", "-XDELETE", f"{ES_URL}/{index}"], capture_output=True)
        subprocess.run(["psql", PG_DSN, "-qc", f"DROP DATABASE IF EXISTS {cls.database} WITH (FORCE)"],
                       capture_output=True)
        shutil.rmtree(cls.root, ignore_errors=True)

    @classmethod
    def airflow(cls, *args, env=None, check=True, timeout=300):
        done = subprocess.run([ROOT / "scripts/airflow", *args], env=env or cls.env,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"airflow {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def python(self, script, env=None):
        """Runs `script` in Airflow's venv; returns the JSON it prints last."""
        out = self.airflow("python", "-c", textwrap.dedent(script), env=env).stdout
        return json.loads(out.strip().splitlines()[-1])

    def states(self, dag_id, date):
        out = self.airflow("tasks", "states-for-dag-run", dag_id, f"manual__{date}T00:00:00+00:00",
                           "-o", "json").stdout
        rows = json.loads(out.strip().splitlines()[-1])
        return {(r["task_id"], r.get("map_index", "")): r["state"] for r in rows}

    def xcoms(self, dag_id, date):
        """XCom return values of a run, by (task_id, map_index)."""
        return {tuple(k.split("|")): v for k, v in self.python(f"""
            import json
            from airflow.models import XCom
            from airflow.utils.session import create_session
            with create_session() as session:
                rows = XCom.get_many(run_id="manual__{date}T00:00:00+00:00", dag_ids="{dag_id}",
                                     key="return_value", session=session).all()
                print(json.dumps({{f"{{x.task_id}}|{{x.map_index}}": x.value for x in rows}}))
            """).items()}

    def test_1_dags_load_with_the_expected_tasks_order_and_schedules(self):
        got = self.python("""
            import json
            from airflow.models import DagBag
            from airflow.models.mappedoperator import MappedOperator
            bag = DagBag(include_examples=False)
            print(json.dumps({"errors": bag.import_errors, "dags": {
                dag_id: {"schedule": dag.schedule_interval, "catchup": dag.catchup,
                         "max_active_runs": dag.max_active_runs,
                         "tasks": {t.task_id: {"downstream": sorted(t.downstream_task_ids),
                                               "mapped": isinstance(t, MappedOperator), "retries": t.retries,
                                               "backoff": t.retry_exponential_backoff,
                                               "doc": t.doc_md or ""}
                                   for t in dag.tasks}}
                for dag_id, dag in bag.dags.items()}}))
            """)
        self.assertEqual(got["errors"], {})
        self.assertEqual(sorted(got["dags"]), ["scout_daily", "scout_weekly_palette"])

        daily = got["dags"]["scout_daily"]
        self.assertEqual((daily["schedule"], daily["catchup"], daily["max_active_runs"]),
                         ("@daily", False, 1))
        self.assertEqual({t: v["downstream"] for t, v in daily["tasks"].items()},
                         {"ingest": ["aggregate"], "aggregate": []})
        for task in daily["tasks"].values():
            self.assertGreaterEqual(task["retries"], 1)
            self.assertTrue(task["backoff"])
        # No task of its own: aggregate writes the index after its load, and says so.
        doc = " ".join(daily["tasks"]["aggregate"]["doc"].split())
        self.assertIn("updates the creators index", doc)

        weekly = got["dags"]["scout_weekly_palette"]
        self.assertEqual((weekly["schedule"], weekly["catchup"]), ("@weekly", False))
        # The full rebuild of the creators index comes last, after every shard.
        self.assertEqual({t: v["downstream"] for t, v in weekly["tasks"].items()},
                         {"shards": ["palette"], "palette": ["summarize"],
                          "summarize": ["rebuild_creators"], "rebuild_creators": []})
        self.assertTrue(weekly["tasks"]["palette"]["mapped"])
        for name in ("palette", "rebuild_creators"):
            self.assertGreaterEqual(weekly["tasks"][name]["retries"], 1, name)
            self.assertTrue(weekly["tasks"][name]["backoff"], name)
        self.assertIn("scout-aggregate --rebuild_creators", weekly["tasks"]["rebuild_creators"]["doc"])

    def test_2_exit_codes_map_to_result_retry_or_fail(self):
        fake = self.root / "fake-bin"
        fake.mkdir()
        scripts = {
            "ok": 'echo progress >&2; echo "{\\"error\\": \\"\\", \\"prefix\\": \\"$SCOUT_INDEX_PREFIX\\"}"',
            "backend-down": 'echo \'{"error": "elasticsearch down"}\'; exit 1',
            "bad-usage": "echo '--lake / SCOUT_LAKE is required' >&2; exit 2",
            "check-failed": 'echo \'{"error": "data-quality check failed"}\'; exit 3',
            "no-report": "echo not json",
        }
        for name, body in scripts.items():
            (fake / name).write_text(f"#!/bin/sh\n{body}\n")
            (fake / name).chmod(0o755)
        # AIRFLOW_VAR_* comes before the metadata DB: the fakes win for this run only.
        got = self.python("""
            import json
            from airflow.exceptions import AirflowException, AirflowFailException
            import scout_workers
            out = {}
            for name in ["ok", "backend-down", "bad-usage", "check-failed", "no-report", "missing"]:
                try:
                    out[name] = scout_workers.run_worker(name)
                except AirflowFailException as e:
                    out[name] = "fail: " + str(e)
                except AirflowException as e:
                    out[name] = "retry: " + str(e)
            print(json.dumps(out))
            """, env=dict(self.env, AIRFLOW_VAR_SCOUT_BIN_DIR=str(fake)))
        self.assertEqual(got["ok"], {"error": "", "prefix": self.tag})  # scout_env applied.
        self.assertEqual(got["backend-down"], "retry: backend-down exited 1: elasticsearch down")
        self.assertTrue(got["bad-usage"].startswith("fail: bad-usage exited 2"), got)
        self.assertEqual(got["check-failed"], "fail: check-failed exited 3: data-quality check "
                         "failed (data-quality check failed: not retried)")
        self.assertTrue(got["no-report"].startswith("fail: "), got)
        self.assertTrue(got["missing"].startswith("fail: cannot run"), got)

    def test_3_daily_dag_runs_ingest_then_aggregate_for_the_logical_date(self):
        self.airflow("dags", "test", "scout_daily", TODAY)
        self.assertEqual(self.states("scout_daily", TODAY),
                         {("ingest", ""): "success", ("aggregate", ""): "success"})

        # The workers' reports are the tasks' XComs.
        xcoms = self.xcoms("scout_daily", TODAY)
        ingest, aggregate = xcoms[("ingest", "-1")], xcoms[("aggregate", "-1")]
        self.assertEqual(ingest["error"], "")
        self.assertGreater(int(ingest["posts_indexed"]), 100)
        self.assertEqual(aggregate["error"], "")
        self.assertEqual(aggregate["dates"], [TODAY])
        self.assertEqual(int(aggregate["facts_written"]), USERS)
        self.assertGreaterEqual(aggregate["started_at"], ingest["finished_at"])

        # Search: every indexed post is in Elasticsearch under the run's prefix.
        es(f"{self.tag}/_refresh")
        self.assertEqual(es(f"{self.tag}/_count")["count"], int(ingest["posts_indexed"]))

        # Warehouse: one fact row per creator as of the logical date, values from the stats files.
        rows = psql(self.scout_env["SCOUT_PG_DSN"],
                    "SELECT creator_id, as_of, username, followers_count, is_business, doc_count "
                    "FROM profile_facts ORDER BY 1").splitlines()
        self.assertEqual(len(rows), USERS)
        stats_dir = self.lake / "instagram_graph/stats"
        self.assertEqual([r.split("|")[0] for r in rows], sorted(p.name for p in stats_dir.iterdir()))
        for row in rows:
            creator, as_of, username, followers, business, docs = row.split("|")
            stats = json.loads((stats_dir / creator / f"{TODAY}.json").read_text(encoding="utf-8"))
            self.assertEqual(as_of, TODAY)
            self.assertEqual(username, stats["username"])
            self.assertEqual(int(followers), stats["followers_count"])
            self.assertEqual(business == "t", "impressions" in stats)
            self.assertGreaterEqual(int(docs), 0)
        self.assertGreater(sum(int(r.split("|")[5]) for r in rows), 0)

    def test_4_bad_configuration_fails_the_run_without_retries(self):
        date = "2026-11-21"
        broken = dict(self.scout_env, SCOUT_LAKE="")
        done = self.airflow("dags", "test", "scout_daily", date, check=False,
                            env=dict(self.env, AIRFLOW_VAR_SCOUT_ENV=json.dumps(broken)))
        self.assertNotEqual(done.returncode, 0)
        self.assertEqual(self.states("scout_daily", date),
                         {("ingest", ""): "failed", ("aggregate", ""): "upstream_failed"})
        tries = self.python(f"""
            import json
            from airflow.models import TaskInstance
            from airflow.utils.session import create_session
            with create_session() as session:
                ti = session.query(TaskInstance).filter_by(
                    dag_id="scout_daily", task_id="ingest",
                    run_id="manual__{date}T00:00:00+00:00").one()
                print(json.dumps(ti.try_number))
            """)
        self.assertEqual(tries, 1)
        self.assertIn("not retried", done.stdout + done.stderr)

    def test_5_weekly_palette_fans_out_over_shards_and_sums_their_reports(self):
        if not (BIN / "scout-palette").exists():
            self.skipTest("scout-palette not built")
        date = "2026-11-22"
        self.airflow("variables", "set", "scout_palette_shards", "3")
        self.airflow("dags", "test", "scout_weekly_palette", date)
        states = self.states("scout_weekly_palette", date)
        self.assertEqual(states, {("shards", ""): "success", ("summarize", ""): "success",
                                  ("palette", "0"): "success", ("palette", "1"): "success",
                                  ("palette", "2"): "success", ("rebuild_creators", ""): "success"})
        xcoms = self.xcoms("scout_weekly_palette", date)
        self.assertEqual(xcoms[("shards", "-1")], ["0/3", "1/3", "2/3"])
        reports = [xcoms[("palette", str(i))] for i in range(3)]
        self.assertEqual([r["shard"] for r in reports], ["0/3", "1/3", "2/3"])
        summary = xcoms[("summarize", "-1")]
        self.assertEqual(summary["shards"], ["0/3", "1/3", "2/3"])
        self.assertEqual(summary["creators"], sum(int(r["creators"]) for r in reports))
        self.assertEqual(summary["palettes_written"], sum(int(r["palettes_written"]) for r in reports))
        # Each shard reads its own creators' posts only: the sum is every post once.
        self.assertEqual(summary["posts_read"], sum(int(r["posts_read"]) for r in reports))
        palettes = int(psql(self.scout_env["SCOUT_PG_DSN"], "SELECT COUNT(*) FROM creator_palette"))
        self.assertEqual(summary["creators_with_palette"], palettes)
        self.assertEqual(palettes, USERS)

        # Last, the rebuild: one document per creator of the warehouse under
        # the read alias, each carrying the palette the shards just computed.
        self.assertEqual(states.get(("rebuild_creators", "")), "success")
        self.assertEqual(xcoms[("rebuild_creators", "-1")].get("error", ""), "")
        es(f"{self.tag}.creators/_refresh")
        self.assertEqual(es(f"{self.tag}.creators/_count")["count"], USERS)
        with_palette = es(f"{self.tag}.creators/_count?q=_exists_:palette_code")["count"]
        self.assertEqual(with_palette, USERS)

    def weekly_with_fake_workers(self, date, aggregate_exits):
        """Runs scout_weekly_palette with fake workers: scout-palette succeeds,
        scout-aggregate exits with `aggregate_exits` in turn (0 with a report).
        Returns the run's task states, the rebuild's tries and the calls."""
        fake = self.root / f"fake-bin-{date}"
        fake.mkdir()
        calls = fake / "calls"
        (fake / "scout-palette").write_text(
            '#!/bin/sh\necho "{\\"error\\": \\"\\", \\"shard\\": \\"$2\\"}"\n')
        (fake / "scout-aggregate").write_text(textwrap.dedent(f"""\
            #!/bin/sh
            echo "$*" >>{calls}
            n=$(wc -l <{calls})
            code=$(echo {",".join(map(str, aggregate_exits))} | cut -d, -f$n)
            [ "$code" = 0 ] && echo '{{"error": "", "creators_written": "20"}}'
            [ "$code" = 0 ] || echo '{{"error": "fake exit '$code'"}}'
            exit $code
            """))
        for name in ("scout-palette", "scout-aggregate"):
            (fake / name).chmod(0o755)
        self.airflow("dags", "test", "scout_weekly_palette", date, check=False,
                     env=dict(self.env, AIRFLOW_VAR_SCOUT_BIN_DIR=str(fake),
                              AIRFLOW_VAR_SCOUT_PALETTE_SHARDS="1"))
        tries = self.python(f"""
            import json
            from airflow.models import TaskInstance
            from airflow.utils.session import create_session
            with create_session() as session:
                ti = session.query(TaskInstance).filter_by(
                    dag_id="scout_weekly_palette", task_id="rebuild_creators",
                    run_id="manual__{date}T00:00:00+00:00").one()
                print(json.dumps(ti.try_number))
            """)
        return self.states("scout_weekly_palette", date), tries, calls.read_text().splitlines()

    def test_6_the_creators_rebuild_is_retried_on_exit_1_only(self):
        # A backend failure (exit 1) is retried, and the retry succeeds.
        states, tries, calls = self.weekly_with_fake_workers("2026-11-23", [1, 0])
        self.assertEqual(states[("rebuild_creators", "")], "success")
        self.assertEqual(tries, 2)
        self.assertEqual(calls, ["--rebuild_creators"] * 2)
        # Bad configuration (2) and a failed check (3) fail at once: one try.
        for date, code in (("2026-11-24", 2), ("2026-11-25", 3)):
            states, tries, calls = self.weekly_with_fake_workers(date, [code, 0])
            self.assertEqual(states[("summarize", "")], "success", code)
            self.assertEqual(states[("rebuild_creators", "")], "failed", code)
            self.assertEqual(tries, 1, code)
            self.assertEqual(calls, ["--rebuild_creators"], code)

    def test_7_the_kubernetes_dag_fans_ingest_out_over_shard_pods(self):
        # The local Airflow has no cncf-kubernetes provider (test_1: the file then
        # defines no DAG and no import error). Here the provider's two modules are
        # stood in for by minimal ones taking the same arguments, so that what is
        # checked is deploy/airflow/scout_k8s.py's own wiring: tasks, order,
        # one mapped pod per shard with its --shard i/N, the report into XCom.
        got = self.python("""
            import json, sys, types
            from airflow.models import BaseOperator
            class KubernetesPodOperator(BaseOperator):
                template_fields = ("arguments",)
                def __init__(self, *, name, namespace, image, cmds, arguments, env_from,
                             service_account_name, container_resources, do_xcom_push,
                             get_logs, on_finish_action, **kwargs):
                    super().__init__(**kwargs)
                    self.name, self.image, self.cmds, self.arguments = name, image, cmds, arguments
            class Model:
                def __init__(self, **kwargs):
                    self.__dict__.update(kwargs)
            pod = types.ModuleType("airflow.providers.cncf.kubernetes.operators.pod")
            pod.KubernetesPodOperator = KubernetesPodOperator
            models = types.ModuleType("kubernetes.client.models")
            models.V1EnvFromSource = models.V1SecretEnvSource = models.V1ResourceRequirements = Model
            client = types.ModuleType("kubernetes.client")
            client.models = models
            sys.modules.update({"airflow.providers.cncf.kubernetes.operators.pod": pod,
                                "kubernetes": types.ModuleType("kubernetes"),
                                "kubernetes.client": client, "kubernetes.client.models": models})
            from airflow.models import DagBag
            bag = DagBag(include_examples=False)
            dag = bag.dags["scout_k8s_daily"]
            ingest, aggregate = dag.get_task("ingest"), dag.get_task("aggregate")
            print(json.dumps({
                "errors": bag.import_errors, "schedule": dag.schedule_interval,
                "downstream": {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks},
                "shards": ingest.expand_input.value["arguments"],
                "image": ingest.partial_kwargs["image"], "cmds": ingest.partial_kwargs["cmds"],
                "retries": [ingest.partial_kwargs["retries"], aggregate.retries],
                "aggregate": aggregate.arguments}))
            """, env=dict(self.env, AIRFLOW_VAR_SCOUT_INGEST_SHARDS="5"))
        self.assertEqual(got["errors"], {})
        self.assertEqual(got["schedule"], "@daily")
        self.assertEqual(got["downstream"], {"ingest": ["aggregate"], "aggregate": []})
        self.assertEqual(got["cmds"], ["/bin/sh", "-c"])
        self.assertEqual(len(got["shards"]), 5)
        for i, arguments in enumerate(got["shards"]):
            self.assertEqual(len(arguments), 1)
            self.assertIn(f"scout-ingest --shard {i}/5 ", arguments[0])
            self.assertIn("> /airflow/xcom/return.json; exit $rc", arguments[0])
        self.assertIn("scout-aggregate --date {{ ds }}", got["aggregate"][0])
        self.assertTrue(all(r >= 1 for r in got["retries"]), got["retries"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
