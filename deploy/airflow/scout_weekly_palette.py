"""Scout's weekly palette DAG: `scout-palette --shard i/N` for i in 0..N-1,
side by side (dynamic task mapping), then a summary of the shard reports,
then a full rebuild of the creators index.

shards     reads N at run time: Variable scout_palette_shards, else
           $SCOUT_PALETTE_SHARDS, else 4
palette    one mapped task instance per shard; returns the PaletteReport.
           Each shard also updates the palette fields (colours, packed vector,
           computed_at) of its creators' documents in the creators index
summarize  sums the shards' counters (posts_read too: each shard reads its
           own creators' posts); load_version is the largest, not the sum
rebuild_creators
           `scout-aggregate --rebuild_creators`: a new generation of the
           creators index from the warehouse (profile_facts, its palette
           included, and creator_content), swapped in under the read alias
           when complete.
           Last, so it heals any drift the daily and palette updates left
           (a document write that failed for good, say)

Retries, exit codes and settings as in scout_daily (see scout_workers.py).
Each shard keeps its own sample cache under SCOUT_STATE, so a retried shard
reuses the pictures it already decoded.
"""
import datetime

from airflow.decorators import dag, task
from airflow.exceptions import AirflowFailException

from scout_workers import DAG_DEFAULTS, run_worker, setting

REBUILD_DOC = """`scout-aggregate --rebuild_creators`: rebuilds the whole creators index
from the warehouse (never from the posts) into a new generation
`<prefix>.creators-<n>` and moves the alias `<prefix>.creators` to it only
once it is complete, so readers never see a half-written index. Runs after
every palette shard has written its palette fields, and heals any drift
between the warehouse and the index. Exit 1 is retried like the other tasks;
a failed rebuild leaves the previous generation in place.
"""


@dag(dag_id="scout_weekly_palette", schedule="@weekly", doc_md=__doc__, **DAG_DEFAULTS)
def scout_weekly_palette():
    @task
    def shards() -> list:
        value = setting("scout_palette_shards", "SCOUT_PALETTE_SHARDS", "4").strip()
        if not value.isdigit() or int(value) < 1:
            raise AirflowFailException(f"scout_palette_shards must be a positive integer, not {value!r}")
        return [f"{i}/{int(value)}" for i in range(int(value))]

    @task(execution_timeout=datetime.timedelta(hours=12))
    def palette(shard: str) -> dict:
        return run_worker("scout-palette", "--shard", shard)

    @task
    def summarize(reports) -> dict:
        summary = {"shards": []}
        for report in reports:
            summary["shards"].append(report.get("shard", ""))
            for key, value in report.items():
                if isinstance(value, str) and value.lstrip("-").isdigit():
                    value = int(value)  # Proto JSON prints int64 as a string.
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                if key == "load_version":
                    summary[key] = max(summary.get(key, 0), value)
                else:
                    summary[key] = summary.get(key, 0) + value
        return summary

    @task(execution_timeout=datetime.timedelta(hours=2), doc_md=REBUILD_DOC)
    def rebuild_creators() -> dict:
        return run_worker("scout-aggregate", "--rebuild_creators")

    summarize(palette.expand(shard=shards())) >> rebuild_creators()


scout_weekly_palette()
