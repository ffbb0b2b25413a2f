#include "tools/genlake/vocabulary.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace scout::genlake {

// One tag in its spellings; a search for any of them should find the others.
using TagGroup = std::array<absl::string_view, 3>;

struct Topic {
  std::array<absl::string_view, 6> nouns;
  std::array<absl::string_view, 3> emoji;
  std::array<TagGroup, 3> tags;
  absl::string_view bio;
  absl::string_view slug;  // The topic in Scout's taxonomy (common/base/topics.h).
};

namespace {

constexpr std::array<Topic, 10> kTopics = {{
    // cooking
    {{"pasta", "crème brûlée", "sourdough", "ramen", "tiramisu", "paella"},
     {"🍝", "🍰", "👩‍🍳"},
     {{{"Café", "cafe", "CAFÉ"},
       {"CrèmeBrûlée", "cremebrulee", "crèmebrûlée"},
       {"FoodPorn", "foodporn", "FOODPORN"}}},
     "Home cook. Pasta, crème brûlée & everything in between",
     "food"},
    // travel
    {{"sunrise", "old town", "night train", "beach", "hostel", "road trip"},
     {"✈️", "🌍", "🏝️"},
     {{{"TravelGram", "travelgram", "TRAVELGRAM"},
       {"Wanderlust", "wanderlust", "WANDERLUST"},
       {"Zürich", "zurich", "ZÜRICH"}}},
     "Slow travel, fast trains",
     "travel"},
    // makeup
    {{"lipstick", "glow", "eyeliner", "palette", "highlighter", "blush"},
     {"💄", "✨", "💋"},
     {{{"MakeupTutorial", "makeuptutorial", "MAKEUPTUTORIAL"},
       {"Beauté", "beaute", "BEAUTÉ"},
       {"GlowUp", "glowup", "GLOWUP"}}},
     "MUA | tutorials every week",
     "beauty"},
    // fashion
    {{"trench coat", "sneakers", "denim", "scarf", "handbag", "blazer"},
     {"👗", "👠", "🕶️"},
     {{{"OOTD", "ootd", "Ootd"},
       {"TrèsChic", "treschic", "TRÈSCHIC"},
       {"StreetStyle", "streetstyle", "STREETSTYLE"}}},
     "Outfits, thrift finds and the occasional splurge",
     "fashion"},
    // fitness
    {{"deadlift", "morning run", "yoga flow", "protein bowl", "HIIT session", "rest day"},
     {"💪", "🔥", "🏃"},
     {{{"FitFam", "fitfam", "FITFAM"}, {"Gym", "gym", "GYM"}, {"Fitness", "fitness", "FITNESS"}}},
     "Coach. Strong > skinny",
     "fitness"},
    // pets
    {{"puppy", "kitten", "ñandú", "parrot", "dog park", "cat nap"},
     {"🐶", "🐱", "🐾"},
     {{{"DogsOfInstagram", "dogsofinstagram", "DOGSOFINSTAGRAM"},
       {"Ñandú", "nandu", "ÑANDÚ"},
       {"CatLife", "catlife", "CATLIFE"}}},
     "Two dogs, one cat, zero chill",
     "pets"},
    // music
    {{"guitar riff", "vinyl", "setlist", "synth", "festival", "choir"},
     {"🎸", "🎶", "🎤"},
     {{{"LiveMusic", "livemusic", "LIVEMUSIC"},
       {"Música", "musica", "MÚSICA"},
       {"Vinyl", "vinyl", "VINYL"}}},
     "Songwriter. New single out now",
     "music"},
    // tech
    {{"keyboard", "home lab", "laptop", "robot", "side project", "desk setup"},
     {"💻", "🤖", "⌨️"},
     {{{"DeskSetup", "desksetup", "DESKSETUP"},
       {"TechTok", "techtok", "TECHTOK"},
       {"Café", "cafe", "CAFÉ"}}},
     "I review gadgets so you don't have to",
     "tech"},
    // art
    {{"watercolor", "sketchbook", "mural", "canvas", "ink study", "collage"},
     {"🎨", "🖌️", "🖼️"},
     {{{"ArtistsOnInstagram", "artistsoninstagram", "ARTISTSONINSTAGRAM"},
       {"Aquarelle", "aquarelle", "AQUARELLE"},
       {"Sketch", "sketch", "SKETCH"}}},
     "Painter. Commissions open",
     "art"},
    // gardening
    {{"tomatoes", "compost", "balcony garden", "sunflowers", "seedlings", "greenhouse"},
     {"🌱", "🌻", "🍅"},
     {{{"GardenLife", "gardenlife", "GARDENLIFE"},
       {"Jardín", "jardin", "JARDÍN"},
       {"PlantMom", "plantmom", "PLANTMOM"}}},
     "Growing food on a tiny balcony",
     "gardening"},
}};

constexpr std::array<TagGroup, 4> kSharedTags = {{
    {"InstaGood", "instagood", "INSTAGOOD"},
    {"SãoPaulo", "saopaulo", "SÃOPAULO"},
    {"Москва", "москва", "МОСКВА"},
    {"TravelGram", "travelgram", "Travelgram"},
}};

constexpr std::array<absl::string_view, 10> kPlaces = {
    "São Paulo", "Zürich", "東京",  "Москва",           "Reykjavík",
    "Kraków",    "Lisboa", "Paris", "Ciudad de México", "Brooklyn"};

constexpr std::array<absl::string_view, 10> kAdjectives = {
    "cozy", "bold", "fresh", "perfect", "wild", "naïve", "golden", "messy", "crispy", "très chic"};

constexpr std::array<absl::string_view, 6> kEmoji = {"✨", "🔥", "❤️", "😍", "🙌", "🌈"};

// {a} adjective, {n} noun, {p} place, {e} emoji, {d} a day number.
constexpr std::array<absl::string_view, 10> kSentences = {
    "Trying a {a} {n} today {e}",
    "Can't stop thinking about this {a} {n} from {p}!",
    "My \"secret\" {n} tip: keep it {a}.",
    "Found the most {a} {n} near {p} {e}",
    "Who else loves {n}? Tell me below 👇",
    "Back in {p} with my favourite {n}.",
    "Swipe → for more {n} {e}",
    "Day {d} of {n} season \\o/",
    "{n} + {n} = {e}",
    "Honest review: the {n} was {a}. 10/10 would go back to {p}.",
};

constexpr std::array<absl::string_view, 16> kHandleWords = {
    "sunny", "kitchen", "wander", "pixel", "velvet", "urban", "maple", "studio",
    "daily", "nomad",   "bloom",  "retro", "cosmic", "lens",  "coral", "atlas"};

constexpr std::array<absl::string_view, 10> kFirstNames = {
    "Maria", "José", "Zoë", "Łukasz", "Aiko", "Søren", "Chloé", "Mateo", "Olga", "Sam"};
constexpr std::array<absl::string_view, 10> kLastNames = {
    "Rossi", "Müller", "García", "Nowak", "山田", "Ivanova", "O'Brien", "Dubois", "Silva", "Núñez"};

void AppendSentence(const Topic& topic, int64_t day, Rng& rng, std::string* out) {
  const absl::string_view tmpl = rng.Pick(kSentences);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '{' || i + 2 >= tmpl.size() || tmpl[i + 2] != '}') {
      out->push_back(tmpl[i]);
      continue;
    }
    switch (tmpl[i + 1]) {
      case 'a':
        absl::StrAppend(out, rng.Pick(kAdjectives));
        break;
      case 'n':
        absl::StrAppend(out, rng.Pick(topic.nouns));
        break;
      case 'p':
        absl::StrAppend(out, rng.Pick(kPlaces));
        break;
      case 'e':
        absl::StrAppend(out, rng.Chance(0.5) ? rng.Pick(topic.emoji) : rng.Pick(kEmoji));
        break;
      default:
        absl::StrAppend(out, day % 100 + 1);
        break;
    }
    i += 2;
  }
}

}  // namespace

