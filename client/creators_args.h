// `scoutctl creators`: the flag values as a person types them ("25k",
// "3%", "#e8d5c4:2") turned into a SearchCreatorsRequest. Malformed values
// are rejected here with a message naming the flag, so a typo is a usage
// error (exit 2) rather than a round trip; the limits checked are the ones the
// proto documents, and the server stays the judge of the rest (topic slugs,
// page tokens). Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scout/v1/service.pb.h"

namespace scout::client {

// The flags as given; "" (or empty) means not given. Each element of a list
// is one occurrence of the flag and may itself be a comma list.
struct CreatorsFlags {
  std::string query;
  std::vector<std::string> hashtags, mentions, topics, tiers, palette;
  std::string min_followers, max_followers;              // "25000", "25k", "1.5m"
  std::string min_engagement_rate, max_engagement_rate;  // "0.03" or "3%"
  std::string min_follower_growth;                       // "0.05", "5%", "-2%"
  std::string min_posts_30d, active_within_days;         // whole numbers
  std::optional<bool> is_business;
  std::string like;  // similar_to
  std::string sort;  // relevance, followers, engagement_rate, growth, palette_distance
  int page_size = 0;
  std::string page_token;
};

absl::StatusOr<scout::v1::SearchCreatorsRequest> CreatorsRequest(const CreatorsFlags& flags);

// "#E8D5C4" / "#e8d5c4:2" -> "#e8d5c4" / "#e8d5c4:2": one palette target as
// SearchCreatorsRequest.palette takes it (hex lowercased, weight > 0).
absl::StatusOr<std::string> PaletteTarget(absl::string_view text);

// Every value given to the flag `name` in `args` (argv after ParseFlags, so
// dashes in names are already underscores), in order: "--name=v", "-name=v",
// "--name v" and "-name v"; nothing after "--". absl keeps only the last
// occurrence of a flag; this is what makes --hashtag a b repeatable.
std::vector<std::string> RepeatedFlag(const std::vector<std::string>& args, absl::string_view name);

// Whether the flag `name` is given in `args` at all (bool spellings
// included: --name, --name=false, --noname): absl does not say.
bool FlagGiven(const std::vector<std::string>& args, absl::string_view name);

// --color: "always", "never" or "auto" (colours when stdout is a terminal).
absl::StatusOr<bool> UseColor(absl::string_view mode, bool stdout_is_terminal);

}  // namespace scout::client
