// genlake's words: topics, names, captions and hashtags. Non-ASCII words,
// emoji, quotes and backslashes are deliberate: they are what breaks naive
// JSON and search code. Internal to the generator.
// Thread-safety: pure functions of their arguments (an Rng belongs to one
// thread); the word lists are constant.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

#include "tools/genlake/random.h"

namespace scout::genlake {

// What a creator posts about: nouns, emoji, tags and a biography line.
struct Topic;

const Topic* DrawTopic(Rng& rng);
// The topic's slug in Scout's taxonomy ("food" for cooking, "beauty" for
// makeup, ...): the ground truth of <truth dir>/topics.json.
absl::string_view TopicSlug(const Topic& topic);
// "First Last", from several scripts.
std::string DrawName(Rng& rng);
// The topic's biography line and a place.
std::string DrawBiography(const Topic& topic, Rng& rng);

// The handle of creator `user`: unique because the trailing digits are the
// user index and the words contain neither digits nor separators.
std::string Username(uint64_t seed, int user);

struct PostText {
  std::string caption;
  std::string mentioned_users;  // "a, b"
  std::string hashtags;         // "Tag, tag2"
};

// Caption tags and the `hashtags` field overlap in meaning but differ in
// spelling, as the search must treat #Café, #cafe and #CAFÉ as one tag.
// Mentions name other creators among `users`, never `user` itself.
PostText DrawPostText(uint64_t seed, const Topic& topic, int user, int users, int64_t day,
                      Rng& rng);

}  // namespace scout::genlake
