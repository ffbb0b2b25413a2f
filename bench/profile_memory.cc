// profile_memory: what the server's ProfileStore costs in memory and time
// for the profiles of a warehouse (issue 13 §4). Loads every profile_facts
// row through ProfileStore, then reloads the way the poller does (a second
// snapshot built while the first still serves, then the first released),
// and prints one JSON line:
//   profiles, load_s, rss_mb (after the load), reload_s, reload_peak_mb (the
//   highest RSS during the reload), after_reload_mb (RSS once the old
//   snapshot is gone), to_proto_us (building one GetUserProfile answer), and
//   answers_digest (a hash of every answer, to compare two builds).
// It uses only ProfileStore's public interface and ProfileFacts::ToProto,
// so bench/profile_memory.py builds the same file against an older tree as
// the baseline. Read-only on the warehouse.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/backends/warehouse.h"
#include "common/base/hash.h"
#include "server/profiles.h"

ABSL_FLAG(std::string, pg_dsn, "", "Warehouse DSN (default: SCOUT_PG_DSN).");
ABSL_FLAG(int, sample, 20000, "Profiles whose answer is timed (all are hashed).");

namespace {

// A line of /proc/self/status ("VmRSS", "VmHWM") in MiB; -1 if unreadable.
double StatusMb(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    int64_t kb = 0;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits += c;
    }
    if (absl::SimpleAtoi(digits, &kb)) return static_cast<double>(kb) / 1024;
  }
  return -1;
}

// Resets VmHWM to the current RSS (Linux 4.0+), so the next reading is the
// peak of what follows.
void ResetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

int Run() {
  std::string dsn = absl::GetFlag(FLAGS_pg_dsn);
  if (dsn.empty() && std::getenv("SCOUT_PG_DSN") != nullptr) dsn = std::getenv("SCOUT_PG_DSN");
  const auto connect = [dsn] { return scout::Warehouse::Connect(dsn); };
  const double empty_mb = StatusMb("VmRSS");

  auto first = std::make_unique<scout::server::ProfileStore>(connect, absl::Hours(1));
  absl::Time start = absl::Now();
  if (absl::Status status = first->Refresh(); !status.ok()) {
    std::fprintf(stderr, "load: %s\n", status.ToString().c_str());
    return 1;
  }
  const double load_s = absl::ToDoubleSeconds(absl::Now() - start);
  const double load_peak_mb = StatusMb("VmHWM");
  const double rss_mb = StatusMb("VmRSS");
  std::shared_ptr<const scout::server::ProfileSnapshot> old = first->Current();

  // Every answer, hashed in id order (the same for two builds that answer
  // the same), and the time to build a sample of them.
  std::vector<std::string> ids;
  ids.reserve(old->profiles.size());
  for (const auto& [id, facts] : old->profiles) ids.emplace_back(id);
  std::sort(ids.begin(), ids.end());
  uint64_t digest = scout::kFnvOffset;
  const size_t sample = std::min(ids.size(), static_cast<size_t>(absl::GetFlag(FLAGS_sample)));
  absl::Duration to_proto;
  size_t answer_bytes = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& facts = old->profiles.find(ids[i])->second;
    const absl::Time before = absl::Now();
    const scout::v1::UserProfile answer = facts.ToProto();
    if (i < sample) to_proto += absl::Now() - before;
    const std::string bytes = answer.SerializeAsString();
    answer_bytes += bytes.size();
    digest = scout::StableHash(bytes, digest);
  }
  ids = {};
  ids.shrink_to_fit();

  // The reload: a new snapshot is read while the old one still serves.
  ResetPeak();
  auto second = std::make_unique<scout::server::ProfileStore>(connect, absl::Hours(1));
  start = absl::Now();
  if (absl::Status status = second->Refresh(); !status.ok()) {
    std::fprintf(stderr, "reload: %s\n", status.ToString().c_str());
    return 1;
  }
  const double reload_s = absl::ToDoubleSeconds(absl::Now() - start);
  const double both_mb = StatusMb("VmRSS");
  old.reset();
  first.reset();  // The old snapshot's last holder: it is freed here.
  const double after_reload_mb = StatusMb("VmRSS");
  absl::SleepFor(absl::Seconds(2));
  const double settled_mb = StatusMb("VmRSS");
  const double reload_peak_mb = StatusMb("VmHWM");

  std::printf(
      "{\"profiles\": %zu, \"empty_mb\": %.1f, \"load_s\": %.2f, \"load_peak_mb\": %.1f, "
      "\"rss_mb\": %.1f, \"reload_s\": %.2f, \"reload_peak_mb\": %.1f, \"both_mb\": %.1f, "
      "\"after_reload_mb\": %.1f, \"settled_mb\": %.1f, \"to_proto_us\": %.2f, "
      "\"answer_bytes\": %zu, \"answers_digest\": \"%016llx\"}\n",
      second->Current()->profiles.size(), empty_mb, load_s, load_peak_mb, rss_mb, reload_s,
      reload_peak_mb, both_mb, after_reload_mb, settled_mb,
      sample > 0 ? absl::ToDoubleMicroseconds(to_proto) / static_cast<double>(sample) : 0.0,
      answer_bytes, static_cast<unsigned long long>(digest));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Run();
}
