#include "common/backends/worker.h"

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/backends/s3_stores.h"
#include "common/base/config.h"
#include "common/base/flags.h"
#include "common/base/log.h"
#include "common/base/proto_json.h"
#include "common/base/status.h"

ABSL_FLAG(std::string, shard, "0/1", "this run's share of the creators, i/N");

namespace scout {
namespace {

absl::StatusOr<WorkerBackends> MakeBackends(const scout::v1::Config& config) {
  WorkerBackends backends;
  SCOUT_ASSIGN_OR_RETURN(backends.media_policy, MediaFetchPolicy::FromConfig(config));
  backends.clock = MakeClock(config);
  backends.elastic_http = NewMeteredHttpClient(NewCurlHttpClient(), "elasticsearch");
  backends.media_http = NewMeteredHttpClient(NewCurlHttpClient(), "media");
  if (!config.es_url().empty()) {
    backends.elastic = std::make_unique<Elastic>(backends.elastic_http.get(), config.es_url());
  }
  // One S3 client for every location, so its request counts cover them all.
  if (IsS3Url(config.lake()) || IsS3Url(config.media()) || IsS3Url(config.state())) {
    S3Options options = S3Options::FromEnv();
    std::string region = options.region;
    backends.s3 = NewS3ObjectStore(NewMeteredHttpClient(NewCurlHttpClient(), "s3"),
                                   NewAwsCredentialsChain(NewCurlHttpClient(), std::move(region)),
                                   std::move(options));
  }
  if (IsS3Url(config.lake())) {
    SCOUT_ASSIGN_OR_RETURN(S3Location location, ParseS3Url(config.lake()));
    backends.lake = NewS3Lake(backends.s3, std::move(location));
  } else if (!config.lake().empty()) {
    backends.lake = NewLocalLake(config.lake());
  }
  if (IsS3Url(config.media())) {
    SCOUT_ASSIGN_OR_RETURN(S3Location location, ParseS3Url(config.media()));
    backends.media = NewS3MediaStore(backends.s3, std::move(location), config.media_base_url());
  } else if (!config.media().empty()) {
    backends.media = NewLocalMediaStore(config.media(), config.media_base_url());
  }
  backends.pg_dsn = config.pg_dsn();
  return backends;
}

}  // namespace

absl::StatusOr<Worker> StartWorker(absl::string_view program, int argc, char** argv,
                                   std::initializer_list<RequiredSetting> required) {
  SetLogProgram(program);
  ParseFlags(argc, argv);
  Worker worker;
  SCOUT_ASSIGN_OR_RETURN(worker.config, LoadConfig());
  for (const RequiredSetting& setting : required) {
    if (setting.value(worker.config).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(setting.how, " is required"));
    }
  }
  SCOUT_ASSIGN_OR_RETURN(worker.shard, Shard::Parse(absl::GetFlag(FLAGS_shard)));
  InstallStopHandlers();
  SCOUT_ASSIGN_OR_RETURN(worker.backends, MakeBackends(worker.config));
  if (const std::string& listen = worker.config.metrics_listen(); !listen.empty()) {
    SCOUT_ASSIGN_OR_RETURN(worker.metrics, MetricsEndpoint::Start(listen));
    // Port 0 picks one: say which.
    Log(LogLevel::kInfo, "serving metrics",
        {{"metrics",
          absl::StrCat(listen.substr(0, listen.rfind(':')), ":", worker.metrics->port())}});
  }
  return worker;
}

absl::Status Interrupted() {
  return absl::CancelledError(
      "interrupted by a signal between batches: the work done so far is committed; "
      "run again to finish");
}

int FinishWithReport(absl::string_view program, const google::protobuf::Message& report,
                     absl::string_view error) {
  std::cout << ToJson(report) << std::endl;
  if (error.empty()) return kExitOk;
  return Exit(program, kExitBackendFailed, error);
}

}  // namespace scout