absl::string_view TopicSlug(const Topic& topic) { return topic.slug; }

const Topic* DrawTopic(Rng& rng) { return &kTopics[rng.Below(static_cast<int>(kTopics.size()))]; }

std::string DrawName(Rng& rng) {
  return absl::StrCat(rng.Pick(kFirstNames), " ", rng.Pick(kLastNames));
}

std::string DrawBiography(const Topic& topic, Rng& rng) {
  return absl::StrCat(topic.bio, " ", topic.emoji[0], "\n📍", rng.Pick(kPlaces));
}

std::string Username(uint64_t seed, int user) {
  Rng rng(Hash(kNameStream, seed, user));
  static constexpr std::array<absl::string_view, 3> kSeparators = {".", "_", ""};
  const absl::string_view first = rng.Pick(kHandleWords);
  const absl::string_view sep = rng.Pick(kSeparators);
  const absl::string_view second = rng.Pick(kHandleWords);
  return absl::StrCat(first, sep, second, rng.Chance(0.5) ? "." : "_", user);
}

PostText DrawPostText(uint64_t seed, const Topic& topic, int user, int users, int64_t day,
                      Rng& rng) {
  PostText text;
  const int sentences = rng.Between(1, 3);
  for (int i = 0; i < sentences; ++i) {
    if (i > 0) text.caption.push_back(rng.Chance(0.3) ? '\n' : ' ');
    AppendSentence(topic, day, rng, &text.caption);
  }

  const size_t mentions = static_cast<size_t>(std::min(users - 1, rng.Between(0, 2)));
  std::vector<int> others;
  while (others.size() < mentions) {
    int other = rng.Below(users - 1);
    if (other >= user) ++other;  // Never oneself.
    if (std::find(others.begin(), others.end(), other) == others.end()) others.push_back(other);
  }
  std::vector<std::string> mentioned;
  for (const int other : others) {
    mentioned.push_back(Username(seed, other));
    absl::StrAppend(&text.caption, mentioned.size() == 1 ? " 📸 with @" : " & @",
                    mentioned.back());
  }
  text.mentioned_users = absl::StrJoin(mentioned, ", ");

  // Candidate tags: the topic's own, then shared ones, shuffled.
  std::array<const TagGroup*, 7> pool;
  for (int i = 0; i < 3; ++i) pool[i] = &topic.tags[i];
  for (int i = 0; i < 4; ++i) pool[3 + i] = &kSharedTags[i];
  for (int i = 0; i < 6; ++i) std::swap(pool[i], pool[i + rng.Below(7 - i)]);

  const int in_caption = rng.Between(1, 4);
  std::array<int, 7> variant{};
  text.caption.push_back('\n');
  for (int i = 0; i < in_caption; ++i) {
    variant[i] = rng.Below(3);
    absl::StrAppend(&text.caption, i > 0 ? " #" : "#", (*pool[i])[variant[i]]);
  }
  const int in_field = rng.Between(0, 3);
  std::vector<absl::string_view> field;
  for (int i = 0; i < in_field; ++i) {
    if (rng.Chance(0.5)) {  // A caption tag, spelled differently.
      const int g = rng.Below(in_caption);
      field.push_back((*pool[g])[(variant[g] + 1) % 3]);
    } else {  // A tag not in the caption.
      field.push_back((*pool[in_caption + i])[rng.Below(3)]);
    }
  }
  std::sort(field.begin(), field.end());
  field.erase(std::unique(field.begin(), field.end()), field.end());
  text.hashtags = absl::StrJoin(field, ", ");
  return text;
}

}  // namespace scout::genlake
