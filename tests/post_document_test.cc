// PostToDocument writes the post document directly (issue 13 §5); these
// tests hold it byte for byte to what protobuf's JSON printer and nlohmann
// wrote before (tests/proto_printer_document.h), over a generated lake's
// posts and hostile ones, and check that the reader gets the post back.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/backends/post_index.h"
#include "common/base/text.h"
#include "common/base/time.h"
#include "tests/proto_printer_document.h"
#include "tools/genlake/genlake.h"
#include "workers/ingest/normalize.h"

namespace scout {
namespace {

namespace fs = std::filesystem;
using google::protobuf::FieldDescriptor;
using nlohmann::json;
using testing::ProtoParserPostFromDocument;
using testing::ProtoPrinterPostDocument;

// Where two documents part, with some context: the whole documents are
// kilobytes.
std::string Difference(const std::string& direct, const std::string& printed) {
  size_t at = 0;
  while (at < direct.size() && at < printed.size() && direct[at] == printed[at]) ++at;
  const size_t from = at < 40 ? 0 : at - 40;
  return absl::StrCat("differ at byte ", at, "\n  direct:  ...", direct.substr(from, 80),
                      "\n  printer: ...", printed.substr(from, 80));
}

// The old route logs an error for every string with invalid UTF-8 it
// serializes; hostile tests would flood the output.
class QuietProtobufLog {
 public:
  QuietProtobufLog() : previous_(google::protobuf::SetLogHandler(nullptr)) {}
  ~QuietProtobufLog() { google::protobuf::SetLogHandler(previous_); }

 private:
  google::protobuf::LogHandler* previous_;
};

// The direct reader gets what protobuf's parser got from the same document,
// or fails where it failed.
void ExpectReadAsTheParserDid(const json& doc) {
  const absl::StatusOr<v1::Post> parsed = ProtoParserPostFromDocument(doc);
  const absl::StatusOr<v1::Post> direct = PostFromDocument(doc);
  if (!parsed.ok()) {
    EXPECT_EQ(direct.status().code(), absl::StatusCode::kInternal)
        << "the parser refused it: " << parsed.status() << "\ndocument: " << doc.dump();
    return;
  }
  ASSERT_TRUE(direct.ok()) << direct.status() << "\ndocument: " << doc.dump()
                           << "\nthe parser read: " << parsed->ShortDebugString();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*parsed, *direct))
      << parsed->DebugString() << "\nvs\n"
      << direct->DebugString();
}

void ExpectSameDocument(const v1::Post& post, absl::string_view lake_key = "lake/key.json") {
  const std::string direct = PostToDocument(post, lake_key);
  const std::string printed = ProtoPrinterPostDocument(post, lake_key);
  EXPECT_EQ(direct, printed) << Difference(direct, printed) << "\npost: " << post.DebugString();
  const json doc = json::parse(direct, nullptr, false);
  if (!doc.is_discarded()) ExpectReadAsTheParserDid(doc);
}

// --- Generated posts, as scout-ingest indexes them ---------------------------

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PostDocument, GeneratedLakePostsAreByteForByteThePrintersAndReadBack) {
  const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat("post_document_", getpid());
  fs::remove_all(dir);
  genlake::Options options;
  options.lake = (dir / "lake").string();
  options.no_media = true;
  options.seed = 13;
  options.users = 40;
  options.days = 30;
  options.business_rate = 0.5;  // Both shapes: insights and owner fields.
  options.today = absl::CivilDay(2026, 11, 20);
  ASSERT_TRUE(genlake::Generate(options, 2).ok());

  int compared = 0, with_media = 0, captions_escaped = 0;
  for (const auto& entry :
       fs::recursive_directory_iterator(dir / "lake" / "instagram_graph" / "posts")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    const std::string owner = entry.path().parent_path().filename().string();
    absl::StatusOr<v1::Post> post = ingest::NormalizePost(ReadFile(entry.path()), owner);
    ASSERT_TRUE(post.ok()) << entry.path() << ": " << post.status();
    // As scout-ingest sends it after copying the pictures: every other post
    // with its store URLs filled in.
    if (compared % 2 == 0 && post->media_size() > 0) {
      for (v1::MediaItem& item : *post->mutable_media()) {
        item.set_url(absl::StrCat("https://media.test/posts/", post->id(), "/", item.id(), ".jpg"));
      }
      post->set_media_url(post->media(0).url());
      ++with_media;
    }
    const std::string key = fs::relative(entry.path(), dir / "lake").string();
    const std::string direct = PostToDocument(*post, key);
    const std::string printed = ProtoPrinterPostDocument(*post, key);
    ASSERT_EQ(direct, printed) << Difference(direct, printed);
    captions_escaped += absl::StrContains(printed, "\\n") || absl::StrContains(printed, "\\u");

    // The reader (the server's hits, scout-aggregate, scout-palette) gets
    // the same post back.
    absl::StatusOr<v1::Post> back = PostFromDocument(json::parse(direct));
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectReadAsTheParserDid(json::parse(direct));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*post, *back))
        << post->DebugString() << "\nvs\n"
        << back->DebugString();
    ++compared;
  }
  // The lake is big enough to hold every media type and shape many times.
  EXPECT_GT(compared, 1000);
  EXPECT_GT(with_media, 300);
  EXPECT_GT(captions_escaped, 100);
  std::error_code ignored;
  if (!HasFailure()) fs::remove_all(dir, ignored);
}

