// scout-gencreators: synthetic creators at scale for the creator-discovery
// benchmarks (bench/creators_bench.py). Writes creators [--first, --creators)
// straight into the warehouse's profile_facts and creator_content rows with
// COPY, deterministic from --seed, so `scout-aggregate --rebuild_creators`
// has 500,000 creators to index without a lake of that size. The creators
// below --first come from a genlake lake through Scout's own workers; the
// generated ones continue genlake's numbering (same ids, names, biographies,
// caption vocabulary and palettes as genlake would give them), so the two
// never collide.
//
// What is drawn (per creator, from its own seed):
// - followers log-normal (median 8,000, sigma 1.9: ~54 % nano, 36 % micro,
//   8 % mid, 1 % macro, 0.6 % mega), engagement rate log-normal falling with
//   size, 30-day growth, business share --business_rate, a 90-day series;
// - posts in 90 days from genlake's posting rate, their captions, hashtags
//   and mentions from genlake's vocabulary, topics from common/base/topics.h's
//   classifier over those posts;
// - a palette from genlake's MakePalette (6 colours, shares 5-40 %), absent
//   for --no_palette_rate of the creators.
// A rerun deletes the rows of earlier runs (their load_versions kind is
// "gencreators") and writes the same rows again. Prints one JSON line.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/backends/creator_content.h"
#include "common/backends/profile_facts.h"
#include "common/backends/warehouse.h"
#include "common/base/parallel.h"
#include "common/base/status.h"
#include "common/base/time.h"
#include "common/base/topics.h"
#include "tools/genlake/content.h"
#include "tools/genlake/pictures.h"
#include "tools/genlake/random.h"
#include "workers/palette/kmeans.h"

ABSL_FLAG(int, creators, 500000, "Index one past the last creator written.");
ABSL_FLAG(int, first, 0, "First creator index (the lake's creators are below it).");
ABSL_FLAG(uint64_t, seed, 1, "Random seed (the lake's, so ids and palettes continue it).");
ABSL_FLAG(std::string, as_of, "2026-11-21", "Stats date, YYYY-MM-DD.");
ABSL_FLAG(double, business_rate, 0.3, "Fraction of business accounts.");
ABSL_FLAG(double, no_palette_rate, 0.05, "Fraction of creators without a palette.");
ABSL_FLAG(int, max_posts_drawn, 8, "Posts whose text is drawn per creator (the rest counted).");
ABSL_FLAG(int, batch, 5000, "Creators per COPY.");
ABSL_FLAG(int, threads, 2, "Generator threads; the output does not depend on it.");
ABSL_FLAG(std::string, pg_dsn, "", "Warehouse DSN (default: SCOUT_PG_DSN).");

namespace scout::bench {
namespace {

namespace gl = scout::genlake;

constexpr uint64_t kBenchStream = 0xbe7c4;  // Apart from genlake's streams.
constexpr int kSeriesDays = 90;
constexpr char kKind[] = "gencreators";

double Normal(gl::Rng& rng) {  // Box-Muller.
  const double u = std::max(rng.Uniform(), 1e-300);
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * rng.Uniform());
}

struct Rows {
  std::string facts, content;
};

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    absl::ConsumePrefix(&item, "#");
    absl::ConsumePrefix(&item, "@");
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

// Tags by use, most used first (ties by first use), at most kMaxContentTags.
std::vector<v1::TagCount> TopTags(const std::vector<std::string>& used) {
  std::vector<v1::TagCount> tags;
  std::map<std::string, size_t> position;
  for (const std::string& tag : used) {
    auto [it, added] = position.emplace(tag, tags.size());
    if (added) {
      tags.emplace_back().set_tag(tag);
    }
    tags[it->second].set_count(tags[it->second].count() + 1);
  }
  std::stable_sort(tags.begin(), tags.end(), [](const v1::TagCount& a, const v1::TagCount& b) {
    return a.count() > b.count();
  });
  if (tags.size() > static_cast<size_t>(kMaxContentTags)) tags.resize(kMaxContentTags);
  return tags;
}

struct Generator {
  uint64_t seed;
  int users;  // For genlake's mentions (other creators among all of them).
  absl::CivilDay as_of;
  double business_rate, no_palette_rate;
  int max_posts_drawn;
  std::string version, updated_at;

