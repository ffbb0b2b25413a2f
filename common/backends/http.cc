#include "common/backends/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

namespace scout {
namespace {

constexpr int64_t kMaxConnectMs = 5000;
constexpr absl::string_view kNeverSentUrl = "type.scout/http.never_sent";

// What the curl callbacks of one transfer share.
struct Transfer {
  const HttpRequest* request;
  std::string* body;
  HttpResponse* response;
  bool too_large = false;
  absl::Status refused;  // Set by check_address.
};

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  auto* transfer = static_cast<Transfer*>(out);
  const int64_t cap = transfer->request->max_body_bytes;
  // Chunked bodies announce no length, so CURLOPT_MAXFILESIZE cannot stop
  // them: count here too. Returning less than given aborts the transfer.
  if (cap >= 0 && static_cast<int64_t>(transfer->body->size() + size * count) > cap) {
    transfer->too_large = true;
    return 0;
  }
  transfer->body->append(data, size * count);
  return size * count;
}

// One call per header line; a redirect or a 100 Continue starts a new
// header block (its status line), which replaces the one before.
size_t AppendHeader(char* data, size_t size, size_t count, void* out) {
  auto* transfer = static_cast<Transfer*>(out);
  absl::string_view line(data, size * count);
  if (absl::StartsWith(line, "HTTP/")) {
    transfer->response->headers.clear();
  } else if (size_t colon = line.find(':'); colon != absl::string_view::npos) {
    transfer->response->headers.emplace_back(
        absl::AsciiStrToLower(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * count;
}

curl_socket_t OpenSocket(void* data, curlsocktype purpose, curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(data);
  if (purpose == CURLSOCKTYPE_IPCXN && transfer->request->check_address) {
    absl::Status allowed = transfer->request->check_address(address->addr);
    if (!allowed.ok()) {
      transfer->refused = std::move(allowed);
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// Keeps idle easy handles so connections (and their keep-alive sockets) are
// reused across requests and threads.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlHttpClient() override {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    // curl counts whole milliseconds and reads 0 as "no timeout at all".
    const int64_t timeout_ms = absl::ToInt64Milliseconds(request.timeout);
    if (timeout_ms < 1) {
      return absl::DeadlineExceededError(
          absl::StrCat(request.method, " ", request.url, ": no time left (",
                       absl::FormatDuration(request.timeout), "), not sent"));
    }
    CURL* handle = Acquire();
    HttpResponse response;
    Transfer transfer{&request, &response.body, &response, false, absl::OkStatus()};
    curl_slist* headers = nullptr;
    if (!request.body.empty()) {
      headers =
          curl_slist_append(headers, absl::StrCat("Content-Type: ", request.content_type).c_str());
    }
    // No "Expect: 100-continue" round trip on large bulk bodies. Not when
    // signing: curl 7.88's SigV4 signs this removal line as a header
    // ("expect:") that never goes out, so the server's signature differs.
    if (request.aws_sigv4.empty()) headers = curl_slist_append(headers, "Expect:");
    for (const std::string& header : request.headers) {
      headers = curl_slist_append(headers, header.c_str());
    }
    curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    if (request.method == "HEAD") {
      curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET") {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, AppendHeader);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
    if (!request.aws_sigv4.empty()) {
      curl_easy_setopt(handle, CURLOPT_AWS_SIGV4, request.aws_sigv4.c_str());
      curl_easy_setopt(handle, CURLOPT_USERPWD, request.aws_credentials.c_str());
    }
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(timeout_ms, kMaxConnectMs)));
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, request.protocols.c_str());
    curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, request.protocols.c_str());
    if (request.check_address) {
      // A pooled connection was opened without this check (another
      // request's): never reuse one, and never leave this one for others.
      curl_easy_setopt(handle, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt(handle, CURLOPT_FORBID_REUSE, 1L);
    }
    if (request.max_body_bytes >= 0) {
      curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE,
                       static_cast<curl_off_t>(request.max_body_bytes));
    }

    const CURLcode code = curl_easy_perform(handle);
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    if (const char* location = nullptr;
        !request.follow_redirects &&
        curl_easy_getinfo(handle, CURLINFO_REDIRECT_URL, &location) == CURLE_OK &&
        location != nullptr) {
      response.redirect_url = location;
    }
    curl_slist_free_all(headers);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
    Release(handle, code == CURLE_OK);

    if (code == CURLE_OK) return response;
    if (!transfer.refused.ok()) return transfer.refused;
    const std::string what =
        absl::StrCat(request.method, " ", request.url, ": ", curl_easy_strerror(code));
    if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return absl::FailedPreconditionError(absl::StrCat(request.method, " ", request.url,
                                                        ": body larger than ",
                                                        request.max_body_bytes, " bytes"));
    }
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(what);
      case CURLE_FILE_COULDNT_READ_FILE:
        return absl::NotFoundError(what);
      case CURLE_COULDNT_CONNECT:
        return MarkNeverSent(absl::UnavailableError(what));
      default:
        return absl::UnavailableError(what);
    }
  }

 private:
  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  // A handle whose transfer failed may hold a broken connection: drop it.
  void Release(CURL* handle, bool healthy) {
    if (!healthy) {
      curl_easy_cleanup(handle);
      return;
    }
    curl_easy_reset(handle);
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(handle);
  }

  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::string HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

std::unique_ptr<HttpClient> NewCurlHttpClient() { return std::make_unique<CurlHttpClient>(); }

bool NeverSent(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kNeverSentUrl).has_value();
}

absl::Status MarkNeverSent(absl::Status status) {
  status.SetPayload(kNeverSentUrl, absl::Cord("1"));
  return status;
}

}  // namespace scout
