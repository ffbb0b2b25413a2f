"""Scout's weekly palette DAG: `scout-palette --shard i/N` for i in 0..N-1,
side by side (dynamic task mapping), then a summary of the shard reports.

shards     reads N at run time: Variable scout_palette_shards, else
           $SCOUT_PALETTE_SHARDS, else 4
palette    one mapped task instance per shard; returns the PaletteReport
summarize  sums the shards' counters (posts_read too: each shard reads its
           own creators' posts); load_version is the largest, not the sum

Retries, exit codes and settings as in scout_daily (see scout_workers.py).
Each shard keeps its own sample cache under SCOUT_STATE, so a retried shard
reuses the pictures it already decoded.
"""
import datetime

from airflow.decorators import dag, task
from airflow.exceptions import AirflowFailException

from scout_workers import DAG_DEFAULTS, run_worker, setting


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

    summarize(palette.expand(shard=shards()))


scout_weekly_palette()
