#include "client/creators_args.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/text.h"
#include "common/base/tier.h"

namespace scout::client {
namespace {

// From scout.v1.SearchCreatorsRequest's comments.
constexpr size_t kMaxQueryBytes = 1024;
constexpr size_t kMaxTags = 50;
constexpr size_t kMaxPaletteColours = 6;
constexpr int kMaxActiveWithinDays = 90;
constexpr int kMaxPageSize = 100;
constexpr size_t kMaxIdLength = 32;

absl::Status Bad(absl::string_view flag, absl::string_view problem, absl::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": ", problem, ", not \"", value, "\""));
}

std::vector<std::string> Split(const std::vector<std::string>& occurrences) {
  std::vector<std::string> values;
  for (const std::string& occurrence : occurrences) {
    for (std::string& value : SplitList(occurrence)) values.push_back(std::move(value));
  }
  return values;
}

// A follower count: digits, optionally with a k (thousand) or m (million)
// suffix and a fraction ("1.5m"), whole in the end.
absl::StatusOr<int64_t> Count(absl::string_view flag, absl::string_view text) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  double scale = 1;
  if (!number.empty() && (number.back() == 'k' || number.back() == 'K')) scale = 1e3;
  if (!number.empty() && (number.back() == 'm' || number.back() == 'M')) scale = 1e6;
  if (scale != 1) number.remove_suffix(1);
  double value = 0;
  if (number.empty() || !absl::ascii_isdigit(number.front()) || !absl::SimpleAtod(number, &value) ||
      !std::isfinite(value)) {
    return Bad(flag, "expected a follower count such as 25000, 25k or 1.5m", text);
  }
  value *= scale;
  if (value != std::floor(value) || value > 1e15) {
    return Bad(flag, "expected a whole number of followers", text);
  }
  return static_cast<int64_t>(value);
}

// A fraction, "0.03", or a percentage, "3%".
absl::StatusOr<double> Fraction(absl::string_view flag, absl::string_view text, double min) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  const bool percent = absl::ConsumeSuffix(&number, "%");
  double value = 0;
  if (number.empty() || absl::ascii_isalpha(number.back()) || !absl::SimpleAtod(number, &value) ||
      !std::isfinite(value)) {
    return Bad(flag, "expected a fraction such as 0.03 or a percentage such as 3%", text);
  }
  if (percent) value /= 100;
  if (value < min) {
    return Bad(flag, absl::StrCat("must be at least ", min, " (", 100 * min, "%)"), text);
  }
  return value;
}

absl::StatusOr<int32_t> WholeNumber(absl::string_view flag, absl::string_view text, int32_t min,
                                    int32_t max) {
  int32_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return Bad(flag, absl::StrCat("expected a whole number from ", min, " to ", max), text);
  }
  return value;
}

absl::StatusOr<std::vector<std::string>> Tags(absl::string_view flag,
                                              const std::vector<std::string>& occurrences) {
  std::vector<std::string> tags = Split(occurrences);
  if (tags.size() > kMaxTags) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": at most ", kMaxTags, " values, not ", tags.size()));
  }
  return tags;
}

}  // namespace

absl::StatusOr<std::string> PaletteTarget(absl::string_view text) {
  absl::string_view colour = absl::StripAsciiWhitespace(text);
  absl::string_view weight;
  if (const size_t colon = colour.find(':'); colon != absl::string_view::npos) {
    weight = colour.substr(colon + 1);
    colour = colour.substr(0, colon);
  }
  const auto bad = [&text] {
    return Bad("palette", "expected colours \"#rrggbb\" or \"#rrggbb:weight\" (weight > 0)", text);
  };
  if (colour.size() != 7 || colour[0] != '#') return bad();
  for (char c : colour.substr(1)) {
    if (!absl::ascii_isxdigit(c)) return bad();
  }
  std::string target = absl::AsciiStrToLower(colour);
  if (!weight.empty() || text.find(':') != absl::string_view::npos) {
    double value = 0;
    if (weight.empty() || !absl::ascii_isdigit(weight.front()) ||
        !absl::SimpleAtod(weight, &value) || !std::isfinite(value) || value <= 0) {
      return bad();
    }
    absl::StrAppend(&target, ":", weight);
  }
  return target;
}

