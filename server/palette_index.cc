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
#include "common/base/parallel.h"
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

uint32_t TopicBit(absl::string_view slug) {
  const absl::Span<const TopicInfo> topics = Topics();
  static_assert(sizeof(uint32_t) * 8 >= 32);
  for (size_t i = 0; i < topics.size() && i < 32; ++i) {
    if (topics[i].slug == slug) return uint32_t{1} << i;
  }
  return 0;
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
  // The target in the stored bytes' unit (not rounded: it may lie outside).
  std::array<float, kPaletteProjectionDims> t = Project(PaletteVector(target));
  for (float& x : t) x /= scale_;
  const bool every_number = filter.KeepsEveryNumber();
  const std::optional<uint32_t> excluded =
      filter.exclude_id.empty() ? std::nullopt : Find(filter.exclude_id);
  // Candidates nearer than `threshold` gather in `nearest`; when it holds
  // twice the pool, it is cut back to the pool's nearest and the threshold
  // drops to the farthest kept (amortised: no heap per candidate).
  std::vector<std::pair<float, uint32_t>> nearest;
  nearest.reserve(2 * pool);
  float threshold = std::numeric_limits<float>::infinity();
  const auto cut = [&nearest, pool] {
    if (nearest.size() <= pool) return;
    std::nth_element(nearest.begin(), nearest.begin() + static_cast<std::ptrdiff_t>(pool - 1),
                     nearest.end());
    nearest.resize(pool);
  };
  for (size_t i = 0; i < creators_.size(); ++i) {
    if ((!every_number && !filter.KeepsNumbers(numbers_[i])) || excluded == i) continue;
    ++candidates.matched;
    const int8_t* p = &projected_[i * kPaletteProjectionDims];
    // Eight running sums, not one: no add waits for the previous one, and
    // the compiler may vectorise (it must keep each sum's order).
    std::array<float, 8> sums{};
    for (int k = 0; k < kPaletteProjectionDims; k += 8) {
      for (int j = 0; j < 8; ++j) {
        const float d = static_cast<float>(p[k + j]) - t[k + j];
        sums[j] += d * d;
      }
    }
    float d = 0;
    for (float sum : sums) d += sum;
    if (d < threshold) {
      nearest.emplace_back(d, static_cast<uint32_t>(i));
      if (nearest.size() == 2 * pool) {
        cut();
        threshold = nearest[pool - 1].first;  // nth_element put the pool's farthest there.
      }
    }
  }
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
  // Two threads, each keeping the best `needed` of every other candidate
  // (nearest projections first, so the bound tightens early); then merged.
  constexpr int kThreads = 2;
  std::vector<std::vector<Hit>> best(kThreads);
  ParallelFor(kThreads, kThreads, [&](size_t t) {
    std::vector<Hit>& heap = best[t];  // Worst kept on top.
    for (size_t k = t; k < indices.size() && needed > 0; k += kThreads) {
      const double weight = weights != nullptr ? (*weights)[k] : 1.0;
      const double bound = heap.size() < needed || !(weight > 0)
                               ? std::numeric_limits<double>::infinity()
                               : heap.front().rank / weight;
      const double distance = PaletteDistanceBelow(target, creators_[indices[k]].palette, bound);
      const Hit hit{indices[k], distance, weight * distance};
      if (heap.size() < needed) {
        heap.push_back(hit);
        std::push_heap(heap.begin(), heap.end(), before);
      } else if (distance < bound && before(hit, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), before);
        heap.back() = hit;
        std::push_heap(heap.begin(), heap.end(), before);
      }
    }
  });
  std::vector<Hit> hits;
  for (const std::vector<Hit>& part : best) hits.insert(hits.end(), part.begin(), part.end());
  std::sort(hits.begin(), hits.end(), before);
  if (hits.size() > needed) hits.resize(needed);
  return hits;
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
