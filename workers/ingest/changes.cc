#include "workers/ingest/changes.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/backends/metrics.h"
#include "common/base/log.h"
#include "common/io/files.h"
#include "workers/ingest/ingest.h"

namespace scout::ingest {
namespace {

prometheus::Counter& Offered(const std::string& source) {
  static auto& family = prometheus::BuildCounter()
                            .Name("scout_follow_changes_total")
                            .Help(
                                "Changed lake files offered to scout-ingest --follow's queue, "
                                "by source (a listing offers every file it lists)")
                            .Register(Metrics());
  return family.Add({{"source", source}});
}

}  // namespace

bool ChangeQueue::AddLocked(Change change) {
  Offered(change.source).Increment();
  auto it = pending_.find(change.key);
  if (it != pending_.end()) {
    // The earlier known time (InfinitePast is "unknown").
    absl::Time landed = it->second.change.landed;
    if (change.landed != absl::InfinitePast() &&
        (landed == absl::InfinitePast() || change.landed < landed)) {
      landed = change.landed;
    }
    // An event after a listing must still be read: keep "listed" only if both were.
    const bool listed = it->second.change.listed && change.listed;
    // A listing taken before a rewrite may be offered after the rewrite's
    // event: the newer attributes stay, or the checkpoint would record the
    // old ones and the next listing read the file again.
    if (change.mtime_ns != 0 && change.mtime_ns < it->second.change.mtime_ns) {
      change.size = it->second.change.size;
      change.mtime_ns = it->second.change.mtime_ns;
      change.etag = it->second.change.etag;
    }
    it->second.change = std::move(change);
    it->second.change.landed = landed;
    it->second.change.listed = listed;
    return true;
  }
  arrived_.push_back(change.key);
  std::string key = change.key;
  pending_.emplace(std::move(key), Pending{std::move(change), absl::Now()});
  return true;
}

bool ChangeQueue::Offer(Change change) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    if (pending_.size() >= max_depth_ && !pending_.contains(change.key)) return false;
    AddLocked(std::move(change));
  }
  changed_.notify_all();
  return true;
}

bool ChangeQueue::OfferListed(std::vector<Change> changes) {
  std::unique_lock<std::mutex> lock(mu_);
  for (Change& change : changes) {
    changed_.wait(lock, [&] { return closed_ || pending_.size() < max_depth_; });
    if (closed_) return false;
    change.listed = true;
    AddLocked(std::move(change));
    changed_.notify_all();
  }
  return !closed_;
}

absl::Time ChangeQueue::OldestLocked() const {
  absl::Time oldest = absl::InfiniteFuture();
  for (const std::deque<std::string>* lane : {&arrived_, &first_, &rest_}) {
    if (!lane->empty()) oldest = std::min(oldest, pending_.at(lane->front()).offered);
  }
  return oldest;
}

std::vector<Change> ChangeQueue::Take(size_t max, absl::Duration linger, absl::Time deadline,
                                      const std::function<bool(const std::string&)>& first) {
  std::unique_lock<std::mutex> lock(mu_);
  auto wait_until = [&](absl::Time until, auto done) {
    while (!done()) {
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) return;
      changed_.wait_for(lock, absl::ToChronoNanoseconds(left));
    }
  };
  wait_until(deadline, [&] { return closed_ || !pending_.empty(); });
  if (!pending_.empty() && !closed_) {
    wait_until(std::min(deadline, OldestLocked() + linger),
               [&] { return closed_ || pending_.size() >= max; });
  }
  // Each key is sorted into a lane once, on this (the taking) thread.
  for (std::string& key : arrived_)
    (first && first(key) ? first_ : rest_).push_back(std::move(key));
  arrived_.clear();
  // One lane a batch: new posts are not topped up with the backlog's
  // rewrites, so their batch is one small read and bulk, not a full one.
  std::deque<std::string>& lane = first_.empty() ? rest_ : first_;
  std::vector<Change> taken;
  while (!lane.empty() && taken.size() < max) {
    auto it = pending_.find(lane.front());
    lane.pop_front();
    taken.push_back(std::move(it->second.change));
    pending_.erase(it);
  }
  lock.unlock();
  changed_.notify_all();  // Room for a waiting listing.
  return taken;
}

void ChangeQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
}

size_t ChangeQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

namespace {

class SweepSource final : public ChangeSource {
 public:
  SweepSource(Lake* lake, Shard shard, absl::Duration interval,
              std::function<void(const absl::Status&, int64_t)> on_pass)
      : lake_(lake), shard_(shard), interval_(interval), on_pass_(std::move(on_pass)) {}
  ~SweepSource() override { Stop(); }

  std::string name() const override { return "sweep"; }

