// MediaFetchPolicy: which picture URLs Scout fetches, and FetchMedia, the one
// fetch that obeys it. Media URLs come from the lake, which is hostile input:
// without a policy a post could make us copy file:///etc/passwd or
// http://127.0.0.1:9200/... (SSRF) into the public media store. So: only
// http(s) URLs on an allowlist of hosts (the Instagram/Facebook CDNs by
// default); every redirect is checked again; connections to loopback,
// private and link-local addresses are refused unless the host was named
// explicitly; file:// only under an explicitly allowed directory; bodies are
// capped. Immutable after construction, so thread-safe.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/http.h"
#include "common/base/config.h"
#include "common/io/files.h"
#include "scout/v1/config.pb.h"

namespace scout {

class MediaFetchPolicy {
 public:
  // The default: kDefaultMediaSourceAllow and kDefaultMediaMaxBytes (config.h).
  MediaFetchPolicy();

  // `allow` is comma-separated; each entry is one of
  //   .example.com                   that domain and its subdomains, public
  //                                  addresses only;
  //   host or host:port              exactly that host, any address (named
  //                                  explicitly, so it may be internal);
  //   https://host[:port]/path/      URLs under that prefix, any address;
  //   file:///abs/dir/               local files under that directory (for
  //                                  development and tests).
  // A malformed entry is INVALID_ARGUMENT naming it.
  static absl::StatusOr<MediaFetchPolicy> Parse(absl::string_view allow, int64_t max_bytes);
  // From media_source_allow and media_max_bytes.
  static absl::StatusOr<MediaFetchPolicy> FromConfig(const scout::v1::Config& config);

  // How a URL the policy accepts is fetched.
  struct Target {
    // !is_file: the URL in curl's canonical form ("HTTPS:/Host/p" becomes
    // "https://Host/p"). Fetch this, never the text that was checked, so the
    // check and the fetch cannot read one URL two ways.
    std::string url;
    bool is_file = false;
    std::string file_path;       // is_file.
    bool allow_private = false;  // !is_file: internal addresses allowed.
  };
  // PERMISSION_DENIED saying why when the URL may not be fetched.
  absl::StatusOr<Target> Check(absl::string_view url) const;

  int64_t max_bytes() const { return max_bytes_; }

 private:
  struct Empty {};
  explicit MediaFetchPolicy(Empty) {}

  struct Entry {
    enum Kind { kSuffix, kHost, kUrlPrefix, kDir } kind;
    std::string scheme, host, path;  // Lowercase scheme and host.
    int port = 0;                    // kHost/kUrlPrefix; 0: any (kHost only).
  };
  std::vector<Entry> entries_;
  int64_t max_bytes_ = kDefaultMediaMaxBytes;
};

// PERMISSION_DENIED for a loopback, private, link-local, unspecified,
// shared (CGNAT) or multicast address; OK for a public one.
absl::Status CheckPublicAddress(const sockaddr& address);

// One attempt at `url` under `policy`, following up to 5 redirects, each
// checked like the first. HTTP answers come back as they are (the caller
// judges the status); a local file is status 200. Refusals are
// PERMISSION_DENIED, a body over the cap FAILED_PRECONDITION.
absl::StatusOr<HttpResponse> FetchMedia(HttpClient& http, FileSystem& fs,
                                        const MediaFetchPolicy& policy, const std::string& url,
                                        absl::Duration timeout);

// Whether `bytes` start like a JPEG, PNG, GIF or WebP picture.
bool LooksLikePicture(absl::string_view bytes);

}  // namespace scout
