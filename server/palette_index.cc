#include "server/palette_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backends/creator_index.h"
#include "common/base/log.h"
#include "common/base/simd.h"
#include "common/base/status.h"
#include "common/base/tier.h"
#include "common/base/topics.h"
#include "server/es_search.h"

namespace scout::server {
namespace {

using json = nlohmann::json;
namespace f = creator_field;

// Rows of the covariance the projection is fitted to: plenty for 192
// dimensions, and a fit that costs well under a second at any size.
constexpr size_t kFitSample = 20000;
// Creators per page while loading (doc values only, a few hundred bytes each).
constexpr int kLoadPage = 5000;
// A hanging Elasticsearch must not hold the server's start for long.
constexpr absl::Duration kCallTimeout = absl::Seconds(10);

// Creators per block of the scan: their distances fit in L1 (16 KB).
constexpr size_t kScanBlock = 4096;
// Candidates per batch of Rank's lower bounds (36 colour pairs each).
constexpr size_t kRankBatch = 32;
// The scan compares the target's projection x 4, rounded, with the stored
// bytes x 4: the rounding costs at most 1/8 of a byte per dimension, and
// clamping the target to +-2000 keeps every sum of 32 squares in an int32.
constexpr int kTargetScale = 4;
constexpr float kTargetLimit = 2000;

// Squared distances from `target` (kTargetScale units) to `count` stored
// projections. Straight-line 16-bit arithmetic with 32-bit sums, so the
// compiler turns each creator into a few multiply-add instructions.
SCOUT_VECTOR_CLONES
void ProjectedDistances(const int8_t* projected, size_t count, const int16_t* target,
                        int32_t* out) {
  for (size_t i = 0; i < count; ++i) {
    const int8_t* p = projected + i * kPaletteProjectionDims;
    int32_t sum = 0;
    for (int k = 0; k < kPaletteProjectionDims; ++k) {
      const auto d = static_cast<int16_t>(kTargetScale * p[k] - target[k]);
      sum += d * d;
    }
    out[i] = sum;
  }
}

std::optional<int64_t> IntField(const json& fields, const char* field) {
  const json* value = FirstValue(fields, field);
  if (value == nullptr) return std::nullopt;
  if (value->is_number_integer()) return value->get<int64_t>();
  if (value->is_number()) return static_cast<int64_t>(value->get<double>());
  if (value->is_string()) {  // Dates in epoch_millis come back as text.
    int64_t parsed = 0;
    if (absl::SimpleAtoi(value->get_ref<const std::string&>(), &parsed)) return parsed;
  }
  return std::nullopt;
}

}  // namespace

float PaletteIndex::TransportBelow(const float* cost, int rows, const Slot* x, const Slot* y) {
  // Any potentials u_i + v_j <= cost_ij bound the transport from below by
  // sum x_i u_i + sum y_j v_j (linear programming duality). Two cheap ones:
  // each row's least cost, then what each column can still add; and the
  // same from the columns. With costs from below (Ciede2000Below) they
  // bound the exact distance too.
  std::array<float, kSlots> u{}, v{};
  float from_rows = 0, from_columns = 0;
  for (int i = 0; i < rows; ++i) {
    u[i] = *std::min_element(cost + i * kSlots, cost + (i + 1) * kSlots);
    from_rows += x[i].weight * u[i];
  }
  for (int j = 0; j < kSlots; ++j) {
    float least = cost[j] - u[0];
    for (int i = 1; i < rows; ++i) least = std::min(least, cost[i * kSlots + j] - u[i]);
    from_rows += y[j].weight * least;
  }
  for (int j = 0; j < kSlots; ++j) {
    v[j] = cost[j];
    for (int i = 1; i < rows; ++i) v[j] = std::min(v[j], cost[i * kSlots + j]);
    from_columns += y[j].weight * v[j];
  }
  for (int i = 0; i < rows; ++i) {
    float least = cost[i * kSlots] - v[0];
    for (int j = 1; j < kSlots; ++j) least = std::min(least, cost[i * kSlots + j] - v[j]);
    from_columns += x[i].weight * least;
  }
  // The weights' rounding to floats: far below the costs' margin.
  return std::max(from_rows, from_columns) * (1 - 1e-5f);
}

bool PaletteIndex::FillSlots(const ColourSet& palette, Slot* slots) {
  if (palette.empty() || palette.size() > static_cast<size_t>(kSlots)) return false;
  double total = 0;
  for (const WeightedColour& colour : palette) total += colour.weight;
  if (!(total > 0)) return false;
  for (int j = 0; j < kSlots; ++j) {
    const bool used = static_cast<size_t>(j) < palette.size();
    const WeightedColour& colour = palette[used ? j : 0];
    slots[j] = {static_cast<float>(colour.lab.l), static_cast<float>(colour.lab.a),
                static_cast<float>(colour.lab.b),
                used ? static_cast<float>(colour.weight / total) : 0.0f};
  }
  return true;
}

uint32_t TopicBit(absl::string_view slug) {
  const absl::Span<const TopicInfo> topics = Topics();
  static_assert(sizeof(uint32_t) * 8 >= 32);
  for (size_t i = 0; i < topics.size() && i < 32; ++i) {
    if (topics[i].slug == slug) return uint32_t{1} << i;
  }
  return 0;
}

std::vector<std::string> TopicSlugs(uint32_t bits) {
  std::vector<std::string> slugs;
  const absl::Span<const TopicInfo> topics = Topics();
  for (size_t i = 0; i < topics.size() && i < 32; ++i) {
    if (bits & (uint32_t{1} << i)) slugs.emplace_back(topics[i].slug);
  }
  return slugs;
}

PaletteNumbers PaletteNumbers::Of(const PaletteCreator& c) {
  PaletteNumbers n;
  n.followers = c.followers.value_or(kAbsent);
  n.posts_30d = c.posts_30d.value_or(kAbsent);
  n.last_post_at_ms = c.last_post_at_ms.value_or(kAbsent);
  n.engagement_rate = c.engagement_rate.value_or(n.engagement_rate);
  n.growth = c.growth.value_or(n.growth);
  n.topics = c.topics;
  n.tier = static_cast<int8_t>(c.tier);
  n.is_business = c.is_business ? (*c.is_business ? 1 : 0) : -1;
  return n;
}

bool PaletteFilter::KeepsEveryNumber() const {
  return !min_followers && !max_followers && !min_posts_30d && !min_last_post_at_ms &&
         !min_engagement_rate && !max_engagement_rate && !min_growth && !is_business && !tiers &&
         topics == 0;
}

bool PaletteFilter::KeepsNumbers(const PaletteNumbers& n) const {
  constexpr int64_t kAbsent = PaletteNumbers::kAbsent;
  // An absent number fails any filter on it (NaN compares false).
  const auto at_least = [](int64_t v, const std::optional<int64_t>& bound) {
    return !bound || (v != kAbsent && v >= *bound);
  };
  if (!at_least(n.followers, min_followers) || !at_least(n.posts_30d, min_posts_30d) ||
      !at_least(n.last_post_at_ms, min_last_post_at_ms) ||
      (max_followers && (n.followers == kAbsent || n.followers > *max_followers)) ||
      (min_engagement_rate && !(n.engagement_rate >= *min_engagement_rate)) ||
      (max_engagement_rate && !(n.engagement_rate <= *max_engagement_rate)) ||
      (min_growth && !(n.growth >= *min_growth))) {
    return false;
  }
  if (is_business && n.is_business != (*is_business ? 1 : 0)) return false;
  if (tiers && (*tiers & (uint32_t{1} << n.tier)) == 0) return false;
  return topics == 0 || (topics & n.topics) != 0;
}

bool PaletteFilter::Keeps(const PaletteCreator& c) const {
  return KeepsNumbers(PaletteNumbers::Of(c)) && (exclude_id.empty() || c.id != exclude_id);
}

std::shared_ptr<const PaletteIndex> PaletteIndex::Build(std::vector<PaletteCreator> creators,
                                                        std::vector<std::string> codes) {
  auto index = std::shared_ptr<PaletteIndex>(new PaletteIndex());
  codes.resize(creators.size());
  std::vector<size_t> order;
  for (size_t i = 0; i < creators.size(); ++i) {
    if (!creators[i].palette.empty()) order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return creators[a].id < creators[b].id; });
  std::vector<std::vector<float>> vectors;
  vectors.reserve(order.size());
  index->creators_.reserve(order.size());
  for (size_t i : order) {
    std::vector<float> vector = UnpackPaletteVector(codes[i]);
    if (vector.empty()) vector = PaletteVector(creators[i].palette);
    std::string().swap(codes[i]);
    vectors.push_back(std::move(vector));
    index->creators_.push_back(std::move(creators[i]));
  }
  const size_t n = vectors.size();
  const int dims = kPaletteVectorDims;

