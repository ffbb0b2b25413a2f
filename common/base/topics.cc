#include "common/base/topics.h"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>

#include "absl/strings/str_split.h"
#include "common/base/text.h"

namespace scout {
namespace {

// The taxonomy: about 30 slugs, stable (the index and the API store them),
// named after what brands search for (the peers' categories).
constexpr std::array<TopicInfo, 30> kTopics = {{
    {"architecture", "Architecture & design"},
    {"art", "Art & illustration"},
    {"beauty", "Beauty & makeup"},
    {"books", "Books & reading"},
    {"business", "Business & careers"},
    {"cars", "Cars & motorbikes"},
    {"comedy", "Comedy & memes"},
    {"dance", "Dance"},
    {"diy", "DIY & crafts"},
    {"education", "Education & science"},
    {"family", "Family & parenting"},
    {"fashion", "Fashion & style"},
    {"film", "Film & TV"},
    {"finance", "Money & investing"},
    {"fitness", "Fitness & training"},
    {"food", "Food & drink"},
    {"gaming", "Gaming"},
    {"gardening", "Gardening & plants"},
    {"home", "Home & interiors"},
    {"jewelry", "Jewellery & watches"},
    {"music", "Music"},
    {"nature", "Nature & outdoors"},
    {"pets", "Pets & animals"},
    {"photography", "Photography"},
    {"sports", "Sports"},
    {"sustainability", "Sustainability"},
    {"tech", "Tech & gadgets"},
    {"travel", "Travel"},
    {"weddings", "Weddings"},
    {"wellness", "Wellness & mindfulness"},
}};

// A post speaks of a topic when the weights of the distinct lexicon entries
// it uses for that topic add up to this: one strong word (1.0) or two weak
// ones (0.5 each, words that also mean other things).
constexpr double kPostThreshold = kTopicPostThreshold;
// A creator's topic must be behind at least this share of its posts: below
// it, a topic is an occasional post, not what the creator is about.
constexpr double kMinCreatorShare = kTopicMinCreatorShare;

// The lexicon, one line per topic and strength. Terms are '|'-separated and
// written naturally (accents, capitals): they are folded like captions when
// the table is compiled. Forms:
//   word           a whole caption word or hashtag ("pasta", "#pasta")
//   two words      consecutive caption words ("road trip")
//   prefix*        a word starting so (inflections: "рецепт*" = рецепты...)
//   CJK or emoji   a substring anywhere (Japanese has no spaces)
// Hashtags glue words together ("#pastalover"), so a single-word term of 5+
// letters also matches inside a hashtag.
struct LexiconLine {
  absl::string_view slug;
  double weight;
  absl::string_view terms;
};

constexpr LexiconLine kLexicon[] = {
    // food
    {"food", 1.0,
     "food|foodie|foodporn|foodstagram|foodblogger|recipe|recipes|cooking|homemade|delicious|yummy|"
     "pasta|pizza|sourdough|ramen|sushi|tiramisu|paella|crème brûlée|cremebrulee|brunch|dessert|"
     "baking|bakery|restaurant|chef|vegan|foodlover|instafood|eats|dinner|lunch|breakfast|cafe|"
     "coffee|espresso|cappuccino|croissant|burger|tacos|noodles|cake"},
    {"food", 1.0,
     "cucina|ricetta|ricette|buonissimo|mangiare|cibo|pranzo|cena|colazione|dolce|gelato|"  // it
     "comida|receita|receitas|delicia|gostoso|almoço|jantar|café da manhã|"                 // pt
     "receta|recetas|cocina|rico|almuerzo|cena|desayuno|postre|"                            // es
     "cuisine|recette|recettes|miam|déjeuner|dîner|gourmand|pâtisserie|boulangerie|"        // fr
     "essen|rezept|rezepte|lecker|kochen|frühstück|mittagessen|abendessen|kuchen|backen|"   // de
     "еда|рецепт*|вкусно|вкусный|завтрак|обед|ужин|готовим|кухня|десерт|кофе|"              // ru
     "料理|ごはん|ご飯|ランチ|ディナー|スイーツ|ラーメン|寿司|グルメ|美味しい|おいしい|レシピ|"
     "カフェ"},
    {"food", 0.5,
     "fresh|tasty|sweet|kitchen|tomatoes|🍝|🍰|🍕|🍣|🍜|☕|👩‍🍳|🍔|🍷"},
    // travel
    {"travel", 1.0,
     "travel|travelgram|traveling|travelling|wanderlust|trip|road trip|vacation|holiday|holidays|"
     "hostel|hotel|backpacking|explore|passport|flight|night train|old town|sightseeing|"
     "instatravel|travelblogger|tourism|journey|"
     "viaggio|viaggiare|vacanza|vacanze|"                 // it
     "viagem|viajar|férias|turismo|"                      // pt
     "viaje|viajes|vacaciones|"                           // es
     "voyage|voyager|vacances|"                           // fr
     "reise|reisen|urlaub|fernweh|"                       // de
     "путешествие|путешествия|путешеств*|отпуск|туризм|"  // ru
     "旅行|旅|観光|ホテル|旅行好き"},
    {"travel", 0.5,
     "beach|sunrise|airport|city|island|✈️|🌍|🏝️|🗺️|praia|playa|plage|strand|"
     "пляж|"
     "海外"},
    // beauty
    {"beauty", 1.0,
     "makeup|make "
     "up|makeuptutorial|mua|lipstick|eyeliner|blush|mascara|highlighter|foundation|skincare|"
     "beauty|beautyblogger|cosmetics|nails|nailart|manicure|eyeshadow|contour|concealer|glowup|"
     "trucco|rossetto|bellezza|"                       // it
     "maquiagem|batom|beleza|"                         // pt
     "maquillaje|labial|belleza|"                      // es
     "maquillage|beauté|rouge à lèvres|"               // fr
     "schminke|lippenstift|hautpflege|"                // de
     "макияж|косметика|помада|красота|уход за кожей|"  // ru
     "メイク|コスメ|化粧|スキンケア|リップ|美容|ネイル"},
    {"beauty", 0.5, "glow|palette|serum|💄|💋|💅"},
    // fashion
    {"fashion", 1.0,
     "fashion|ootd|outfit|outfits|style|streetstyle|fashionblogger|lookbook|sneakers|denim|blazer|"
     "handbag|trench coat|scarf|dress|wardrobe|thrift|vintage fashion|treschic|instafashion|"
     "moda|stile|vestito|abito|"        // it, pt, es
     "roupa|look do dia|estilo|"        // pt, es
     "vestido|"                         // es
     "mode|tenue|robe|tendance|"        // fr, de
     "kleid|outfit des tages|"          // de
     "мода|образ|стиль|платье|одежда|"  // ru
     "ファッション|コーデ|今日のコーデ|古着|ワンピース"},
    {"fashion", 0.5, "chic|coat|shoes|jeans|bag|👗|👠|🕶️|👜|服"},
    // fitness
    {"fitness", 1.0,
     "fitness|fitfam|gym|workout|training|deadlift|squat|hiit|crossfit|bodybuilding|protein|"
     "rest day|morning run|running|marathon|cardio|personal trainer|abs|"
     "palestra|allenamento|"                       // it
     "academia|treino|musculação|"                 // pt
     "gimnasio|entrenamiento|"                     // es
     "musculation|entraînement|salle de sport|"    // fr
     "fitnessstudio|krafttraining|"                // de
     "фитнес|тренировка|тренировки|спортзал|зал|"  // ru
     "筋トレ|トレーニング|ジム|ランニング|ダイエット"},
    {"fitness", 0.5, "yoga flow|run|strong|sweat|💪|🏃|🏋️|corsa|corrida|carrera|course"},
    // wellness
    {"wellness", 1.0,
     "wellness|wellbeing|mindfulness|meditation|selfcare|self care|mentalhealth|mental health|"
     "yoga|breathwork|spa|"
     "benessere|meditazione|"        // it
     "bem estar|meditação|"          // pt
     "bienestar|meditación|"         // es
     "bien être|méditation|"         // fr
     "wohlbefinden|achtsamkeit|"     // de
     "медитация|осознанность|йога|"  // ru
     "瞑想|ヨガ|マインドフルネス|セルフケア|癒し"},
    {"wellness", 0.5, "calm|relax|sleep|🧘"},
    // pets
    {"pets", 1.0,
     "pets|pet|dog|dogs|puppy|kitten|cat|cats|parrot|dog park|cat nap|dogsofinstagram|"
     "catsofinstagram|catlife|doglife|petstagram|ñandú|"
     "cane|gatto|cucciolo|gattino|"           // it
     "cachorro|gato|gatinho|"                 // pt, es
     "perro|perrito|mascota|"                 // es
     "chien|chat|chaton|"                     // fr
     "hund|katze|welpe|haustier|"             // de
     "собака|кот|кошка|котик|щенок|питомец|"  // ru
     "犬|猫|ペット|わんこ|にゃんこ|柴犬|いぬ|ねこ"},
    {"pets", 0.5, "🐶|🐱|🐾|🐕|🐈"},
    // music
    {"music", 1.0,
     "music|musician|song|songwriter|guitar|guitar riff|vinyl|setlist|synth|choir|concert|"
     "livemusic|band|singer|piano|drums|album|single|gig|dj|"
     "musica|música|canzone|chitarra|canção|guitarra|canción|"  // it, pt, es
     "musique|chanson|"                                         // fr
     "musik|konzert|gitarre|lied|"                              // de
     "музыка|песня|гитара|концерт|"                             // ru
     "音楽|ギター|ライブ|バンド|ピアノ|歌"},
    {"music", 0.5, "festival|stage|🎸|🎶|🎤|🎵|🎹"},
    // tech
    {"tech", 1.0,
     "tech|technology|gadget|gadgets|laptop|keyboard|mechanical keyboard|desk setup|desksetup|"
     "home lab|homelab|robot|robotics|side project|coding|programming|developer|software|"
     "smartphone|iphone|android|techtok|ai|"
     "tecnologia|tecnología|technologie|programmazione|programação|programación|"
     "технологии|гаджет*|программирование|ноутбук|"
     "ガジェット|パソコン|プログラミング|テック|スマホ|ロボット"},
    {"tech", 0.5, "setup|app|💻|🤖|⌨️"},
    // art
    {"art", 1.0,
     "art|artist|artwork|painting|painter|drawing|illustration|watercolor|watercolour|sketchbook|"
     "sketch|mural|canvas|ink study|collage|artistsoninstagram|aquarelle|acrylic|"
     "arte|pittura|disegno|acquerello|pintura|desenho|dibujo|acuarela|"  // it, pt, es
     "peinture|dessin|"                                                  // fr
     "kunst|malerei|zeichnung|"                                          // de
     "искусство|рисунок|живопись|художник|акварель|"                     // ru
     "アート|イラスト|水彩|絵画|お絵描き"},
    {"art", 0.5, "palette|gallery|🎨|🖌️|🖼️|絵"},
    // photography
    {"photography", 1.0,
     "photography|photographer|photooftheday|portrait|35mm|film "
     "photography|lens|camera|shotoniphone|"
     "fotografia|fotografo|fotógrafo|fotografía|photographie|photographe|fotografie|fotograf|"
     "фотография|фотограф|фотосессия|"
     "写真|カメラ|撮影|写真好きな人と繋がりたい"},
    {"photography", 0.5, "photo|shot|📸|📷"},
    // nature
    {"nature", 1.0,
     "nature|hiking|mountains|mountain|forest|outdoors|wildlife|landscape|camping|trail|lake|"
     "natura|montagna|bosco|"          // it
     "natureza|montanha|trilha|"       // pt
     "naturaleza|montaña|senderismo|"  // es
     "randonnée|montagne|forêt|"       // fr
     "natur|wandern|berge|wald|"       // de
     "природа|горы|лес|поход|"         // ru
     "自然|紅葉|登山|絶景|森"},
    {"nature", 0.5, "sunset|sunrise|sky|ocean|sea|river|🌲|🏔️|🌊|海|花"},
    // gardening
    {"gardening", 1.0,
     "garden|gardening|gardenlife|plants|plantmom|houseplants|compost|seedlings|greenhouse|"
     "balcony garden|sunflowers|vegetable garden|"
     "giardino|orto|piante|jardim|plantas|jardín|huerto|jardin|potager|plantes|"
     "garten|pflanzen|сад|огород|растения|"
     "ガーデニング|家庭菜園|観葉植物"},
    {"gardening", 0.5, "tomatoes|flowers|bloom|🌱|🌻|🍅|🪴"},
    // family
    {"family", 1.0,
     "family|mom|mum|dad|baby|kids|motherhood|parenting|momlife|toddler|pregnancy|"
     "famiglia|mamma|bambini|família|mãe|bebê|familia|mamá|bebé|niños|"
     "famille|maman|bébé|enfants|familie|mama|kinder|"
     "семья|мама|малыш|дети|ребенок|"
     "家族|子育て|赤ちゃん|子供|ママ"},
    {"family", 0.5, "love|home|👶|👨‍👩‍👧"},
    // sports
    {"sports", 1.0,
     "sports|sport|football|soccer|basketball|tennis|baseball|golf|cycling|surf|surfing|skate|"
     "match|goal|nba|f1|"
     "calcio|futebol|fútbol|futbol|partita|jogo|partido|"
     "foot|fußball|fussball|"
     "футбол|хоккей|баскетбол|спорт|"
     "サッカー|野球|スポーツ|試合|テニス|バスケ"},
    {"sports", 0.5, "team|win|⚽|🏀|🎾|🏆"},
    // gaming
    {"gaming", 1.0,
     "gaming|gamer|videogames|video games|playstation|xbox|nintendo|twitch|esports|fortnite|"
     "minecraft|streamer|"
     "videogiochi|jogos|videojuegos|jeux vidéo|spiele|игры|геймер|"
     "ゲーム|ゲーム実況|任天堂"},
    {"gaming", 0.5, "game|🎮|👾"},
    // home
    {"home", 1.0,
     "interior|interiors|interiordesign|homedecor|home decor|decor|livingroom|furniture|"
     "cozy home|renovation|"
     "arredamento|casa dolce casa|decoração|decoración|décoration|déco|einrichtung|"
     "интерьер|ремонт|"
     "インテリア|部屋|暮らし|家具|模様替え"},
    {"home", 0.5, "cozy|sofa|candle|🏠|🛋️"},
    // diy
    {"diy", 1.0,
     "diy|crafts|crafting|handmade|knitting|crochet|sewing|woodworking|upcycling|"
     "fai da te|faça você mesmo|hazlo tu mismo|fait main|selbstgemacht|handarbeit|"
     "своими руками|вязание|"
     "ハンドメイド|手作り|編み物"},
    {"diy", 0.5, "🧶|✂️"},
    // books
    {"books", 1.0,
     "books|book|bookstagram|reading|novel|booklover|library|"
     "libro|libri|lettura|livro|livros|leitura|libros|lectura|livre|livres|lecture|"
     "buch|bücher|lesen|книга|книги|чтение|"
     "読書|本|小説"},
    {"books", 0.5, "📚|📖"},
    // film
    {"film", 1.0,
     "movie|movies|cinema|film|films|netflix|series|tvshow|"
     "cine|película|filme|kino|фильм|кино|сериал|"
     "映画|ドラマ|アニメ"},
    {"film", 0.5, "🎬|🍿"},
    // education
    {"education", 1.0,
     "education|learning|study|studygram|science|teacher|university|school|math|history|"
     "studiare|scuola|estudar|escola|estudiar|escuela|étudier|école|lernen|schule|"
     "учеба|школа|наука|"
     "勉強|学校|教育"},
    // business
    {"business", 1.0,
     "business|entrepreneur|startup|marketing|career|smallbusiness|ceo|"
     "lavoro|empreendedorismo|negocio|emprendedor|entreprise|unternehmen|бизнес|"
     "ビジネス|起業"},
    // finance
    {"finance", 1.0,
     "finance|investing|stocks|crypto|bitcoin|money|budget|"
     "finanza|investimenti|finanças|investimentos|finanzas|inversión|finances|geld|"
     "инвестиции|финансы|"
     "投資|資産運用|節約"},
    // cars
    {"cars", 1.0,
     "car|cars|carsofinstagram|motorcycle|motorbike|supercar|racing|"
     "auto|macchina|moto|carro|coche|voiture|машина|авто|"
     "車|バイク"},
    // comedy
    {"comedy", 1.0,
     "comedy|meme|memes|funny|lol|standup|humor|humour|юмор|мем|お笑い|🤣|😂"},
    // dance
    {"dance", 1.0,
     "dance|dancer|dancing|ballet|salsa|hiphop dance|danza|dança|baile|danse|tanzen|танцы|ダンス|"
     "バレエ|💃"},
    // architecture
    {"architecture", 1.0,
     "architecture|architect|building|architettura|arquitetura|arquitectura|architektur|"
     "архитектура|建築"},
    // jewelry
    {"jewelry", 1.0,
     "jewelry|jewellery|necklace|earrings|ring|bracelet|watch|watches|gioielli|joias|joyas|"
     "bijoux|schmuck|украшения|ジュエリー|アクセサリー|💍"},
    // weddings
    {"weddings", 1.0,
     "wedding|bride|groom|weddingdress|matrimonio|sposa|casamento|noiva|boda|novia|mariage|"
     "hochzeit|свадьба|невеста|結婚式|花嫁|💒"},
    // sustainability
    {"sustainability", 1.0,
     "sustainability|sustainable|zerowaste|zero waste|ecofriendly|recycling|climate|"
     "sostenibile|sustentável|sostenible|durable|nachhaltig|экология|"
     "サステナブル|エコ|♻️"},
};

struct Term {
  std::vector<std::string> words;  // Folded; several for a phrase.
  std::string text;                // Folded whole term, for substrings.
  bool prefix = false;
  bool substring = false;  // CJK or emoji.
  int topic = 0;
  double weight = 0;
};

bool IsCjkOrSymbol(absl::string_view folded) {
  size_t pos = 0;
  while (pos < folded.size()) {
    const int32_t cp = NextCodePoint(folded, pos);
    // CJK punctuation, kana and ideographs; emoji and pictographs.
    if ((cp >= 0x2190 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x9FFF) ||
        (cp >= 0xF900 && cp <= 0xFAFF) || cp >= 0x1F000) {
      return true;
    }
  }
  return false;
}

struct Lexicon {
  std::vector<Term> terms;
  std::unordered_map<std::string, std::vector<int>> by_first_word;
  std::vector<int> prefixes, substrings, long_words;

