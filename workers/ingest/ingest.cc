#include "workers/ingest/ingest.h"

#include <atomic>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/backends/bulk.h"
#include "common/backends/post_index.h"
#include "common/backends/progress.h"
#include "common/backends/worker.h"
#include "common/base/hash.h"
#include "common/base/json_fields.h"
#include "common/base/log.h"
#include "common/base/parallel.h"
#include "common/base/status.h"
#include "common/base/time.h"
#include "workers/ingest/normalize.h"

namespace scout::ingest {
namespace {

using nlohmann::json;
using scout::v1::IngestReport;

constexpr size_t kMaxListed = 100;  // Quarantined / failed items in a report.

// A lake file that may need work: new, or touched since the checkpoint.
struct Candidate {
  std::string key;
  std::string owner_id;  // From the path: posts/<owner_id>/<post_id>.json
  int64_t size = 0;
  int64_t mtime_ns = 0;
  const FileState* prior = nullptr;
  std::string etag;  // S3 lakes.
};

// What one candidate turned out to be, and whether it is done.
struct Work {
  enum Kind { kUnchanged, kTooOld, kQuarantine, kIndex, kVanished };
  const Candidate* file = nullptr;
  Kind kind = kUnchanged;
  uint64_t hash = 0;
  std::string reason;  // kQuarantine
  scout::v1::Post post;
  bool media_complete = true;
  int pending_actions = 0;  // Bulk actions not yet acknowledged.

  FileState State() const {
    FileState state{file->size, file->mtime_ns, hash, Outcome::kIndexed, file->etag};
    switch (kind) {
      case kUnchanged:
        state.outcome = file->prior->outcome;
        break;
      case kTooOld:
        state.outcome = Outcome::kTooOld;
        break;
      case kQuarantine:
        state.outcome = Outcome::kQuarantined;
        break;
      default:
        state.outcome = media_complete ? Outcome::kIndexed : Outcome::kMediaPending;
    }
    return state;
  }
};

// What a bulk action does and the work it belongs to (BulkAction::tag is
// its position in IngestRun's list). What a rejection means depends on the
// action, not on the work: a rejected post makes its file a quarantine case,
// a rejected quarantine record or quarantine delete is our bug.
struct ActionInfo {
  enum Kind { kIndexPost, kIndexQuarantine, kDeleteQuarantine };
  Work* work;
  Kind kind;
};

class IngestRun {
 public:
  IngestRun(const IngestEnv& env, const IngestOptions& options)
      : env_(env), options_(options), now_(env.clock->Now()) {}

  IngestReport Run() {
    StampStarted(report_);
    report_.set_shard(options_.shard.ToString());
    absl::Status status = RunSteps();
    if (!status.ok()) report_.set_error(status.ToString());
    // Even a failed run keeps what it committed; fold the journal now.
    if (absl::Status compacted = env_.checkpoint->Compact(); !compacted.ok() && status.ok()) {
      report_.set_error(compacted.ToString());
    }
    report_.set_bytes_read(bytes_read_.load());
    report_.set_media_fetched(media_stats_.fetched);
    report_.set_media_already_stored(media_stats_.already_stored);
    report_.set_media_failed(media_stats_.failed);
    report_.set_media_refused(media_stats_.refused);
    StampFinished(report_);
    return std::move(report_);
  }

  // IngestFiles: these files only, as candidates of the listing would be.
  absl::Status RunFiles(const std::vector<ChangedFile>& files, std::vector<std::string>* committed,
                        IngestReport& report) {
    committed_ = committed;
    std::vector<Candidate> candidates;
    for (const ChangedFile& file : files) {
      absl::string_view rest = file.key;
      if (!absl::ConsumePrefix(&rest, kPostsRoot)) continue;
      const std::optional<absl::string_view> owner = PostFileOwner(rest);
      if (!owner.has_value() || !options_.shard.Owns(*owner)) continue;
      candidates.push_back(
          {file.key, std::string(*owner), file.size, file.mtime_ns, nullptr, file.etag});
    }
    report_.set_files_listed(static_cast<int64_t>(candidates.size()));
    absl::Status status;
    for (size_t start = 0; start < candidates.size() && status.ok();
         start += options_.batch_files) {
      const size_t end = std::min(candidates.size(), start + options_.batch_files);
      status = ProcessBatch(&candidates[start], &candidates[end]);
    }
    report_.set_bytes_read(bytes_read_.load());
    report_.set_media_fetched(media_stats_.fetched);
    report_.set_media_already_stored(media_stats_.already_stored);
    report_.set_media_failed(media_stats_.failed);
    report_.set_media_refused(media_stats_.refused);
    AddCounts(report_, report);
    return status;
  }

