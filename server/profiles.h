// ProfileStore: an in-memory snapshot of the warehouse's profile facts, so a
// profile page view costs no warehouse query. A background thread polls the
// load version and, when it changed, reads the new facts (in one
// repeatable-read transaction: one whole version) and swaps the snapshot in
// atomically. Readers never wait on a refresh; when the warehouse is down
// the last good snapshot keeps serving and the refresh is retried. A row
// that cannot be read is left out of the snapshot, logged and counted
// (scout_profile_rows_skipped_total), so it cannot freeze later refreshes.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "common/base/periodic.h"
#include "scout/v1/types.pb.h"

namespace scout::server {

// One creator's facts, compact: a page view builds its UserProfile from this.
struct ProfileFacts {
  scout::v1::UserProfile base;  // Every field but `daily` and `palette`.
  // The series as parallel arrays (a tenth of the memory of messages);
  // kAbsent marks a day without business metrics.
  static constexpr int64_t kAbsent = -1;
  std::vector<int32_t> days;  // Days since 1970-01-01.
  std::vector<int64_t> followers, impressions, reach;
  std::shared_ptr<const scout::v1::Palette> palette;  // Null without one.

  scout::v1::UserProfile ToProto() const;
};

// tier_centiles of one as_of: for each tier (by TierSlug), the highest
// engagement rate of each of its centiles, lowest centile first (NTILE(100),
// so a tier of fewer than 100 creators has fewer centiles).
struct TierCentiles {
  std::string as_of;  // "" when the warehouse has none yet.
  absl::flat_hash_map<std::string, std::vector<double>> max_rate;
};

// Where `rate` stands among the creators of the tier of `followers`, 0..100:
// the share of that tier's centiles whose highest rate is below it (the
// share of creators with a lower rate, to a centile). nullopt without a rate
// or without centiles for the tier.
std::optional<double> EngagementPercentile(const TierCentiles& centiles, int64_t followers,
                                           std::optional<double> rate);

struct ProfileSnapshot {
  int64_t version = 0;
  absl::Time loaded_at;
  absl::flat_hash_map<std::string, ProfileFacts> profiles;
  TierCentiles centiles;  // Read in the same transaction as the profiles.
};

class ProfileStore {
 public:
  using Connector = std::function<absl::StatusOr<std::unique_ptr<Warehouse>>()>;

  ProfileStore(Connector connect, absl::Duration poll_interval);
  ~ProfileStore() = default;  // Stops the poller first (declared last).

  // Loads the current version if it is newer than the snapshot's.
  absl::Status Refresh();
  // Starts polling in the background.
  void Start();

  // Never null (empty before the first load); never blocks on a refresh.
  std::shared_ptr<const ProfileSnapshot> Current() const { return current_.load(); }

 private:
  absl::StatusOr<std::shared_ptr<ProfileSnapshot>> Load(Warehouse& warehouse, int64_t version);
  void Poll();  // One round of the poller.

  const Connector connect_;
  const absl::Duration poll_interval_;
  std::unique_ptr<Warehouse> warehouse_;  // Used by Refresh only.
  std::mutex refresh_mu_;                 // One refresh at a time.
  std::atomic<std::shared_ptr<const ProfileSnapshot>> current_;
  std::string last_error_;     // Used by Poll only.
  absl::Time last_confirmed_;  // Used by Poll only.
  std::unique_ptr<Periodic> poller_;
};

// Palettes are stored as JSON text (common/backends/profile_facts.h owns the codec).
using scout::ParsePaletteJson;

}  // namespace scout::server