// --- Hostile posts -------------------------------------------------------------

v1::Post FullPost() {
  v1::Post post;
  post.set_id("17849999999999991");
  post.set_owner_id("178414000888888");
  post.set_username("ana.maria");
  post.set_caption("Crème brûlée #CAFÉ @bob");
  post.set_media_type(v1::MEDIA_TYPE_CAROUSEL_ALBUM);
  *post.mutable_timestamp() = ToTimestamp(absl::FromUnixSeconds(1'795'000'000));
  post.set_permalink("https://www.instagram.com/p/B8y_ZttbnlwiT/");
  post.set_shortcode("B8y_ZttbnlwiT");
  post.set_like_count(888);
  post.set_comments_count(199);
  post.set_engagement(130);
  post.add_hashtags("CAFÉ");
  post.add_hashtags("learningData");
  post.add_mentions("bob");
  post.set_media_url("https://media.test/1.jpg");
  for (int i = 0; i < 3; ++i) {
    v1::MediaItem* item = post.add_media();
    item->set_id(absl::StrCat("17882389999999", i));
    item->set_media_type(i == 2 ? v1::MEDIA_TYPE_VIDEO : v1::MEDIA_TYPE_IMAGE);
    item->set_url(absl::StrCat("https://media.test/", i, ".jpg"));
    item->set_source_url(absl::StrCat("https://cdn.example/", i, ".jpg"));
  }
  post.set_impressions(2531);
  post.set_reach(2009);
  post.set_saved(27);
  post.set_video_views(0);
  post.set_followers_at_post(5993);
  post.set_business_engagement(130);
  post.set_sticker_taps(1);
  post.set_tap_backs(2);
  post.set_swipe_ups(3);
  post.set_highlight("Cr&egrave;me <em>cafe</em>");
  return post;
}

// Text that every string field of a post gets in turn.
std::vector<std::string> HostileTexts() {
  std::vector<std::string> texts = {
      "",
      "\"quoted\" and \\back\\slashed\\",
      "<script>alert('x')</script> & </ >",
      "tab\there\nnew line\r\n\b\f\x7f",
      "emoji 🍝✨👩‍👩‍👧 flags 🇧🇷 skin 👍🏽",
      "Ünïcödé ß Ωμέγα Кириллица 中文 العربية עברית",
      // What protobuf escapes beyond JSON: C1 controls, soft hyphen,
      // invisible format characters, line separators, BOM, tags.
      "\xc2\x80\xc2\x85\xc2\x9f \xc2\xad \xd8\x80\xdb\x9d \xe2\x80\x8b\xe2\x80\x8f "
      "\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xae \xe2\x81\xa0\xe2\x81\xaf \xef\xbb\xbf "
      "\xef\xbf\xb9\xef\xbf\xbb \xf0\x9d\x85\xb3 \xf3\xa0\x80\x81\xf3\xa0\x81\xbf",
      // Invalid UTF-8: a lone continuation byte, a lead byte followed by
      // ASCII, truncated sequences, overlong forms (of 'A', '"' and NUL),
      // surrogates, beyond U+10FFFF, bytes never valid.
      "a\x80z",
      "lead\xc3z",
      "cut at the end \xe2\x82",
      "cut mid \xf0\x9f\x8d",
      "overlong \xc1\x81 \xc0\xa2 \xc0\x80 \xe0\x80\x80",
      "surrogate \xed\xa0\x80 \xed\xbf\xbf",
      "beyond \xf4\x90\x80\x80 \xf7\xbf\xbf\xbf",
      "never \xf8\x88\x80\x80\x80 \xfe\xff",
      "#tag\xff @men\xc3tion",
  };
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls += static_cast<char>(c);
  texts.push_back(controls);
  texts.push_back(std::string(100'000, 'x') + "\"");
  return texts;
}

TEST(PostDocument, HostileTextInEveryStringFieldIsWrittenAsThePrinterDid) {
  QuietProtobufLog quiet;
  for (const std::string& text : HostileTexts()) {
    SCOPED_TRACE(absl::CEscape(text.substr(0, 60)));
    for (const auto set : std::vector<void (*)(v1::Post&, const std::string&)>{
             [](v1::Post&p, const std::string&t) { p.set_id(t); },
             [](v1::Post&p, const std::string&t) { p.set_owner_id(t); },
             [](v1::Post&p, const std::string&t) { p.set_username(t); },
             [](v1::Post&p, const std::string&t) { p.set_caption(t); },
             [](v1::Post&p, const std::string&t) { p.set_permalink(t); },
             [](v1::Post&p, const std::string&t) { p.set_shortcode(t); },
             [](v1::Post&p, const std::string&t) { p.add_hashtags(t); },
             [](v1::Post&p, const std::string&t) { p.add_mentions(t); },
             [](v1::Post&p, const std::string&t) { p.set_media_url(t); },
             [](v1::Post&p, const std::string&t) { p.mutable_media(1)->set_url(t); },
             [](v1::Post&p, const std::string&t) { p.mutable_media(2)->set_source_url(t); },
             [](v1::Post&p, const std::string&t) { p.set_highlight(t); },
         }) {
      v1::Post post = FullPost();
      set(post, text);
      ExpectSameDocument(post);
    }
    // Lake keys come from file names; nlohmann refused invalid UTF-8 in them.
    if (IsValidUtf8(text)) ExpectSameDocument(FullPost(), text);
  }
}

TEST(PostDocument, EveryCodePointIsWrittenAsThePrinterDid) {
  QuietProtobufLog quiet;  // The hashtag cut at 64 bytes may end mid-character.
  // All of Unicode but the surrogates, 2,048 code points per post.
  std::string text;
  int in_text = 0;
  for (uint32_t cp = 1; cp <= 0x10ffff; ++cp) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    char utf8[4];
    size_t size;
    if (cp < 0x80) {
      utf8[0] = static_cast<char>(cp), size = 1;
    } else if (cp < 0x800) {
      utf8[0] = static_cast<char>(0xc0 | cp >> 6), utf8[1] = static_cast<char>(0x80 | (cp & 0x3f));
      size = 2;
    } else if (cp < 0x10000) {
      utf8[0] = static_cast<char>(0xe0 | cp >> 12);
      utf8[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      utf8[2] = static_cast<char>(0x80 | (cp & 0x3f));
      size = 3;
    } else {
      utf8[0] = static_cast<char>(0xf0 | cp >> 18);
      utf8[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      utf8[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      utf8[3] = static_cast<char>(0x80 | (cp & 0x3f));
      size = 4;
    }
    text.append(utf8, size);
    if (++in_text == 2048 || cp == 0x10ffff) {
      v1::Post post = FullPost();
      post.set_caption(text);
      post.add_hashtags(text.substr(0, 64));  // Folded into hashtag_keys too.
      const std::string direct = PostToDocument(post, text);
      const std::string printed = ProtoPrinterPostDocument(post, text);
      ASSERT_EQ(direct, printed) << "code points up to U+" << absl::StrCat(absl::Hex(cp)) << ": "
                                 << Difference(direct, printed);
      text.clear();
      in_text = 0;
    }
  }
}

TEST(PostDocument, RandomBytesAreWrittenAsThePrinterDid) {
  QuietProtobufLog quiet;
  std::mt19937 rng(13);
  // Mostly high bytes and the ASCII that needs escaping, so broken and
  // overlong sequences of every shape come up.
  const std::string alphabet = "a\"\\<>\n\x01\x7f";
  std::uniform_int_distribution<int> pick(0, 255);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int size = pick(rng) % 24;
    for (int i = 0; i < size; ++i) {
      const int r = pick(rng);
      text += r < 64 ? alphabet[r % alphabet.size()] : static_cast<char>(0x80 | pick(rng));
    }
    v1::Post post = FullPost();
    post.set_caption(text);
    post.set_username(text);
    post.mutable_media(0)->set_id(text);
    ExpectSameDocument(post);
    if (HasFailure()) return;
  }
}

TEST(PostDocument, NumbersEnumsTimestampsAndMissingFieldsAreWrittenAsThePrinterDid) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  ExpectSameDocument(v1::Post());  // No field at all.
  ExpectSameDocument(v1::Post(), "");
  ExpectSameDocument(FullPost());
  {
    v1::Post post;
    post.set_media_type(v1::MEDIA_TYPE_STORY_VIDEO);  // The only field.
    ExpectSameDocument(post);
  }
  {
    v1::Post post;
    post.set_like_count(0);  // Present zeros stay present; engagement 0 is absent.
    post.set_comments_count(0);
    post.set_engagement(0);
    post.add_media();  // An empty item is {}.
    ExpectSameDocument(post);
  }
  for (const int64_t n : {kMax, kMin, int64_t{-1}, int64_t{1} << 53, (int64_t{1} << 53) + 1}) {
    v1::Post post = FullPost();
    post.set_like_count(n);
    post.set_engagement(n);
    post.set_followers_at_post(n);
    post.set_swipe_ups(n);
    ExpectSameDocument(post);
  }
  {
    v1::Post post = FullPost();
    post.set_media_type(static_cast<v1::MediaType>(99));  // Not a known type: not stored.
    post.mutable_media(0)->set_media_type(static_cast<v1::MediaType>(99));  // By number.
    post.mutable_media(1)->set_media_type(v1::MEDIA_TYPE_UNSPECIFIED);      // Absent.
    post.clear_impressions();
    post.clear_reach();
    post.clear_highlight();
    post.clear_hashtags();
    post.clear_mentions();
    ExpectSameDocument(post);
  }
  // Years 1 and 9999, the epoch, before it, and 3, 6 and 9 fractional digits.
  for (const int64_t seconds : {google::protobuf::util::TimeUtil::kTimestampMinSeconds,
                                google::protobuf::util::TimeUtil::kTimestampMaxSeconds, int64_t{0},
                                int64_t{-1}, int64_t{951'782'400} /* 2000-02-29 */}) {
    for (const int32_t nanos : {0, 1, 120'000'000, 123'456'000, 999'999'999, 5'000}) {
      v1::Post post = FullPost();
      post.mutable_timestamp()->set_seconds(seconds);
      post.mutable_timestamp()->set_nanos(nanos);
      ExpectSameDocument(post);
    }
  }
  {
    v1::Post post = FullPost();
    post.mutable_timestamp()->Clear();  // Set but zero: 1970-01-01T00:00:00Z.
    ExpectSameDocument(post);
    post.clear_timestamp();
    ExpectSameDocument(post);
  }
}

TEST(PostDocument, OutOfRangeTimestampsAndInvalidLakeKeysStillGiveJson) {
  // The printer refused these and left a broken document; NormalizePost
  // never lets such a timestamp through. Elasticsearch refuses the value
  // (its date parser), so the file is quarantined as before.
  v1::Post post = FullPost();
  post.mutable_timestamp()->set_seconds(google::protobuf::util::TimeUtil::kTimestampMaxSeconds + 1);
  json doc = json::parse(PostToDocument(post, "k"));
  EXPECT_EQ(doc[post_field::kTimestamp], "InvalidTime");
  post.mutable_timestamp()->set_seconds(0);
  post.mutable_timestamp()->set_nanos(-1);
  doc = json::parse(PostToDocument(post, "k"));
  EXPECT_EQ(doc[post_field::kTimestamp], "InvalidTime");
  // nlohmann threw on a lake key with invalid UTF-8; each bad byte is now
  // U+FFFD.
  doc = json::parse(PostToDocument(FullPost(), "posts/1/\xff\xc3.json"));
  EXPECT_EQ(doc[post_field::kLakeKey], "posts/1/\xef\xbf\xbd\xef\xbf\xbd.json");
}

// A file quarantined for its key or content: the quarantine record is
// still JSON (nlohmann's dump threw on the invalid UTF-8 and the run failed).
TEST(PostDocument, QuarantineRecordsOfInvalidUtf8KeysAreJson) {
  const json record = json::parse(
      QuarantineDocument("posts/1/\xff.json", "bad \xc3(", 7, 0xabc, absl::UnixEpoch()));
  EXPECT_EQ(record["key"], "posts/1/\xef\xbf\xbd.json");
  EXPECT_EQ(record["reason"], "bad \xef\xbf\xbd(");
  EXPECT_EQ(record["size"], 7);
  EXPECT_EQ(record["content_hash"], "abc");
}

// The direct writer handles strings, integers, booleans, enums, Timestamps
// and nested messages of those; a Post field of another kind would be
// written as null. This fails first.
void ExpectWritable(const google::protobuf::Descriptor& message) {
  for (int i = 0; i < message.field_count(); ++i) {
    const FieldDescriptor& field = *message.field(i);
    SCOPED_TRACE(field.full_name());
    EXPECT_FALSE(field.is_map());
    EXPECT_NE(field.type(), FieldDescriptor::TYPE_BYTES);
    EXPECT_NE(field.cpp_type(), FieldDescriptor::CPPTYPE_DOUBLE);
    EXPECT_NE(field.cpp_type(), FieldDescriptor::CPPTYPE_FLOAT);
    if (field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const google::protobuf::Descriptor& child = *field.message_type();
    if (child.full_name() == "google.protobuf.Timestamp") continue;
    EXPECT_NE(child.file()->package(), "google.protobuf") << "a well-known type";
    ExpectWritable(child);
  }
}

// Documents the writer never produces, but older writers or hands might:
// the reader takes what protobuf's parser took and refuses what it refused.
TEST(PostDocument, OddDocumentsAreReadAsProtobufsParserReadThem) {
  for (const char* text : {
           R"({})",
           R"({"like_count":12,"engagement":"-7","impressions":"9223372036854775807"})",
           R"({"like_count":null,"caption":null,"media":null,"hashtags":["a",null]})",
           R"({"hashtags":[null]})",
           R"({"media":[null,{"id":"2"}]})",
           R"({"text_folded":"x","hashtag_keys":["a"],"shard_bucket":3,"lake_key":"k","x":{}})",
           R"({"media":[{"media_type":2},{"media_type":"MEDIA_TYPE_VIDEO"},{"media_type":99}]})",
           R"({"media":[{"media_type":"MEDIA_TYPE_HOLOGRAM","id":"1"}]})",
           R"({"timestamp":"2026-11-20T17:05:52.250Z","media_type":"MEDIA_TYPE_IMAGE"})",
           R"({"timestamp":"2026-11-20T17:05:52+01:00"})",
           R"({"hashtags":"a"})",  // A lone value of a repeated field.
           R"({"media":{"id":"1"}})",
           // Refused.
           R"({"like_count":"many"})",
           R"({"like_count":1.5})",
           R"({"like_count":"9223372036854775808"})",
           R"({"like_count":true})",
           R"({"caption":7})",
           R"({"media":[7]})",
           R"({"timestamp":"yesterday"})",
           R"({"timestamp":17})",
           R"({"media_type":"VIDEO"})",
           R"({"media":[{"media_type":true}]})",
       }) {
    SCOPED_TRACE(text);
    ExpectReadAsTheParserDid(json::parse(text));
  }
  // And the errors name the field.
  const absl::StatusOr<v1::Post> bad = PostFromDocument(json::parse(R"({"media":[{"id":7}]})"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "id: expected a string, got 7"))
      << bad.status();
}

TEST(PostDocument, EveryPostFieldIsOfAKindTheWriterHandles) {
  ExpectWritable(*v1::Post::descriptor());
}

// The indexed names in post_field are the Post's own, the names the
// document carries and PostFromDocument reads.
TEST(PostDocument, IndexedFieldNamesAreThePostsFieldNames) {
  const google::protobuf::Descriptor& post = *v1::Post::descriptor();
  namespace f = post_field;
  for (const char* name : {f::kId, f::kOwnerId, f::kUsername, f::kTimestamp, f::kEngagement,
                           f::kLikeCount, f::kCommentsCount, f::kFollowersAtPost, f::kMedia}) {
    EXPECT_NE(post.FindFieldByName(name), nullptr) << name;
  }
  // media_type is the Post's field too, written in our own spelling; the
  // others are ours alone.
  EXPECT_NE(post.FindFieldByName(f::kMediaType), nullptr);
  for (const char* name :
       {f::kTextFolded, f::kHashtagKeys, f::kMentionKeys, f::kLakeKey, f::kShardBucket}) {
    EXPECT_EQ(post.FindFieldByName(name), nullptr) << name << " would collide";
  }
}

}  // namespace
}  // namespace scout
