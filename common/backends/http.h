// HttpClient: the one way Scout talks HTTP (Elasticsearch, media fetches),
// behind an interface so tests can inject faults. A plain transport: what
// may be fetched from where is the caller's policy (media: MediaFetchPolicy
// in common/backends/media_fetch.h), set per request through the fields below.
// Implementations are thread-safe; the curl one reuses connections.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace scout {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::string content_type = "application/json";
  // Whole request; under 1 ms is DEADLINE_EXCEEDED without sending. The
  // connection phase is bounded by min(timeout, 5 s).
  absl::Duration timeout = absl::Seconds(30);
  // Schemes curl may use, for the URL and any redirect ("http,https").
  std::string protocols = "http,https,file";
  bool follow_redirects = true;  // false: a 3xx comes back with redirect_url.
  // Bodies longer than this abort the transfer (FAILED_PRECONDITION);
  // negative: no cap.
  int64_t max_body_bytes = -1;
  // When set, called with every address curl is about to connect to; a
  // non-OK status refuses the connection and is what Send returns.
  std::function<absl::Status(const sockaddr& address)> check_address;
  // Extra header lines, "Name: value".
  std::vector<std::string> headers;
  // AWS Signature V4 computed by curl (CURLOPT_AWS_SIGV4), e.g.
  // "aws:amz:us-east-1:s3", with aws_credentials "<access key>:<secret key>".
  // curl signs the URL as given: path and query must already be URI-encoded
  // and the query sorted (see common/backends/s3.h). Empty: unsigned.
  std::string aws_sigv4;
  std::string aws_credentials;
};

struct HttpResponse {
  long status = 0;  // 0 for file:// URLs that were read.
  std::string body;
  std::string redirect_url;  // A 3xx's resolved Location when not followed.
  // Header lines of the final response, names lower-cased, in order.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header of that (lower-case) name, or "".
  std::string Header(absl::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Transport failures are UNAVAILABLE (connection refused, reset) or
  // DEADLINE_EXCEEDED (timeout); any HTTP status is a successful response.
  // For file:// URLs a missing file is NOT_FOUND.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> NewCurlHttpClient();

// Whether a Send failed before any byte of the request left (the connection
// was refused or could not be made): the server did nothing, so the request
// may go to another server of the same service whatever its method.
bool NeverSent(const absl::Status& status);
// Marks `status` as such; for HttpClient implementations (and fakes).
absl::Status MarkNeverSent(absl::Status status);

}  // namespace scout
