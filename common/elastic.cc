#include "common/elastic.h"

#include "absl/strings/str_cat.h"

namespace scout {
namespace {

// Elasticsearch's own words for a failed request, for the error message.
std::string Reason(const nlohmann::json& answer, absl::string_view raw) {
  if (answer.is_object() && answer.contains("error")) {
    const nlohmann::json& error = answer["error"];
    if (error.is_object()) {
      return absl::StrCat(error.value("type", ""), ": ", error.value("reason", ""));
    }
    return error.dump();
  }
  return std::string(raw.substr(0, 300));
}

}  // namespace

absl::StatusOr<nlohmann::json> Elastic::Call(absl::string_view method, absl::string_view path,
                                             const nlohmann::json& body,
                                             absl::Duration timeout) {
  return CallRaw(method, path, body.is_null() ? std::string() : body.dump(),
                 "application/json", timeout);
}

absl::StatusOr<nlohmann::json> Elastic::CallRaw(absl::string_view method, absl::string_view path,
                                                std::string body,
                                                absl::string_view content_type,
                                                absl::Duration timeout) {
  HttpRequest request;
  request.method = std::string(method);
  request.url = absl::StrCat(base_url_, "/", path);
  request.body = std::move(body);
  request.content_type = std::string(content_type);
  request.timeout = timeout;
  absl::StatusOr<HttpResponse> response = http_->Send(request);
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat("elasticsearch: ", response.status().message()));
  }
  nlohmann::json answer = nlohmann::json::parse(response->body, nullptr, false);
  const long status = response->status;
  if (status >= 200 && status < 300) {
    if (answer.is_discarded()) {
      return absl::InternalError(absl::StrCat("elasticsearch: unparsable answer to ", method,
                                              " /", path));
    }
    return answer;
  }
  const std::string what = absl::StrCat("elasticsearch ", method, " /", path, " (HTTP ",
                                        status, "): ", Reason(answer, response->body));
  if (status == 429 || status >= 500) return absl::UnavailableError(what);
  if (status == 404) return absl::NotFoundError(what);
  if (status == 400) return absl::InvalidArgumentError(what);
  return absl::InternalError(what);
}

}  // namespace scout