  // The counts of `from` added to `to` (lists capped as a run caps them).
  static void AddCounts(const IngestReport& from, IngestReport& to) {
    to.set_files_listed(to.files_listed() + from.files_listed());
    to.set_files_untouched(to.files_untouched() + from.files_untouched());
    to.set_files_unchanged(to.files_unchanged() + from.files_unchanged());
    to.set_files_too_old(to.files_too_old() + from.files_too_old());
    to.set_posts_indexed(to.posts_indexed() + from.posts_indexed());
    to.set_files_quarantined(to.files_quarantined() + from.files_quarantined());
    to.set_media_fetched(to.media_fetched() + from.media_fetched());
    to.set_media_already_stored(to.media_already_stored() + from.media_already_stored());
    to.set_media_failed(to.media_failed() + from.media_failed());
    to.set_media_refused(to.media_refused() + from.media_refused());
    to.set_bytes_read(to.bytes_read() + from.bytes_read());
    for (const auto& q : from.quarantined()) {
      if (to.quarantined_size() < static_cast<int>(kMaxListed)) *to.add_quarantined() = q;
    }
    for (const auto& f : from.failed_media()) {
      if (to.failed_media_size() < static_cast<int>(kMaxListed)) *to.add_failed_media() = f;
    }
  }

 private:
  absl::Status RunSteps() {
    SCOUT_RETURN_IF_ERROR(EnsureIndices(*env_.elastic, options_.index_prefix));
    SCOUT_ASSIGN_OR_RETURN(std::vector<Candidate> candidates, ListCandidates());
    Progress progress("ingest", static_cast<int64_t>(candidates.size()));
    for (size_t start = 0; start < candidates.size(); start += options_.batch_files) {
      if (StopRequested()) return Interrupted();
      const size_t end = std::min(candidates.size(), start + options_.batch_files);
      SCOUT_RETURN_IF_ERROR(ProcessBatch(&candidates[start], &candidates[end]));
      progress.Add(static_cast<int64_t>(end - start));
    }
    SCOUT_RETURN_IF_ERROR(DropExpiredIndices());
    // Make this run's writes visible to searches right away.
    SCOUT_RETURN_IF_ERROR(
        env_.elastic->Call("POST", absl::StrCat(options_.index_prefix, "*/_refresh")).status());
    return MergePastMonths();
  }

  // One listing of every post file (on S3 a LIST per 1,000 files, not one
  // per creator folder); the shard keeps its creators' files. Only new or
  // touched files (or ones whose pictures are still missing) become
  // candidates.
  absl::StatusOr<std::vector<Candidate>> ListCandidates() {
    std::vector<Candidate> candidates;
    SCOUT_RETURN_IF_ERROR(env_.lake->ListFiles(kPostsRoot, [&](std::vector<LakeEntry>& page) {
      for (LakeEntry& file : page) {
        const std::optional<absl::string_view> owner = PostFileOwner(file.name);
        if (!owner.has_value() || !options_.shard.Owns(*owner)) continue;
        report_.set_files_listed(report_.files_listed() + 1);
        Candidate candidate{absl::StrCat(kPostsRoot, file.name),
                            std::string(*owner),
                            file.size,
                            file.mtime_ns,
                            nullptr,
                            file.etag};
        candidate.prior = env_.checkpoint->Find(candidate.key);
        const bool retry_media = candidate.prior != nullptr &&
                                 candidate.prior->outcome == Outcome::kMediaPending &&
                                 options_.fetch_media;
        if (candidate.prior != nullptr && !retry_media &&
            candidate.prior->Untouched(file.size, file.mtime_ns, file.etag)) {
          report_.set_files_untouched(report_.files_untouched() + 1);
          continue;
        }
        candidates.push_back(std::move(candidate));
      }
      return absl::OkStatus();
    }));
    return candidates;
  }

