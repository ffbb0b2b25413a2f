"""Scout's daily DAG: `scout-ingest`, then `scout-aggregate --date {{ ds }}`.

ingest     changed post files of the data lake -> Elasticsearch, pictures ->
           media store (reads only what changed since its last run)
aggregate  the logical date's creator stats -> warehouse, 30-day post
           aggregates -> profile_facts, 90-day content -> creator_content,
           tier benchmarks and platform numbers (one transaction); then,
           after that commit, the creators index: scout-aggregate itself
           writes the documents of the creators it loaded (there is no
           separate index task, so the index is never updated from a load
           that was rolled back). The weekly palette DAG rebuilds the whole
           index from the warehouse, which heals any drift.

Each task returns its worker's JSON report (XCom `return_value`). Exit 1
(a backend failed) is retried with exponential backoff (first delay: Airflow's
[core] default_task_retry_delay, 300 s unless configured); exit 2 (bad
configuration) and exit 3 (a data-quality check failed; the load was rolled
back) fail the task at once. Any failure fails the run, and
aggregate does not run after a failed ingest. Both workers are idempotent, so
clearing a task or rerunning a date is always safe.

Settings: Variables scout_bin_dir and scout_env (see scout_workers.py).
"""
import datetime

from airflow.decorators import dag, task

from scout_workers import DAG_DEFAULTS, run_worker

AGGREGATE_DOC = """`scout-aggregate --date {{ ds }}`: the date's stats and post aggregates
into the warehouse (profile_facts, creator_content, tier_benchmarks,
tier_centiles, platform_daily) in one transaction, then **updates the creators
index** (`<prefix>.creators`) with the documents of the creators it loaded.
A failed index write fails the task and it is retried like any backend
failure (the warehouse load is idempotent, the documents are rewritten whole).
"""


@dag(dag_id="scout_daily", schedule="@daily", doc_md=__doc__, **DAG_DEFAULTS)
def scout_daily():
    @task(execution_timeout=datetime.timedelta(hours=6))
    def ingest() -> dict:
        return run_worker("scout-ingest")

    @task(execution_timeout=datetime.timedelta(hours=6), doc_md=AGGREGATE_DOC)
    def aggregate(ds=None) -> dict:
        return run_worker("scout-aggregate", "--date", ds)

    ingest() >> aggregate()


scout_daily()
