// scout-aggregate: daily creator stats -> warehouse, last 30 days of posts ->
// profile facts. `--date D` loads one day, `--from D1 --to D2` backfills a
// range. Facts only move forward: a date older than a creator's facts loads
// its stats but keeps the newer facts, unless --backfill. Prints an
// AggregateReport as JSON on stdout; exit 0 on success, 1 when a backend
// failed (retry), 2 on bad configuration, 3 when a data-quality check did
// not pass (the load was rolled back; retrying cannot help). After each
// date it writes the loaded creators to the creators index.
// `--rebuild_creators` alone rebuilds the creators index from the warehouse
// (a new generation swapped in behind the alias) and prints a
// CreatorRebuildReport; exit 0, 1 (retry) or 2 as above.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/backends/creator_index.h"
#include "common/backends/worker.h"
#include "common/base/proto_json.h"
#include "workers/aggregate/aggregate.h"

ABSL_FLAG(std::string, date, "", "the day to load, YYYY-MM-DD (Airflow's {{ ds }})");
ABSL_FLAG(std::string, from, "", "backfill: first day, YYYY-MM-DD");
ABSL_FLAG(std::string, to, "", "backfill: last day, YYYY-MM-DD");
ABSL_FLAG(bool, no_pictures, false, "do not copy profile pictures into the media store");
ABSL_FLAG(bool, backfill, false,
          "replace creators' facts even when they are of a later date than the one loaded "
          "(without it, facts only move forward)");
ABSL_FLAG(bool, rebuild_creators, false,
          "rebuild the creators index from every profile_facts row instead of loading dates "
          "(needs --es_url and --pg_dsn only)");

namespace {

constexpr absl::string_view kProgram = "scout-aggregate";

int RebuildCreators(const scout::Worker& worker) {
  scout::v1::CreatorRebuildReport report;
  scout::StampStarted(report);
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<scout::Warehouse>> warehouse =
        worker.backends.ConnectWarehouse();
    if (!warehouse.ok()) return warehouse.status();
    absl::StatusOr<scout::CreatorRebuildResult> rebuilt = scout::RebuildCreatorIndex(
        *worker.backends.elastic, **warehouse, worker.config.index_prefix());
    if (!rebuilt.ok()) return rebuilt.status();
    report.set_index(rebuilt->index);
    report.set_previous(rebuilt->previous);
    report.set_documents(rebuilt->documents);
    report.set_failed(rebuilt->failed_count);
    for (const std::string& failure : rebuilt->failed) report.add_failures(failure);
    return absl::OkStatus();
  }();
  if (!status.ok()) report.set_error(status.ToString());
  scout::StampFinished(report);
  return scout::FinishWithReport(kProgram, report, report.error());
}

absl::StatusOr<std::vector<absl::CivilDay>> Dates() {
  const auto parse = [](const std::string& text,
                        const char* flag) -> absl::StatusOr<absl::CivilDay> {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(text, &day)) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " wants YYYY-MM-DD, got \"", text, "\""));
    }
    return day;
  };
  const std::string date = absl::GetFlag(FLAGS_date);
  const std::string from = absl::GetFlag(FLAGS_from), to = absl::GetFlag(FLAGS_to);
  if (!date.empty() && from.empty() && to.empty()) {
    absl::StatusOr<absl::CivilDay> day = parse(date, "--date");
    if (!day.ok()) return day.status();
    return std::vector<absl::CivilDay>{*day};
  }
  if (date.empty() && !from.empty() && !to.empty()) {
    absl::StatusOr<absl::CivilDay> first = parse(from, "--from");
    absl::StatusOr<absl::CivilDay> last = parse(to, "--to");
    if (!first.ok()) return first.status();
    if (!last.ok()) return last.status();
    if (*last < *first) return absl::InvalidArgumentError("--to is before --from");
    std::vector<absl::CivilDay> days;
    for (absl::CivilDay day = *first; day <= *last; ++day) days.push_back(day);
    return days;
  }
  return absl::InvalidArgumentError("give --date D, or --from D1 --to D2");
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Loads creator stats and rebuilds profile facts.\n"
      "Usage: scout-aggregate --date YYYY-MM-DD | --from D1 --to D2 [--shard i/N]\n"
      "       scout-aggregate --rebuild_creators");
  absl::StatusOr<scout::Worker> worker = scout::StartWorker(
      kProgram, argc, argv,
      {{[](const scout::v1::Config& c) {
          return absl::GetFlag(FLAGS_rebuild_creators) ? std::string("unused") : c.lake();
        },
        "--lake / SCOUT_LAKE"},
       {[](const scout::v1::Config& c) { return c.es_url(); }, "--es_url / SCOUT_ES_URL"},
       {[](const scout::v1::Config& c) { return c.pg_dsn(); }, "--pg_dsn / SCOUT_PG_DSN"}});
  if (!worker.ok()) return scout::Exit(kProgram, scout::kExitBadUsage, worker.status().message());
  const scout::v1::Config& config = worker->config;
  if (absl::GetFlag(FLAGS_rebuild_creators)) {
    if (!absl::GetFlag(FLAGS_date).empty() || !absl::GetFlag(FLAGS_from).empty() ||
        !absl::GetFlag(FLAGS_to).empty() || !worker->shard.IsWhole()) {
      return scout::Exit(kProgram, scout::kExitBadUsage,
                         "--rebuild_creators runs alone: no --date, --from, --to or --shard");
    }
    return RebuildCreators(*worker);
  }
  absl::StatusOr<std::vector<absl::CivilDay>> dates = Dates();
  if (!dates.ok()) return scout::Exit(kProgram, scout::kExitBadUsage, dates.status().message());
  scout::aggregate::AggregateOptions options;
  options.shard = worker->shard;
  options.index_prefix = config.index_prefix();
  options.fetch_pictures = !absl::GetFlag(FLAGS_no_pictures);
  options.media.policy = worker->backends.media_policy;
  options.backfill = absl::GetFlag(FLAGS_backfill);
  if (options.fetch_pictures && config.media().empty()) {
    return scout::Exit(kProgram, scout::kExitBadUsage,
                       "--media / SCOUT_MEDIA is required (or --no_pictures)");
  }

  const scout::WorkerBackends& backends = worker->backends;
  absl::StatusOr<std::unique_ptr<scout::Warehouse>> warehouse = backends.ConnectWarehouse();
  if (!warehouse.ok()) {
    return scout::Exit(kProgram, scout::kExitBackendFailed, warehouse.status().ToString());
  }
  scout::aggregate::AggregateEnv env{backends.lake.get(),       warehouse->get(),
                                     backends.elastic.get(),    backends.media.get(),
                                     backends.media_http.get(), backends.clock.get()};
  const scout::v1::AggregateReport report = scout::aggregate::RunAggregate(env, options, *dates);
  if (report.quality_failures_size() > 0) {
    std::cout << scout::ToJson(report) << std::endl;
    return scout::Exit(kProgram, scout::kExitCheckFailed, report.error());
  }
  return scout::FinishWithReport(kProgram, report, report.error());
}