  void Append(int user, Rows& out) const {
    const gl::Creator c = gl::MakeCreator(seed, user, business_rate);
    gl::Rng rng(gl::Hash(kBenchStream, seed, user));
    const int64_t today = gl::DayNumber(as_of);

    ProfileFactsRow f;
    f.creator_id = c.id;
    f.as_of = as_of;
    f.username = c.username;
    f.name = c.name;
    f.biography = c.biography;
    f.website = c.website;
    f.profile_picture_url = absl::StrCat("media/profile_pictures/", c.id, ".jpg");
    f.is_business = c.business;
    const double followers = std::clamp(std::exp(std::log(8000.0) + 1.9 * Normal(rng)), 50.0, 4e8);
    f.followers_count = static_cast<int64_t>(followers);
    f.follows_count = static_cast<int64_t>(c.follows0);
    // Engagement falls with size (about 6 % at 1,000 followers, 1.5 % at 1 M).
    const double rate =
        std::clamp(std::exp(std::log(0.06) - 0.2 * std::log(followers / 1000) + 0.5 * Normal(rng)),
                   0.0005, 0.5);
    const double growth = std::max(-0.3, (c.business ? 0.03 : 0.01) + 0.04 * Normal(rng));

    // 90 days of followers ending today at followers_count, growing by
    // `growth` per 30 days, with a little daily noise.
    std::vector<DailyPoint> series;
    for (int64_t back = kSeriesDays - 1; back >= 0; --back) {
      DailyPoint p;
      p.day = as_of - back;
      const double noise = back == 0 ? 1.0 : 1 + 0.002 * Normal(rng);
      p.followers = static_cast<int64_t>(followers * std::pow(1 + growth, -back / 30.0) * noise);
      if (c.business) {
        p.reach = static_cast<int64_t>(p.followers * rng.Uniform(0.05, 0.3));
        p.impressions = static_cast<int64_t>(*p.reach * rng.Uniform(1.2, 2.0));
      }
      series.push_back(p);
    }
    f.daily_json = DailyJson(series);
    const int64_t base = series[kSeriesDays - 31].followers;
    if (base > 0) {
      f.follower_growth_30d = static_cast<double>(f.followers_count - base) / base;
    }

    // Posts of the 90 days: days drawn uniformly, newest first.
    const int posts_90d = std::min(rng.Poisson(c.posts_per_day * kContentDays), 400);
    std::vector<std::pair<int64_t, int>> when;  // (day, second)
    for (int i = 0; i < posts_90d; ++i) {
      when.emplace_back(today - rng.Below(kContentDays), rng.Below(86400));
    }
    std::sort(when.rbegin(), when.rend());
    int posts_30d = 0;
    double fol_sum = 0;
    for (const auto& [day, second] : when) {
      if (day > today - 30) {
        ++posts_30d;
        fol_sum += static_cast<double>(series[kSeriesDays - 1 - (today - day)].followers);
      }
    }
    f.doc_count = posts_30d;
    f.media_count = c.media0 + posts_90d;
    if (posts_30d > 0) {
      f.fol_avg = fol_sum / posts_30d;
      f.eng_avg = rate * followers;
      f.engagement_rate = *f.eng_avg / static_cast<double>(f.followers_count);
      if (c.business) {
        f.avg_reach = followers * rng.Uniform(0.08, 0.35);
        f.avg_impressions = *f.avg_reach * rng.Uniform(1.2, 2.0);
      }
    }
    if (!when.empty()) {
      f.last_post_at = gl::StartOfDay(when[0].first) + absl::Seconds(when[0].second);
    }

    // Content: the newest max_posts_drawn posts' text.
    CreatorContentRow content;
    content.creator_id = c.id;
    content.as_of = as_of;
    content.posts_90d = posts_90d;
    TopicCounter topics;
    std::vector<std::string> hashtags, mentions;
    size_t caption_bytes = 0;
    const int drawn = std::min(posts_90d, max_posts_drawn);
    for (int i = 0; i < drawn; ++i) {
      gl::Rng post_rng(gl::Hash(kBenchStream, seed, user, when[i].first, i));
      const gl::PostText text =
          gl::DrawPostText(seed, *c.topic, user, users, when[i].first, post_rng);
      const std::vector<std::string> tags = SplitList(text.hashtags);
      topics.AddPost(text.caption, tags);
      hashtags.insert(hashtags.end(), tags.begin(), tags.end());
      for (std::string& m : SplitList(text.mentioned_users)) mentions.push_back(std::move(m));
      if (static_cast<int>(content.captions.size()) < kMaxSampleCaptions &&
          caption_bytes + text.caption.size() <= static_cast<size_t>(kMaxSampleCaptionBytes)) {
        caption_bytes += text.caption.size();
        content.captions.push_back(text.caption);
      }
    }
    content.hashtags = TopTags(hashtags);
    content.mentions = TopTags(mentions);
    for (const TopicShareOf& t : topics.Top(3)) {
      v1::TopicShare share;
      share.set_slug(t.slug);
      share.set_share(t.share);
      content.topics.push_back(share);
    }
    f.topics = content.topics;

    if (!rng.Chance(no_palette_rate)) {
      const gl::Palette palette = gl::MakePalette(seed, user);
      std::vector<palette::PaletteColor> colors;
      for (const gl::PaletteColor& p : palette) {
        palette::PaletteColor& color = colors.emplace_back();
        color.percentage = p.weight / static_cast<double>(gl::kWeightUnits);
        color.red = p.r;
        color.green = p.g;
        color.blue = p.b;
        color.hex = gl::HexColor(p);
      }
      const int images = std::clamp(posts_90d, 1, 50);
      const absl::Time computed_at = gl::StartOfDay(as_of - rng.Below(7)) + absl::Hours(3);
      absl::StatusOr<std::string> json =
          PaletteJson(palette::ColorsJson(colors), computed_at, images, images * 4096LL);
      if (json.ok()) f.palette_json = *std::move(json);
    }

    std::vector<SqlValue> facts = ProfileFactsValues(f);
    facts.push_back(version);
    facts.push_back(updated_at);
    AppendCopyRow(facts, out.facts);
    std::vector<SqlValue> row = CreatorContentValues(content);
    row.push_back(version);
    row.push_back(updated_at);
    AppendCopyRow(row, out.content);
  }
};

absl::Status Run() {
  const int first = absl::GetFlag(FLAGS_first), last = absl::GetFlag(FLAGS_creators);
  const int batch = std::max(1, absl::GetFlag(FLAGS_batch));
  if (first < 0 || last <= first || last > gl::kMaxUsers) {
    return absl::InvalidArgumentError("need 0 <= --first < --creators <= 2^26");
  }
  absl::CivilDay as_of;
  if (!absl::ParseCivilTime(absl::GetFlag(FLAGS_as_of), &as_of)) {
    return absl::InvalidArgumentError("--as_of is not YYYY-MM-DD");
  }
  std::string dsn = absl::GetFlag(FLAGS_pg_dsn);
  if (dsn.empty() && std::getenv("SCOUT_PG_DSN") != nullptr) dsn = std::getenv("SCOUT_PG_DSN");
  if (dsn.empty()) return absl::InvalidArgumentError("set --pg_dsn or SCOUT_PG_DSN");

  const absl::Time start = absl::Now();
  SCOUT_ASSIGN_OR_RETURN(std::unique_ptr<Warehouse> w, Warehouse::Connect(dsn));
  SCOUT_RETURN_IF_ERROR(Migrate(*w));
  SCOUT_ASSIGN_OR_RETURN(const SqlRows next,
                         w->Query("SELECT COALESCE(MAX(version), 0) + 1 FROM load_versions"));
  Generator gen{absl::GetFlag(FLAGS_seed),
                last,
                as_of,
                absl::GetFlag(FLAGS_business_rate),
                absl::GetFlag(FLAGS_no_palette_rate),
                absl::GetFlag(FLAGS_max_posts_drawn),
                *next.rows[0][0],
                FormatRfc3339(absl::Now())};

  // Earlier runs' rows go first, all in one transaction with the new ones.
  int64_t deleted = 0;
  SCOUT_RETURN_IF_ERROR(w->InTransaction([&]() -> absl::Status {
    const std::string earlier = "(SELECT version FROM load_versions WHERE kind = 'gencreators')";
    SCOUT_ASSIGN_OR_RETURN(
        const SqlRows count,
        w->Query(
            absl::StrCat("SELECT COUNT(*) FROM profile_facts WHERE load_version IN ", earlier)));
    deleted = std::strtoll(count.rows[0][0]->c_str(), nullptr, 10);
    SCOUT_RETURN_IF_ERROR(
        w->Exec(absl::StrCat("DELETE FROM profile_facts WHERE load_version IN ", earlier)));
    SCOUT_RETURN_IF_ERROR(
        w->Exec(absl::StrCat("DELETE FROM creator_content WHERE load_version IN ", earlier)));
    SCOUT_RETURN_IF_ERROR(w->Exec("DELETE FROM load_versions WHERE kind = 'gencreators'"));

    const std::string copy_facts = absl::StrCat("COPY profile_facts (", kProfileFactsColumns, ", ",
                                                kProfileFactsLoadColumns, ") FROM STDIN");
    const std::string copy_content = absl::StrCat("COPY creator_content (", kCreatorContentColumns,
                                                  ", ", kCreatorContentLoadColumns, ") FROM STDIN");
    const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
    for (int from = first; from < last; from += batch) {
      const int to = std::min(last, from + batch);
      // Each thread fills its own slice; slices are joined in order.
      std::vector<Rows> slices(static_cast<size_t>(threads));
      const int per = (to - from + threads - 1) / threads;
      ParallelFor(slices.size(), threads, [&](size_t t) {
        const int lo = from + static_cast<int>(t) * per, hi = std::min(to, lo + per);
        for (int user = lo; user < hi; ++user) gen.Append(user, slices[t]);
      });
      std::string facts, content;
      for (Rows& s : slices) {
        facts += s.facts;
        content += s.content;
      }
      SCOUT_RETURN_IF_ERROR(w->CopyIn(copy_facts, facts));
      SCOUT_RETURN_IF_ERROR(w->CopyIn(copy_content, content));
    }
    return w->Exec(
        "INSERT INTO load_versions (version, kind, as_of, shard, row_count, finished_at) "
        "VALUES (CAST($1 AS BIGINT), $2, CAST($3 AS DATE), '0/1', CAST($4 AS BIGINT), "
        "CURRENT_TIMESTAMP)",
        {gen.version, std::string(kKind), absl::FormatCivilTime(as_of),
         std::to_string(last - first)});
  }));
  SCOUT_RETURN_IF_ERROR(w->Exec("ANALYZE profile_facts"));
  SCOUT_RETURN_IF_ERROR(w->Exec("ANALYZE creator_content"));
  std::printf("%s\n", absl::StrFormat("{\"first\": %d, \"creators\": %d, \"written\": %d, "
                                      "\"replaced\": %d, \"load_version\": %s, \"seconds\": %.1f}",
                                      first, last, last - first, deleted, gen.version,
                                      absl::ToDoubleSeconds(absl::Now() - start))
                          .c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace scout::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes synthetic creators into the warehouse (profile_facts, creator_content).\n"
      "Usage: scout-gencreators [--creators 500000] [--first N] [--seed 1] [--as_of DAY]");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = scout::bench::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "scout-gencreators: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
