#include "common/base/text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace scout {
namespace {

using ::testing::ElementsAre;

TEST(FoldForSearch, LowercasesAndStripsAccents) {
  EXPECT_EQ(FoldForSearch("Crème BRÛLÉE"), "creme brulee");
  EXPECT_EQ(FoldForSearch("#CAFÉ"), "#cafe");
  EXPECT_EQ(FoldForSearch("Straße Œuvre Łódź"), "strasse oeuvre lodz");
  EXPECT_EQ(FoldForSearch("São Paulo, Zürich, Ñandú"), "sao paulo, zurich, nandu");
}

TEST(FoldForSearch, FoldsDecomposedAccentsLikeComposedOnes) {
  EXPECT_EQ(FoldForSearch("Cafe\u0301"), FoldForSearch("Café"));
}

TEST(FoldForSearch, LowercasesGreekAndCyrillicKeepsOtherScripts) {
  EXPECT_EQ(FoldForSearch("МОСКВА"), "москва");
  EXPECT_EQ(FoldForSearch("ΑΘΗΝΑ"), "αθηνα");
  EXPECT_EQ(FoldForSearch("東京 🍝"), "東京 🍝");
}

TEST(FoldForSearch, DropsInvalidUtf8) {
  EXPECT_EQ(FoldForSearch("a\xff"
                          "b\xc3"),
            "ab");
}

TEST(Utf8, InvalidBytesAreFoundAndReplaced) {
  EXPECT_TRUE(IsValidUtf8("Crème 🍝 \x00\x1b"));
  for (const char* bad :
       {"\xff", "\xc3", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
  EXPECT_EQ(ToValidUtf8("a\xff"
                        "b\xc3"),
            "a\uFFFDb\uFFFD");
  EXPECT_EQ(ToValidUtf8("Crème"), "Crème");
}

TEST(Utf8, NextCodePointDecodesAndSkipsABadByte) {
  const std::string text =
      "\xc3\xa9\xf0\x9f\x8d\x9d\xff"
      "a";  // é 🍝 bad a
  size_t pos = 0;
  EXPECT_EQ(NextCodePoint(text, pos), 0xE9);
  EXPECT_EQ(pos, 2u);
  EXPECT_EQ(NextCodePoint(text, pos), 0x1F35D);
  EXPECT_EQ(pos, 6u);
  EXPECT_EQ(NextCodePoint(text, pos), -1);
  EXPECT_EQ(pos, 7u);
  EXPECT_EQ(NextCodePoint(text, pos), 'a');
  EXPECT_EQ(pos, 8u);
}

TEST(TagKey, StripsMarkersAndFolds) {
  EXPECT_EQ(TagKey("#CAFÉ"), "cafe");
  EXPECT_EQ(TagKey("  Café "), "cafe");
  EXPECT_EQ(TagKey("@Bob.Smith"), "bob.smith");
  EXPECT_EQ(TagKey("#"), "");
}

TEST(ExtractHashtags, FindsTagsEndingAtEmojiAndPunctuation) {
  EXPECT_THAT(ExtractHashtags("Dinner #Café🍝 and #crème_brûlée, #2024! not a#tag #"),
              ElementsAre("Café", "crème_brûlée", "2024"));
  EXPECT_THAT(ExtractHashtags("#東京 trip"), ElementsAre("東京"));
}

TEST(ExtractMentions, KeepsDotsInsideUsernamesNotAtTheEnd) {
  EXPECT_THAT(ExtractMentions("with @bob.smith. and @ana_b, mail me@example.com"),
              ElementsAre("bob.smith", "ana_b"));
}

TEST(SplitList, TrimsAndDropsEmptyParts) {
  EXPECT_THAT(SplitList(" udacity, nanodegree,, "), ElementsAre("udacity", "nanodegree"));
  EXPECT_TRUE(SplitList("").empty());
}

TEST(Highlight, WrapsWordsWhoseFoldedFormMatches) {
  EXPECT_EQ(Highlight("Best Café in São Paulo", {"cafe", "paulo"}),
            "Best <em>Café</em> in São <em>Paulo</em>");
  EXPECT_EQ(Highlight("nothing here", {"cafe"}), "");
}

TEST(Highlight, IsEscapedHtmlWhoseOnlyTagsAreOurs) {
  // The website renders highlight as HTML: a caption is hostile input.
  EXPECT_EQ(Highlight("<img src=x onerror=alert(1)> pasta", {"pasta"}),
            "&lt;img src=x onerror=alert(1)&gt; <em>pasta</em>");
  EXPECT_EQ(Highlight(R"(Tom & "Jerry's" <b>pasta</b>)", {"pasta"}),
            "Tom &amp; &quot;Jerry&#39;s&quot; &lt;b&gt;<em>pasta</em>&lt;/b&gt;");
  // Words inside markup still match; the markup around them stays text.
  EXPECT_EQ(Highlight("<script>alert(1)</script>", {"script"}),
            "&lt;<em>script</em>&gt;alert(1)&lt;/<em>script</em>&gt;");
  EXPECT_EQ(Highlight("&amp; pasta", {"amp"}), "&amp;<em>amp</em>; pasta");
}

}  // namespace
}  // namespace scout
