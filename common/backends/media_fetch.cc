#include "common/backends/media_fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/base/status.h"

namespace scout {
namespace {

constexpr int kMaxRedirects = 5;
constexpr size_t kMaxUrlLength = 4096;

// A URL as curl itself will read it (so the policy and the fetch never
// disagree on the host).
struct ParsedUrl {
  std::string url;  // curl's canonical form: what is checked is what is fetched.
  std::string scheme, host, path;
  int port = 0;
  bool has_credentials = false;
};

absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url) {
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '\\') {
      return absl::PermissionDeniedError("the URL has spaces, control characters or '\\'");
    }
  }
  if (url.size() > kMaxUrlLength) {
    return absl::PermissionDeniedError(absl::StrCat("the URL is over ", kMaxUrlLength, " bytes"));
  }
  std::unique_ptr<CURLU, void (*)(CURLU*)> handle(curl_url(), curl_url_cleanup);
  if (handle == nullptr) return absl::ResourceExhaustedError("curl_url");
  const std::string text(url);
  if (curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return absl::PermissionDeniedError("not an absolute URL with a supported scheme");
  }
  auto part = [&](CURLUPart which, unsigned flags) -> std::string {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, flags) != CURLUE_OK || value == nullptr) {
      return "";
    }
    std::string out(value);
    curl_free(value);
    return out;
  };
  ParsedUrl parsed;
  parsed.url = part(CURLUPART_URL, 0);
  parsed.scheme = absl::AsciiStrToLower(part(CURLUPART_SCHEME, 0));
  parsed.host = absl::AsciiStrToLower(part(CURLUPART_HOST, 0));
  parsed.path = part(CURLUPART_PATH, 0);
  parsed.has_credentials = !part(CURLUPART_USER, 0).empty() || !part(CURLUPART_PASSWORD, 0).empty();
  if (parsed.scheme != "file") {
    const std::string port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
    if (!absl::SimpleAtoi(port, &parsed.port)) parsed.port = 0;
  }
  return parsed;
}

bool HasDotSegment(absl::string_view path) {
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    if (segment == "." || segment == "..") return true;
  }
  return false;
}

bool IsPrivateV4(uint32_t a) {  // Host byte order.
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8) ||   // 0.0.0.0/8 "this network"
         in(0x0a000000, 8) ||   // 10/8
         in(0x64400000, 10) ||  // 100.64/10 shared (CGNAT)
         in(0x7f000000, 8) ||   // 127/8 loopback
         in(0xa9fe0000, 16) ||  // 169.254/16 link-local (cloud metadata)
         in(0xac100000, 12) ||  // 172.16/12
         in(0xc0000000, 24) ||  // 192.0.0/24 protocol assignments
         in(0xc0a80000, 16) ||  // 192.168/16
         in(0xc6120000, 15) ||  // 198.18/15 benchmarking
         in(0xe0000000, 4) ||   // multicast
         in(0xf0000000, 4);     // reserved, broadcast
}

}  // namespace

absl::Status CheckPublicAddress(const sockaddr& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  bool is_private = true;  // Unknown families are refused.
  if (address.sa_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    is_private = IsPrivateV4(ntohl(v4.sin_addr.s_addr));
  } else if (address.sa_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    const uint8_t* b = v6.sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr) || IN6_IS_ADDR_V4COMPAT(&v6.sin6_addr)) {
      is_private = IsPrivateV4((uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) |
                               (uint32_t{b[14]} << 8) | b[15]);
    } else {
      is_private = IN6_IS_ADDR_UNSPECIFIED(&v6.sin6_addr) || IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr) ||
                   IN6_IS_ADDR_LINKLOCAL(&v6.sin6_addr) || IN6_IS_ADDR_SITELOCAL(&v6.sin6_addr) ||
                   IN6_IS_ADDR_MULTICAST(&v6.sin6_addr) ||
                   (b[0] & 0xfe) == 0xfc;  // fc00::/7 unique local
    }
  }
  if (is_private) {
    return absl::PermissionDeniedError(
        absl::StrCat("refusing to connect to the internal address ", text,
                     " (name the host in --media_source_allow to allow it)"));
  }
  return absl::OkStatus();
}

MediaFetchPolicy::MediaFetchPolicy()
    : MediaFetchPolicy(*Parse(kDefaultMediaSourceAllow, kDefaultMediaMaxBytes)) {}

absl::StatusOr<MediaFetchPolicy> MediaFetchPolicy::Parse(absl::string_view allow,
                                                         int64_t max_bytes) {
  MediaFetchPolicy policy{Empty{}};
  if (max_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--media_max_bytes must be positive, not ", max_bytes));
  }
  policy.max_bytes_ = max_bytes;
  for (absl::string_view raw : absl::StrSplit(allow, ',', absl::SkipWhitespace())) {
    const absl::string_view text = absl::StripAsciiWhitespace(raw);
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("--media_source_allow entry \"", text, "\": ", why));
    };
    Entry entry;
    if (absl::StartsWith(text, ".")) {
      entry.kind = Entry::kSuffix;
      entry.host = absl::AsciiStrToLower(text.substr(1));
      if (entry.host.empty() || absl::StrContains(entry.host, '/') ||
          absl::StrContains(entry.host, ':')) {
        return bad("a domain suffix is \".example.com\"");
      }
    } else if (absl::StrContains(text, "://")) {
      absl::StatusOr<ParsedUrl> url = ParseUrl(text);
      if (!url.ok()) return bad(url.status().message());
      if (!absl::EndsWith(url->path, "/")) return bad("a prefix ends with '/'");
      if (HasDotSegment(text.substr(text.find("://") + 3))) return bad("no '.' or '..'");
      entry.scheme = url->scheme;
      entry.host = url->host;
      entry.path = url->path;
      entry.port = url->port;
      if (url->scheme == "file") {
        entry.kind = Entry::kDir;
        if (!entry.host.empty() && entry.host != "localhost") return bad("file URLs are local");
      } else if (url->scheme == "http" || url->scheme == "https") {
        entry.kind = Entry::kUrlPrefix;
      } else {
        return bad("only http, https and file URLs");
      }
    } else {
      entry.kind = Entry::kHost;
      std::pair<std::string, std::string> host_port = absl::StrSplit(text, ':');
      entry.host = absl::AsciiStrToLower(host_port.first);
      if (entry.host.empty() || absl::StrContains(entry.host, '/')) return bad("not a host");
      if (!host_port.second.empty() && !absl::SimpleAtoi(host_port.second, &entry.port)) {
        return bad("not host:port");
      }
    }
    policy.entries_.push_back(std::move(entry));
  }
  return policy;
}

