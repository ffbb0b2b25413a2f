// ProfileStore: an in-memory snapshot of the warehouse's profile facts, so a
// profile page view costs no warehouse query. A background thread polls the
// load version and, when it changed, reads the new facts (in one
// repeatable-read transaction: one whole version) and swaps the snapshot in
// atomically. Readers never wait on a refresh; when the warehouse is down
// the last good snapshot keeps serving and the refresh is retried. A row
// that cannot be read is left out of the snapshot, logged and counted
// (scout_profile_rows_skipped_total), so it cannot freeze later refreshes.
// Memory: each creator is a few hundred bytes of packed facts in the
// snapshot's arena (ProfileFacts); a reload holds two snapshots while the
// new one is read, and the old one's arena is unmapped when its last
// reader lets go.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "common/base/periodic.h"
#include "scout/v1/types.pb.h"

namespace scout::server {

// The bytes of one snapshot, in a few large blocks: no allocation per
// creator, and blocks of 64 MiB lie above glibc's largest mmap threshold
// (32 MiB), so each is mapped on its own, its untouched tail never becomes
// resident, and it goes back to the system as soon as its snapshot is freed
// (a reload does not leave the old snapshot's memory behind in the heap).
// Not thread-safe while filled; read-only afterwards.
class ByteArena {
 public:
  // `size` bytes that live as long as the arena.
  char* Allocate(size_t size);
  size_t bytes_used() const { return used_; }

 private:
  static constexpr size_t kBlockBytes = size_t{64} << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0, used_ = 0;
};

// The compact daily series (about 3 bytes a day, 9 with business metrics,
// where parallel int64 arrays took 28): the count, the first date, then per
// point the followers and, when present, impressions and reach as
// zigzag-varint deltas from the previous value of the same metric. Dates are
// implied (one a day from the first) when every point follows the one
// before with the same metrics present; otherwise each point carries its
// date's delta and which metrics it has, so gaps, repeats and absent
// metrics round-trip exactly. INVALID_ARGUMENT for a date more than 2^31
// days from 1970 (DATA_LOSS from decoding means bytes not made here).
absl::Status EncodeSeries(const std::vector<DailyPoint>& points, std::string& out);
absl::StatusOr<std::vector<DailyPoint>> DecodeSeries(absl::string_view bytes);

// One creator's facts, compact (a few hundred bytes in the snapshot's
// arena): the profile's scalar and text fields as protobuf wire format, the
// palette likewise, the series as EncodeSeries. A page view decodes them.
// Cheap to copy; valid as long as the arena that holds its bytes.
class ProfileFacts {
 public:
  // `base`: every field of the answer but `daily` and `palette`. nullopt
  // `palette`: the creator has none.
  static absl::StatusOr<ProfileFacts> Pack(const scout::v1::UserProfile& base,
                                           const std::vector<DailyPoint>& daily,
                                           const scout::v1::Palette* palette, ByteArena& arena);

  absl::string_view id() const { return {data_, id_size_}; }
  // The profile as GetUserProfile answers it, recent posts aside.
  scout::v1::UserProfile ToProto() const;
  // The same into `profile` (replacing what it held), which may live on an
  // arena.
  void ToProto(scout::v1::UserProfile& profile) const;
  bool has_palette() const { return has_palette_; }
  // The creator's palette (user_id set); nullopt without one.
  std::optional<scout::v1::Palette> palette() const;

 private:
  const char* data_ = nullptr;  // id, base, palette, series, back to back.
  uint32_t id_size_ = 0, base_size_ = 0, palette_size_ = 0, series_size_ = 0;
  bool has_palette_ = false;
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
  ByteArena arena;  // Holds the bytes of `profiles`, keys included.
  absl::flat_hash_map<absl::string_view, ProfileFacts> profiles;  // By creator id.
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