  // Principal components of an even sample of the vectors.
  const size_t step = std::max<size_t>(1, n / kFitSample);
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(dims);
  size_t sampled = 0;
  for (size_t i = 0; i < n; i += step, ++sampled) {
    mean += Eigen::Map<const Eigen::VectorXf>(vectors[i].data(), dims).cast<double>();
  }
  if (sampled > 0) mean /= static_cast<double>(sampled);
  Eigen::MatrixXd covariance = Eigen::MatrixXd::Zero(dims, dims);
  for (size_t i = 0; i < n; i += step) {
    const Eigen::VectorXd centred =
        Eigen::Map<const Eigen::VectorXf>(vectors[i].data(), dims).cast<double>() - mean;
    covariance.selfadjointView<Eigen::Lower>().rankUpdate(centred);
  }
  covariance = covariance.selfadjointView<Eigen::Lower>();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
  index->mean_.assign(mean.data(), mean.data() + dims);
  index->basis_.resize(static_cast<size_t>(kPaletteProjectionDims) * dims);
  for (int k = 0; k < kPaletteProjectionDims; ++k) {
    // Eigenvalues ascend: the largest components are the last columns.
    const Eigen::VectorXd component = solver.eigenvectors().col(dims - 1 - k);
    for (int d = 0; d < dims; ++d)
      index->basis_[static_cast<size_t>(k) * dims + d] = static_cast<float>(component[d]);
  }
  std::vector<std::array<float, kPaletteProjectionDims>> projected;
  projected.reserve(n);
  float largest = 0;
  for (std::vector<float>& vector : vectors) {
    projected.push_back(index->Project(vector));
    for (float x : projected.back()) largest = std::max(largest, std::abs(x));
    std::vector<float>().swap(vector);
  }
  // One scale for every dimension, so distances need no per-dimension weight.
  index->scale_ = largest > 0 ? largest / 127 : 1;
  index->projected_.resize(n * kPaletteProjectionDims);
  for (size_t i = 0; i < n; ++i) {
    for (int k = 0; k < kPaletteProjectionDims; ++k) {
      index->projected_[i * kPaletteProjectionDims + k] = static_cast<int8_t>(
          std::clamp(std::lround(projected[i][k] / index->scale_), -127L, 127L));
    }
  }
  index->numbers_.reserve(n);
  for (const PaletteCreator& creator : index->creators_) {
    index->numbers_.push_back(PaletteNumbers::Of(creator));
  }
  index->slots_.resize(n * kSlots);
  index->slotted_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    index->slotted_[i] = FillSlots(index->creators_[i].palette, &index->slots_[i * kSlots]);
  }
  return index;
}

