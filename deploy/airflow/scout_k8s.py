"""Scout's daily run on Kubernetes (deploy/PLAN.md): `scout-ingest --shard i/N`
as N pods side by side, then one `scout-aggregate --date {{ ds }}` pod.

ingest     one KubernetesPodOperator task mapped over the N shards; each pod
           runs the worker image with `--shard i/N` over the lake bucket
           (SCOUT_LAKE=s3://...), copies pictures to the media bucket and
           keeps its checkpoint under SCOUT_STATE, all from the Secret
           `scout-env`. Shards share no file, so they run at once on any nodes.
aggregate  after every shard: the date's stats and post aggregates into the
           warehouse, then the creators index (as in scout_daily).

Each pod writes its worker's JSON report (the last line of stdout) to
/airflow/xcom/return.json, the task's XCom. A pod cannot tell Airflow exit
2 or 3 from 1, so every failure is retried (harmless: the workers are
idempotent). Needs apache-airflow-providers-cncf-kubernetes; without it this
file defines no DAG (the local test Airflow does not install it).

Settings: Variables scout_image (the workers' image), scout_namespace,
scout_ingest_shards (N, default 16), read when the file is parsed.
"""
from __future__ import annotations

import datetime
import logging

from airflow.decorators import dag
from airflow.models import Variable

from scout_workers import DAG_DEFAULTS

try:
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import models as k8s
except ImportError:  # The provider is not installed: no DAG here.
    KubernetesPodOperator = None
    logging.getLogger(__name__).info("scout_k8s: no cncf-kubernetes provider, DAG not defined")

# The worker's report is its last stdout line; the KPO sidecar reads XCom from this file.
REPORT = ('{command} > /tmp/out; rc=$?; tail -n 1 /tmp/out > /airflow/xcom/return.json; '
          'exit $rc')


def shard_commands(shards: int) -> list[list[str]]:
    """The argument of `sh -c` for each ingest pod: scout-ingest --shard i/N."""
    return [[REPORT.format(command=f"scout-ingest --shard {i}/{shards}")] for i in range(shards)]


def pod_settings() -> dict:
    """What every Scout pod shares: image, namespace, settings, resources, retries."""
    return {
        "namespace": Variable.get("scout_namespace", default_var="scout"),
        "image": Variable.get("scout_image", default_var="registry.example.com/scout-workers:1.0.0"),
        "cmds": ["/bin/sh", "-c"],
        # SCOUT_LAKE / SCOUT_MEDIA / SCOUT_STATE (s3://...), SCOUT_ES_URL (every
        # node, comma-separated), SCOUT_PG_DSN; AWS credentials come from the
        # pod's service account (web identity).
        "env_from": [k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name="scout-env"))],
        "service_account_name": "scout-workers",
        # Sizes from deploy/PLAN.md ("Workers").
        "container_resources": k8s.V1ResourceRequirements(
            requests={"cpu": "1", "memory": "1Gi"}, limits={"memory": "2Gi"}),
        "do_xcom_push": True,
        "get_logs": True,
        "on_finish_action": "delete_pod",
        "retries": 3,
        "retry_exponential_backoff": True,
        "max_retry_delay": datetime.timedelta(hours=1),
        "execution_timeout": datetime.timedelta(hours=2),
    }


if KubernetesPodOperator is not None:

    @dag(dag_id="scout_k8s_daily", schedule="@daily", doc_md=__doc__, **DAG_DEFAULTS)
    def scout_k8s_daily():
        shards = int(Variable.get("scout_ingest_shards", default_var="16"))
        ingest = KubernetesPodOperator.partial(
            task_id="ingest", name="scout-ingest", **pod_settings()
        ).expand(arguments=shard_commands(shards))
        aggregate = KubernetesPodOperator(
            task_id="aggregate", name="scout-aggregate",
            arguments=[REPORT.format(command="scout-aggregate --date {{ ds }}")],
            **pod_settings())
        ingest >> aggregate

    scout_k8s_daily()