  absl::Status ProcessBatch(Candidate* begin, Candidate* end) {
    // Looked up now, not at listing: a commit that adds keys may move the
    // checkpoint's entries, and the listing's pointers with them.
    for (Candidate* file = begin; file != end; ++file) {
      file->prior = env_.checkpoint->Find(file->key);
    }
    std::vector<Work> works(static_cast<size_t>(end - begin));
    std::vector<absl::Status> read_errors(works.size());
    ParallelFor(works.size(), options_.read_threads, [&](size_t i) {
      works[i].file = begin + i;
      read_errors[i] = Classify(works[i]);
    });
    for (const absl::Status& error : read_errors) SCOUT_RETURN_IF_ERROR(error);

    if (options_.fetch_media) CopyMedia(works);
    absl::Status written = WriteToElastic(works);
    // Commit whatever is done, even when the bulk write failed part-way.
    std::vector<std::pair<std::string, FileState>> done;
    for (const Work& work : works) {
      if (work.kind == Work::kVanished || work.pending_actions > 0) continue;
      done.emplace_back(work.file->key, work.State());
      Count(work);
    }
    SCOUT_RETURN_IF_ERROR(env_.checkpoint->Commit(done));
    if (committed_ != nullptr) {
      for (const Work& work : works) {
        if (work.kind != Work::kVanished && work.kind != Work::kUnchanged &&
            work.pending_actions == 0) {
          committed_->push_back(work.file->key);
        }
      }
    }
    return written;
  }

  // Reads, hashes and normalizes one file. Only lake failures are errors;
  // bad content is a quarantine outcome.
  absl::Status Classify(Work& work) const {
    absl::StatusOr<std::string> bytes = env_.lake->Read(work.file->key);
    if (absl::IsNotFound(bytes.status())) {  // Deleted since listing.
      work.kind = Work::kVanished;
      return absl::OkStatus();
    }
    if (!bytes.ok()) return bytes.status();
    bytes_read_ += static_cast<int64_t>(bytes->size());
    work.hash = StableHash(*bytes);
    const FileState* prior = work.file->prior;
    if (prior != nullptr && prior->content_hash == work.hash &&
        !(prior->outcome == Outcome::kMediaPending && options_.fetch_media)) {
      work.kind = Work::kUnchanged;
      return absl::OkStatus();
    }
    absl::StatusOr<scout::v1::Post> post = NormalizePost(*bytes, work.file->owner_id);
    if (!post.ok()) {
      work.kind = Work::kQuarantine;
      work.reason = std::string(post.status().message());
    } else if (FromTimestamp(post->timestamp()) < now_ - kSearchWindow) {
      work.kind = Work::kTooOld;
    } else {
      work.kind = Work::kIndex;
      work.post = *std::move(post);
    }
    return absl::OkStatus();
  }

  // Pictures first, so the indexed post points at stored copies. A post
  // whose picture failed is still indexed and retried next run.
  void CopyMedia(std::vector<Work>& works) {
    std::vector<MediaCopyJob> jobs;
    std::vector<std::pair<Work*, int>> owners;
    for (Work& work : works) {
      if (work.kind != Work::kIndex) continue;
      for (int n = 0; n < work.post.media_size(); ++n) {
        jobs.push_back({work.post.media(n).source_url(),
                        PostMediaKey(work.post.owner_id(), work.post.id(), n)});
        owners.emplace_back(&work, n);
      }
    }
    const std::vector<absl::Status> results = copier_.CopyBatch(jobs, media_stats_);
    for (size_t i = 0; i < jobs.size(); ++i) {
      auto [work, n] = owners[i];
      if (results[i].ok()) {
        work->post.mutable_media(n)->set_url(env_.media->Url(jobs[i].key));
        continue;
      }
      work->media_complete = false;
      if (absl::IsPermissionDenied(results[i])) {
        // Hostile or misconfigured input: say which post, and why.
        Log(LogLevel::kWarning, "picture URL refused",
            {{"post_id", work->post.id()},
             {"lake_key", work->file->key},
             {"url", jobs[i].source_url.substr(0, 300)},
             {"reason", std::string(results[i].message())}});
      }
      if (report_.failed_media_size() < static_cast<int>(kMaxListed)) {
        scout::v1::FailedMedia* failure = report_.add_failed_media();
        failure->set_post_key(work->file->key);
        failure->set_url(jobs[i].source_url);
        failure->set_reason(std::string(results[i].message()));
      }
    }
    for (Work& work : works) {
      if (work.kind == Work::kIndex && work.post.media_size() > 0) {
        work.post.set_media_url(work.post.media(0).url());
      }
    }
  }

