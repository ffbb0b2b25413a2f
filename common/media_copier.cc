#include "common/media_copier.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/parallel.h"

namespace scout {

absl::Status MediaCopier::Fetch(const std::string& url, std::string& bytes) {
  absl::Duration backoff = options_.first_backoff;
  absl::Status last;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    HttpRequest request;
    request.url = url;
    request.timeout = absl::Seconds(20);
    absl::StatusOr<HttpResponse> response = http_->Send(request);
    if (response.ok() && (response->status == 0 || response->status == 200)) {
      if (!response->body.empty()) {
        bytes = std::move(response->body);
        return absl::OkStatus();
      }
      last = absl::DataLossError("empty body");
    } else if (response.ok()) {
      last = absl::UnavailableError(absl::StrCat("HTTP ", response->status));
      if (response->status == 404 || response->status == 403) return last;  // Final.
    } else {
      last = response.status();
      if (absl::IsNotFound(last)) return last;
    }
    if (attempt < options_.attempts) {
      absl::SleepFor(backoff);
      backoff *= 2;
    }
  }
  return last;
}

std::vector<absl::Status> MediaCopier::CopyBatch(const std::vector<MediaCopyJob>& jobs,
                                                 MediaCopyStats& stats) {
  std::vector<absl::Status> results(jobs.size());
  std::mutex mu;
  ParallelFor(jobs.size(), options_.concurrency, [&](size_t i) {
    const MediaCopyJob& job = jobs[i];
    if (store_->Exists(job.key)) {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.already_stored;
      return;
    }
    std::string bytes;
    absl::Status status = Fetch(job.source_url, bytes);
    if (status.ok()) status = store_->Put(job.key, bytes);
    std::lock_guard<std::mutex> lock(mu);
    ++(status.ok() ? stats.fetched : stats.failed);
    results[i] = std::move(status);
  });
  return results;
}

}  // namespace scout
