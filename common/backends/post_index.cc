#include "common/backends/post_index.h"

#include <array>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "common/base/json_fields.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/base/time.h"

namespace scout {

using nlohmann::json;
namespace f = post_field;

namespace {

struct MediaTypeName {
  v1::MediaType type;
  absl::string_view keyword;
};
constexpr MediaTypeName kMediaTypeNames[] = {
    {v1::MEDIA_TYPE_IMAGE, "MEDIA_TYPE_IMAGE"},
    {v1::MEDIA_TYPE_CAROUSEL_ALBUM, "MEDIA_TYPE_CAROUSEL_ALBUM"},
    {v1::MEDIA_TYPE_VIDEO, "MEDIA_TYPE_VIDEO"},
    {v1::MEDIA_TYPE_STORY_IMAGE, "MEDIA_TYPE_STORY_IMAGE"},
    {v1::MEDIA_TYPE_STORY_VIDEO, "MEDIA_TYPE_STORY_VIDEO"},
};

}  // namespace

absl::string_view MediaTypeKeyword(v1::MediaType type) {
  for (const MediaTypeName& name : kMediaTypeNames) {
    if (name.type == type) return name.keyword;
  }
  return "";
}

std::optional<v1::MediaType> MediaTypeFromKeyword(absl::string_view keyword) {
  for (const MediaTypeName& name : kMediaTypeNames) {
    if (name.keyword == keyword) return name.type;
  }
  return std::nullopt;
}

std::string MonthlyIndex(absl::string_view prefix, absl::Time post_time) {
  return absl::StrCat(prefix, "-", absl::FormatTime("%Y.%m", post_time, absl::UTCTimeZone()));
}

std::optional<absl::Time> MonthOfIndex(absl::string_view prefix, absl::string_view index) {
  const std::string head = absl::StrCat(prefix, "-");
  if (index.size() != head.size() + 7 || index.substr(0, head.size()) != head) {
    return std::nullopt;
  }
  absl::Time month;
  std::string error;
  if (!absl::ParseTime("%Y.%m", std::string(index.substr(head.size())), absl::UTCTimeZone(), &month,
                       &error)) {
    return std::nullopt;
  }
  return month;
}

bool IndexIsExpired(absl::string_view prefix, absl::string_view index, absl::Time now) {
  const std::optional<absl::Time> month = MonthOfIndex(prefix, index);
  if (!month) return false;
  const absl::CivilMonth next = absl::ToCivilMonth(*month, absl::UTCTimeZone()) + 1;
  return absl::FromCivil(next, absl::UTCTimeZone()) <= now - kSearchWindow;
}

nlohmann::json PostIndexTemplate(absl::string_view prefix) {
  const json keyword = {{"type", "keyword"}};
  const json number = {{"type", "long"}};
  return {{"index_patterns", {absl::StrCat(prefix, "-*")}},
          {"priority", 100},
          {"template",
           {{"settings",
             {{"number_of_shards", 1},
              {"auto_expand_replicas", kAutoExpandReplicas},
              // Ingest writes in large bulks; a second of staleness is fine.
              {"refresh_interval", "1s"}}},
            {"aliases", {{std::string(prefix), json::object()}}},
            {"mappings",
             {// Everything else in the Post stays in _source, unindexed.
              {"dynamic", false},
              {"_source", {{"excludes", {f::kTextFolded}}}},
              {"properties",
               {{f::kId, keyword},
                {f::kOwnerId, keyword},
                {f::kUsername, keyword},
                {f::kMediaType, keyword},
                {f::kTimestamp, {{"type", "date"}}},
                {f::kEngagement, number},
                {f::kLikeCount, number},
                {f::kCommentsCount, number},
                // Aggregated per creator by scout-aggregate (fol_avg).
                {f::kFollowersAtPost, number},
                {f::kTextFolded, {{"type", "text"}}},
                {f::kHashtagKeys, keyword},
                {f::kMentionKeys, keyword},
                {f::kLakeKey, keyword},
                {f::kShardBucket, {{"type", "integer"}}}}}}}}}};
}

std::string QuarantineIndex(absl::string_view prefix) {
  return absl::StrCat(prefix, ".quarantine");
}

std::string QuarantineDocument(absl::string_view key, absl::string_view reason, int64_t size,
                               uint64_t content_hash, absl::Time quarantined_at) {
  // The key and reason come from the lake: any bytes S3 allows.
  return DumpJson({{"key", key},
                   {"reason", reason},
                   {"size", size},
                   {"content_hash", absl::StrCat(absl::Hex(content_hash))},
                   {"quarantined_at", FormatRfc3339(quarantined_at)}});
}

absl::Status EnsureIndices(Elastic& elastic, absl::string_view prefix) {
  const json index_template = PostIndexTemplate(prefix);
  SCOUT_RETURN_IF_ERROR(
      elastic.Call("PUT", absl::StrCat("_index_template/", prefix), index_template).status());
  // Existing months learn fields added since they were created (documents
  // written from now on get them indexed). None yet is fine.
  const absl::Status mapped =
      elastic
          .Call("PUT", absl::StrCat(prefix, "-*/_mapping"),
                {{"properties", index_template["template"]["mappings"]["properties"]}})
          .status();
  if (!mapped.ok() && !absl::IsNotFound(mapped)) return mapped;
  const json quarantine = {
      {"mappings",
       {{"properties",
         {{"key", {{"type", "keyword"}}},
          {"reason", {{"type", "text"}}},
          {"quarantined_at", {{"type", "date"}}}}}}},
      {"settings", {{"number_of_shards", 1}, {"auto_expand_replicas", kAutoExpandReplicas}}}};
  const absl::Status created = elastic.Call("PUT", QuarantineIndex(prefix), quarantine).status();
  if (!created.ok() && ElasticErrorType(created) != "resource_already_exists_exception") {
    return created;
  }
  return absl::OkStatus();
}

namespace {

// --- The post document, written directly -------------------------------------
//
// PostToDocument used to print the Post with protobuf's JSON printer and
// append our fields with nlohmann; the printer alone was ~60 % of ingest's
// CPU per post. The writer below gives the same bytes: the Post's fields by
// reflection under their proto names (so a field added to Post is indexed
// as before, with no list to keep in step), strings escaped as protobuf
// 3.21's printer escapes them, our fields as nlohmann wrote them.
// post_document_test holds it to the old route byte for byte.

constexpr char kHexDigits[] = "0123456789abcdef";

// The escape of a code point: \b \t \n \f \r \" \\ as both printers write
// them, else \uxxxx (lowercase hex; a surrogate pair above U+FFFF).
void AppendEscape(uint32_t cp, std::string& out) {
  switch (cp) {
    case '\b':
      out += "\\b";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\r':
      out += "\\r";
      return;
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    default:
      break;
  }
  const auto unit = [&out](uint32_t u) {
    const char text[] = {'\\',
                         'u',
                         kHexDigits[(u >> 12) & 0xf],
                         kHexDigits[(u >> 8) & 0xf],
                         kHexDigits[(u >> 4) & 0xf],
                         kHexDigits[u & 0xf]};
    out.append(text, sizeof(text));
  };
  if (cp < 0x10000) {
    unit(cp);
  } else {  // A surrogate pair.
    unit(0xd800 + ((cp - 0x10000) >> 10));
    unit(0xdc00 + (cp & 0x3ff));
  }
}

// ASCII that a printer escapes: JSON's required ones for both; protobuf
// adds < > and DEL.
constexpr bool JsonEscapes(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }
constexpr bool ProtoEscapesAscii(unsigned char c) {
  return JsonEscapes(c) || c == '<' || c == '>' || c == 0x7f;
}
constexpr auto kProtoEscapesAscii = [] {
  std::array<bool, 128> table{};
  for (unsigned char c = 0; c < 128; ++c) table[c] = ProtoEscapesAscii(c);
  return table;
}();

// Non-ASCII code points protobuf's printer escapes: C1 controls and
// invisible format characters (its JsonEscaping::EscapeCodePoint).
constexpr bool ProtoEscapesNonAscii(uint32_t cp) {
  return cp < 0xa0 || cp == 0xad || (cp >= 0x600 && cp <= 0x603) || cp == 0x6dd || cp == 0x70f ||
         cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x206a && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
         (cp >= 0x1d173 && cp <= 0x1d17a) || cp == 0xe0001 || (cp >= 0xe0020 && cp <= 0xe007f);
}

// A Post string as protobuf 3.21's printer writes it, invalid UTF-8
// included (NormalizePost never lets any through, but a Post can hold it):
// a sequence it cannot decode is dropped, up to and including the byte that
// broke it, and one it decodes (overlong forms too) is copied as is unless
// its code point is escaped.
void AppendProtoString(absl::string_view s, std::string& out) {
  out += '"';
  size_t copied = 0;  // s[copied, i) is still to be copied verbatim.
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      if (kProtoEscapesAscii[lead]) {
        out.append(s.data() + copied, i - copied);
        AppendEscape(lead, out);
        copied = i + 1;
      }
      ++i;
      continue;
    }
    const int length = lead < 0xc0 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf8 ? 4 : 0;
    size_t end = i + 1;
    bool valid = length > 0;
    uint32_t cp = lead & (0x7f >> length);
    for (int left = length - 1; valid && left > 0; --left) {
      if (end == s.size()) {
        valid = false;  // Cut short by the end of the string.
        break;
      }
      const auto next = static_cast<unsigned char>(s[end++]);
      cp = (cp << 6) | (next & 0x3f);
      valid = next >= 0x80 && next <= 0xbf;
    }
    valid = valid && !(cp >= 0xd800 && cp <= 0xdfff) && cp <= 0x10ffff;
    if (!valid || (cp < 0x80 ? kProtoEscapesAscii[cp] : ProtoEscapesNonAscii(cp))) {
      out.append(s.data() + copied, i - copied);
      if (valid) AppendEscape(cp, out);
      copied = end;
    }
    i = end;
  }
  out.append(s.data() + copied, s.size() - copied);
  out += '"';
}

