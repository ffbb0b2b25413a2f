#include "workers/ingest/media_copier.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/parallel.h"
#include "workers/ingest/normalize.h"

namespace scout::ingest {

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

std::vector<bool> MediaCopier::CopyAll(const std::vector<scout::v1::Post*>& posts,
                                       const std::vector<std::string>& post_keys,
                                       MediaCopyStats& stats) {
  struct Job {
    size_t post;
    int n;
  };
  std::vector<Job> jobs;
  for (size_t p = 0; p < posts.size(); ++p) {
    for (int n = 0; n < posts[p]->media_size(); ++n) jobs.push_back({p, n});
  }
  std::vector<bool> complete(posts.size(), true);
  std::mutex mu;
  ParallelFor(jobs.size(), options_.concurrency, [&](size_t j) {
    scout::v1::Post& post = *posts[jobs[j].post];
    scout::v1::MediaItem& item = *post.mutable_media(jobs[j].n);
    const std::string key = MediaKey(post.owner_id(), post.id(), jobs[j].n);
    if (store_->Exists(key)) {
      item.set_url(store_->Url(key));
      std::lock_guard<std::mutex> lock(mu);
      ++stats.already_stored;
      return;
    }
    std::string bytes;
    absl::Status status = Fetch(item.source_url(), bytes);
    if (status.ok()) status = store_->Put(key, bytes);
    std::lock_guard<std::mutex> lock(mu);
    if (status.ok()) {
      item.set_url(store_->Url(key));
      ++stats.fetched;
      return;
    }
    complete[jobs[j].post] = false;
    ++stats.failed;
    if (stats.failures.size() < 100) {
      scout::v1::FailedMedia& failure = stats.failures.emplace_back();
      failure.set_post_key(post_keys[jobs[j].post]);
      failure.set_url(item.source_url());
      failure.set_reason(std::string(status.message()));
    }
  });
  for (scout::v1::Post* post : posts) {
    if (post->media_size() > 0) post->set_media_url(post->media(0).url());
  }
  return complete;
}

}  // namespace scout::ingest