  BulkAction NewAction(std::vector<ActionInfo>& infos, Work& work, ActionInfo::Kind kind,
                       std::string ndjson) const {
    infos.push_back({&work, kind});
    return {std::move(ndjson), infos.size() - 1};
  }

  BulkAction QuarantineAction(std::vector<ActionInfo>& infos, Work& work) const {
    return NewAction(
        infos, work, ActionInfo::kIndexQuarantine,
        BulkHeader("index", QuarantineIndex(options_.index_prefix), work.file->key) +
            QuarantineDocument(work.file->key, work.reason, work.file->size, work.hash, now_) +
            "\n");
  }

  std::vector<BulkAction> BuildActions(std::vector<Work>& works,
                                       std::vector<ActionInfo>& infos) const {
    std::vector<BulkAction> actions;
    for (Work& work : works) {
      const bool was_quarantined =
          work.file->prior != nullptr && work.file->prior->outcome == Outcome::kQuarantined;
      if (work.kind == Work::kIndex) {
        actions.push_back(NewAction(
            infos, work, ActionInfo::kIndexPost,
            BulkHeader("index",
                       MonthlyIndex(options_.index_prefix, FromTimestamp(work.post.timestamp())),
                       work.post.id()) +
                PostToDocument(work.post, work.file->key) + "\n"));
      } else if (work.kind == Work::kQuarantine) {
        actions.push_back(QuarantineAction(infos, work));
      }
      // A fixed file leaves the quarantine.
      if (was_quarantined && work.kind != Work::kQuarantine && work.kind != Work::kUnchanged) {
        actions.push_back(NewAction(
            infos, work, ActionInfo::kDeleteQuarantine,
            BulkHeader("delete", QuarantineIndex(options_.index_prefix), work.file->key)));
      }
    }
    for (const ActionInfo& info : infos) ++info.work->pending_actions;
    return actions;
  }

  // Sends the batch's actions in one _bulk request (WriteBulk retries only
  // the items rejected for load). A document Elasticsearch refuses for its
  // content quarantines its file instead.
  absl::Status WriteToElastic(std::vector<Work>& works) {
    std::vector<ActionInfo> infos;
    std::vector<BulkAction> actions = BuildActions(works, infos);
    BulkOptions bulk;
    bulk.max_actions = 0;  // The batch (batch_files) is the request.
    bulk.max_bytes = 0;
    bulk.attempts = options_.bulk_attempts;
    bulk.backoff = options_.bulk_backoff;
    auto handle = [&](const BulkItem& item) -> absl::StatusOr<BulkVerdict> {
      // Copied: a replacement below may grow `infos`.
      const ActionInfo info = infos[item.action->tag];
      if (item.ok() || (info.kind == ActionInfo::kDeleteQuarantine && item.status == 404)) {
        --info.work->pending_actions;
        return BulkVerdict{};
      }
      if (info.kind != ActionInfo::kIndexPost) {
        return absl::InternalError(
            absl::StrCat("elasticsearch rejected a quarantine ",
                         info.kind == ActionInfo::kDeleteQuarantine ? "delete" : "record", ": ",
                         DumpJson(*item.result)));
      }
      Work& work = *info.work;
      work.kind = Work::kQuarantine;
      const json error = item.result->value("error", json::object());
      work.reason = absl::StrCat(
          "elasticsearch rejected the document: ", error.is_object() ? error.value("type", "") : "",
          ": ", error.is_object() ? error.value("reason", "") : "");
      // The quarantine record takes over the post's pending count.
      BulkVerdict verdict;
      verdict.instead = QuarantineAction(infos, work);
      return verdict;
    };
    return WriteBulk(*env_.elastic, std::move(actions), bulk, handle).status();
  }