// One of our strings as nlohmann's dump() wrote it. Where dump() would have
// thrown on invalid UTF-8 (only a hostile lake key can carry any), each
// invalid byte becomes U+FFFD instead.
void AppendJsonString(absl::string_view s, std::string& out) {
  out += '"';
  size_t copied = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      if (JsonEscapes(lead)) {
        out.append(s.data() + copied, i - copied);
        AppendEscape(lead, out);
        copied = i + 1;
      }
      ++i;
      continue;
    }
    size_t next = i;
    if (NextCodePoint(s, next) < 0) {
      out.append(s.data() + copied, i - copied);
      out += "\xEF\xBF\xBD";
      copied = next;
    }
    i = next;
  }
  out.append(s.data() + copied, s.size() - copied);
  out += '"';
}

// A Timestamp as protobuf's printer formats it: RFC 3339 in UTC with 0, 3,
// 6 or 9 fractional digits. The printer refused one outside years 1..9999
// (NormalizePost rejects those) and left a broken document; Elasticsearch
// refuses this value alike, so its file is still quarantined.
void AppendTimestamp(const google::protobuf::Timestamp& ts, std::string& out) {
  using google::protobuf::util::TimeUtil;
  if (ts.seconds() < TimeUtil::kTimestampMinSeconds ||
      ts.seconds() > TimeUtil::kTimestampMaxSeconds || ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    out += "\"InvalidTime\"";
    return;
  }
  const absl::CivilSecond t =
      absl::ToCivilSecond(absl::FromUnixSeconds(ts.seconds()), absl::UTCTimeZone());
  char text[48];
  int size = std::snprintf(text, sizeof(text), "\"%04d-%02d-%02dT%02d:%02d:%02d",
                           static_cast<int>(t.year()), t.month(), t.day(), t.hour(), t.minute(),
                           t.second());
  const int32_t nanos = ts.nanos();
  if (nanos == 0) {
    // No fraction.
  } else if (nanos % 1'000'000 == 0) {
    size += std::snprintf(text + size, sizeof(text) - size, ".%03d", nanos / 1'000'000);
  } else if (nanos % 1'000 == 0) {
    size += std::snprintf(text + size, sizeof(text) - size, ".%06d", nanos / 1'000);
  } else {
    size += std::snprintf(text + size, sizeof(text) - size, ".%09d", nanos);
  }
  out.append(text, size);
  out += "Z\"";
}

void AppendMessage(const google::protobuf::Message& message, std::string& out,
                   int skipped_field = 0);

// One value of `field` (element `index` when repeated) as protobuf's
// printer writes it: 64-bit integers quoted, enums by name (by number when
// unknown), Timestamps as RFC 3339.
void AppendValue(const google::protobuf::Message& message,
                 const google::protobuf::FieldDescriptor& field, int index, std::string& out) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      AppendProtoString(repeated ? r.GetRepeatedStringReference(message, &field, index, &scratch)
                                 : r.GetStringReference(message, &field, &scratch),
                        out);
      return;
    }
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(
          &out, "\"",
          repeated ? r.GetRepeatedInt64(message, &field, index) : r.GetInt64(message, &field),
          "\"");
      return;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(
          &out, "\"",
          repeated ? r.GetRepeatedUInt64(message, &field, index) : r.GetUInt64(message, &field),
          "\"");
      return;
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(&out, repeated ? r.GetRepeatedInt32(message, &field, index)
                                     : r.GetInt32(message, &field));
      return;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(&out, repeated ? r.GetRepeatedUInt32(message, &field, index)
                                     : r.GetUInt32(message, &field));
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      out += (repeated ? r.GetRepeatedBool(message, &field, index) : r.GetBool(message, &field))
                 ? "true"
                 : "false";
      return;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? r.GetRepeatedEnumValue(message, &field, index)
                                  : r.GetEnumValue(message, &field);
      if (const auto* value = field.enum_type()->FindValueByNumber(number)) {
        AppendProtoString(value->name(), out);
      } else {
        absl::StrAppend(&out, number);
      }
      return;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const google::protobuf::Message& child =
          repeated ? r.GetRepeatedMessage(message, &field, index) : r.GetMessage(message, &field);
      if (child.GetDescriptor() == google::protobuf::Timestamp::descriptor()) {
        AppendTimestamp(static_cast<const google::protobuf::Timestamp&>(child), out);
      } else {
        AppendMessage(child, out);
      }
      return;
    }
    default:
      // Floating point, bytes, maps and well-known types other than
      // Timestamp: Post has none (post_document_test walks its descriptors
      // and fails the day one is added, before such a value could be lost).
      out += "null";
      return;
  }
}

