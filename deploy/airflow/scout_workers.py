"""Runs a Scout worker binary from an Airflow task and hands its report on.

Shared by the Scout DAGs (Airflow puts the DAGs folder on sys.path). A worker
prints one JSON report as the last line of stdout and progress on stderr, and
exits 0 (done), 1 (a backend failed: retry), 2 (bad usage or configuration:
retrying cannot help) or 3 (a data-quality check failed and the load was
rolled back: retrying cannot help). `run_worker` maps that onto Airflow:

    0 -> the parsed report is returned (the task's XCom `return_value`)
    1 -> AirflowException: the task is retried with backoff
    2 -> AirflowFailException: the task fails at once, no retry
    3 -> AirflowFailException: the task fails at once, no retry

Settings come from Airflow Variables, falling back to the environment, so a
deployment changes them without editing code:

    scout_bin_dir   folder of the scout-* binaries (else $SCOUT_BIN_DIR, else PATH)
    scout_env       JSON object of SCOUT_* settings for the workers, laid over
                    the scheduler's own environment (which they inherit)
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import subprocess
import tempfile

import pendulum

from airflow.exceptions import AirflowException, AirflowFailException
from airflow.models import Variable

log = logging.getLogger(__name__)

# What every Scout DAG shares: retried with exponential backoff (capped at an
# hour), one run at a time, no catch-up of missed intervals.
DAG_DEFAULTS = {
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "max_active_runs": 1,
    "default_args": {
        "owner": "scout",
        "retries": 3,
        "retry_exponential_backoff": True,
        "max_retry_delay": datetime.timedelta(hours=1),
    },
    "tags": ["scout"],
}

# SIGTERM lets a worker stop between batches with a consistent checkpoint;
# after this many seconds it is killed (workers are crash-safe either way).
TERM_GRACE_SECONDS = 60


def setting(name: str, env: str, default: str = "") -> str:
    """Airflow Variable `name`, else environment variable `env`, else `default`."""
    return Variable.get(name, default_var=None) or os.environ.get(env) or default


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    extra = Variable.get("scout_env", default_var=None, deserialize_json=True)
    if extra is not None:
        if not isinstance(extra, dict):
            raise AirflowFailException("Variable scout_env must be a JSON object")
        env.update({str(k): str(v) for k, v in extra.items()})
    return env


def binary(name: str) -> str:
    folder = setting("scout_bin_dir", "SCOUT_BIN_DIR")
    return os.path.join(folder, name) if folder else name


def run_worker(name: str, *args: str) -> dict:
    """Runs `name args...`, streams its stderr to the task log, returns its report."""
    command = [binary(name), *args]
    log.info("running %s", " ".join(command))
    with tempfile.TemporaryFile(mode="w+") as stdout:
        try:
            process = subprocess.Popen(command, env=worker_env(), stdout=stdout,
                                       stderr=subprocess.PIPE, text=True, errors="replace")
        except OSError as e:  # Missing or not executable: a deployment error.
            raise AirflowFailException(f"cannot run {command[0]}: {e}") from e
        try:
            for line in process.stderr:
                log.info("%s: %s", name, line.rstrip())
            code = process.wait()
        except BaseException:  # Task killed or timed out: let the worker drain.
            process.terminate()
            try:
                process.wait(TERM_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise
        stdout.seek(0)
        lines = [line for line in stdout.read().splitlines() if line.strip()]

    report = None
    if lines:
        try:
            report = json.loads(lines[-1])
        except ValueError:
            pass
    if report is not None:
        log.info("%s report: %s", name, json.dumps(report, sort_keys=True))
    if code == 0:
        if not isinstance(report, dict):
            raise AirflowFailException(f"{name} exited 0 without a JSON report on stdout")
        return report
    error = (report or {}).get("error") if isinstance(report, dict) else None
    message = f"{name} exited {code}" + (f": {error}" if error else "")
    if code == 2:
        raise AirflowFailException(message + " (bad usage or configuration: not retried)")
    if code == 3:
        raise AirflowFailException(message + " (data-quality check failed: not retried)")
    raise AirflowException(message)