absl::StatusOr<scout::v1::SearchCreatorsRequest> CreatorsRequest(const CreatorsFlags& flags) {
  scout::v1::SearchCreatorsRequest request;
  if (flags.query.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--query: at most ", kMaxQueryBytes, " bytes, not ", flags.query.size()));
  }
  request.set_query(flags.query);

  absl::StatusOr<std::vector<std::string>> hashtags = Tags("hashtag", flags.hashtags);
  if (!hashtags.ok()) return hashtags.status();
  for (const std::string& tag : *hashtags) request.add_hashtags(tag);
  absl::StatusOr<std::vector<std::string>> mentions = Tags("mention", flags.mentions);
  if (!mentions.ok()) return mentions.status();
  for (const std::string& user : *mentions) request.add_mentions(user);
  absl::StatusOr<std::vector<std::string>> topics = Tags("topic", flags.topics);
  if (!topics.ok()) return topics.status();
  // The slugs themselves are the server's to check (docs/topics.md).
  for (const std::string& topic : *topics) request.add_topics(absl::AsciiStrToLower(topic));
  for (const std::string& slug : Split(flags.tiers)) {
    const std::optional<scout::v1::CreatorTier> tier = TierFromSlug(absl::AsciiStrToLower(slug));
    if (!tier.has_value()) return Bad("tier", "expected nano, micro, mid, macro or mega", slug);
    request.add_tiers(*tier);
  }

  for (const auto& [flag, text, set] :
       {std::tuple{"min_followers", &flags.min_followers,
                   &scout::v1::SearchCreatorsRequest::set_min_followers},
        std::tuple{"max_followers", &flags.max_followers,
                   &scout::v1::SearchCreatorsRequest::set_max_followers}}) {
    if (text->empty()) continue;
    absl::StatusOr<int64_t> count = Count(flag, *text);
    if (!count.ok()) return count.status();
    (request.*set)(*count);
  }
  if (request.has_min_followers() && request.has_max_followers() &&
      request.min_followers() > request.max_followers()) {
    return absl::InvalidArgumentError("--min_followers is above --max_followers");
  }
  for (const auto& [flag, text, min, set] :
       {std::tuple{"min_engagement_rate", &flags.min_engagement_rate, 0.0,
                   &scout::v1::SearchCreatorsRequest::set_min_engagement_rate},
        std::tuple{"max_engagement_rate", &flags.max_engagement_rate, 0.0,
                   &scout::v1::SearchCreatorsRequest::set_max_engagement_rate},
        // A relative change: followers cannot fall by more than all of them.
        std::tuple{"min_follower_growth", &flags.min_follower_growth, -1.0,
                   &scout::v1::SearchCreatorsRequest::set_min_follower_growth}}) {
    if (text->empty()) continue;
    absl::StatusOr<double> value = Fraction(flag, *text, min);
    if (!value.ok()) return value.status();
    (request.*set)(*value);
  }
  if (request.has_min_engagement_rate() && request.has_max_engagement_rate() &&
      request.min_engagement_rate() > request.max_engagement_rate()) {
    return absl::InvalidArgumentError("--min_engagement_rate is above --max_engagement_rate");
  }
  if (!flags.min_posts_30d.empty()) {
    absl::StatusOr<int32_t> posts =
        WholeNumber("min_posts_30d", flags.min_posts_30d, 0, std::numeric_limits<int32_t>::max());
    if (!posts.ok()) return posts.status();
    request.set_min_posts_30d(*posts);
  }
  if (!flags.active_within_days.empty()) {
    absl::StatusOr<int32_t> days =
        WholeNumber("active_within_days", flags.active_within_days, 1, kMaxActiveWithinDays);
    if (!days.ok()) return days.status();
    request.set_active_within_days(*days);
  }
  if (flags.is_business.has_value()) request.set_is_business(*flags.is_business);

  const std::vector<std::string> palette = Split(flags.palette);
  if (palette.size() > kMaxPaletteColours) {
    return absl::InvalidArgumentError(
        absl::StrCat("--palette: at most ", kMaxPaletteColours, " colours, not ", palette.size()));
  }
  for (const std::string& colour : palette) {
    absl::StatusOr<std::string> target = PaletteTarget(colour);
    if (!target.ok()) return target.status();
    request.add_palette(*target);
  }
  if (!flags.like.empty()) {
    if (flags.like.size() > kMaxIdLength ||
        !std::all_of(flags.like.begin(), flags.like.end(), absl::ascii_isdigit)) {
      return Bad("like", "expected a creator id (digits)", flags.like);
    }
    if (!palette.empty()) {
      return absl::InvalidArgumentError(
          "--like and --palette do not combine: --like uses the "
          "creator's own palette as the target");
    }
    request.set_similar_to(flags.like);
  }

  if (!flags.sort.empty()) {
    std::string name = absl::AsciiStrToUpper(flags.sort);
    if (name == "ENGAGEMENT") name = "ENGAGEMENT_RATE";
    if (name == "PALETTE" || name == "DISTANCE") name = "PALETTE_DISTANCE";
    scout::v1::CreatorSort sort;
    if (name == "UNSPECIFIED" ||
        !scout::v1::CreatorSort_Parse(absl::StrCat("CREATOR_SORT_", name), &sort)) {
      return Bad("sort",
                 "expected relevance, followers, engagement_rate, growth or palette_distance",
                 flags.sort);
    }
    if (sort == scout::v1::CREATOR_SORT_PALETTE_DISTANCE && palette.empty() && flags.like.empty()) {
      return absl::InvalidArgumentError("--sort palette_distance needs --palette or --like");
    }
    request.set_sort(sort);
  }
  if (flags.page_size < 0 || flags.page_size > kMaxPageSize) {
    return Bad("page_size", absl::StrCat("expected 1 to ", kMaxPageSize, " (0: the default, 20)"),
               absl::StrCat(flags.page_size));
  }
  request.set_page_size(flags.page_size);
  request.set_page_token(flags.page_token);
  return request;
}

std::vector<std::string> RepeatedFlag(const std::vector<std::string>& args,
                                      absl::string_view name) {
  std::vector<std::string> values;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) continue;
    if (!absl::ConsumePrefix(&arg, name)) continue;
    if (arg.empty() && i + 1 < args.size()) {
      values.push_back(args[++i]);
    } else if (absl::ConsumePrefix(&arg, "=")) {
      values.emplace_back(arg);
    }
  }
  return values;
}

bool FlagGiven(const std::vector<std::string>& args, absl::string_view name) {
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) continue;
    const auto is_name = [&](absl::string_view rest) {
      return absl::ConsumePrefix(&rest, name) && (rest.empty() || rest[0] == '=');
    };
    // Tried as written first: a name may itself start with "no".
    if (is_name(arg) || (absl::ConsumePrefix(&arg, "no") && is_name(arg))) return true;
  }
  return false;
}

absl::StatusOr<bool> UseColor(absl::string_view mode, bool stdout_is_terminal) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  if (mode == "auto" || mode.empty()) return stdout_is_terminal;
  return Bad("color", "expected always, never or auto", mode);
}

}  // namespace scout::client