// The present fields of `message` in field number order, as the printer
// writes them (proto3: non-default values, and `optional` ones when set).
void AppendMessage(const google::protobuf::Message& message, std::string& out, int skipped_field) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  out += '{';
  bool first = true;
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->number() == skipped_field) continue;
    if (!first) out += ',';
    first = false;
    absl::StrAppend(&out, "\"", field->name(), "\":");
    if (!field->is_repeated()) {
      AppendValue(message, *field, 0, out);
      continue;
    }
    out += '[';
    const int size = message.GetReflection()->FieldSize(message, field);
    for (int i = 0; i < size; ++i) {
      if (i > 0) out += ',';
      AppendValue(message, *field, i, out);
    }
    out += ']';
  }
  out += '}';
}

void AppendField(absl::string_view name, std::string& out) {
  absl::StrAppend(&out, ",\"", name, "\":");
}

void AppendKeys(const google::protobuf::RepeatedPtrField<std::string>& tags, std::string& out) {
  out += '[';
  for (int i = 0; i < tags.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(TagKey(tags[i]), out);
  }
  out += ']';
}

// The reader of what AppendMessage writes, straight from the parsed
// document (no text in between, as protobuf's JSON parser needed): proto
// field names, 64-bit integers quoted or not, enums by name or number,
// Timestamps in RFC 3339, null as absent (in arrays too). Keys that are not fields of the
// message (our search fields) and enum names it does not know are skipped,
// as protobuf's parser with ignore_unknown_fields did. The error names the
// field.
absl::Status ReadValue(const google::protobuf::FieldDescriptor& field, const json& value,
                       google::protobuf::Message& message);

