// scoutctl creators: rendering of hand-built SearchCreators answers (swatch
// escapes, sparkline, plain text off a terminal, hostile text) and the flag
// values -> SearchCreatorsRequest conversion.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/creators_args.h"
#include "client/format.h"
#include "common/base/time.h"

namespace scout::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

scout::v1::Creator HandBuilt() {
  scout::v1::Creator c;
  c.set_id("178410000000012");
  c.set_username("casa.verde");
  c.set_name("Casa Verde");
  c.set_followers_count(24310);
  c.set_engagement_rate(0.0321);
  c.set_engagement_percentile(72.4);
  c.set_eng_avg(780.4);
  c.set_follower_growth_30d(0.0231);
  c.set_posts_30d(14);
  c.set_tier(scout::v1::CREATOR_TIER_MICRO);
  c.set_is_business(true);
  c.set_as_of("2026-11-20");
  *c.mutable_last_post_at() = ToTimestamp(absl::FromUnixSeconds(1795000000));  // 2026-11-18
  for (int64_t f : {100, 101, 102, 103, 104, 105, 106, 107}) c.add_followers_daily(f);
  auto* food = c.add_topics();
  food->set_slug("food");
  food->set_share(0.62);
  auto* travel = c.add_topics();
  travel->set_slug("travel");
  travel->set_share(0.3);
  for (const auto& [r, g, b, share] :
       {std::tuple{232, 213, 196, 0.34}, std::tuple{160, 82, 45, 0.66}}) {
    scout::v1::Color* colour = c.mutable_palette()->add_colors();
    colour->set_red(r);
    colour->set_green(g);
    colour->set_blue(b);
    colour->set_percentage(share);
    colour->set_hex("#ignored");  // The channels are what is shown.
  }
  c.set_palette_distance(4.217);
  c.add_matched_hashtags("Café");
  c.set_biography("Tom & Jerry's café");
  c.set_biography_highlight("Tom &amp; Jerry&#39;s <em>café</em>");
  return c;
}

scout::v1::SearchCreatorsResponse Answer(const scout::v1::Creator& creator) {
  scout::v1::SearchCreatorsResponse response;
  *response.add_creators() = creator;
  response.set_total_size(1234);
  response.set_next_page_token("tok-2");
  return response;
}

TEST(FormatCreatorsTest, TerminalGetsTruecolourSwatchesBoldAndTheNumbers) {
  const std::string out = FormatCreators(Answer(HandBuilt()), {.color = true});
  EXPECT_THAT(out, HasSubstr("1,234 creators\n"));
  EXPECT_THAT(out, HasSubstr("1. \x1b[1m@casa.verde\x1b[22m · Casa Verde · id 178410000000012 · "
                             "micro · business\n"));
  EXPECT_THAT(out, HasSubstr("24,310 followers · engagement 3.21% (72nd percentile of micro) · "
                             "eng_avg 780.4 · 14 posts in 30 days · last post 2026-11-18\n"));
  // One block per day, lowest to highest: the whole ramp.
  EXPECT_THAT(out, HasSubstr("growth +2.31% in 30 days  ▁▂▃▄▅▆▇█ 107\n"));
  EXPECT_THAT(out, HasSubstr("topics: food 62% · travel 30%\n"));
  EXPECT_THAT(out, HasSubstr("palette:  \x1b[48;2;232;213;196m  \x1b[0m #e8d5c4 34%  "
                             "\x1b[48;2;160;82;45m  \x1b[0m #a0522d 66%\n"));
  EXPECT_THAT(out, HasSubstr("matched: palette distance 4.22 · used #Café\n"));
  EXPECT_THAT(out, HasSubstr("bio: Tom & Jerry's \x1b[1mcafé\x1b[22m\n"));
  EXPECT_THAT(out, HasSubstr("stats as of 2026-11-20\n"));
  EXPECT_THAT(out, HasSubstr("\nmore: --page_token tok-2\n"));
}

TEST(FormatCreatorsTest, PlainTextHasNoEscapesAndStripsTheHighlightTags) {
  const std::string out = FormatCreators(Answer(HandBuilt()), {.color = false});
  EXPECT_THAT(out, Not(HasSubstr("\x1b")));
  EXPECT_THAT(out, HasSubstr("1. @casa.verde · Casa Verde"));
  EXPECT_THAT(out, HasSubstr("palette:  #e8d5c4 34%  #a0522d 66%\n"));
  EXPECT_THAT(out, HasSubstr("bio: Tom & Jerry's café\n"));
  EXPECT_THAT(out, HasSubstr("▁▂▃▄▅▆▇█"));  // Not an escape: kept.
}