  absl::Status Start(ChangeQueue* queue) override {
    queue_ = queue;
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    for (;;) {
      int64_t files = 0;
      const absl::Status status = Pass(files);
      if (on_pass_) on_pass_(status, files);
      if (!status.ok()) {
        Log(LogLevel::kWarning, "sweep failed; retried at the next pass",
            {{"error", status.ToString()}});
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_ || interval_ <= absl::ZeroDuration()) return;
      if (wake_.wait_for(lock, absl::ToChronoNanoseconds(interval_),
                         [this] { return stopping_; })) {
        return;
      }
    }
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  // One flat listing (on S3 a LIST per 1,000 files, not one per creator
  // folder), offered a page at a time: a page waits for room in the queue.
  absl::Status Pass(int64_t& files) {
    bool ended = false;  // Stopping, or the queue closed: not a failed pass.
    const absl::Status status = lake_->ListFiles(kPostsRoot, [&](std::vector<LakeEntry>& page) {
      ended = Stopping();
      if (ended) return absl::CancelledError("stopping");
      std::vector<Change> changes;
      for (LakeEntry& file : page) {
        const std::optional<absl::string_view> owner = PostFileOwner(file.name);
        if (!owner.has_value() || !shard_.Owns(*owner)) continue;
        Change& change = changes.emplace_back();
        change.key = absl::StrCat(kPostsRoot, file.name);
        change.size = file.size;
        change.mtime_ns = file.mtime_ns;
        change.etag = std::move(file.etag);
        change.landed = absl::FromUnixNanos(file.mtime_ns);
        change.source = "sweep";
      }
      files += static_cast<int64_t>(changes.size());
      ended = !queue_->OfferListed(std::move(changes));
      return ended ? absl::CancelledError("queue closed") : absl::OkStatus();
    });
    return ended ? absl::OkStatus() : status;
  }

  Lake* const lake_;
  const Shard shard_;
  const absl::Duration interval_;
  const std::function<void(const absl::Status&, int64_t)> on_pass_;
  ChangeQueue* queue_ = nullptr;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

class InotifySource final : public ChangeSource {
 public:
  InotifySource(std::string root, Shard shard) : root_(std::move(root)), shard_(shard) {}
  ~InotifySource() override {
    Stop();
    if (fd_ >= 0) close(fd_);
  }

  std::string name() const override { return "inotify"; }

  absl::Status Start(ChangeQueue* queue) override {
    queue_ = queue;
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return ErrnoStatus("inotify_init1", root_);
    if (absl::Status status = Watch(std::string(kPostsRoot)); !status.ok()) return status;
    absl::StatusOr<std::vector<LakeEntry>> owners = NewLocalLake(root_)->List(kPostsRoot);
    if (!owners.ok()) return owners.status();
    for (const LakeEntry& owner : *owners) {
      if (!owner.is_dir || !shard_.Owns(owner.name)) continue;
      if (absl::Status status = Watch(absl::StrCat(kPostsRoot, owner.name, "/")); !status.ok()) {
        return status;
      }
    }
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }

  void Stop() override {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  absl::Status Watch(const std::string& dir) {
    const std::string path = absl::StrCat(root_, "/", dir);
    const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR;
    const int wd = inotify_add_watch(fd_, path.c_str(), mask);
    if (wd < 0) {
      if (errno == ENOSPC) {
        return absl::ResourceExhaustedError(
            absl::StrCat("inotify: out of watches at ", path,
                         " (raise fs.inotify.max_user_watches, or follow with the sweep only: "
                         "--follow_inotify=false)"));
      }
      return ErrnoStatus("inotify_add_watch", path);
    }
    dirs_[wd] = dir;
    return absl::OkStatus();
  }

  void OfferFile(const std::string& key) {
    struct stat st;
    const std::string path = absl::StrCat(root_, "/", key);
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;  // Gone again.
    Change change;
    change.key = key;
    change.size = st.st_size;
    change.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    change.landed = absl::FromUnixNanos(change.mtime_ns);
    change.source = "inotify";
    if (!queue_->Offer(std::move(change))) {
      Log(LogLevel::kWarning, "queue full: change left to the sweep", {{"key", key}});
    }
  }

  void Handle(const inotify_event& event) {
    if (event.mask & IN_Q_OVERFLOW) {
      Log(LogLevel::kWarning, "inotify queue overflowed: changes left to the sweep");
      return;
    }
    if (event.mask & IN_IGNORED) {
      dirs_.erase(event.wd);
      return;
    }
    auto it = dirs_.find(event.wd);
    if (it == dirs_.end() || event.len == 0) return;
    const std::string name(event.name);
    if (name.empty() || name[0] == '.') return;
    const std::string dir = it->second;  // A copy: Watch below may rehash dirs_.
    if (event.mask & IN_ISDIR) {
      if (dir != kPostsRoot || !shard_.Owns(name) || !(event.mask & (IN_CREATE | IN_MOVED_TO))) {
        return;
      }
      const std::string owner_dir = absl::StrCat(dir, name, "/");
      if (absl::Status status = Watch(owner_dir); !status.ok()) {
        Log(LogLevel::kWarning, "cannot watch a new folder: left to the sweep",
            {{"error", status.ToString()}});
        return;
      }
      // Files written before the watch existed.
      absl::StatusOr<std::vector<LakeEntry>> files = NewLocalLake(root_)->List(owner_dir);
      if (!files.ok()) return;
      for (const LakeEntry& file : *files) {
        if (!file.is_dir && PostFileOwner(absl::StrCat(name, "/", file.name))) {
          OfferFile(owner_dir + file.name);
        }
      }
      return;
    }
    if (dir == kPostsRoot) return;
    const std::string key = dir + name;
    if (!PostFileOwner(absl::string_view(key).substr(kPostsRoot.size()))) return;
    if (event.mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) OfferFile(key);
  }

  void Loop() {
    alignas(inotify_event) char buffer[64 * 1024];
    while (!stopping_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 200) <= 0) continue;
      const ssize_t n = read(fd_, buffer, sizeof(buffer));
      if (n <= 0) continue;
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        Handle(*event);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
  }

  const std::string root_;
  const Shard shard_;
  ChangeQueue* queue_ = nullptr;
  int fd_ = -1;
  absl::flat_hash_map<int, std::string> dirs_;  // Watch -> lake folder ("…/posts/<owner>/").
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<ChangeSource> NewSweepSource(
    Lake* lake, Shard shard, absl::Duration interval,
    std::function<void(const absl::Status&, int64_t files)> on_pass) {
  return std::make_unique<SweepSource>(lake, shard, interval, std::move(on_pass));
}

std::unique_ptr<ChangeSource> NewInotifySource(std::string lake_root, Shard shard) {
  return std::make_unique<InotifySource>(std::move(lake_root), shard);
}

}  // namespace scout::ingest
