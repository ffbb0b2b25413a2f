#include "tools/genlake/genlake.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/base/topics.h"

namespace scout::genlake {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Keys = std::set<std::string>;

constexpr char kCdnUrl[] = "https://cdn.test/";

class GenlakeTest : public testing::Test {
 protected:
  // A fresh directory, removed after the test unless it failed.
  std::string TempDir(const std::string& name) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = fs::path(testing::TempDir()) /
                         ("genlake_" + std::to_string(getpid()) + "_" + info->name() + "_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    dirs_.push_back(dir.string());
    return dir.string();
  }

  void TearDown() override {
    if (HasFailure()) return;
    std::error_code ec;
    for (const std::string& dir : dirs_) fs::remove_all(dir, ec);
  }

 private:
  std::vector<std::string> dirs_;
};

Options SmallLake(const std::string& dir) {
  Options o;
  o.lake = dir + "/lake";
  o.cdn = dir + "/cdn";
  o.cdn_url = kCdnUrl;
  o.seed = 7;
  o.users = 12;
  o.days = 20;
  o.today = absl::CivilDay(2024, 5, 1);
  o.image_size = 32;
  return o;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct FileInfo {
  std::string content;
  int64_t mtime_ns = 0;
};

int64_t MtimeNs(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// Every regular file under `root`, by path relative to it.
std::map<std::string, FileInfo> Snapshot(const std::string& root) {
  std::map<std::string, FileInfo> files;
  if (!fs::exists(root)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    files[fs::relative(entry.path(), root).string()] = {ReadFile(path), MtimeNs(path)};
  }
  return files;
}

std::map<std::string, std::string> Contents(const std::map<std::string, FileInfo>& files,
                                            const std::string& skip = "") {
  std::map<std::string, std::string> out;
  for (const auto& [path, info] : files) {
    if (path != skip) out[path] = info.content;
  }
  return out;
}

bool IsPost(const std::string& relative) {
  return relative.rfind("instagram_graph/posts/", 0) == 0;
}

bool IsStats(const std::string& relative) {
  return relative.rfind("instagram_graph/stats/", 0) == 0;
}

// "instagram_graph/posts/<user>/<id>.json" -> "<user>"
std::string UserOf(const std::string& relative) {
  return fs::path(relative).parent_path().filename().string();
}

json Parse(const std::string& text) { return json::parse(text, nullptr, false); }

Keys KeysOf(const json& object) {
  Keys keys;
  for (const auto& item : object.items()) keys.insert(item.key());
  return keys;
}

Keys Union(Keys a, const Keys& b) {
  a.insert(b.begin(), b.end());
  return a;
}

const std::regex& TimestampRe() {
  static const std::regex re(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000)");
  return re;
}

// "IMAGE", "CAROUSEL_ALBUM", "VIDEO", "STORY_IMAGE" or "STORY_VIDEO", for
// either spelling of stories.
std::string VariantType(const json& post) {
  const std::string type = post["media_type"];
  if (post.contains("media_product_type")) return "STORY_" + type;
  return type;
}

// Users with a business connection, known from their stats files.
std::set<std::string> BusinessUsers(const std::map<std::string, FileInfo>& files) {
  std::set<std::string> users;
  for (const auto& [path, info] : files) {
    if (IsStats(path) && Parse(info.content).contains("website")) users.insert(UserOf(path));
  }
  return users;
}

Keys ExpectedPostKeys(const std::string& type, bool business, bool product_spelling) {
  Keys keys = {"caption",    "id",        "ig_id",           "is_comment_enabled",
               "media_type", "permalink", "shortcode",       "timestamp",
               "username",   "owner",     "mentioned_users", "hashtags"};
  const bool story = type.rfind("STORY_", 0) == 0;
  if (!story) keys = Union(keys, {"like_count", "comments_count", "media_url"});
  if (type == "CAROUSEL_ALBUM") keys.insert("children");
  if (type == "VIDEO") keys.insert("thumbnail_url");
  if (type == "STORY_IMAGE") keys.insert("media_url");
  if (type == "STORY_VIDEO") keys.insert("thumbnail_url");
  if (product_spelling) keys.insert("media_product_type");
  if (business && story) {
    keys = Union(keys, {"impressions", "reach", "sticker_taps", "tap_backs", "swipe_ups"});
  } else if (business) {
    keys = Union(keys, {"impressions", "reach", "engagement", "saved"});
    if (type == "VIDEO") keys.insert("video_views");
  }
  return keys;
}

TEST_F(GenlakeTest, SameSeedSameBytesAnyThreadCount) {
  const std::string a = TempDir("a"), b = TempDir("b"), c = TempDir("c");
  Options oa = SmallLake(a), ob = SmallLake(b), oc = SmallLake(c);
  oc.seed = 8;
  ASSERT_TRUE(Generate(oa, 1).ok());
  ASSERT_TRUE(Generate(ob, 3).ok());
  ASSERT_TRUE(Generate(oc, 2).ok());

  // _genlake.json names its own directories, so it differs by design.
  const auto lake_a = Contents(Snapshot(oa.lake), "_genlake.json");
  EXPECT_GT(lake_a.size(), 100u);
  EXPECT_EQ(lake_a, Contents(Snapshot(ob.lake), "_genlake.json"));
  EXPECT_EQ(Contents(Snapshot(oa.cdn)), Contents(Snapshot(ob.cdn)));

  const auto lake_c = Contents(Snapshot(oc.lake), "_genlake.json");
  EXPECT_NE(lake_a, lake_c);
  int same_post_names = 0;
  for (const auto& [path, content] : lake_c) same_post_names += IsPost(path) && lake_a.count(path);
  EXPECT_EQ(same_post_names, 0);
}

TEST_F(GenlakeTest, RerunRewritesSameBytesAndRefusesOtherOptions) {
  const std::string dir = TempDir("lake");
  Options o = SmallLake(dir);
  o.no_media = true;
  ASSERT_TRUE(Generate(o, 2).ok());
  const auto before = Contents(Snapshot(o.lake));
  ASSERT_TRUE(Generate(o, 2).ok());
  EXPECT_EQ(before, Contents(Snapshot(o.lake)));

  o.seed = 99;
  EXPECT_EQ(Generate(o, 2).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(GenlakeTest, RejectsTruthInsideLakeAndMissingCdn) {
  const std::string dir = TempDir("lake");
  Options o = SmallLake(dir);
  o.truth = o.lake + "/truth.json";
  EXPECT_EQ(Generate(o, 1).status().code(), absl::StatusCode::kInvalidArgument);
  o = SmallLake(dir);
  o.cdn.clear();
  EXPECT_EQ(Generate(o, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(GenlakeTest, EveryVariantHasExactlyItsFields) {
  const std::string dir = TempDir("lake");
  Options o = SmallLake(dir);
  o.users = 40;
  o.days = 30;
  o.business_rate = 0.5;
  o.no_media = true;
  ASSERT_TRUE(Generate(o, 2).ok());
  const auto files = Snapshot(o.lake);
  const std::set<std::string> business = BusinessUsers(files);

  std::map<std::string, int> variants;  // "<type>/<basic|business>"
  std::set<std::string> ids;
  int product_spelling = 0, type_spelling = 0, non_ascii_captions = 0;
  int escaped_files = 0, raw_utf8_files = 0;  // Python-style \uXXXX, or UTF-8 bytes.
  for (const auto& [path, info] : files) {
    if (!IsPost(path)) continue;
    const json post = Parse(info.content);
    ASSERT_TRUE(post.is_object()) << path;
    const std::string type = VariantType(post);
    const bool is_business = business.count(UserOf(path)) > 0;
    const bool product = post.contains("media_product_type");
    ++variants[type + (is_business ? "/business" : "/basic")];
    if (type.rfind("STORY_", 0) == 0) ++(product ? product_spelling : type_spelling);

    EXPECT_EQ(KeysOf(post), ExpectedPostKeys(type, is_business, product)) << path;
    const Keys owner_keys =
        is_business ? Keys{"id", "username", "followers_count"} : Keys{"id", "username"};
    EXPECT_EQ(KeysOf(post["owner"]), owner_keys);
    EXPECT_EQ(post["owner"]["id"], UserOf(path));
    EXPECT_EQ(fs::path(path).filename().string(), post["id"].get<std::string>() + ".json");
    EXPECT_TRUE(std::regex_match(post["id"].get<std::string>(), std::regex(R"(\d{17})")));
    EXPECT_TRUE(ids.insert(post["id"]).second) << "duplicate id in " << path;
    EXPECT_TRUE(std::regex_match(post["timestamp"].get<std::string>(), TimestampRe()));
    EXPECT_EQ(post["permalink"],
              "https://www.instagram.com/p/" + post["shortcode"].get<std::string>() + "/");
    if (post.contains("like_count")) {
      EXPECT_TRUE(post["like_count"].is_number_integer());
    }
    if (type == "CAROUSEL_ALBUM") {
      const json& children = post["children"]["data"];
      ASSERT_GE(children.size(), 2u);
      ASSERT_LE(children.size(), 5u);
      EXPECT_EQ(post["media_url"], children[0]["media_url"]);
      for (const json& child : children) {
        EXPECT_EQ(KeysOf(child), (Keys{"id", "media_type", "media_url"}));
        EXPECT_TRUE(ids.insert(child["id"]).second);
      }
    }
    if (type == "VIDEO") {
      EXPECT_NE(post["media_url"].get<std::string>().find(".mp4"), std::string::npos);
    }
    escaped_files += info.content.find("\\u") != std::string::npos;
    raw_utf8_files += std::any_of(info.content.begin(), info.content.end(),
                                  [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; });
    const std::string caption = post["caption"];
    non_ascii_captions += std::any_of(caption.begin(), caption.end(), [](char ch) {
      return static_cast<unsigned char>(ch) >= 0x80;
    });
  }
  for (const char* type : {"IMAGE", "CAROUSEL_ALBUM", "VIDEO", "STORY_IMAGE", "STORY_VIDEO"}) {
    for (const char* connection : {"/basic", "/business"}) {
      EXPECT_GT(variants[std::string(type) + connection], 0) << type << connection;
    }
  }
  EXPECT_GT(product_spelling, 0);
  EXPECT_GT(type_spelling, 0);
  EXPECT_GT(non_ascii_captions, 0);
  EXPECT_GT(escaped_files, 0);
  EXPECT_GT(raw_utf8_files, 0);

  const Keys basic_stats = {"created_at",          "biography",     "id",          "ig_id",
                            "followers_count",     "follows_count", "media_count", "name",
                            "profile_picture_url", "username"};
  const Keys business_stats =
      Union(basic_stats, {"website", "impressions", "reach", "follower_count", "email_contacts",
                          "phone_call_clicks", "text_message_clicks", "get_directions_clicks",
                          "website_clicks", "profile_views"});
  int stats_files = 0;
  for (const auto& [path, info] : files) {
    if (!IsStats(path)) continue;
    ++stats_files;
    const json stats = Parse(info.content);
    ASSERT_TRUE(stats.is_object()) << path;
    EXPECT_EQ(KeysOf(stats), business.count(UserOf(path)) ? business_stats : basic_stats);
    EXPECT_EQ(stats["created_at"].get<std::string>() + ".json", fs::path(path).filename());
    EXPECT_TRUE(stats["ig_id"].is_number_integer());
  }
  EXPECT_EQ(stats_files, o.users * o.days);
}

TEST_F(GenlakeTest, BusinessFollowersAddUpDayToDay) {
  const std::string dir = TempDir("lake");
  Options o = SmallLake(dir);
  o.business_rate = 1;
  o.no_media = true;
  ASSERT_TRUE(Generate(o, 2).ok());
  const std::string stats_dir = o.lake + "/instagram_graph/stats/178410000000003";
  int64_t previous = -1;
  for (const auto& day : std::set<fs::path>(fs::directory_iterator(stats_dir), {})) {
    const json stats = Parse(ReadFile(day.string()));
    const int64_t followers = stats["followers_count"];
    if (previous >= 0) {
      EXPECT_EQ(followers, previous + stats["follower_count"].get<int64_t>());
    }
    EXPECT_GE(stats["follower_count"].get<int64_t>(), 0);
    previous = followers;
  }
}

struct PostView {
  std::string path;
  std::string timestamp;
};

// Each creator's 25 newest posts, by the posts in the lake.
std::set<std::string> NewestPosts(const std::map<std::string, FileInfo>& files) {
  std::map<std::string, std::vector<PostView>> by_user;
  for (const auto& [path, info] : files) {
    if (IsPost(path)) by_user[UserOf(path)].push_back({path, Parse(info.content)["timestamp"]});
  }
  std::set<std::string> newest;
  for (auto& [user, posts] : by_user) {
    std::sort(posts.begin(), posts.end(),
              [](const PostView& a, const PostView& b) { return a.timestamp > b.timestamp; });
    for (size_t i = 0; i < posts.size() && i < 25; ++i) newest.insert(posts[i].path);
  }
  return newest;
}

TEST_F(GenlakeTest, AdvanceRewritesNewestPostsAndAddsADay) {
  const std::string dir = TempDir("lake");
  Options o = SmallLake(dir);
  o.users = 30;
  o.days = 30;
  ASSERT_TRUE(Generate(o, 2).ok());
  const auto before = Snapshot(o.lake);
  const auto media_before = Snapshot(o.cdn);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // Coarse mtime clocks.

  const absl::StatusOr<Summary> summary = Advance(o.lake, 2);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_TRUE(summary->advanced);
  EXPECT_EQ(summary->today, absl::CivilDay(2024, 5, 2));
  EXPECT_EQ(summary->stats, o.users);
  // Each creator's newest 25 are written: today's as new, the rest rewritten.
  EXPECT_EQ(summary->posts_new + summary->posts_rewritten, 25 * o.users);
  const auto after = Snapshot(o.lake);
  EXPECT_EQ(Parse(after.at("_genlake.json").content)["today"], "2024-05-02");

  int new_posts = 0, young_changed = 0, young = 0, plateaued_same = 0;
  const std::set<std::string> newest = NewestPosts(after);
  for (const auto& [path, info] : after) {
    if (IsStats(path) && !before.count(path)) {
      EXPECT_EQ(fs::path(path).filename(), "2024-05-02.json");
    }
    if (!IsPost(path)) continue;
    const json post = Parse(info.content);
    const std::string timestamp = post["timestamp"];
    const auto old = before.find(path);
    if (old == before.end()) {
      ++new_posts;
      EXPECT_EQ(timestamp.substr(0, 10), "2024-05-02") << path;
      EXPECT_TRUE(newest.count(path)) << path;
      continue;
    }
    if (!newest.count(path)) {  // Out of the API's window: untouched.
      EXPECT_EQ(info.mtime_ns, old->second.mtime_ns) << path;
      EXPECT_EQ(info.content, old->second.content) << path;
      continue;
    }
    EXPECT_NE(info.mtime_ns, old->second.mtime_ns) << "not rewritten: " << path;
    const json old_post = Parse(old->second.content);
    if (timestamp >= "2024-04-30" && post.contains("like_count") &&
        old_post["like_count"].get<int64_t>() >= 50) {
      ++young;
      young_changed += post["like_count"] != old_post["like_count"];
    }
    if (timestamp < "2024-03-20") {  // Plateaued: same bytes, new mtime.
      EXPECT_EQ(info.content, old->second.content) << path;
      plateaued_same += info.content == old->second.content;
    }
  }
  EXPECT_EQ(new_posts, summary->posts_new);
  EXPECT_GT(young, 0);
  EXPECT_EQ(young_changed, young);
  EXPECT_GT(plateaued_same, 0);

  // Only the new posts' images are written; old ones keep their mtime.
  const auto media_after = Snapshot(o.cdn);
  EXPECT_EQ(media_after.size(), media_before.size() + summary->images);
  for (const auto& [path, info] : media_before) {
    EXPECT_EQ(media_after.at(path).mtime_ns, info.mtime_ns) << path;
  }
}

// Advancing a day must give the posts a fresh generation of that day gives.
TEST_F(GenlakeTest, AdvanceMatchesFreshGenerationOfTheNextDay) {
  const std::string a = TempDir("a"), b = TempDir("b");
  Options oa = SmallLake(a), ob = SmallLake(b);
  oa.no_media = ob.no_media = true;
  ob.today = oa.today + 1;
  ASSERT_TRUE(Generate(oa, 2).ok());
  ASSERT_TRUE(Advance(oa.lake, 2).ok());
  ASSERT_TRUE(Generate(ob, 2).ok());
  const auto advanced = Contents(Snapshot(oa.lake));
  const auto fresh = Contents(Snapshot(ob.lake));
  int compared = 0;
  for (const auto& [path, content] : fresh) {
    if (!IsPost(path)) continue;
    ASSERT_TRUE(advanced.count(path)) << path;
    EXPECT_EQ(advanced.at(path), content) << path;
    ++compared;
  }
  EXPECT_GT(compared, 100);
}

// Which way a malformed post file is broken, or "" if it is a valid post.
std::string BrokenKind(const std::string& text) {
  if (text.empty()) return "empty";
  const json post = Parse(text);
  if (post.is_discarded()) return "truncated";
  if (post.is_array()) return "array";
  if (!post.contains("id")) return "missing_id";
  if (post.contains("like_count") && !post["like_count"].is_number_integer()) return "wrong_type";
  if (!std::regex_match(post["timestamp"].get<std::string>(), TimestampRe())) {
    return "bad_timestamp";
  }
  return "";
}

std::map<std::string, std::string> BrokenPosts(const std::string& lake) {
  std::map<std::string, std::string> broken;
  for (const auto& [path, info] : Snapshot(lake)) {
    if (!IsPost(path)) continue;
    const std::string kind = BrokenKind(info.content);
    if (!kind.empty()) broken[path] = kind;
  }
  return broken;
}

TEST_F(GenlakeTest, MalformedRateBreaksFilesInEveryWayStably) {
  const std::string dir = TempDir("lake");
  Options o = SmallLake(dir);
  o.users = 30;
  o.malformed_rate = 0.3;
  o.no_media = true;
  const absl::StatusOr<Summary> summary = Generate(o, 2);
  ASSERT_TRUE(summary.ok()) << summary.status();

  const std::map<std::string, std::string> broken = BrokenPosts(o.lake);
  std::map<std::string, int64_t> by_kind;
  for (const auto& [path, kind] : broken) ++by_kind[kind];
  int64_t total = 0;
  for (int i = 0; i < kMalformKinds; ++i) {
    const std::string name = MalformName(static_cast<Malform>(i));
    EXPECT_GT(summary->malformed[i], 0) << name;
    EXPECT_EQ(by_kind[name], summary->malformed[i]) << name;
    total += summary->malformed[i];
  }
  const double rate = static_cast<double>(total) / summary->posts_new;
  EXPECT_NEAR(rate, 0.3, 0.08);
  EXPECT_NE(SummaryToJson(*summary).find("\"bad_timestamp\""), std::string::npos);

  ASSERT_TRUE(Advance(o.lake, 2).ok());
  const std::map<std::string, std::string> broken_after = BrokenPosts(o.lake);
  for (const auto& [path, kind] : broken) {
    ASSERT_TRUE(broken_after.count(path)) << path;
    EXPECT_EQ(broken_after.at(path), kind) << path;
  }
}

struct Rgb {
  double r, g, b;
};

double Cie76(const Rgb& p, const Rgb& q) {
  const auto lab = [](const Rgb& c) {
    const auto linear = [](double v) {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    const double r = linear(c.r), g = linear(c.g), b = linear(c.b);
    const auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116; };
    const double x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
    const double y = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
    const double z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
    return std::array<double, 3>{116 * y - 16, 500 * (x - y), 200 * (y - z)};
  };
  const auto a = lab(p), b = lab(q);
  return std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

TEST_F(GenlakeTest, JpegsHaveRequestedSizeAndTruthColourFractions) {
  const std::string dir = TempDir("lake");
  Options o = SmallLake(dir);
  o.users = 4;
  o.days = 10;
  o.image_size = 160;  // Smaller images are mostly block edges.
  ASSERT_TRUE(Generate(o, 2).ok());
  const json truth = Parse(ReadFile(o.cdn + "/truth.json"));
  ASSERT_TRUE(truth.is_object());
  ASSERT_EQ(truth.size(), 4u);
  // Each creator's topic beside it, a slug of Scout's taxonomy.
  const json topics = Parse(ReadFile(o.cdn + "/topics.json"));
  ASSERT_TRUE(topics.is_object());
  ASSERT_EQ(topics.size(), 4u);
  for (const auto& [user, slug] : topics.items()) {
    EXPECT_TRUE(truth.contains(user)) << user;
    ASSERT_TRUE(slug.is_string());
    EXPECT_TRUE(scout::IsTopic(slug.get<std::string>())) << slug;
  }

  int images = 0;
  for (const auto& [user, colors] : truth.items()) {
    ASSERT_EQ(colors.size(), 6u);
    std::vector<Rgb> palette;
    std::vector<double> weights;
    double sum = 0;
    for (const json& c : colors) {
      EXPECT_EQ(KeysOf(c), (Keys{"red", "green", "blue", "hex", "percentage"}));
      char hex[8];
      std::snprintf(hex, sizeof(hex), "#%02x%02x%02x", c["red"].get<int>(), c["green"].get<int>(),
                    c["blue"].get<int>());
      EXPECT_EQ(c["hex"], hex);
      palette.push_back(
          {c["red"].get<double>(), c["green"].get<double>(), c["blue"].get<double>()});
      weights.push_back(c["percentage"]);
      EXPECT_GE(weights.back(), 0.05);
      EXPECT_LE(weights.back(), 0.4);
      if (weights.size() > 1) {
        EXPECT_LE(weights.back(), weights[weights.size() - 2]);
      }
      sum += weights.back();
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
    for (size_t i = 0; i < 6; ++i) {
      for (size_t j = 0; j < i; ++j) EXPECT_GT(Cie76(palette[i], palette[j]), 25);
    }

    for (const auto& entry : fs::directory_iterator(o.cdn + "/" + user)) {
      const cv::Mat image = cv::imread(entry.path().string(), cv::IMREAD_COLOR);
      ASSERT_FALSE(image.empty()) << entry.path();
      ASSERT_EQ(image.cols, o.image_size);
      ASSERT_EQ(image.rows, o.image_size);
      std::vector<double> fraction(6, 0);
      for (int y = 0; y < image.rows; ++y) {
        for (int x = 0; x < image.cols; ++x) {
          const cv::Vec3b px = image.at<cv::Vec3b>(y, x);
          const Rgb rgb{double(px[2]), double(px[1]), double(px[0])};
          size_t best = 0;
          double best_d = 1e18;
          for (size_t k = 0; k < 6; ++k) {
            const double d = std::pow(rgb.r - palette[k].r, 2) + std::pow(rgb.g - palette[k].g, 2) +
                             std::pow(rgb.b - palette[k].b, 2);
            if (d < best_d) best = k, best_d = d;
          }
          fraction[best] += 1.0 / image.total();
        }
      }
      for (size_t k = 0; k < 6; ++k) {
        EXPECT_NEAR(fraction[k], weights[k], 0.03) << entry.path() << " colour " << k;
      }
      ++images;
    }
  }
  EXPECT_GT(images, 20);
}

}  // namespace
}  // namespace scout::genlake