std::array<float, kPaletteProjectionDims> PaletteIndex::Project(
    const std::vector<float>& vector) const {
  std::array<float, kPaletteProjectionDims> out{};
  for (int k = 0; k < kPaletteProjectionDims; ++k) {
    const float* row = &basis_[static_cast<size_t>(k) * kPaletteVectorDims];
    float sum = 0;
    for (int d = 0; d < kPaletteVectorDims; ++d) sum += row[d] * (vector[d] - mean_[d]);
    out[k] = sum;
  }
  return out;
}

PaletteIndex::Candidates PaletteIndex::Nearest(const ColourSet& target, const PaletteFilter& filter,
                                               size_t pool) const {
  Candidates candidates;
  if (target.empty() || pool == 0 || creators_.empty()) return candidates;
  // The target in the scan's unit (kTargetScale per stored step).
  const std::array<float, kPaletteProjectionDims> projected = Project(PaletteVector(target));
  std::array<int16_t, kPaletteProjectionDims> t{};
  for (int k = 0; k < kPaletteProjectionDims; ++k) {
    t[k] = static_cast<int16_t>(
        std::lround(std::clamp(projected[k] * kTargetScale / scale_, -kTargetLimit, kTargetLimit)));
  }
  const bool every_number = filter.KeepsEveryNumber();
  const std::optional<uint32_t> excluded =
      filter.exclude_id.empty() ? std::nullopt : Find(filter.exclude_id);
  // Candidates nearer than `threshold` gather in `nearest`; when it holds
  // twice the pool, it is cut back to the pool's nearest and the threshold
  // drops to the farthest kept (amortised: no heap per candidate).
  std::vector<std::pair<int32_t, uint32_t>> nearest;
  nearest.reserve(2 * pool);
  int32_t threshold = std::numeric_limits<int32_t>::max();
  const auto cut = [&nearest, pool] {
    if (nearest.size() <= pool) return;
    std::nth_element(nearest.begin(), nearest.begin() + static_cast<std::ptrdiff_t>(pool - 1),
                     nearest.end());
    nearest.resize(pool);
  };
  std::vector<int32_t> distances(kScanBlock);
  for (size_t start = 0; start < creators_.size(); start += kScanBlock) {
    const size_t count = std::min(kScanBlock, creators_.size() - start);
    ProjectedDistances(&projected_[start * kPaletteProjectionDims], count, t.data(),
                       distances.data());
    for (size_t b = 0; b < count; ++b) {
      // Once more than the pool passed the filter, a creator beyond the
      // threshold cannot matter: no filter test for it (most of them).
      if (distances[b] >= threshold) continue;
      const size_t i = start + b;
      if ((!every_number && !filter.KeepsNumbers(numbers_[i])) || excluded == i) continue;
      nearest.emplace_back(distances[b], static_cast<uint32_t>(i));
      if (nearest.size() == 2 * pool) {
        cut();
        threshold = nearest[pool - 1].first;  // nth_element put the pool's farthest there.
        candidates.more = true;
      }
    }
  }
  if (nearest.size() > pool) candidates.more = true;
  cut();
  std::sort(nearest.begin(), nearest.end());
  candidates.indices.reserve(nearest.size());
  for (const auto& [distance, i] : nearest) candidates.indices.push_back(i);
  return candidates;
}

