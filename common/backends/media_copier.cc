#include "common/backends/media_copier.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/base/parallel.h"
#include "common/base/status.h"

namespace scout {
namespace {

// A refusal, a missing picture, an oversized body or one that is no picture
// will not change on a retry.
bool IsFinal(const absl::Status& status) {
  return absl::IsPermissionDenied(status) || absl::IsNotFound(status) ||
         absl::IsFailedPrecondition(status) || absl::IsInvalidArgument(status);
}

}  // namespace

absl::Status MediaCopier::FetchOnce(const std::string& url, std::string& bytes) {
  SCOUT_ASSIGN_OR_RETURN(HttpResponse response, FetchMedia(*http_, *FileSystem::Default(),
                                                           options_.policy, url, options_.timeout));
  if (response.status == 404 || response.status == 403 || response.status == 410) {
    return absl::NotFoundError(absl::StrCat("HTTP ", response.status));
  }
  if (response.status != 200) {
    return absl::UnavailableError(absl::StrCat("HTTP ", response.status));
  }
  if (response.body.empty()) return absl::UnavailableError("empty body");
  if (!LooksLikePicture(response.body)) {
    return absl::FailedPreconditionError("not a picture (no JPEG, PNG, GIF or WebP header)");
  }
  bytes = std::move(response.body);
  return absl::OkStatus();
}

absl::Status MediaCopier::Fetch(const std::string& url, std::string& bytes) {
  absl::Duration backoff = options_.first_backoff;
  absl::Status last;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    last = FetchOnce(url, bytes);
    if (last.ok() || IsFinal(last)) return last;
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
    if (absl::IsPermissionDenied(status)) ++stats.refused;
    results[i] = std::move(status);
  });
  return results;
}

}  // namespace scout
