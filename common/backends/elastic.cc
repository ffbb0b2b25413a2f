#include "common/backends/elastic.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"

namespace scout {
namespace {

constexpr absl::string_view kErrorTypeUrl = "type.scout/elasticsearch.error_type";

std::string ErrorType(const nlohmann::json& answer) {
  if (!answer.is_object()) return "";
  const auto error = answer.find("error");
  if (error == answer.end() || !error->is_object()) return "";
  const auto type = error->find("type");
  return type != error->end() && type->is_string() ? type->get<std::string>() : "";
}

// Elasticsearch's own words for a failed request, for the error message.
std::string Reason(const nlohmann::json& answer, absl::string_view raw) {
  if (answer.is_object() && answer.contains("error")) {
    const nlohmann::json& error = answer["error"];
    if (error.is_object()) {
      const auto reason = error.find("reason");
      return absl::StrCat(ErrorType(answer), ": ",
                          reason != error.end() && reason->is_string() ? reason->get<std::string>()
                                                                       : std::string());
    }
    return error.dump();
  }
  return std::string(raw.substr(0, 300));
}

std::vector<std::string> Nodes(absl::string_view base_url) {
  std::vector<std::string> nodes;
  for (absl::string_view url : absl::StrSplit(base_url, ',', absl::SkipWhitespace())) {
    url = absl::StripAsciiWhitespace(url);
    while (absl::ConsumeSuffix(&url, "/")) {
    }
    if (!url.empty()) nodes.emplace_back(url);
  }
  // No node: requests fail on their URL, as a single bad URL does.
  if (nodes.empty()) nodes.emplace_back(base_url);
  return nodes;
}

}  // namespace

Elastic::Elastic(HttpClient* http, std::string base_url)
    : http_(http), base_url_(std::move(base_url)), nodes_(Nodes(base_url_)) {}

std::string ElasticErrorType(const absl::Status& status) {
  const absl::optional<absl::Cord> type = status.GetPayload(kErrorTypeUrl);
  return type ? std::string(*type) : std::string();
}

absl::StatusOr<nlohmann::json> Elastic::Call(absl::string_view method, absl::string_view path,
                                             const nlohmann::json& body, absl::Duration timeout) {
  return CallRaw(method, path, body.is_null() ? std::string() : body.dump(), "application/json",
                 timeout);
}

absl::StatusOr<nlohmann::json> Elastic::CallRaw(absl::string_view method, absl::string_view path,
                                                std::string body, absl::string_view content_type,
                                                absl::Duration timeout) {
  return Send(method, path, std::move(body), content_type, timeout,
              method == "GET" || method == "HEAD");
}

absl::StatusOr<nlohmann::json> Elastic::Read(absl::string_view path, const nlohmann::json& body,
                                             absl::Duration timeout) {
  return Send("POST", path, body.dump(), "application/json", timeout, /*reads_only=*/true);
}

absl::StatusOr<nlohmann::json> Elastic::Send(absl::string_view method, absl::string_view path,
                                             std::string body, absl::string_view content_type,
                                             absl::Duration timeout, bool reads_only) {
  HttpRequest request;
  request.method = std::string(method);
  request.body = std::move(body);
  request.content_type = std::string(content_type);
  const absl::Time deadline = absl::Now() + timeout;
  // Each node once at most, starting with the one in use.
  const size_t first = node_.load(std::memory_order_relaxed);
  absl::StatusOr<HttpResponse> response;
  for (size_t tried = 0; tried < nodes_.size(); ++tried) {
    const size_t node = (first + tried) % nodes_.size();
    request.url = absl::StrCat(nodes_[node], "/", path);
    request.timeout = tried == 0 ? timeout : deadline - absl::Now();
    response = http_->Send(request);
    // A timeout is not resent either: the budget is spent.
    const bool next =
        NeverSent(response.status()) || (reads_only && absl::IsUnavailable(response.status()));
    if (!next) {
      if (tried > 0 && response.ok()) node_.store(node, std::memory_order_relaxed);
      break;
    }
  }
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat("elasticsearch: ", response.status().message()));
  }
  nlohmann::json answer = nlohmann::json::parse(response->body, nullptr, false);
  const long status = response->status;
  if (status >= 200 && status < 300) {
    if (answer.is_discarded()) {
      return absl::InternalError(
          absl::StrCat("elasticsearch: unparsable answer to ", method, " /", path));
    }
    return answer;
  }
  const std::string what = absl::StrCat("elasticsearch ", method, " /", path, " (HTTP ", status,
                                        "): ", Reason(answer, response->body));
  absl::Status error;
  if (status == 429 || status >= 500) {
    error = absl::UnavailableError(what);
  } else if (status == 404) {
    error = absl::NotFoundError(what);
  } else if (status == 400) {
    error = absl::InvalidArgumentError(what);
  } else {
    error = absl::InternalError(what);
  }
  if (std::string type = ErrorType(answer); !type.empty()) {
    error.SetPayload(kErrorTypeUrl, absl::Cord(std::move(type)));
  }
  return error;
}

}  // namespace scout