std::vector<PaletteIndex::Hit> PaletteIndex::Rank(const ColourSet& target,
                                                  const std::vector<uint32_t>& indices,
                                                  size_t needed,
                                                  const std::vector<double>* weights) const {
  const auto before = [this](const Hit& a, const Hit& b) {
    return a.rank != b.rank ? a.rank < b.rank : creators_[a.index].id < creators_[b.index].id;
  };
  // Candidates come nearest projection first, so the kept `needed` fill
  // with near ones early and the bound they set tightens fast. Each
  // candidate is first held against lower bounds of its distance from
  // single-precision ground distances, computed kRankBatch candidates at a
  // time (vectorised); most never need the exact solve.
  std::array<Slot, kSlots> target_slots{};
  const bool bounded = needed > 0 && FillSlots(target, target_slots.data());
  // Pair i * kSlots + j: the target's colour i with the candidate's slot j.
  const int rows = bounded ? static_cast<int>(target.size()) : 0;
  const size_t pairs = static_cast<size_t>(rows) * kSlots;
  std::vector<float> columns(6 * pairs * kRankBatch), costs(pairs * kRankBatch);
  float* const xl = &columns[0 * pairs * kRankBatch];
  float* const xa = &columns[1 * pairs * kRankBatch];
  float* const xb = &columns[2 * pairs * kRankBatch];
  float* const yl = &columns[3 * pairs * kRankBatch];
  float* const ya = &columns[4 * pairs * kRankBatch];
  float* const yb = &columns[5 * pairs * kRankBatch];
  for (size_t p = 0; p < pairs * kRankBatch; ++p) {
    const Slot& colour = target_slots[p % pairs / kSlots];
    xl[p] = colour.l, xa[p] = colour.a, xb[p] = colour.b;
  }
  std::array<double, kSlots> x_weights{};
  for (int i = 0; i < rows; ++i) x_weights[i] = target_slots[i].weight;
  std::vector<Hit> heap;  // Worst kept on top.
  for (size_t start = 0; start < indices.size() && needed > 0; start += kRankBatch) {
    const size_t count = std::min(kRankBatch, indices.size() - start);
    // Until `needed` are kept there is no bound to hold candidates against.
    const bool costed = bounded && heap.size() >= needed;
    if (costed) {
      for (size_t c = 0; c < count; ++c) {
        const Slot* slots = &slots_[indices[start + c] * size_t{kSlots}];
        for (size_t p = 0; p < pairs; ++p) {
          const Slot& colour = slots[p % kSlots];
          yl[c * pairs + p] = colour.l, ya[c * pairs + p] = colour.a, yb[c * pairs + p] = colour.b;
        }
      }
      Ciede2000Below({xl, xa, xb}, {yl, ya, yb}, count * pairs, costs.data());
    }
    for (size_t c = 0; c < count; ++c) {
      const size_t k = start + c;
      const uint32_t index = indices[k];
      const double weight = weights != nullptr ? (*weights)[k] : 1.0;
      const bool full = heap.size() >= needed;
      const double bound = !full || !(weight > 0) ? std::numeric_limits<double>::infinity()
                                                  : heap.front().rank / weight;
      if (costed && slotted_[index] && std::isfinite(bound)) {
        const float* cost = &costs[c * pairs];
        const Slot* slots = &slots_[index * size_t{kSlots}];
        if (TransportBelow(cost, rows, target_slots.data(), slots) >= bound) continue;
        // Then the transport itself on the costs from below: within their
        // margin of the exact distance, so only contenders pass.
        std::array<double, kSlots * kSlots> wide;
        std::array<double, kSlots> y_weights;
        for (size_t p = 0; p < pairs; ++p) wide[p] = cost[p];
        for (int j = 0; j < kSlots; ++j) y_weights[j] = slots[j].weight;
        if (EarthMoverDistance(rows, kSlots, wide.data(), x_weights.data(), y_weights.data()) *
                (1 - 1e-5) >=
            bound) {
          continue;
        }
      }
      const double distance = PaletteDistanceBelow(target, creators_[index].palette, bound);
      const Hit hit{index, distance, weight * distance};
      if (!full) {
        heap.push_back(hit);
        std::push_heap(heap.begin(), heap.end(), before);
      } else if (distance < bound && before(hit, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), before);
        heap.back() = hit;
        std::push_heap(heap.begin(), heap.end(), before);
      }
    }
  }
  std::sort(heap.begin(), heap.end(), before);
  return heap;
}

