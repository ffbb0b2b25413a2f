#include "common/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"

namespace scout {
namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
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
    CURL* handle = Acquire();
    HttpResponse response;
    curl_slist* headers = nullptr;
    if (!request.body.empty()) {
      headers = curl_slist_append(
          headers, absl::StrCat("Content-Type: ", request.content_type).c_str());
    }
    // No "Expect: 100-continue" round trip on large bulk bodies.
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    if (request.method != "GET") {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(
                         absl::ToInt64Milliseconds(request.timeout), 5000)));
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https,file");

    const CURLcode code = curl_easy_perform(handle);
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    curl_slist_free_all(headers);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
    Release(handle, code == CURLE_OK);

    if (code == CURLE_OK) return response;
    const std::string what =
        absl::StrCat(request.method, " ", request.url, ": ", curl_easy_strerror(code));
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(what);
      case CURLE_FILE_COULDNT_READ_FILE:
        return absl::NotFoundError(what);
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

std::unique_ptr<HttpClient> NewCurlHttpClient() {
  return std::make_unique<CurlHttpClient>();
}

}  // namespace scout
