#include "workers/ingest/events.h"

#include <civetweb.h>

#include <atomic>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/backends/metrics.h"
#include "common/base/log.h"
#include "common/base/time.h"

namespace scout::ingest {
namespace {

using nlohmann::json;

absl::Status Bad(absl::string_view what) { return absl::InvalidArgumentError(what); }

// S3 writes keys in event records form-encoded: %XX, and "+" for a space.
absl::StatusOr<std::string> FormDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      int value = 0;
      if (i + 2 >= text.size() || !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 2])) ||
          !absl::SimpleHexAtoi(text.substr(i + 1, 2), &value)) {
        return Bad("s3.object.key: a bad %-escape");
      }
      out += static_cast<char>(value);
      i += 2;
    }
  }
  return out;
}

// The lake key of a full object key, or nothing when outside the lake's
// prefix or not a post file's shape (folders, hidden names).
std::optional<std::string> LakeKey(absl::string_view object_key, const S3Location& lake) {
  if (!absl::ConsumePrefix(&object_key, lake.prefix) || object_key.empty() ||
      object_key.back() == '/') {
    return std::nullopt;
  }
  return std::string(object_key);
}

const json* Member(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::string StringAt(const json& object, const char* name) {
  const json* value = Member(object, name);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

absl::Status ParseRecords(const json& records, const S3Location& lake, ParsedEvents& out) {
  if (!records.is_array()) return Bad("Records: expected an array");
  for (size_t i = 0; i < records.size(); ++i) {
    const json& record = records[i];
    const std::string where = absl::StrCat("Records[", i, "]");
    if (!record.is_object()) return Bad(absl::StrCat(where, ": expected an object"));
    const std::string event = StringAt(record, "eventName");
    if (event.empty()) return Bad(absl::StrCat(where, ".eventName: missing or not a string"));
    const json* s3 = Member(record, "s3");
    const json* bucket = s3 != nullptr ? Member(*s3, "bucket") : nullptr;
    const json* object = s3 != nullptr ? Member(*s3, "object") : nullptr;
    if (bucket == nullptr || object == nullptr || !bucket->is_object() || !object->is_object()) {
      return Bad(absl::StrCat(where, ".s3: expected bucket and object"));
    }
    const std::string raw_key = StringAt(*object, "key");
    if (raw_key.empty()) return Bad(absl::StrCat(where, ".s3.object.key: missing"));
    absl::StatusOr<std::string> key = FormDecode(raw_key);
    if (!key.ok()) return Bad(absl::StrCat(where, ".", key.status().message()));
    if (!absl::StartsWith(event, "ObjectCreated:") || StringAt(*bucket, "name") != lake.bucket) {
      ++out.ignored;
      continue;
    }
    std::optional<std::string> lake_key = LakeKey(*key, lake);
    if (!lake_key.has_value()) {
      ++out.ignored;
      continue;
    }
    Change change;
    change.key = *std::move(lake_key);
    if (const json* size = Member(*object, "size"); size != nullptr) {
      if (!size->is_number_integer() || size->get<int64_t>() < 0) {
        return Bad(absl::StrCat(where, ".s3.object.size: expected a non-negative integer"));
      }
      change.size = size->get<int64_t>();
    }
    change.etag = StringAt(*object, "eTag");
    change.source = "s3";
    const std::string time = StringAt(record, "eventTime");
    absl::StatusOr<absl::Time> landed = ParseTime(time);
    if (!landed.ok())
      return Bad(absl::StrCat(where, ".eventTime: not a time: ", time.substr(0, 40)));
    change.landed = *landed;
    out.changes.push_back(std::move(change));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedEvents> ParseAwsS3Events(absl::string_view body, const S3Location& lake) {
  const json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return Bad("the body is not a JSON object");
  }
  ParsedEvents out;
  const std::string type = StringAt(document, "Type");
  if (type == "SubscriptionConfirmation" || type == "UnsubscribeConfirmation") {
    out.subscribe_url = StringAt(document, "SubscribeURL");
    if (out.subscribe_url.empty()) return Bad(absl::StrCat(type, ": SubscribeURL missing"));
    return out;
  }
  if (type == "Notification") {
    const std::string message = StringAt(document, "Message");
    if (message.empty()) return Bad("SNS Notification: Message missing");
    absl::StatusOr<ParsedEvents> inner = ParseAwsS3Events(message, lake);
    if (!inner.ok()) return Bad(absl::StrCat("SNS Message: ", inner.status().message()));
    if (!inner->subscribe_url.empty()) return Bad("SNS Message: an envelope inside an envelope");
    return inner;
  }
  if (!type.empty())
    return Bad(absl::StrCat("Type: unknown SNS message type ", type.substr(0, 40)));
  if (StringAt(document, "Event") == "s3:TestEvent") return out;
  const json* records = Member(document, "Records");
  if (records == nullptr) return Bad("Records: missing (not an S3 event notification)");
  if (absl::Status status = ParseRecords(*records, lake, out); !status.ok()) return status;
  return out;
}

absl::StatusOr<ParsedEvents> ParseSeaweedEvent(absl::string_view body, const S3Location& lake,
                                               absl::string_view buckets_dir) {
  const json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return Bad("the body is not a JSON object");
  }
  const json* message = Member(document, "message");
  if (message == nullptr || !message->is_object()) return Bad("message: expected an object");
  if (StringAt(document, "key").empty()) return Bad("key: missing");
  ParsedEvents out;
  const json* entry = Member(*message, "new_entry");
  if (entry == nullptr || entry->is_null()) {  // A delete.
    ++out.ignored;
    return out;
  }
  if (!entry->is_object()) return Bad("message.new_entry: expected an object");
  const std::string name = StringAt(*entry, "name");
  const std::string parent = StringAt(*message, "new_parent_path");
  if (name.empty() || parent.empty()) {
    return Bad("message.new_entry.name and message.new_parent_path: expected both");
  }
  const json* is_directory = Member(*entry, "is_directory");
  if (is_directory != nullptr && is_directory->is_boolean() && is_directory->get<bool>()) {
    ++out.ignored;
    return out;
  }
  // /buckets/<bucket>/<object key>
  std::string path = absl::StrCat(absl::StripSuffix(parent, "/"), "/", name);
  absl::string_view rest = path;
  std::optional<std::string> lake_key;
  if (absl::ConsumePrefix(
          &rest, absl::StrCat(absl::StripSuffix(buckets_dir, "/"), "/", lake.bucket, "/"))) {
    lake_key = LakeKey(rest, lake);
  }
  if (!lake_key.has_value()) {
    ++out.ignored;
    return out;
  }
  Change change;
  change.key = *std::move(lake_key);
  change.source = "seaweedfs";
  if (const json* attributes = Member(*entry, "attributes");
      attributes != nullptr && attributes->is_object()) {
    const json* size = Member(*attributes, "file_size");
    if (size != nullptr && size->is_number_unsigned()) change.size = size->get<int64_t>();
    const json* mtime = Member(*attributes, "mtime");
    if (mtime != nullptr && mtime->is_number_integer() && mtime->get<int64_t>() > 0) {
      // The S3 gateway lists LastModified from this, in whole seconds.
      change.mtime_ns = mtime->get<int64_t>() * 1'000'000'000;
      change.landed = absl::FromUnixSeconds(mtime->get<int64_t>());
    }
    std::string md5;
    if (absl::Base64Unescape(StringAt(*attributes, "md5"), &md5) && md5.size() == 16) {
      change.etag = absl::BytesToHexString(md5);
    }
  }
  out.changes.push_back(std::move(change));
  return out;
}

namespace {

prometheus::Family<prometheus::Counter>& EventFamily() {
  static auto& family = prometheus::BuildCounter()
                            .Name("scout_follow_events_total")
                            .Help(
                                "Object events received by scout-ingest --follow, by format "
                                "and outcome (queued, ignored, refused, bad)")
                            .Register(Metrics());
  return family;
}

class CivetReceiver final : public EventReceiver {
 public:
  explicit CivetReceiver(EventReceiverOptions options) : options_(std::move(options)) {}
  ~CivetReceiver() override { Stop(); }

  std::string name() const override { return "events"; }
  int port() const override { return port_; }

  absl::Status Start(ChangeQueue* queue) override {
    queue_ = queue;
    mg_init_library(0);
    const char* civet_options[] = {"listening_ports",
                                   options_.listen.c_str(),
                                   "num_threads",
                                   "4",
                                   "request_timeout_ms",
                                   "10000",
                                   nullptr};
    mg_callbacks callbacks{};
    context_ = mg_start(&callbacks, this, civet_options);
    if (context_ == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--follow_events_listen ", options_.listen, ": cannot listen there"));
    }
    mg_set_request_handler(context_, "/events/s3$", &CivetReceiver::HandleAws, this);
    mg_set_request_handler(context_, "/events/seaweedfs$", &CivetReceiver::HandleSeaweed, this);
    mg_server_port ports[4];
    if (mg_get_server_ports(context_, 4, ports) > 0) port_ = ports[0].port;
    Log(LogLevel::kInfo, "event receiver listening",
        {{"port", port_}, {"paths", json::array({"/events/s3", "/events/seaweedfs"})}});
    return absl::OkStatus();
  }

  void Stop() override {
    if (context_ != nullptr) {
      mg_stop(context_);
      context_ = nullptr;
    }
  }

 private:
  enum class Format { kAws, kSeaweed };

  static int HandleAws(mg_connection* conn, void* self) {
    return static_cast<CivetReceiver*>(self)->Handle(conn, Format::kAws);
  }
  static int HandleSeaweed(mg_connection* conn, void* self) {
    return static_cast<CivetReceiver*>(self)->Handle(conn, Format::kSeaweed);
  }

  static int Answer(mg_connection* conn, int status, absl::string_view text) {
    const std::string body = absl::StrCat(text, "\n");
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n",
              status, mg_get_response_code_text(conn, status), body.size());
    mg_write(conn, body.data(), body.size());
    return status;
  }

  bool Authorized(mg_connection* conn) const {
    if (options_.token.empty()) return true;
    const char* header = mg_get_header(conn, "Authorization");
    if (header == nullptr) return false;
    absl::string_view value = header;
    std::string given;
    if (absl::ConsumePrefix(&value, "Bearer ")) {
      given = std::string(value);
    } else if (absl::ConsumePrefix(&value, "Basic ")) {
      std::string decoded;
      if (!absl::Base64Unescape(value, &decoded)) return false;
      const size_t colon = decoded.find(':');
      if (colon == std::string::npos) return false;
      given = decoded.substr(colon + 1);
    } else {
      return false;
    }
    // Constant time over the token's length.
    if (given.size() != options_.token.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < given.size(); ++i) {
      diff |= static_cast<unsigned char>(given[i] ^ options_.token[i]);
    }
    return diff == 0;
  }

  int Handle(mg_connection* conn, Format format) {
    const char* label = format == Format::kAws ? "s3" : "seaweedfs";
    auto count = [&](const char* outcome, double n = 1) {
      EventFamily().Add({{"format", label}, {"outcome", outcome}}).Increment(n);
    };
    const mg_request_info* request = mg_get_request_info(conn);
    if (std::strcmp(request->request_method, "POST") != 0) {
      return Answer(conn, 405, "POST events here");
    }
    if (!Authorized(conn)) {
      count("bad");
      return Answer(conn, 401, "missing or wrong token");
    }
    if (request->content_length > static_cast<long long>(options_.max_body_bytes)) {
      count("bad");
      return Answer(conn, 413, absl::StrCat("body over ", options_.max_body_bytes, " bytes"));
    }
    std::string body;
    char buffer[16384];
    for (int n; (n = mg_read(conn, buffer, sizeof(buffer))) > 0;) {
      body.append(buffer, static_cast<size_t>(n));
      if (body.size() > options_.max_body_bytes) {
        count("bad");
        return Answer(conn, 413, absl::StrCat("body over ", options_.max_body_bytes, " bytes"));
      }
    }
    absl::StatusOr<ParsedEvents> parsed = format == Format::kAws
                                              ? ParseAwsS3Events(body, options_.lake)
                                              : ParseSeaweedEvent(body, options_.lake);
    if (!parsed.ok()) {
      count("bad");
      Log(LogLevel::kWarning, "event refused",
          {{"format", label}, {"error", std::string(parsed.status().message())}});
      return Answer(conn, 400, parsed.status().message());
    }
    if (!parsed->subscribe_url.empty()) {
      // Confirming is an operator's decision (it subscribes this endpoint
      // to whatever topic asked): logged, not fetched.
      Log(LogLevel::kWarning, "SNS subscription confirmation: open SubscribeURL to confirm",
          {{"subscribe_url", parsed->subscribe_url.substr(0, 2000)}});
      return Answer(conn, 200, "logged; confirm by hand");
    }
    if (parsed->ignored > 0) count("ignored", static_cast<double>(parsed->ignored));
    int64_t refused = 0;
    for (Change& change : parsed->changes) {
      if (queue_->Offer(std::move(change))) {
        count("queued");
      } else {
        ++refused;
      }
    }
    if (refused > 0) {
      count("refused", static_cast<double>(refused));
      return Answer(conn, 503, "queue full; retry later");
    }
    return Answer(conn, 200, "ok");
  }

  const EventReceiverOptions options_;
  ChangeQueue* queue_ = nullptr;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace

std::unique_ptr<EventReceiver> NewEventReceiver(EventReceiverOptions options) {
  return std::make_unique<CivetReceiver>(std::move(options));
}

}  // namespace scout::ingest