TEST(FormatCreatorsTest, AbsentNumbersAreLeftOutNotShownAsZero) {
  scout::v1::Creator c;
  c.set_id("7");
  c.set_username("new");
  c.set_followers_count(12);
  c.set_biography("plain <b>bio</b>");
  const std::string out = FormatCreators(Answer(c), {.color = true});
  EXPECT_THAT(out, Not(HasSubstr("engagement")));
  EXPECT_THAT(out, Not(HasSubstr("growth")));
  EXPECT_THAT(out, Not(HasSubstr("palette")));
  EXPECT_THAT(out, Not(HasSubstr("percentile")));
  EXPECT_THAT(out, Not(HasSubstr("matched")));
  EXPECT_THAT(out, HasSubstr("12 followers · 0 posts in 30 days\n"));
  // Without a highlight the raw biography is shown as text, not markup.
  EXPECT_THAT(out, HasSubstr("bio: plain <b>bio</b>\n"));
}

TEST(FormatCreatorsTest, ServerTextCannotDriveTheTerminal) {
  scout::v1::Creator c = HandBuilt();
  c.set_username("evil\x1b]0;owned\x07");
  c.set_name("a\x1b[2Jb\r\nc");
  c.set_biography_highlight("x\x1b[31m<em>y</em><script>z");
  for (bool color : {true, false}) {
    const std::string out = FormatCreators(Answer(c), {.color = color});
    EXPECT_THAT(out, Not(HasSubstr("\x1b]"))) << color;
    EXPECT_THAT(out, Not(HasSubstr("\x1b[2J"))) << color;
    EXPECT_THAT(out, Not(HasSubstr("\x1b[31m"))) << color;
    EXPECT_THAT(out, Not(HasSubstr("\x07"))) << color;
    EXPECT_THAT(out, Not(HasSubstr("\r"))) << color;
    EXPECT_THAT(out, HasSubstr("a [2Jb  c")) << color;
  }
  EXPECT_EQ(RenderHighlight("x\x1b[31m<em>y</em><script>z", {.color = false}), "x [31myz");
}

TEST(FormatCreatorsTest, NoNextPageNoMoreLine) {
  scout::v1::SearchCreatorsResponse response;
  response.set_total_size(10000);
  response.set_total_size_is_lower_bound(true);
  const std::string out = FormatCreators(response, {});
  EXPECT_EQ(out, "at least 10,000 creators\n");
}

TEST(FormatCreatorsTest, GroupThousands) {
  EXPECT_EQ(GroupThousands(0), "0");
  EXPECT_EQ(GroupThousands(999), "999");
  EXPECT_EQ(GroupThousands(1000), "1,000");
  EXPECT_EQ(GroupThousands(1234567), "1,234,567");
  EXPECT_EQ(GroupThousands(-1234), "-1,234");
}

TEST(CreatorsRequestTest, EveryFlagReachesItsField) {
  CreatorsFlags flags;
  flags.query = "Crème";
  flags.hashtags = {"cafe,#brunch", "latte"};
  flags.mentions = {"@nonna"};
  flags.topics = {"Food", "travel,fashion"};
  flags.tiers = {"micro,MID"};
  flags.min_followers = "10k";
  flags.max_followers = "1.5m";
  flags.min_engagement_rate = "3%";
  flags.max_engagement_rate = "0.2";
  flags.min_follower_growth = "-2%";
  flags.min_posts_30d = "4";
  flags.active_within_days = "30";
  flags.is_business = false;
  flags.palette = {"#E8D5C4,#a0522d:2"};
  flags.sort = "palette_distance";
  flags.page_size = 5;
  flags.page_token = "t";
  absl::StatusOr<scout::v1::SearchCreatorsRequest> r = CreatorsRequest(flags);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->query(), "Crème");
  EXPECT_THAT(r->hashtags(), ::testing::ElementsAre("cafe", "#brunch", "latte"));
  EXPECT_THAT(r->mentions(), ::testing::ElementsAre("@nonna"));
  EXPECT_THAT(r->topics(), ::testing::ElementsAre("food", "travel", "fashion"));
  EXPECT_THAT(r->tiers(),
              ::testing::ElementsAre(scout::v1::CREATOR_TIER_MICRO, scout::v1::CREATOR_TIER_MID));
  EXPECT_EQ(r->min_followers(), 10000);
  EXPECT_EQ(r->max_followers(), 1500000);
  EXPECT_DOUBLE_EQ(r->min_engagement_rate(), 0.03);
  EXPECT_DOUBLE_EQ(r->max_engagement_rate(), 0.2);
  EXPECT_DOUBLE_EQ(r->min_follower_growth(), -0.02);
  EXPECT_EQ(r->min_posts_30d(), 4);
  EXPECT_EQ(r->active_within_days(), 30);
  ASSERT_TRUE(r->has_is_business());
  EXPECT_FALSE(r->is_business());
  EXPECT_THAT(r->palette(), ::testing::ElementsAre("#e8d5c4", "#a0522d:2"));
  EXPECT_EQ(r->sort(), scout::v1::CREATOR_SORT_PALETTE_DISTANCE);
  EXPECT_EQ(r->page_size(), 5);
  EXPECT_EQ(r->page_token(), "t");
}

