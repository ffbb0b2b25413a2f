#include "workers/ingest/normalize.h"

#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/base/text.h"
#include "common/base/time.h"

namespace scout::ingest {
namespace {

using nlohmann::json;
using scout::v1::Post;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

json Base(const char* media_type) {
  return {{"caption", "Hello #World with @friend"},
          {"id", "1784999999"},
          {"ig_id", "2248137977777777"},
          {"is_comment_enabled", true},
          {"media_type", media_type},
          {"owner", {{"id", "178414000888888"}, {"username", "kariah.von"}}},
          {"permalink", "https://www.instagram.com/p/B8y_ZttbnlwiT/"},
          {"shortcode", "B8y_ZttbnlwiT"},
          {"timestamp", "2021-02-20T17:05:52+0000"},
          {"username", "kariah.von"},
          {"mentioned_users", "udacity, nanodegree"},
          {"hashtags", "learningData"}};
}

json Feed(const char* media_type) {
  json post = Base(media_type);
  post["like_count"] = 888;
  post["comments_count"] = 199;
  return post;
}

json Business(json post) {
  post["impressions"] = 2531;
  post["reach"] = 2009;
  post["engagement"] = 130;
  post["saved"] = 27;
  post["owner"]["followers_count"] = 5993;
  return post;
}

Post Normalize(const json& post) {
  absl::StatusOr<Post> result = NormalizePost(post.dump(), "path-owner");
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : Post();
}

std::string Reason(const std::string& text) {
  absl::StatusOr<Post> result = NormalizePost(text, "u");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

TEST(NormalizePost, BasicImageHasNoBusinessMetrics) {
  json raw = Feed("IMAGE");
  raw["media_url"] = "https://cdn/x.jpg";
  const Post post = Normalize(raw);
  EXPECT_EQ(post.id(), "1784999999");
  EXPECT_EQ(post.owner_id(), "178414000888888");
  EXPECT_EQ(post.username(), "kariah.von");
  EXPECT_EQ(post.media_type(), v1::MEDIA_TYPE_IMAGE);
  EXPECT_EQ(FromTimestamp(post.timestamp()), absl::FromUnixSeconds(1613840752));
  EXPECT_EQ(post.like_count(), 888);
  EXPECT_EQ(post.comments_count(), 199);
  EXPECT_EQ(post.engagement(), 888 + 199);
  EXPECT_FALSE(post.has_impressions());
  EXPECT_FALSE(post.has_reach());
  EXPECT_FALSE(post.has_saved());
  EXPECT_FALSE(post.has_followers_at_post());
  EXPECT_FALSE(post.has_business_engagement());
  ASSERT_EQ(post.media_size(), 1);
  EXPECT_EQ(post.media(0).source_url(), "https://cdn/x.jpg");
  EXPECT_EQ(post.media(0).url(), "");
}

TEST(NormalizePost, BusinessImageKeepsEveryMetric) {
  json raw = Business(Feed("IMAGE"));
  raw["media_url"] = "https://cdn/x.jpg";
  const Post post = Normalize(raw);
  EXPECT_EQ(post.impressions(), 2531);
  EXPECT_EQ(post.reach(), 2009);
  EXPECT_EQ(post.saved(), 27);
  EXPECT_EQ(post.followers_at_post(), 5993);
  EXPECT_EQ(post.business_engagement(), 130);
  EXPECT_EQ(post.engagement(), 130);
}

TEST(NormalizePost, CarouselTakesEveryChildInOrder) {
  for (const bool business : {false, true}) {
    json raw = Feed("CAROUSEL_ALBUM");
    if (business) raw = Business(raw);
    raw["media_url"] = "https://cdn/c1.jpg";
    raw["children"] = {
        {"data",
         {{{"id", "c1"}, {"media_type", "IMAGE"}, {"media_url", "https://cdn/c1.jpg"}},
          {{"id", "c2"}, {"media_type", "IMAGE"}, {"media_url", "https://cdn/c2.jpg"}},
          {{"id", "c3"},
           {"media_type", "VIDEO"},
           {"media_url", "https://cdn/c3.mp4"},
           {"thumbnail_url", "https://cdn/c3.jpg"}}}}};
    const Post post = Normalize(raw);
    EXPECT_EQ(post.media_type(), v1::MEDIA_TYPE_CAROUSEL_ALBUM);
    ASSERT_EQ(post.media_size(), 3);
    EXPECT_EQ(post.media(0).id(), "c1");
    EXPECT_EQ(post.media(1).source_url(), "https://cdn/c2.jpg");
    EXPECT_EQ(post.media(2).source_url(), "https://cdn/c3.jpg");  // Thumbnail, not mp4.
    EXPECT_EQ(post.has_reach(), business);
  }
}

TEST(NormalizePost, VideoUsesItsThumbnail) {
  for (const bool business : {false, true}) {
    json raw = Feed("VIDEO");
    raw["media_url"] = "https://cdn/v.mp4";
    raw["thumbnail_url"] = "https://cdn/v.jpg";
    if (business) {
      raw = Business(raw);
      raw["video_views"] = 4000;
    }
    const Post post = Normalize(raw);
    EXPECT_EQ(post.media_type(), v1::MEDIA_TYPE_VIDEO);
    ASSERT_EQ(post.media_size(), 1);
    EXPECT_EQ(post.media(0).source_url(), "https://cdn/v.jpg");
    EXPECT_EQ(post.has_video_views(), business);
    if (business) {
      EXPECT_EQ(post.video_views(), 4000);
    }
  }
}

TEST(NormalizePost, StoriesInBothSpellingsHaveNoLikes) {
  struct Case {
    json fields;
    v1::MediaType want;
    const char* url_field;
  };
  const Case cases[] = {
      {{{"media_type", "STORY_IMAGE"}}, v1::MEDIA_TYPE_STORY_IMAGE, "media_url"},
      {{{"media_product_type", "STORY"}, {"media_type", "IMAGE"}},
       v1::MEDIA_TYPE_STORY_IMAGE,
       "media_url"},
      {{{"media_type", "STORY_VIDEO"}}, v1::MEDIA_TYPE_STORY_VIDEO, "thumbnail_url"},
      {{{"media_product_type", "STORY"}, {"media_type", "VIDEO"}},
       v1::MEDIA_TYPE_STORY_VIDEO,
       "thumbnail_url"},
  };
  for (const Case& c : cases) {
    for (const bool business : {false, true}) {
      json raw = Base("X");
      raw.update(c.fields);
      raw[c.url_field] = "https://cdn/s.jpg";
      if (business) {
        raw["sticker_taps"] = 3;
        raw["tap_backs"] = 4;
        raw["swipe_ups"] = 5;
        raw["impressions"] = 60;
        raw["reach"] = 50;
      }
      const Post post = Normalize(raw);
      EXPECT_EQ(post.media_type(), c.want) << raw.dump();
      EXPECT_FALSE(post.has_like_count());
      EXPECT_FALSE(post.has_comments_count());
      EXPECT_EQ(post.engagement(), 0);
      EXPECT_EQ(post.has_sticker_taps(), business);
      if (business) {
        EXPECT_EQ(post.sticker_taps(), 3);
        EXPECT_EQ(post.tap_backs(), 4);
        EXPECT_EQ(post.swipe_ups(), 5);
      }
      ASSERT_EQ(post.media_size(), 1);
      EXPECT_EQ(post.media(0).source_url(), "https://cdn/s.jpg");
    }
  }
}

TEST(NormalizePost, TagsFromFieldsAndCaptionDeduplicatedByFoldedKey) {
  json raw = Feed("IMAGE");
  raw["caption"] = "At the #Café with @Bob.Smith 🍝 #cafe #TravelGram";
  raw["hashtags"] = "CAFÉ, learningData";
  raw["mentioned_users"] = "bob.smith, ana";
  const Post post = Normalize(raw);
  EXPECT_THAT(post.hashtags(), ElementsAre("CAFÉ", "learningData", "TravelGram"));
  EXPECT_THAT(post.mentions(), ElementsAre("bob.smith", "ana"));
}

TEST(NormalizePost, OwnerFallsBackToTheLakePath) {
  json raw = Feed("IMAGE");
  raw.erase("owner");
  EXPECT_EQ(Normalize(raw).owner_id(), "path-owner");
}

TEST(NormalizePost, NumericIdsAreAccepted) {
  json raw = Feed("IMAGE");
  raw["id"] = 9991;
  EXPECT_EQ(Normalize(raw).id(), "9991");
}

TEST(NormalizePost, MalformedShapesNameTheProblem) {
  EXPECT_EQ(Reason(""), "empty file");
  EXPECT_THAT(Reason(R"({"id": "1", "caption": "trunc)"), HasSubstr("not valid JSON"));
  EXPECT_THAT(Reason("[1, 2]"), HasSubstr("expected a JSON object, got array"));
  EXPECT_THAT(Reason("\xff\xfe garbage"), HasSubstr("not valid JSON"));

  json raw = Feed("IMAGE");
  raw["like_count"] = "lots";
  EXPECT_EQ(Reason(raw.dump()), "like_count: expected an integer, got string");
  raw = Feed("IMAGE");
  raw.erase("id");
  EXPECT_EQ(Reason(raw.dump()), "id: missing");
  raw = Feed("IMAGE");
  raw["timestamp"] = "yesterday";
  EXPECT_THAT(Reason(raw.dump()), HasSubstr("timestamp: not a timestamp"));
  raw = Feed("IMAGE");
  raw["media_type"] = "HOLOGRAM";
  EXPECT_THAT(Reason(raw.dump()), HasSubstr("media_type: unknown"));
  raw = Feed("IMAGE");
  raw["comments_count"] = -3;
  EXPECT_THAT(Reason(raw.dump()), HasSubstr("comments_count: negative"));
  raw = Feed("IMAGE");
  raw["caption"] = 42;
  EXPECT_EQ(Reason(raw.dump()), "caption: expected a string, got number");
  raw = Feed("CAROUSEL_ALBUM");
  raw["children"] = {{"data", {1, 2}}};
  EXPECT_THAT(Reason(raw.dump()), HasSubstr("children.data[]"));
}

// Hostile files (tests/fuzz): nothing crashes, nothing unsafe gets through.
TEST(NormalizePost, IdsThatAreNotPlainIdsAreRejected) {
  // Post and owner ids name media store folders: no path syntax.
  for (const char* id : {"../../tmp/evil", "a/b", "..", "1'; DROP TABLE x; --", "*:*"}) {
    json raw = Feed("IMAGE");
    raw["id"] = id;
    EXPECT_THAT(Reason(raw.dump()), HasSubstr("id: not an id")) << id;
    raw = Feed("IMAGE");
    raw["owner"]["id"] = id;
    EXPECT_THAT(Reason(raw.dump()), HasSubstr("owner.id: not an id")) << id;
  }
  json raw = Feed("IMAGE");
  raw["id"] = std::string(65, '1');
  EXPECT_THAT(Reason(raw.dump()), HasSubstr("id: longer than 64"));
  raw = Feed("IMAGE");
  raw.erase("owner");
  EXPECT_THAT(NormalizePost(raw.dump(), "..").status().message(), HasSubstr("owner.id"));
}

TEST(NormalizePost, TimestampsOutsideYears1To9999AreRejected) {
  json raw = Feed("IMAGE");
  raw["timestamp"] = "10000-01-01";
  EXPECT_THAT(Reason(raw.dump()), HasSubstr("timestamp: out of range"));
  // Found by fuzzing: years before 1678 overflowed the nanosecond conversion.
  raw["timestamp"] = "0226-11-20";
  const Post post = Normalize(raw);
  EXPECT_EQ(FromTimestamp(post.timestamp()),
            absl::FromCivil(absl::CivilDay(226, 11, 20), absl::UTCTimeZone()));
}

TEST(NormalizePost, HugeCountsNeitherOverflowNorWrap) {
  json raw = Feed("IMAGE");
  raw["like_count"] = std::numeric_limits<int64_t>::max();
  raw["comments_count"] = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Normalize(raw).engagement(), std::numeric_limits<int64_t>::max());
  raw["reach"] = std::numeric_limits<uint64_t>::max();
  EXPECT_THAT(Reason(raw.dump()), HasSubstr("reach: count too large"));
}

TEST(NormalizePost, ReasonsAreValidUtf8) {
  // The reason quotes the file and goes into JSON reports and quarantine
  // records, which refuse invalid UTF-8.
  json raw = Feed("IMAGE");
  std::string accents;
  for (int i = 0; i < 30; ++i) accents += "é";
  raw["media_type"] = "a" + accents;  // The 40-byte excerpt ends mid-"é".
  for (const std::string& text :
       {raw.dump(), std::string("{\"id\": \xff\xfe}"), std::string("\xc3\x28 garbage")}) {
    const std::string reason = Reason(text);
    EXPECT_TRUE(IsValidUtf8(reason)) << reason;
  }
}

}  // namespace
}  // namespace scout::ingest