std::optional<uint32_t> PaletteIndex::Find(absl::string_view id) const {
  const auto it =
      std::lower_bound(creators_.begin(), creators_.end(), id,
                       [](const PaletteCreator& c, absl::string_view key) { return c.id < key; });
  if (it == creators_.end() || it->id != id) return std::nullopt;
  return static_cast<uint32_t>(it - creators_.begin());
}

PaletteIndexLoader::PaletteIndexLoader(Elastic* elastic, std::string read_alias,
                                       absl::Duration poll_interval)
    : elastic_(elastic), alias_(std::move(read_alias)), poll_interval_(poll_interval) {}

void PaletteIndexLoader::Start() {
  poller_ = std::make_unique<Periodic>(poll_interval_, [this] {
    if (absl::Status status = Refresh(); !status.ok()) {
      Log(LogLevel::kWarning, "palette index refresh failed; serving the last load",
          {{"error", status.ToString()}});
    }
  });
}

absl::StatusOr<std::string> PaletteIndexLoader::Stamp() const {
  // Which generation the alias names, and how many writes it has taken:
  // any write, delete or rebuild changes this.
  absl::StatusOr<json> stats = elastic_->Call(
      "GET",
      absl::StrCat(alias_,
                   "/_stats/indexing?filter_path=indices.*.uuid,indices.*.primaries.indexing."
                   "index_total,indices.*.primaries.indexing.delete_total"),
      nullptr, kCallTimeout);
  if (absl::IsNotFound(stats.status())) return std::string("none");
  if (!stats.ok()) return stats.status();
  return stats->dump();
}

