// common/base/topics.h: hand-labelled captions in the lake's languages, the
// thresholds, and genlake's creators, whose topics genlake knows.
#include "common/base/topics.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/genlake/content.h"
#include "tools/genlake/vocabulary.h"

namespace scout {
namespace {

std::vector<std::string> Slugs(absl::string_view caption, const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  for (const TopicScore& t : PostTopics(caption, tags)) out.push_back(t.slug);
  return out;
}

TEST(TopicsTest, TaxonomyHasTheRequiredSlugs) {
  EXPECT_GE(Topics().size(), 28u);
  EXPECT_LE(Topics().size(), 32u);
  for (const char* slug :
       {"food", "travel", "fashion", "beauty", "fitness", "art", "photography", "nature", "pets",
        "family", "music", "sports", "tech", "gaming", "home", "wellness"}) {
    EXPECT_TRUE(IsTopic(slug)) << slug;
  }
  EXPECT_FALSE(IsTopic("Food"));
  EXPECT_FALSE(IsTopic(""));
  std::set<std::string> seen;
  for (const TopicInfo& t : Topics()) {
    EXPECT_TRUE(seen.insert(std::string(t.slug)).second) << t.slug;
    EXPECT_FALSE(t.name.empty());
  }
}

struct Labelled {
  const char* caption;
  const char* hashtags;  // Comma-separated, as the lake's field.
  const char* expected;  // The strongest topic; "" for none.
};

// Labelled by hand: what a person reads the post to be about.
const Labelled kCaptions[] = {
    // English
    {"Sunday brunch: sourdough toast and the best cappuccino in town", "", "food"},
    {"New recipe on the blog! Creamy mushroom pasta in 20 minutes", "", "food"},
    {"Packing for a two-week road trip through Portugal", "", "travel"},
    {"Tried the new eyeliner and lipstick combo, full tutorial up now", "", "beauty"},
    {"Today's outfit: vintage denim jacket and white sneakers", "#OOTD", "fashion"},
    {"Leg day done. New deadlift PR at the gym", "", "fitness"},
    {"Finished this watercolor painting of the harbour last night", "", "art"},
    {"Shot on 35mm film, my favourite portrait this year", "#photography", "photography"},
    {"Hiking above the clouds, the forest trail was magical", "", "nature"},
    {"Our puppy met the kitten next door today", "#dogsofinstagram", "pets"},
    {"Baby's first steps! Motherhood is wild", "", "family"},
    {"Recording the new album this week, guitar tracks done", "", "music"},
    {"What a match! Last-minute goal to win the derby", "#football", "sports"},
    {"My desk setup for 2026: mechanical keyboard and a new laptop", "", "tech"},
    {"Streaming Minecraft tonight on Twitch, come hang", "", "gaming"},
    {"Living room makeover: new sofa and interior design ideas", "#homedecor", "home"},
    {"Ten minutes of meditation every morning changed my year", "#selfcare", "wellness"},
    {"Just a quiet Tuesday.", "", ""},
    // Italian
    {"La ricetta della nonna: tiramisù fatto in casa", "", "food"},
    {"Finalmente in vacanza! Il nostro viaggio in Sicilia", "", "travel"},
    {"Il mio trucco preferito per l'estate, rossetto rosso", "", "beauty"},
    {"Allenamento in palestra alle 6 del mattino", "", "fitness"},
    {"Il mio cane adora la neve", "", "pets"},
    // Portuguese
    {"Receita de bolo de cenoura, ficou uma delícia", "", "food"},
    {"Dia de praia e muita viagem pelo litoral", "#viagem", "travel"},
    {"Treino pesado hoje na academia", "", "fitness"},
    {"Look do dia com vestido florido", "#moda", "fashion"},
    {"Meu gatinho dormindo no sofá", "", "pets"},
    // Spanish
    {"Receta fácil de paella para el domingo", "", "food"},
    {"Nuevo tutorial de maquillaje con labial mate", "", "beauty"},
    {"Partido increíble, qué golazo en el fútbol de hoy", "", "sports"},
    {"Mi perro en el parque", "#perro", "pets"},
    {"Vacaciones en la playa con la familia, el mejor viaje", "#vacaciones", "travel"},
    // French
    {"La recette de ma grand-mère, une pâtisserie maison", "", "food"},
    {"Nouveau voyage au Japon, premières impressions", "", "travel"},
    {"Ma routine maquillage du matin", "#beauté", "beauty"},
    {"Une nouvelle peinture à l'aquarelle pour l'expo", "", "art"},
    // German
    {"Sonntagsfrühstück mit frischem Kuchen, so lecker", "#rezept", "food"},
    {"Wandern in den Bergen, die Natur ist unglaublich", "", "nature"},
    {"Mein Hund liebt den Strand", "", "pets"},
    {"Krafttraining im Fitnessstudio, Tag 30", "", "fitness"},
    // Japanese
    {"今日のランチは手作りのラーメン。美味しい!", "", "food"},
    {"京都へ旅行。紅葉がきれいでした", "", "travel"},
    {"新しいコスメでメイクしてみました", "", "beauty"},
    {"今日のコーデはワンピースで", "", "fashion"},
    {"ジムで筋トレ、今日もがんばった", "", "fitness"},
    {"うちの猫がかわいすぎる", "#ねこ", "pets"},
    {"新しいギターでライブの練習", "", "music"},
    // Russian
    {"Рецепт борща, очень вкусно получилось", "", "food"},
    {"Наше путешествие по Алтаю, отпуск мечты", "", "travel"},
    {"Новый макияж и любимая помада", "", "beauty"},
    {"Тренировка в зале, день ног", "", "fitness"},
    {"Мой кот спит весь день", "", "pets"},
    {"Футбол вечером с друзьями, отличный матч", "#спорт", "sports"},
};

TEST(TopicsTest, HandLabelledCaptions) {
  int checked = 0;
  for (const Labelled& l : kCaptions) {
    std::vector<std::string> tags = absl::StrSplit(l.hashtags, ',', absl::SkipWhitespace());
    const std::vector<TopicScore> topics = PostTopics(l.caption, tags);
    if (l.expected[0] == '\0') {
      EXPECT_TRUE(topics.empty()) << l.caption << " -> " << topics[0].slug;
    } else {
      ASSERT_FALSE(topics.empty()) << l.caption;
      EXPECT_EQ(topics[0].slug, l.expected)
          << l.caption << " matched " << absl::StrJoin(topics[0].terms, ", ");
    }
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

TEST(TopicsTest, FoldsCaseAccentsAndHashtags) {
  EXPECT_EQ(Slugs("CRÈME BRÛLÉE", {}), std::vector<std::string>{"food"});
  EXPECT_EQ(Slugs("creme brulee", {}), std::vector<std::string>{"food"});
  EXPECT_EQ(Slugs("", {"#FoodPorn"}), std::vector<std::string>{"food"});
  EXPECT_EQ(Slugs("", {"FOODPORN"}), std::vector<std::string>{"food"});
  // A long term inside a glued hashtag.
  EXPECT_EQ(Slugs("", {"#sourdoughlove"}), std::vector<std::string>{"food"});
  // Russian inflections through a prefix term.
  EXPECT_EQ(Slugs("новые рецепты", {}), std::vector<std::string>{"food"});
}

TEST(TopicsTest, WeakWordsNeedCompany) {
  EXPECT_TRUE(Slugs("what a glow", {}).empty());                               // beauty 0.5
  EXPECT_EQ(Slugs("glow and serum", {}), std::vector<std::string>{"beauty"});  // 0.5 + 0.5
  // The same term twice counts once.
  EXPECT_TRUE(Slugs("glow glow glow", {"glow"}).empty());
  const std::vector<TopicScore> t = PostTopics("pasta pizza", {});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_DOUBLE_EQ(t[0].score, 2.0);
  EXPECT_EQ(t[0].terms, (std::vector<std::string>{"pasta", "pizza"}));
}

TEST(TopicsTest, ScoresOrderTopicsStrongestFirst) {
  const std::vector<TopicScore> t = PostTopics("pasta and pizza after the gym", {});
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].slug, "food");
  EXPECT_EQ(t[1].slug, "fitness");
}

TEST(TopicCounterTest, SharesThresholdAndOrder) {
  TopicCounter counter;
  EXPECT_TRUE(counter.Top().empty());
  for (int i = 0; i < 6; ++i) counter.AddPost("pasta night", {});
  for (int i = 0; i < 2; ++i) counter.AddPost("morning gym session", {});
  counter.AddPost("new vinyl for the collection", {});  // 1 of 10: under 0.2.
  counter.AddPost("nothing to see", {});
  EXPECT_EQ(counter.posts(), 10);
  const std::vector<TopicShareOf> top = counter.Top();
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].slug, "food");
  EXPECT_DOUBLE_EQ(top[0].share, 0.6);
  EXPECT_EQ(top[1].slug, "fitness");
  EXPECT_DOUBLE_EQ(top[1].share, 0.2);
  EXPECT_EQ(counter.Top(1).size(), 1u);
  EXPECT_TRUE(counter.Top(0).empty());
}