  Lexicon() {
    std::map<std::pair<std::string, int>, double> seen;  // A term once per topic.
    for (const LexiconLine& line : kLexicon) {
      int topic = -1;
      for (size_t t = 0; t < kTopics.size(); ++t) {
        if (kTopics[t].slug == line.slug) topic = static_cast<int>(t);
      }
      if (topic < 0) continue;  // lexicon_test-style check: IsTopic covers every line.
      for (absl::string_view raw : absl::StrSplit(line.terms, '|', absl::SkipWhitespace())) {
        Term term;
        term.prefix = !raw.empty() && raw.back() == '*';
        if (term.prefix) raw.remove_suffix(1);
        term.text = FoldForSearch(raw);
        term.substring = IsCjkOrSymbol(term.text);
        if (!term.substring) term.words = Words(term.text);
        if (term.text.empty() || (!term.substring && term.words.empty())) continue;
        if (!seen.emplace(std::make_pair(term.text, topic), line.weight).second) continue;
        term.topic = topic;
        term.weight = line.weight;
        const int index = static_cast<int>(terms.size());
        if (term.substring) {
          substrings.push_back(index);
        } else if (term.prefix) {
          prefixes.push_back(index);
        } else {
          by_first_word[term.words.front()].push_back(index);
          if (term.words.size() == 1 && term.text.size() >= 5) long_words.push_back(index);
        }
        terms.push_back(std::move(term));
      }
    }
  }
};

const Lexicon& TheLexicon() {
  static const Lexicon* const lexicon = new Lexicon();
  return *lexicon;
}

}  // namespace

absl::Span<const TopicInfo> Topics() { return kTopics; }

bool IsTopic(absl::string_view slug) {
  return std::any_of(kTopics.begin(), kTopics.end(),
                     [&](const TopicInfo& t) { return t.slug == slug; });
}

std::vector<TopicScore> PostTopics(absl::string_view caption,
                                   const std::vector<std::string>& hashtags) {
  const Lexicon& lexicon = TheLexicon();
  const std::string folded = FoldForSearch(caption);
  std::vector<std::string> words = Words(folded);
  std::vector<std::string> tags;  // Folded hashtag keys, as single tokens.
  for (const std::string& tag : hashtags) {
    std::string key = TagKey(tag);
    if (!key.empty()) tags.push_back(std::move(key));
  }
  for (const std::string& tag : ExtractHashtags(caption)) tags.push_back(TagKey(tag));

  std::vector<char> matched(lexicon.terms.size(), 0);
  const auto match_at = [&](const std::vector<std::string>& seq, size_t at) {
    const auto it = lexicon.by_first_word.find(seq[at]);
    if (it == lexicon.by_first_word.end()) return;
    for (const int index : it->second) {
      const Term& term = lexicon.terms[index];
      if (at + term.words.size() > seq.size()) continue;
      if (std::equal(term.words.begin(), term.words.end(), seq.begin() + at)) matched[index] = 1;
    }
  };
  for (size_t i = 0; i < words.size(); ++i) match_at(words, i);
  for (const std::string& tag : tags) {
    const std::vector<std::string> one = {tag};
    match_at(one, 0);
    for (const int index : lexicon.long_words) {
      if (!matched[index] && tag.find(lexicon.terms[index].text) != std::string::npos) {
        matched[index] = 1;
      }
    }
  }
  for (const int index : lexicon.prefixes) {
    const std::string& p = lexicon.terms[index].text;
    const auto starts = [&](const std::string& w) { return w.compare(0, p.size(), p) == 0; };
    if (std::any_of(words.begin(), words.end(), starts) ||
        std::any_of(tags.begin(), tags.end(), starts)) {
      matched[index] = 1;
    }
  }
  for (const int index : lexicon.substrings) {
    const std::string& s = lexicon.terms[index].text;
    if (folded.find(s) != std::string::npos ||
        std::any_of(tags.begin(), tags.end(),
                    [&](const std::string& t) { return t.find(s) != std::string::npos; })) {
      matched[index] = 1;
    }
  }

  std::vector<TopicScore> scores(kTopics.size());
  for (size_t index = 0; index < matched.size(); ++index) {
    if (!matched[index]) continue;
    const Term& term = lexicon.terms[index];
    scores[term.topic].score += term.weight;
    scores[term.topic].terms.push_back(term.text);
  }
  std::vector<TopicScore> out;
  for (size_t t = 0; t < kTopics.size(); ++t) {
    if (scores[t].score + 1e-9 < kPostThreshold) continue;
    scores[t].slug = std::string(kTopics[t].slug);
    out.push_back(std::move(scores[t]));
  }
  std::sort(out.begin(), out.end(), [](const TopicScore& a, const TopicScore& b) {
    return a.score != b.score ? a.score > b.score : a.slug < b.slug;
  });
  return out;
}

void TopicCounter::AddPost(absl::string_view caption, const std::vector<std::string>& hashtags) {
  ++posts_;
  for (const TopicScore& topic : PostTopics(caption, hashtags)) {
    auto it = std::find_if(counts_.begin(), counts_.end(),
                           [&](const auto& c) { return c.first == topic.slug; });
    if (it == counts_.end()) {
      counts_.emplace_back(topic.slug, 1);
    } else {
      ++it->second;
    }
  }
}

std::vector<TopicShareOf> TopicCounter::Top(int n) const {
  std::vector<TopicShareOf> out;
  if (posts_ == 0) return out;
  for (const auto& [slug, count] : counts_) {
    const double share = static_cast<double>(count) / posts_;
    if (share + 1e-12 >= kMinCreatorShare) out.push_back({slug, share});
  }
  std::sort(out.begin(), out.end(), [](const TopicShareOf& a, const TopicShareOf& b) {
    return a.share != b.share ? a.share > b.share : a.slug < b.slug;
  });
  if (out.size() > static_cast<size_t>(std::max(n, 0))) out.resize(std::max(n, 0));
  return out;
}

}  // namespace scout