absl::StatusOr<MediaFetchPolicy> MediaFetchPolicy::FromConfig(const scout::v1::Config& config) {
  return Parse(config.media_source_allow(), config.media_max_bytes());
}

absl::StatusOr<MediaFetchPolicy::Target> MediaFetchPolicy::Check(absl::string_view url) const {
  SCOUT_ASSIGN_OR_RETURN(const ParsedUrl parsed, ParseUrl(url));
  Target target;
  if (parsed.scheme == "file") {
    // Before curl's dot-segment removal: "dir/../x" is refused, not folded.
    const size_t path_start = url.find("://") + 3;
    if (HasDotSegment(url.substr(path_start)) || absl::StrContains(url, '%') ||
        absl::StrContains(url, '?') || absl::StrContains(url, '#')) {
      return absl::PermissionDeniedError("a file URL with '.', '..', '%', '?' or '#'");
    }
    for (const Entry& entry : entries_) {
      if (entry.kind == Entry::kDir && (parsed.host.empty() || parsed.host == "localhost") &&
          absl::StartsWith(parsed.path, entry.path)) {
        target.is_file = true;
        target.file_path = parsed.path;
        return target;
      }
    }
    return absl::PermissionDeniedError(
        "file URLs are fetched only under a directory named in --media_source_allow");
  }
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return absl::PermissionDeniedError(
        absl::StrCat("the scheme \"", parsed.scheme, "\" is not fetched (http and https are)"));
  }
  if (parsed.has_credentials) return absl::PermissionDeniedError("a URL with credentials");
  target.url = parsed.url;
  for (const Entry& entry : entries_) {
    switch (entry.kind) {
      case Entry::kSuffix:
        if (parsed.host == entry.host || absl::EndsWith(parsed.host, "." + entry.host)) {
          return target;
        }
        break;
      case Entry::kHost:
        if (parsed.host == entry.host && (entry.port == 0 || entry.port == parsed.port)) {
          target.allow_private = true;
          return target;
        }
        break;
      case Entry::kUrlPrefix: {
        // A server may decode %2e%2e or %2f after our prefix check.
        const std::string lower = absl::AsciiStrToLower(parsed.path);
        if (parsed.scheme == entry.scheme && parsed.host == entry.host &&
            parsed.port == entry.port && absl::StartsWith(parsed.path, entry.path) &&
            !absl::StrContains(lower, "%2e") && !absl::StrContains(lower, "%2f")) {
          target.allow_private = true;
          return target;
        }
        break;
      }
      case Entry::kDir:
        break;
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the host \"", parsed.host, "\" is not in --media_source_allow"));
}

absl::StatusOr<HttpResponse> FetchMedia(HttpClient& http, FileSystem& fs,
                                        const MediaFetchPolicy& policy, const std::string& url,
                                        absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string current = url;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    absl::StatusOr<MediaFetchPolicy::Target> target = policy.Check(current);
    if (!target.ok()) {
      if (hop == 0) return target.status();
      return absl::PermissionDeniedError(
          absl::StrCat("redirected to ", current.substr(0, 200), ": ", target.status().message()));
    }
    if (target->is_file) {
      HttpResponse response;
      SCOUT_ASSIGN_OR_RETURN(response.body, fs.ReadFile(target->file_path, policy.max_bytes()));
      response.status = 200;
      return response;
    }
    HttpRequest request;
    request.url = target->url;
    request.timeout = deadline - absl::Now();
    request.protocols = "http,https";
    request.follow_redirects = false;
    request.max_body_bytes = policy.max_bytes();
    if (!target->allow_private) request.check_address = CheckPublicAddress;
    SCOUT_ASSIGN_OR_RETURN(HttpResponse response, http.Send(request));
    if (response.status / 100 != 3 || response.redirect_url.empty()) return response;
    current = std::move(response.redirect_url);
  }
  return absl::FailedPreconditionError(absl::StrCat("more than ", kMaxRedirects, " redirects"));
}

bool LooksLikePicture(absl::string_view bytes) {
  return absl::StartsWith(bytes, "\xFF\xD8\xFF") ||                             // JPEG
         absl::StartsWith(bytes, absl::string_view("\x89PNG\r\n\x1A\n", 8)) ||  // PNG
         absl::StartsWith(bytes, "GIF87a") || absl::StartsWith(bytes, "GIF89a") ||
         (bytes.size() >= 12 && absl::StartsWith(bytes, "RIFF") && bytes.substr(8, 4) == "WEBP");
}

}  // namespace scout