absl::Status ReadField(const std::string& name, const json& value,
                       google::protobuf::Message& message) {
  const google::protobuf::FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || value.is_null()) return absl::OkStatus();
  // A lone value of a repeated field is one element, as protobuf read it.
  if (!field->is_repeated() || !value.is_array()) return ReadValue(*field, value, message);
  for (const json& element : value) {
    if (!element.is_null()) SCOUT_RETURN_IF_ERROR(ReadValue(*field, element, message));
  }
  return absl::OkStatus();
}

// An integer as the printer wrote it (a number, or a quoted one for 64
// bits), within T's range.
template <typename T>
std::optional<T> IntegerOf(const json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned()) {
      const uint64_t v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
      return static_cast<T>(v);
    }
    const int64_t v = value.get<int64_t>();
    if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        (v > 0 &&
         static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
      return std::nullopt;
    }
    return static_cast<T>(v);
  }
  T parsed;
  if (value.is_string() && absl::SimpleAtoi(value.get_ref<const std::string&>(), &parsed)) {
    return parsed;
  }
  return std::nullopt;
}

absl::Status ReadValue(const google::protobuf::FieldDescriptor& field, const json& value,
                       google::protobuf::Message& message) {
  using google::protobuf::FieldDescriptor;
  using google::protobuf::Reflection;
  const Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  const auto wrong = [&](absl::string_view expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(field.name(), ": expected ", expected, ", got ", DumpJson(value)));
  };
  // Sets the field, or adds to it when repeated.
  const auto store = [&](auto set, auto add, auto v) {
    repeated ? (r.*add)(&message, &field, std::move(v)) : (r.*set)(&message, &field, std::move(v));
    return absl::OkStatus();
  };
  const auto integer = [&](auto zero, auto set, auto add) {
    const std::optional<decltype(zero)> v = IntegerOf<decltype(zero)>(value);
    if (!v) return wrong(absl::StrCat("an integer (", field.cpp_type_name(), ")"));
    return store(set, add, *v);
  };
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (!value.is_string()) return wrong("a string");
      return store(&Reflection::SetString, &Reflection::AddString, value.get<std::string>());
    case FieldDescriptor::CPPTYPE_INT64:
      return integer(int64_t{0}, &Reflection::SetInt64, &Reflection::AddInt64);
    case FieldDescriptor::CPPTYPE_UINT64:
      return integer(uint64_t{0}, &Reflection::SetUInt64, &Reflection::AddUInt64);
    case FieldDescriptor::CPPTYPE_INT32:
      return integer(int32_t{0}, &Reflection::SetInt32, &Reflection::AddInt32);
    case FieldDescriptor::CPPTYPE_UINT32:
      return integer(uint32_t{0}, &Reflection::SetUInt32, &Reflection::AddUInt32);
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!value.is_boolean()) return wrong("true or false");
      return store(&Reflection::SetBool, &Reflection::AddBool, value.get<bool>());
    case FieldDescriptor::CPPTYPE_ENUM: {
      int number = 0;
      if (value.is_string()) {
        const auto* known = field.enum_type()->FindValueByName(value.get_ref<const std::string&>());
        // A name from a newer writer: unset, as protobuf's parser left it.
        if (known == nullptr) return absl::OkStatus();
        number = known->number();
      } else if (const std::optional<int32_t> v = IntegerOf<int32_t>(value); v) {
        number = *v;  // Proto3 enums keep numbers they do not know.
      } else {
        return wrong(absl::StrCat("a ", field.enum_type()->name()));
      }
      return store(&Reflection::SetEnumValue, &Reflection::AddEnumValue, number);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      google::protobuf::Message& child =
          repeated ? *r.AddMessage(&message, &field) : *r.MutableMessage(&message, &field);
      if (child.GetDescriptor() == google::protobuf::Timestamp::descriptor()) {
        if (!value.is_string() || !google::protobuf::util::TimeUtil::FromString(
                                      value.get_ref<const std::string&>(),
                                      static_cast<google::protobuf::Timestamp*>(&child))) {
          return wrong("an RFC 3339 time");
        }
        return absl::OkStatus();
      }
      if (!value.is_object()) return wrong("an object");
      for (const auto& [name, inner] : value.items()) {
        SCOUT_RETURN_IF_ERROR(ReadField(name, inner, child));
      }
      return absl::OkStatus();
    }
    default:
      // As in AppendValue: Post has no such field (post_document_test).
      return absl::InternalError(absl::StrCat(field.name(), ": a field type the reader lacks"));
  }
}

}  // namespace

