// Content topics: the taxonomy (about 30 slugs, docs/topics.md) and a
// deterministic, explainable classifier from a weighted multilingual lexicon
// of caption words and hashtags. A post speaks of the topics whose words it
// uses; a creator's topics are the (up to 3) topics behind the largest shares
// of its posts. Used by scout-aggregate (writes a creator's topics) and the
// server (validates topic filters). Pure functions over constant tables,
// thread-safe; a TopicCounter belongs to one thread.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace scout {

struct TopicInfo {
  absl::string_view slug;  // "food", "travel", ...: what the API and index use.
  absl::string_view name;  // "Food & drink": for people.
};
absl::Span<const TopicInfo> Topics();
bool IsTopic(absl::string_view slug);

struct TopicScore {
  std::string slug;
  double score = 0;                // Sum of the matched terms' weights.
  std::vector<std::string> terms;  // The lexicon terms that matched (folded): why.
};
// A post speaks of a topic when its score reaches 1.0 (one strong term or two
// weak ones); a creator's topic needs a share of at least 0.2 of its posts.
inline constexpr double kTopicPostThreshold = 1.0;
inline constexpr double kTopicMinCreatorShare = 0.2;
// The topics a post speaks of, strongest first: `caption` is raw text,
// `hashtags` the post's tags (as written, "#" optional). Folding happens
// here (FoldForSearch), so "Café" and "CAFE" count alike.
std::vector<TopicScore> PostTopics(absl::string_view caption,
                                   const std::vector<std::string>& hashtags);

struct TopicShareOf {
  std::string slug;
  double share = 0;  // Of the posts added, those that speak of the topic.
};

// A creator's topics from its posts.
class TopicCounter {
 public:
  void AddPost(absl::string_view caption, const std::vector<std::string>& hashtags);
  // Up to `n` topics, largest share first (ties by slug), each with a share
  // large enough to mean something (docs/topics.md gives the threshold).
  std::vector<TopicShareOf> Top(int n = 3) const;
  int posts() const { return posts_; }

 private:
  int posts_ = 0;
  std::vector<std::pair<std::string, int>> counts_;
};

}  // namespace scout
