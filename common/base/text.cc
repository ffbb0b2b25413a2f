#include "common/base/text.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace scout {

int32_t NextCodePoint(absl::string_view s, size_t& pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = byte(pos);
  int len = 0;
  int32_t cp = 0;
  if (b0 < 0x80) {
    ++pos;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07;
  } else {
    ++pos;
    return -1;
  }
  if (pos + len > s.size()) {
    ++pos;
    return -1;
  }
  for (int i = 1; i < len; ++i) {
    const uint8_t b = byte(pos + i);
    if ((b & 0xC0) != 0x80) {
      ++pos;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++pos;
    return -1;
  }
  pos += len;
  return cp;
}

namespace {

void AppendUtf8(int32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ASCII spelling of U+00C0..U+00FF, lowercase; nullptr keeps the letter.
constexpr const char* kLatin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c",     "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  nullptr, "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c",     "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  nullptr, "o", "u", "u", "u", "u", "y", "th", "y"};

// Latin Extended-A (U+0100..U+017F) as runs of letters sharing a base.
struct FoldRun {
  int32_t first;
  int32_t count;
  const char* ascii;
};
constexpr FoldRun kLatinExtA[] = {
    {0x100, 6, "a"},  {0x106, 8, "c"},  {0x10E, 4, "d"},  {0x112, 10, "e"}, {0x11C, 8, "g"},
    {0x124, 4, "h"},  {0x128, 10, "i"}, {0x132, 2, "ij"}, {0x134, 2, "j"},  {0x136, 3, "k"},
    {0x139, 10, "l"}, {0x143, 9, "n"},  {0x14C, 6, "o"},  {0x152, 2, "oe"}, {0x154, 6, "r"},
    {0x15A, 8, "s"},  {0x162, 6, "t"},  {0x168, 12, "u"}, {0x174, 2, "w"},  {0x176, 3, "y"},
    {0x179, 6, "z"},  {0x17F, 1, "s"}};

void FoldCodePoint(int32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += absl::ascii_tolower(static_cast<unsigned char>(cp));
  } else if (cp >= 0xC0 && cp <= 0xFF && kLatin1[cp - 0xC0] != nullptr) {
    out += kLatin1[cp - 0xC0];
  } else if (cp >= 0x100 && cp <= 0x17F) {
    for (const FoldRun& run : kLatinExtA) {
      if (cp >= run.first && cp < run.first + run.count) {
        out += run.ascii;
        break;
      }
    }
  } else if (cp >= 0x300 && cp <= 0x36F) {
    // Combining diacritics (decomposed input such as "e\u0301"): dropped.
  } else if (cp >= 0x391 && cp <= 0x3A9) {  // Greek capitals.
    AppendUtf8(cp + 0x20, out);
  } else if (cp >= 0x410 && cp <= 0x42F) {  // Cyrillic capitals.
    AppendUtf8(cp + 0x20, out);
  } else if (cp >= 0x400 && cp <= 0x40F) {
    AppendUtf8(cp + 0x50, out);
  } else {
    AppendUtf8(cp, out);
  }
}

// Letters and digits of the scripts creators write in; emoji, symbols and
// punctuation end a word (so "#food🍝" is the tag "food").
bool IsWordCodePoint(int32_t cp) {
  if (cp < 0x80) return absl::ascii_isalnum(static_cast<unsigned char>(cp)) || cp == '_';
  if (cp == 0xD7 || cp == 0xF7) return false;
  return (cp >= 0xC0 && cp <= 0x24F) || (cp >= 0x300 && cp <= 0x36F) ||
         (cp >= 0x370 && cp <= 0x52F) || (cp >= 0x590 && cp <= 0x6FF) ||
         (cp >= 0x900 && cp <= 0xDFF) || (cp >= 0x3040 && cp <= 0x9FFF) ||
         (cp >= 0xAC00 && cp <= 0xD7AF);
}

// Byte length of the word starting at `pos` (0 if none).
size_t WordLength(absl::string_view s, size_t pos) {
  size_t end = pos;
  while (end < s.size()) {
    size_t next = end;
    if (!IsWordCodePoint(NextCodePoint(s, next))) break;
    end = next;
  }
  return end - pos;
}

std::vector<std::string> ExtractPrefixed(absl::string_view text, char marker) {
  std::vector<std::string> found;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (text[pos] != marker) continue;
    // "a#b" and "me@mail.com" are not tags: the marker must start a word.
    if (pos > 0) {
      size_t prev = pos - 1;
      while (prev > 0 && (static_cast<uint8_t>(text[prev]) & 0xC0) == 0x80) --prev;
      size_t probe = prev;
      if (IsWordCodePoint(NextCodePoint(text, probe))) continue;
    }
    size_t len = WordLength(text, pos + 1);
    if (marker == '@') {  // Usernames may contain dots, not end with one.
      while (pos + 1 + len < text.size() && text[pos + 1 + len] == '.' &&
             WordLength(text, pos + 2 + len) > 0) {
        len += 1 + WordLength(text, pos + 2 + len);
      }
    }
    if (len > 0) found.emplace_back(text.substr(pos + 1, len));
    pos += len;
  }
  return found;
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    if (NextCodePoint(text, pos) < 0) return false;
  }
  return true;
}

std::string ToValidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    if (NextCodePoint(text, pos) < 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else {
      out.append(text.data() + start, pos - start);
    }
  }
  return out;
}

std::string FoldForSearch(absl::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t pos = 0; pos < utf8.size();) {
    const int32_t cp = NextCodePoint(utf8, pos);
    if (cp >= 0) FoldCodePoint(cp, out);
  }
  return out;
}

std::string TagKey(absl::string_view tag) {
  tag = absl::StripAsciiWhitespace(tag);
  while (!tag.empty() && (tag.front() == '#' || tag.front() == '@')) tag.remove_prefix(1);
  return FoldForSearch(absl::StripAsciiWhitespace(tag));
}

std::vector<std::string> ExtractHashtags(absl::string_view text) {
  return ExtractPrefixed(text, '#');
}

std::vector<std::string> ExtractMentions(absl::string_view text) {
  return ExtractPrefixed(text, '@');
}

std::vector<std::string> SplitList(absl::string_view list) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) parts.emplace_back(part);
  }
  return parts;
}

std::vector<std::string> Words(absl::string_view folded) {
  std::vector<std::string> words;
  for (size_t pos = 0; pos < folded.size();) {
    const size_t len = WordLength(folded, pos);
    if (len > 0) {
      words.emplace_back(folded.substr(pos, len));
      pos += len;
    } else {
      NextCodePoint(folded, pos);
    }
  }
  return words;
}

namespace {

// HTML-escapes `text` onto `out`: the caption is hostile input and the
// highlight is rendered as markup.
void AppendEscaped(absl::string_view text, std::string& out) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

std::string Highlight(absl::string_view text, const std::vector<std::string>& folded_terms) {
  std::string out;
  bool matched = false;
  for (size_t pos = 0; pos < text.size();) {
    const size_t len = WordLength(text, pos);
    if (len == 0) {
      const size_t start = pos;
      NextCodePoint(text, pos);
      AppendEscaped(text.substr(start, pos - start), out);
      continue;
    }
    const absl::string_view word = text.substr(pos, len);
    const std::string folded = FoldForSearch(word);
    const bool match =
        std::find(folded_terms.begin(), folded_terms.end(), folded) != folded_terms.end();
    if (match) out += "<em>";
    AppendEscaped(word, out);
    if (match) out += "</em>";
    matched = matched || match;
    pos += len;
  }
  return matched ? out : std::string();
}

}  // namespace scout