TEST(CreatorsRequestTest, UnsetFlagsStayUnset) {
  absl::StatusOr<scout::v1::SearchCreatorsRequest> r = CreatorsRequest({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_min_followers());
  EXPECT_FALSE(r->has_min_engagement_rate());
  EXPECT_FALSE(r->has_is_business());
  EXPECT_FALSE(r->has_active_within_days());
  EXPECT_EQ(r->sort(), scout::v1::CREATOR_SORT_UNSPECIFIED);  // The server's default.
}

TEST(CreatorsRequestTest, MalformedValuesNameTheFlag) {
  const auto error = [](void (*set)(CreatorsFlags&)) {
    CreatorsFlags flags;
    set(flags);
    absl::StatusOr<scout::v1::SearchCreatorsRequest> r = CreatorsRequest(flags);
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  EXPECT_THAT(error([](CreatorsFlags& f) { f.min_followers = "lots"; }),
              HasSubstr("--min_followers"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.min_followers = "-5"; }),
              HasSubstr("--min_followers"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.max_followers = "1.2345k"; }),
              HasSubstr("--max_followers: expected a whole number"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.min_followers = "2m", f.max_followers = "1m"; }),
              HasSubstr("--min_followers is above --max_followers"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.min_engagement_rate = "high"; }),
              HasSubstr("--min_engagement_rate"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.max_engagement_rate = "nan"; }),
              HasSubstr("--max_engagement_rate"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.min_follower_growth = "-150%"; }),
              HasSubstr("--min_follower_growth: must be at least -1"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.active_within_days = "91"; }),
              HasSubstr("--active_within_days: expected a whole number from 1 to 90"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.min_posts_30d = "3.5"; }),
              HasSubstr("--min_posts_30d"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.tiers = {"giant"}; }), HasSubstr("--tier"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.palette = {"#e8d5c"}; }), HasSubstr("--palette"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.palette = {"e8d5c4"}; }), HasSubstr("--palette"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.palette = {"#e8d5c4:0"}; }), HasSubstr("--palette"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.palette = {"#e8d5c4:"}; }), HasSubstr("--palette"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.palette = {"#gggggg"}; }), HasSubstr("--palette"));
  EXPECT_THAT(error([](CreatorsFlags& f) {
                f.palette = {"#000000,#111111,#222222,#333333,#444444,#555555", "#666666"};
              }),
              HasSubstr("--palette: at most 6 colours, not 7"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.like = "abc"; }), HasSubstr("--like"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.like = "1", f.palette = {"#000000"}; }),
              HasSubstr("--like and --palette"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.sort = "newest"; }), HasSubstr("--sort"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.sort = "palette_distance"; }),
              HasSubstr("needs --palette or --like"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.page_size = 101; }), HasSubstr("--page_size"));
  EXPECT_THAT(error([](CreatorsFlags& f) { f.query = std::string(1025, 'a'); }),
              HasSubstr("--query"));
  EXPECT_EQ(error([](CreatorsFlags& f) { f.like = "178410000000012", f.sort = "palette"; }), "ok");
}

TEST(CreatorsRequestTest, RepeatedFlagCollectsEveryOccurrence) {
  const std::vector<std::string> args = {
      "scoutctl", "creators", "--hashtag=a,b", "--hashtags", "x", "-hashtag", "c", "--hashtag",
      "d",        "--",       "--hashtag=e"};
  EXPECT_THAT(RepeatedFlag(args, "hashtag"), ::testing::ElementsAre("a,b", "c", "d"));
  EXPECT_THAT(RepeatedFlag(args, "topic"), ::testing::IsEmpty());
}

TEST(CreatorsRequestTest, FlagGivenSeesEveryBoolSpelling) {
  for (const char* arg :
       {"--is_business", "--is_business=false", "-is_business", "--nois_business"}) {
    EXPECT_TRUE(FlagGiven({"scoutctl", "creators", arg}, "is_business")) << arg;
  }
  EXPECT_FALSE(FlagGiven({"scoutctl", "creators", "--is_businessy"}, "is_business"));
  EXPECT_FALSE(FlagGiven({"scoutctl", "creators", "--", "--is_business"}, "is_business"));
  EXPECT_FALSE(FlagGiven({"scoutctl", "creators"}, "is_business"));
  // A name that itself starts with "no".
  for (const char* arg : {"--notify", "--notify=false", "--nonotify"}) {
    EXPECT_TRUE(FlagGiven({"scoutctl", "creators", arg}, "notify")) << arg;
  }
}

TEST(CreatorsRequestTest, ColorModes) {
  EXPECT_TRUE(*UseColor("always", false));
  EXPECT_FALSE(*UseColor("never", true));
  EXPECT_TRUE(*UseColor("auto", true));
  EXPECT_FALSE(*UseColor("auto", false));
  EXPECT_THAT(std::string(UseColor("sometimes", true).status().message()), HasSubstr("--color"));
}

}  // namespace
}  // namespace scout::client