std::string PostToDocument(const scout::v1::Post& post, absl::string_view lake_key) {
  std::string doc;
  doc.reserve(2 * post.caption().size() + 1024);
  // media_type in our own spelling below, not protobuf's.
  AppendMessage(post, doc, v1::Post::kMediaTypeFieldNumber);
  doc.pop_back();  // Reopen the object for the search fields.
  // The comma-led appends below need a field before them.
  const bool empty = doc.size() == 1;
  if (const absl::string_view type = MediaTypeKeyword(post.media_type()); !type.empty()) {
    AppendField(f::kMediaType, doc);
    AppendJsonString(type, doc);
  }
  AppendField(f::kHashtagKeys, doc);
  AppendKeys(post.hashtags(), doc);
  AppendField(f::kMentionKeys, doc);
  AppendKeys(post.mentions(), doc);
  // Free text finds words of the caption, tags and mentions alike.
  AppendField(f::kTextFolded, doc);
  AppendJsonString(
      FoldForSearch(absl::StrCat(post.caption(), "\n", absl::StrJoin(post.hashtags(), " "), "\n",
                                 absl::StrJoin(post.mentions(), " "), "\n", post.username())),
      doc);
  AppendField(f::kShardBucket, doc);
  absl::StrAppend(&doc, ShardBucket(post.owner_id()));
  AppendField(f::kLakeKey, doc);
  AppendJsonString(lake_key, doc);
  doc += '}';
  if (empty) doc.erase(1, 1);  // "{,": the Post had no field.
  return doc;
}