absl::Status PaletteIndexLoader::Refresh() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  SCOUT_ASSIGN_OR_RETURN(const std::string stamp, Stamp());
  const bool first = Current() == nullptr;
  if (!first && stamp == loaded_stamp_) return absl::OkStatus();
  if (!first && stamp != seen_stamp_) {
    seen_stamp_ = stamp;  // Still being written, perhaps: look again next time.
    return absl::OkStatus();
  }
  if (stamp != "none") {
    // Make every write counted in the stamp visible to the load.
    absl::StatusOr<json> refreshed =
        elastic_->Call("POST", absl::StrCat(alias_, "/_refresh"), nullptr, kCallTimeout);
    if (!refreshed.ok() && !absl::IsNotFound(refreshed.status())) return refreshed.status();
  }
  const absl::Time start = absl::Now();
  SCOUT_ASSIGN_OR_RETURN(std::shared_ptr<const PaletteIndex> loaded, Load());
  Log(LogLevel::kInfo, "palette index loaded",
      {{"creators", static_cast<int64_t>(loaded->creators().size())},
       {"seconds", absl::ToDoubleSeconds(absl::Now() - start)}});
  current_.store(std::move(loaded));
  loaded_stamp_ = seen_stamp_ = stamp;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const PaletteIndex>> PaletteIndexLoader::Load() const {
  std::vector<PaletteCreator> creators;
  std::vector<std::string> codes;
  json search_after;
  int64_t skipped = 0;
  for (;;) {
    json body = {{"size", kLoadPage},
                 {"_source", false},
                 {"query", {{"bool", {{"filter", {{{"exists", {{"field", f::kPaletteKey}}}}}}}}}},
                 {"docvalue_fields",
                  {f::kId,
                   f::kPaletteKey,
                   f::kPaletteCode,
                   f::kFollowers,
                   f::kEngagementRate,
                   f::kGrowth,
                   f::kPosts30d,
                   f::kIsBusiness,
                   f::kTier,
                   f::kTopics,
                   {{"field", f::kLastPostAt}, {"format", "epoch_millis"}}}},
                 {"sort", {{{f::kId, "asc"}}}}};
    if (!search_after.is_null()) body["search_after"] = search_after;
    SCOUT_ASSIGN_OR_RETURN(const std::optional<json> answer,
                           CallSearch(*elastic_, alias_, body, absl::Now() + absl::Minutes(1)));
    if (!answer) break;  // No creators index yet.
    SCOUT_ASSIGN_OR_RETURN(const SearchHits hits, ReadHits(*answer));
    for (const json& hit : *hits.hits) {
      const json* fields = HitFields(hit);
      const json* id = fields ? FirstValue(*fields, f::kId) : nullptr;
      const json* key = fields ? FirstValue(*fields, f::kPaletteKey) : nullptr;
      if (id == nullptr || !id->is_string() || key == nullptr || !key->is_string()) {
        return MalformedAnswer("a creator without an id or palette_key");
      }
      absl::StatusOr<ColourSet> palette = ColourSetOfPaletteKey(key->get_ref<const std::string&>());
      if (!palette.ok() || palette->empty()) {
        ++skipped;  // Logged below; one bad document must not stop the rest.
        continue;
      }
      PaletteCreator creator;
      creator.id = id->get<std::string>();
      creator.palette = *std::move(palette);
      creator.followers = IntField(*fields, f::kFollowers);
      creator.posts_30d = IntField(*fields, f::kPosts30d);
      creator.last_post_at_ms = IntField(*fields, f::kLastPostAt);
      creator.engagement_rate = FirstNumber(*fields, f::kEngagementRate);
      creator.growth = FirstNumber(*fields, f::kGrowth);
      if (const json* business = FirstValue(*fields, f::kIsBusiness);
          business != nullptr && business->is_boolean()) {
        creator.is_business = business->get<bool>();
      }
      if (const json* tier = FirstValue(*fields, f::kTier); tier != nullptr && tier->is_string()) {
        creator.tier = TierFromSlug(tier->get_ref<const std::string&>()).value_or(creator.tier);
      }
      if (const auto topics = fields->find(f::kTopics);
          topics != fields->end() && topics->is_array()) {
        for (const json& slug : *topics) {
          if (slug.is_string()) creator.topics |= TopicBit(slug.get_ref<const std::string&>());
        }
      }
      std::string code;
      if (const json* encoded = FirstValue(*fields, f::kPaletteCode);
          encoded != nullptr && encoded->is_string()) {
        // A code that does not decode is recomputed from the palette.
        absl::StatusOr<std::vector<float>> vector =
            PaletteVectorOfCode(encoded->get_ref<const std::string&>());
        if (vector.ok()) code = PackPaletteVector(*vector);
      }
      creators.push_back(std::move(creator));
      codes.push_back(std::move(code));
    }
    if (hits.hits->size() < static_cast<size_t>(kLoadPage)) break;
    const json& last = hits.hits->back();
    const auto sort = last.find("sort");
    if (sort == last.end() || !sort->is_array())
      return MalformedAnswer("a hit without sort values");
    search_after = *sort;
  }
  if (skipped > 0) {
    Log(LogLevel::kWarning, "palette index: creators with an unreadable palette_key left out",
        {{"creators", skipped}});
  }
  return PaletteIndex::Build(std::move(creators), std::move(codes));
}

}  // namespace scout::server
