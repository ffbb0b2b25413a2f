// Text normalization for search: case and accent folding, tag extraction and
// highlighting. Folding happens here, not in Elasticsearch, because the
// integration-test distribution has no analysis-common/ICU module; indexing
// and querying both call FoldForSearch so they always agree.
// All functions are pure and thread-safe; invalid UTF-8 bytes are dropped.
#pragma once

#include "absl/strings/string_view.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scout {

// Whether every byte of `text` belongs to a valid UTF-8 sequence (what
// protobuf strings and JSON require).
bool IsValidUtf8(absl::string_view text);
// `text` with each invalid byte replaced by U+FFFD: for messages that quote
// untrusted input, so they still serialize.
std::string ToValidUtf8(absl::string_view text);
// Decodes the code point at `pos` and advances `pos` past it. Returns -1 for
// a byte that does not start a valid sequence (it is skipped by one byte).
int32_t NextCodePoint(absl::string_view text, size_t& pos);

// Lowercases and strips diacritics: "Crème BRÛLÉE" -> "creme brulee",
// "ß" -> "ss". Latin, Greek and Cyrillic letters are lowercased; other
// scripts pass through unchanged.
std::string FoldForSearch(absl::string_view utf8);

// The key a tag is matched by: leading '#' or '@' and surrounding spaces
// removed, then folded. "#CAFÉ" -> "cafe".
std::string TagKey(absl::string_view tag);

// "#tags" / "@mentions" found in free text, as written, in order.
std::vector<std::string> ExtractHashtags(absl::string_view text);
std::vector<std::string> ExtractMentions(absl::string_view text);

// Splits "a, b,,c" on commas, trimming spaces and dropping empty parts.
std::vector<std::string> SplitList(absl::string_view list);

// Words of already-folded text (runs of word characters).
std::vector<std::string> Words(absl::string_view folded);

// HTML: `text` escaped (& < > " ' as entities), with every word whose folded
// form is in `folded_terms` wrapped in <em></em>, the only markup it can
// hold. Returns "" when nothing matched.
std::string Highlight(absl::string_view text, const std::vector<std::string>& folded_terms);

}  // namespace scout
