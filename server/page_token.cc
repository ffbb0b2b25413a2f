#include "server/page_token.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/escaping.h"
#include "common/base/hash.h"

namespace scout::server {
namespace {

// Far beyond any index, and far from overflowing when Search adds a page to
// it: a forged token cannot make the running count wrap.
constexpr int64_t kMaxReturned = int64_t{1} << 50;

absl::Status BadToken() {
  return absl::InvalidArgumentError(
      "page_token: not a token of this query (tokens only work with the filters, query and "
      "sort they were issued for)");
}

// The deterministic bytes of a request shape (page_size and page_token
// cleared by the caller).
std::string ShapeBytes(const google::protobuf::Message& shape) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  shape.SerializeToCodedStream(&out);
  out.Trim();
  return bytes;
}

}  // namespace

uint64_t QueryHash(const scout::v1::SearchPostsRequest& request) {
  scout::v1::SearchPostsRequest shape = request;
  shape.clear_page_size();
  shape.clear_page_token();
  return StableHash(ShapeBytes(shape));
}

uint64_t QueryHash(const scout::v1::SearchCreatorsRequest& request) {
  scout::v1::SearchCreatorsRequest shape = request;
  shape.clear_page_size();
  shape.clear_page_token();
  return StableHash(ShapeBytes(shape), StableHash("SearchCreatorsRequest"));
}

std::string EncodePageToken(const PageCursor& cursor) {
  const nlohmann::json body = {
      {"q", cursor.query_hash}, {"n", cursor.returned}, {"a", cursor.search_after}};
  return absl::WebSafeBase64Escape(body.dump());
}

absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token, uint64_t query_hash) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return BadToken();
  const nlohmann::json body = nlohmann::json::parse(raw, nullptr, false);
  if (!body.is_object() || !body.contains("q") || !body["q"].is_number_unsigned() ||
      !body.contains("n") || !body["n"].is_number_integer() || !body.contains("a") ||
      !body["a"].is_array() || body["a"].empty()) {
    return BadToken();
  }
  PageCursor cursor{body["q"].get<uint64_t>(), body["n"].get<int64_t>(), body["a"]};
  if (cursor.query_hash != query_hash || cursor.returned < 0 || cursor.returned > kMaxReturned) {
    return BadToken();
  }
  for (const nlohmann::json& value : cursor.search_after) {
    if (!value.is_primitive() || value.is_null()) return BadToken();
  }
  return cursor;
}

}  // namespace scout::server