  void Count(const Work& work) {
    switch (work.kind) {
      case Work::kUnchanged:
        report_.set_files_unchanged(report_.files_unchanged() + 1);
        break;
      case Work::kTooOld:
        report_.set_files_too_old(report_.files_too_old() + 1);
        break;
      case Work::kQuarantine:
        report_.set_files_quarantined(report_.files_quarantined() + 1);
        if (report_.quarantined_size() < static_cast<int>(kMaxListed)) {
          scout::v1::QuarantinedFile* q = report_.add_quarantined();
          q->set_key(work.file->key);
          q->set_reason(work.reason);
        }
        break;
      case Work::kIndex:
        report_.set_posts_indexed(report_.posts_indexed() + 1);
        break;
      case Work::kVanished:
        break;
    }
  }

  // Past months only change by the daily rewrites of older posts, which
  // leave small segments behind; one segment per past month keeps searches
  // over the whole window cheap (measured in bench/RESULTS.md).
  absl::Status MergePastMonths() {
    const std::string current = MonthlyIndex(options_.index_prefix, now_);
    SCOUT_ASSIGN_OR_RETURN(
        const json stats,
        env_.elastic->Call("GET", absl::StrCat(options_.index_prefix,
                                               "-*/_stats/segments?filter_path=indices.*."
                                               "primaries.segments.count")));
    if (!stats.contains("indices")) return absl::OkStatus();
    for (const auto& [index, numbers] : stats["indices"].items()) {
      if (index >= current || !MonthOfIndex(options_.index_prefix, index).has_value() ||
          numbers["primaries"]["segments"]["count"].get<int64_t>() <= 1) {
        continue;
      }
      SCOUT_RETURN_IF_ERROR(env_.elastic
                                ->Call("POST",
                                       absl::StrCat(index, "/_forcemerge?max_num_segments=1"),
                                       nullptr, absl::Minutes(30))
                                .status());
      report_.add_indices_merged(index);
    }
    return absl::OkStatus();
  }

  absl::Status DropExpiredIndices() {
    SCOUT_ASSIGN_OR_RETURN(
        const json indices,
        env_.elastic->Call(
            "GET", absl::StrCat("_cat/indices/", options_.index_prefix, "-*?format=json&h=index")));
    for (const json& row : indices) {
      const std::string index = row.value("index", "");
      if (!IndexIsExpired(options_.index_prefix, index, now_)) continue;
      SCOUT_RETURN_IF_ERROR(env_.elastic->Call("DELETE", index).status());
      report_.add_indices_dropped(index);
    }
    return absl::OkStatus();
  }

 private:
  const IngestEnv& env_;
  const IngestOptions& options_;
  const absl::Time now_;
  IngestReport report_;
  MediaCopier copier_{env_.http, env_.media, options_.media};
  MediaCopyStats media_stats_;
  mutable std::atomic<int64_t> bytes_read_{0};
  std::vector<std::string>* committed_ = nullptr;  // IngestFiles' caller's.
};

}  // namespace

std::optional<absl::string_view> PostFileOwner(absl::string_view name) {
  const size_t slash = name.find('/');
  if (slash == 0 || slash == absl::string_view::npos || slash + 1 == name.size() ||
      name[0] == '.' || name[slash + 1] == '.' ||
      name.find('/', slash + 1) != absl::string_view::npos || !absl::EndsWith(name, ".json") ||
      name.find_first_of("\t\r\n") != absl::string_view::npos) {
    return std::nullopt;
  }
  return name.substr(0, slash);
}

absl::Status IngestFiles(const IngestEnv& env, const IngestOptions& options,
                         const std::vector<ChangedFile>& files, IngestReport& report,
                         std::vector<std::string>* committed) {
  return IngestRun(env, options).RunFiles(files, committed, report);
}

void SetS3Requests(const IngestEnv& env, const S3RequestCounts& before, IngestReport& report) {
  if (env.s3 == nullptr) return;
  const S3RequestCounts after = env.s3->Counts();
  v1::S3Requests& requests = *report.mutable_s3_requests();
  requests.set_lists(after.list - before.list);
  requests.set_gets(after.get - before.get);
  requests.set_heads(after.head - before.head);
  requests.set_puts(after.put - before.put);
  requests.set_deletes(after.del - before.del);
}

IngestReport RunIngest(const IngestEnv& env, const IngestOptions& options) {
  const S3RequestCounts before = env.s3 != nullptr ? env.s3->Counts() : S3RequestCounts{};
  IngestReport report = IngestRun(env, options).Run();
  SetS3Requests(env, before, report);
  return report;
}

}  // namespace scout::ingest