absl::StatusOr<scout::v1::Post> PostFromDocument(const nlohmann::json& source) {
  if (!source.is_object()) {
    return absl::InternalError("stored post document is not a JSON object");
  }
  v1::Post post;
  for (const auto& [name, value] : source.items()) {
    if (name == f::kMediaType) {
      const std::optional<v1::MediaType> known =
          value.is_string() ? MediaTypeFromKeyword(value.get_ref<const std::string&>())
                            : std::nullopt;
      if (!known) {
        return absl::InternalError(absl::StrCat("stored post document has an unknown ",
                                                f::kMediaType, ": ", DumpJson(value)));
      }
      post.set_media_type(*known);
      continue;
    }
    if (absl::Status read = ReadField(name, value, post); !read.ok()) {
      return absl::InternalError(
          absl::StrCat("stored post document does not parse: ", read.message()));
    }
  }
  return post;
}

json TimestampRange(absl::Time from, std::optional<absl::Time> until, bool until_inclusive) {
  json range = {{"gte", absl::ToUnixMillis(from)}, {"format", "epoch_millis"}};
  if (until) range[until_inclusive ? "lte" : "lt"] = absl::ToUnixMillis(*until);
  return {{"range", {{f::kTimestamp, std::move(range)}}}};
}

std::optional<json> ShardFilter(const Shard& shard) {
  if (shard.IsWhole()) return std::nullopt;
  return json{{"bool",
               {{"should",
                 {{{"terms", {{f::kShardBucket, shard.Buckets()}}}},
                  // Documents from before the field existed (see the header).
                  {{"bool", {{"must_not", {{"exists", {{"field", f::kShardBucket}}}}}}}}}},
                {"minimum_should_match", 1}}}};
}

}  // namespace scout