TEST(TopicCounterTest, TiesBySlug) {
  TopicCounter counter;
  counter.AddPost("pasta", {});
  counter.AddPost("gym", {});
  const std::vector<TopicShareOf> top = counter.Top();
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].slug, "fitness");
  EXPECT_EQ(top[1].slug, "food");
}

// genlake's creators: each one's top topic over 90 days of posts is the
// topic genlake drew it from (cooking -> food, makeup -> beauty, ...), and
// its posts speak of it.
TEST(TopicsTest, GenlakeCreatorsGetTheirTopic) {
  constexpr uint64_t kSeed = 42;
  constexpr int kUsers = 120;
  std::set<std::string> slugs;
  for (int user = 0; user < kUsers; ++user) {
    const genlake::Creator c = genlake::MakeCreator(kSeed, user, 0.3);
    const std::string want(genlake::TopicSlug(*c.topic));
    slugs.insert(want);
    ASSERT_TRUE(IsTopic(want)) << want;
    TopicCounter counter;
    int own = 0;
    for (const genlake::TimelinePost& when : genlake::BuildTimeline(kSeed, c, 20000, 20089)) {
      const genlake::Post post = genlake::MakePost(kSeed, c, kUsers, when);
      std::vector<std::string> tags = absl::StrSplit(post.text.hashtags, ", ", absl::SkipEmpty());
      counter.AddPost(post.text.caption, tags);
      for (const TopicScore& t : PostTopics(post.text.caption, tags)) own += t.slug == want;
    }
    if (counter.posts() == 0) continue;
    const std::vector<TopicShareOf> top = counter.Top();
    ASSERT_FALSE(top.empty()) << c.id << " " << want;
    EXPECT_EQ(top[0].slug, want) << c.id;
    EXPECT_GE(static_cast<double>(own) / counter.posts(), 0.9) << c.id << " " << want;
  }
  EXPECT_EQ(slugs.size(), 10u);  // Every genlake topic was checked.
}

}  // namespace
}  // namespace scout
