#include "common/backends/s3.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/base/json_fields.h"
#include "common/base/sha256.h"
#include "common/base/status.h"
#include "common/base/time.h"
#include "common/io/files.h"

namespace scout {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// --- XML (libxml2): S3 and STS answers, read by element local names -----------

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocDeleter>;

absl::StatusOr<XmlDoc> ParseXml(absl::string_view text, absl::string_view what) {
  // No network, no entity expansion, no DTDs: the answer is untrusted input.
  XmlDoc doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "s3.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (doc == nullptr || xmlDocGetRootElement(doc.get()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat(what, ": the answer is not XML: \"", text.substr(0, 200), "\""));
  }
  return doc;
}

bool IsElement(const xmlNode* node, absl::string_view name) {
  return node->type == XML_ELEMENT_NODE &&
         absl::string_view(reinterpret_cast<const char*>(node->name)) == name;
}

const xmlNode* Child(const xmlNode* parent, absl::string_view name) {
  if (parent == nullptr) return nullptr;
  for (const xmlNode* node = parent->children; node != nullptr; node = node->next) {
    if (IsElement(node, name)) return node;
  }
  return nullptr;
}

std::string Text(const xmlNode* node) {
  if (node == nullptr) return "";
  xmlChar* content = xmlNodeGetContent(node);
  std::string text = content == nullptr ? "" : reinterpret_cast<const char*>(content);
  xmlFree(content);
  return text;
}

std::string ChildText(const xmlNode* parent, absl::string_view name) {
  return Text(Child(parent, name));
}

std::string Unquote(absl::string_view etag) {
  absl::ConsumePrefix(&etag, "\"");
  absl::ConsumeSuffix(&etag, "\"");
  return std::string(etag);
}

// --- credentials ------------------------------------------------------------------

constexpr absl::Duration kRefreshBefore = absl::Minutes(5);

absl::StatusOr<AwsCredentials> CredentialsFromJson(absl::string_view text,
                                                   absl::string_view source) {
  absl::StatusOr<nlohmann::json> json = ParseObject(text);
  if (!json.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(source, ": credentials answer: ", json.status().message()));
  }
  AwsCredentials credentials;
  for (auto [field, out] : {std::pair{"AccessKeyId", &credentials.access_key_id},
                            std::pair{"SecretAccessKey", &credentials.secret_access_key},
                            std::pair{"Token", &credentials.session_token}}) {
    absl::StatusOr<std::string> value = StringField(*json, field);
    if (!value.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(source, ": credentials answer: ", value.status().message()));
    }
    *out = *std::move(value);
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(source, ": credentials answer without AccessKeyId or SecretAccessKey"));
  }
  if (absl::StatusOr<std::string> expiration = StringField(*json, "Expiration");
      expiration.ok() && !expiration->empty()) {
    absl::StatusOr<absl::Time> when = ParseTime(*expiration);
    if (!when.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(source, ": bad Expiration \"", *expiration, "\""));
    }
    credentials.expiration = *when;
  }
  return credentials;
}

// A GET (or PUT) to a credential endpoint; non-2xx is UNAVAILABLE for 5xx
// and transport failures, FAILED_PRECONDITION otherwise.
absl::StatusOr<std::string> Fetch(HttpClient* http, HttpRequest request, absl::string_view what) {
  request.timeout = absl::Seconds(5);
  request.protocols = "http,https";
  request.follow_redirects = false;
  request.max_body_bytes = 1 << 20;
  absl::StatusOr<HttpResponse> response = http->Send(request);
  if (!response.ok()) {
    return absl::UnavailableError(absl::StrCat(what, ": ", response.status().message()));
  }
  if (response->status / 100 == 2) return std::move(response->body);
  const std::string message =
      absl::StrCat(what, ": HTTP ", response->status, ": ", response->body.substr(0, 300));
  return response->status >= 500 ? absl::UnavailableError(message)
                                 : absl::FailedPreconditionError(message);
}

using FetchCredentials = std::function<absl::StatusOr<AwsCredentials>()>;

class CachingProvider final : public AwsCredentialsProvider {
 public:
  CachingProvider(std::unique_ptr<HttpClient> http, FetchCredentials fetch)
      : http_(std::move(http)), fetch_(std::move(fetch)) {}

  absl::StatusOr<AwsCredentials> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = absl::Now();
    if (cached_.has_value() && now < cached_->expiration - kRefreshBefore) return *cached_;
    absl::StatusOr<AwsCredentials> fresh = fetch_();
    if (fresh.ok()) {
      cached_ = *fresh;
      return fresh;
    }
    // A refresh that failed while the old credentials still hold: use them.
    if (cached_.has_value() && now < cached_->expiration) return *cached_;
    return fresh.status();
  }

 private:
  const std::unique_ptr<HttpClient> http_;  // What fetch_ uses.
  const FetchCredentials fetch_;
  std::mutex mu_;
  std::optional<AwsCredentials> cached_;
};

absl::StatusOr<AwsCredentials> FromWebIdentity(HttpClient* http, const std::string& region) {
  const std::string token_file = Env("AWS_WEB_IDENTITY_TOKEN_FILE");
  // Kubernetes rotates the token file: read it at every refresh.
  absl::StatusOr<std::string> token = ReadFile(token_file);
  if (!token.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("AWS_WEB_IDENTITY_TOKEN_FILE: ", token.status().message()));
  }
  std::string endpoint = Env("AWS_ENDPOINT_URL_STS");
  if (endpoint.empty()) endpoint = absl::StrCat("https://sts.", region, ".amazonaws.com");
  std::string session = Env("AWS_ROLE_SESSION_NAME");
  if (session.empty()) session = absl::StrCat("scout-", absl::ToUnixMillis(absl::Now()));
  HttpRequest request;
  request.method = "POST";
  request.url = absl::StrCat(absl::StripSuffix(endpoint, "/"), "/");
  request.content_type = "application/x-www-form-urlencoded";
  request.body = absl::StrCat(
      "Action=AssumeRoleWithWebIdentity&RoleArn=", AwsUriEncode(Env("AWS_ROLE_ARN"), false),
      "&RoleSessionName=", AwsUriEncode(session, false), "&Version=2011-06-15&WebIdentityToken=",
      AwsUriEncode(absl::StripAsciiWhitespace(*token), false));
  SCOUT_ASSIGN_OR_RETURN(std::string answer,
                         Fetch(http, std::move(request), "STS AssumeRoleWithWebIdentity"));
  SCOUT_ASSIGN_OR_RETURN(XmlDoc doc, ParseXml(answer, "STS AssumeRoleWithWebIdentity"));
  const xmlNode* creds = Child(
      Child(xmlDocGetRootElement(doc.get()), "AssumeRoleWithWebIdentityResult"), "Credentials");
  AwsCredentials credentials;
  credentials.access_key_id = ChildText(creds, "AccessKeyId");
  credentials.secret_access_key = ChildText(creds, "SecretAccessKey");
  credentials.session_token = ChildText(creds, "SessionToken");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return absl::FailedPreconditionError(
        "STS AssumeRoleWithWebIdentity: no Credentials in the answer");
  }
  if (absl::StatusOr<absl::Time> when = ParseTime(ChildText(creds, "Expiration")); when.ok()) {
    credentials.expiration = *when;
  }
  return credentials;
}

absl::StatusOr<AwsCredentials> FromContainer(HttpClient* http) {
  HttpRequest request;
  request.url = Env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (request.url.empty()) {
    request.url =
        absl::StrCat("http://169.254.170.2", Env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
  }
  std::string authorization = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (const std::string file = Env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    absl::StatusOr<std::string> token = ReadFile(file);
    if (!token.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: ", token.status().message()));
    }
    authorization = std::string(absl::StripAsciiWhitespace(*token));
  }
  if (!authorization.empty())
    request.headers.push_back(absl::StrCat("Authorization: ", authorization));
  const std::string what = absl::StrCat("container credentials ", request.url);
  SCOUT_ASSIGN_OR_RETURN(std::string answer, Fetch(http, std::move(request), what));
  return CredentialsFromJson(answer, what);
}

absl::StatusOr<AwsCredentials> FromInstanceMetadata(HttpClient* http) {
  std::string endpoint = Env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint.empty()) endpoint = "http://169.254.169.254";
  endpoint = std::string(absl::StripSuffix(endpoint, "/"));
  HttpRequest token_request;
  token_request.method = "PUT";
  token_request.url = absl::StrCat(endpoint, "/latest/api/token");
  token_request.headers.push_back("X-aws-ec2-metadata-token-ttl-seconds: 21600");
  SCOUT_ASSIGN_OR_RETURN(std::string token, Fetch(http, std::move(token_request), "IMDSv2 token"));
  const std::string header = absl::StrCat("X-aws-ec2-metadata-token: ", token);
  const std::string base = absl::StrCat(endpoint, "/latest/meta-data/iam/security-credentials/");
  HttpRequest role_request;
  role_request.url = base;
  role_request.headers.push_back(header);
  SCOUT_ASSIGN_OR_RETURN(std::string roles, Fetch(http, std::move(role_request), "IMDSv2 role"));
  const std::string role(absl::StripAsciiWhitespace(roles.substr(0, roles.find('\n'))));
  if (role.empty()) return absl::FailedPreconditionError("IMDSv2: the instance has no IAM role");
  HttpRequest request;
  request.url = absl::StrCat(base, AwsUriEncode(role, false));
  request.headers.push_back(header);
  SCOUT_ASSIGN_OR_RETURN(std::string answer, Fetch(http, std::move(request), "IMDSv2 credentials"));
  return CredentialsFromJson(answer, "IMDSv2 credentials");
}

// --- the S3 client ---------------------------------------------------------------

std::string S3Path(absl::string_view bucket, absl::string_view key) {
  return absl::StrCat("s3://", bucket, "/", key);
}

// Keys become URL paths that curl signs as they are: curl would fold "."
// and ".." segments away (and so sign another path than S3 stores), so such
// keys are refused rather than silently renamed.
absl::Status CheckKey(absl::string_view bucket, absl::string_view key) {
  if (key.empty())
    return absl::InvalidArgumentError(absl::StrCat(S3Path(bucket, key), ": empty key"));
  for (absl::string_view segment : absl::StrSplit(key, '/')) {
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(S3Path(bucket, key), ": key with a \".\" or \"..\" segment"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckBucket(absl::string_view bucket) {
  // S3's rules, loosely: the name goes into a host name or a path.
  const bool ok = bucket.size() >= 3 && bucket.size() <= 63 &&
                  std::all_of(bucket.begin(), bucket.end(), [](char c) {
                    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '.';
                  });
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad S3 bucket name \"", bucket, "\" (3-63 of a-z 0-9 . -)"));
  }
  return absl::OkStatus();
}

enum class Op { kList, kGet, kHead, kPut, kDelete, kBucket };

class S3ObjectStore final : public ObjectStore {
 public:
  S3ObjectStore(std::unique_ptr<HttpClient> http,
                std::unique_ptr<AwsCredentialsProvider> credentials, S3Options options)
      : http_(std::move(http)),
        credentials_(std::move(credentials)),
        options_(std::move(options)),
        sigv4_(absl::StrCat("aws:amz:", options_.region, ":s3")) {
    while (!options_.endpoint.empty() && options_.endpoint.back() == '/') {
      options_.endpoint.pop_back();
    }
  }

  absl::StatusOr<std::string> Get(absl::string_view bucket, absl::string_view key) override {
    SCOUT_RETURN_IF_ERROR(CheckKey(bucket, key));
    SCOUT_ASSIGN_OR_RETURN(HttpResponse response, Call(Op::kGet, "GET", bucket, key, {}, ""));
    return std::move(response.body);
  }

  absl::StatusOr<S3Object> Head(absl::string_view bucket, absl::string_view key) override {
    SCOUT_RETURN_IF_ERROR(CheckKey(bucket, key));
    SCOUT_ASSIGN_OR_RETURN(HttpResponse response, Call(Op::kHead, "HEAD", bucket, key, {}, ""));
    S3Object object;
    object.key = std::string(key);
    object.etag = Unquote(response.Header("etag"));
    // RFC 1123 ("Tue, 01 Dec 2026 01:02:03 GMT").
    absl::Time when;
    if (absl::ParseTime("%a, %d %b %Y %H:%M:%S",
                        std::string(absl::StripSuffix(response.Header("last-modified"), " GMT")),
                        &when, nullptr)) {
      object.last_modified = when;
    }
    if (!absl::SimpleAtoi(response.Header("content-length"), &object.size)) {
      return absl::UnavailableError(
          absl::StrCat("HEAD ", S3Path(bucket, key), ": answer without a Content-Length"));
    }
    return object;
  }

  using ObjectStore::Put;
  absl::StatusOr<std::string> Put(absl::string_view bucket, absl::string_view key,
                                  absl::string_view bytes,
                                  const PutConditions& conditions) override {
    SCOUT_RETURN_IF_ERROR(CheckKey(bucket, key));
    if (static_cast<int64_t>(bytes.size()) > options_.max_put_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("PUT ", S3Path(bucket, key), ": ", bytes.size(),
                       " bytes, more than one PUT takes (", options_.max_put_bytes, ")"));
    }
    std::vector<std::string> headers;
    if (!conditions.if_match.empty()) {
      headers.push_back(absl::StrCat("If-Match: \"", conditions.if_match, "\""));
    }
    if (conditions.if_none_match_any) headers.push_back("If-None-Match: *");
    SCOUT_ASSIGN_OR_RETURN(HttpResponse response,
                           Call(Op::kPut, "PUT", bucket, key, {}, bytes, std::move(headers)));
    return Unquote(response.Header("etag"));
  }

  absl::StatusOr<S3ListPage> ListPage(absl::string_view bucket, absl::string_view prefix,
                                      absl::string_view delimiter,
                                      absl::string_view continuation_token, int max_keys) override {
    std::vector<std::pair<std::string, std::string>> query;
    if (!continuation_token.empty()) {
      query.emplace_back("continuation-token", std::string(continuation_token));
    }
    if (!delimiter.empty()) query.emplace_back("delimiter", std::string(delimiter));
    query.emplace_back("list-type", "2");
    if (max_keys > 0) query.emplace_back("max-keys", absl::StrCat(max_keys));
    query.emplace_back("prefix", std::string(prefix));
    SCOUT_ASSIGN_OR_RETURN(HttpResponse response,
                           Call(Op::kList, "GET", bucket, "", std::move(query), ""));
    const std::string what = absl::StrCat("LIST ", S3Path(bucket, prefix));
    SCOUT_ASSIGN_OR_RETURN(XmlDoc doc, ParseXml(response.body, what));
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    S3ListPage page;
    for (const xmlNode* node = root->children; node != nullptr; node = node->next) {
      if (IsElement(node, "Contents")) {
        S3Object& object = page.objects.emplace_back();
        object.key = ChildText(node, "Key");
        object.etag = Unquote(ChildText(node, "ETag"));
        if (absl::StatusOr<absl::Time> when = ParseTime(ChildText(node, "LastModified"));
            when.ok()) {
          object.last_modified = *when;
        }
        if (!absl::SimpleAtoi(ChildText(node, "Size"), &object.size)) {
          return absl::UnavailableError(
              absl::StrCat(what, ": bad Size for key \"", object.key, "\""));
        }
      } else if (IsElement(node, "CommonPrefixes")) {
        page.common_prefixes.push_back(ChildText(node, "Prefix"));
      }
    }
    if (ChildText(root, "IsTruncated") == "true") {
      page.next_continuation_token = ChildText(root, "NextContinuationToken");
      if (page.next_continuation_token.empty()) {
        return absl::UnavailableError(
            absl::StrCat(what, ": truncated listing without a NextContinuationToken"));
      }
    }
    return page;
  }

  absl::Status Delete(absl::string_view bucket, absl::string_view key) override {
    SCOUT_RETURN_IF_ERROR(CheckKey(bucket, key));
    return Call(Op::kDelete, "DELETE", bucket, key, {}, "").status();
  }

  absl::Status CreateBucket(absl::string_view bucket) override {
    return Call(Op::kBucket, "PUT", bucket, "", {}, "").status();
  }
  absl::Status DeleteBucket(absl::string_view bucket) override {
    return Call(Op::kBucket, "DELETE", bucket, "", {}, "").status();
  }

  S3RequestCounts Counts() const override {
    S3RequestCounts counts;
    counts.list = list_.load();
    counts.get = get_.load();
    counts.head = head_.load();
    counts.put = put_.load();
    counts.del = del_.load();
    return counts;
  }

 private:
  // The URL as curl will sign it: path and query already canonical.
  std::string Url(absl::string_view bucket, absl::string_view key,
                  const std::vector<std::pair<std::string, std::string>>& query) const {
    std::string url;
    if (!options_.endpoint.empty()) {
      url = absl::StrCat(options_.endpoint, "/", bucket, "/");
    } else if (absl::StrContains(bucket, '.')) {
      url = absl::StrCat("https://s3.", options_.region, ".amazonaws.com/", bucket, "/");
    } else {
      url = absl::StrCat("https://", bucket, ".s3.", options_.region, ".amazonaws.com/");
    }
    absl::StrAppend(&url, AwsUriEncode(key, true));
    // Callers list parameters sorted by name: curl 7.88 signs them in the
    // order written.
    for (size_t i = 0; i < query.size(); ++i) {
      absl::StrAppend(&url, i == 0 ? "?" : "&", query[i].first, "=",
                      AwsUriEncode(query[i].second, false));
    }
    return url;
  }

  void Count(Op op) {
    switch (op) {
      case Op::kList:
        ++list_;
        break;
      case Op::kGet:
        ++get_;
        break;
      case Op::kHead:
        ++head_;
        break;
      case Op::kPut:
        ++put_;
        break;
      case Op::kDelete:
        ++del_;
        break;
      case Op::kBucket:
        break;
    }
  }

  // Sends with retries; a non-2xx answer becomes the status its code calls for.
  absl::StatusOr<HttpResponse> Call(Op op, const char* method, absl::string_view bucket,
                                    absl::string_view key,
                                    std::vector<std::pair<std::string, std::string>> query,
                                    absl::string_view body,
                                    std::vector<std::string> extra_headers = {}) {
    SCOUT_RETURN_IF_ERROR(CheckBucket(bucket));
    std::string where = S3Path(bucket, key);
    if (op == Op::kList) {
      method = "LIST";  // In messages; the request is a GET.
      for (const auto& [name, value] : query) {
        if (name == "prefix") where = S3Path(bucket, value);
      }
    }
    HttpRequest request;
    request.method = op == Op::kList ? "GET" : method;
    request.url = Url(bucket, key, query);
    request.body = std::string(body);
    request.content_type = "application/octet-stream";
    request.timeout = options_.timeout;
    request.protocols = "http,https";
    request.follow_redirects = false;
    // Quirk 1: curl 7.88 does not put the payload's hash into a PUT's
    // signature as S3 computes it; sending the header makes both use it.
    request.headers.push_back(absl::StrCat("x-amz-content-sha256: ", Sha256Hex(body)));
    for (std::string& header : extra_headers) request.headers.push_back(std::move(header));
    const size_t fixed_headers = request.headers.size();
    request.aws_sigv4 = sigv4_;

    std::mt19937_64 random(std::random_device{}());
    absl::Duration backoff = options_.first_backoff;
    std::string last_failure;
    for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
      if (attempt > 1) {
        // Full jitter: a uniform sleep up to the doubled ceiling, so clients
        // throttled together do not come back together.
        const double cap = absl::ToDoubleMilliseconds(std::min(backoff, options_.max_backoff));
        absl::SleepFor(absl::Milliseconds(std::uniform_real_distribution<double>(0, cap)(random)));
        backoff *= 2;
      }
      absl::StatusOr<AwsCredentials> credentials = credentials_->Get();
      if (!credentials.ok()) {
        return absl::Status(credentials.status().code(),
                            absl::StrCat(method, " ", where,
                                         ": no AWS credentials: ", credentials.status().message()));
      }
      request.aws_credentials =
          absl::StrCat(credentials->access_key_id, ":", credentials->secret_access_key);
      request.headers.resize(fixed_headers);
      if (!credentials->session_token.empty()) {
        request.headers.push_back(
            absl::StrCat("x-amz-security-token: ", credentials->session_token));
      }
      Count(op);
      absl::StatusOr<HttpResponse> response = http_->Send(request);
      if (!response.ok()) {
        if (absl::IsUnavailable(response.status()) || absl::IsDeadlineExceeded(response.status())) {
          last_failure = std::string(response.status().message());
          continue;
        }
        return response.status();
      }
      const long status = response->status;
      if (status / 100 == 2) return response;
      if (status == 500 || status == 502 || status == 503 || status == 504) {
        last_failure = absl::StrCat("HTTP ", status, " ", ErrorCode(*response));
        continue;
      }
      return ErrorStatus(method, where, *response);
    }
    return absl::UnavailableError(absl::StrCat(
        method, " ", where, ": failed ", options_.max_attempts, " times, last: ", last_failure));
  }

  static std::string ErrorCode(const HttpResponse& response) {
    if (response.body.empty()) return "";
    absl::StatusOr<XmlDoc> doc = ParseXml(response.body, "error");
    if (!doc.ok()) return "";
    const xmlNode* root = xmlDocGetRootElement(doc->get());
    std::string code = ChildText(root, "Code");
    if (std::string message = ChildText(root, "Message"); !message.empty()) {
      absl::StrAppend(&code, code.empty() ? "" : ": ", message);
    }
    return code;
  }

  static absl::Status ErrorStatus(const char* method, const std::string& where,
                                  const HttpResponse& response) {
    std::string detail = ErrorCode(response);
    if (detail.empty()) detail = "no details";
    const long status = response.status;
    switch (status) {
      case 404:
        return absl::NotFoundError(
            absl::StrCat(method, " ", where, ": not found (HTTP 404, ", detail, ")"));
      case 403:
        return absl::PermissionDeniedError(
            absl::StrCat(method, " ", where, ": access denied (HTTP 403, ", detail,
                         "); check the credentials and their rights on the bucket"));
      case 400:
        return absl::InvalidArgumentError(
            absl::StrCat(method, " ", where, ": bad request (HTTP 400, ", detail, ")"));
      case 409:
        return absl::AlreadyExistsError(
            absl::StrCat(method, " ", where, ": conflict (HTTP 409, ", detail, ")"));
      case 412:
        return absl::FailedPreconditionError(absl::StrCat(
            method, " ", where, ": precondition failed (HTTP 412, ", detail,
            "): the object changed since its ETag was read (If-Match), or exists already "
            "(If-None-Match: *)"));
      default:
        return absl::FailedPreconditionError(
            absl::StrCat(method, " ", where, ": HTTP ", status, " (", detail, ")"));
    }
  }

  const std::unique_ptr<HttpClient> http_;
  const std::unique_ptr<AwsCredentialsProvider> credentials_;
  S3Options options_;
  const std::string sigv4_;
  std::atomic<int64_t> list_{0}, get_{0}, head_{0}, put_{0}, del_{0};
};

}  // namespace

std::string AwsUriEncode(absl::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

std::unique_ptr<AwsCredentialsProvider> NewAwsCredentialsChain(std::unique_ptr<HttpClient> owned,
                                                               std::string region) {
  HttpClient* http = owned.get();
  FetchCredentials fetch;
  if (!Env("AWS_ACCESS_KEY_ID").empty() && !Env("AWS_SECRET_ACCESS_KEY").empty()) {
    fetch = [] {
      AwsCredentials credentials;
      credentials.access_key_id = Env("AWS_ACCESS_KEY_ID");
      credentials.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
      credentials.session_token = Env("AWS_SESSION_TOKEN");
      return absl::StatusOr<AwsCredentials>(credentials);
    };
  } else if (!Env("AWS_ROLE_ARN").empty() && !Env("AWS_WEB_IDENTITY_TOKEN_FILE").empty()) {
    fetch = [http, region] { return FromWebIdentity(http, region); };
  } else if (!Env("AWS_CONTAINER_CREDENTIALS_FULL_URI").empty() ||
             !Env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty()) {
    fetch = [http] { return FromContainer(http); };
  } else if (absl::AsciiStrToLower(Env("AWS_EC2_METADATA_DISABLED")) != "true") {
    fetch = [http] { return FromInstanceMetadata(http); };
  } else {
    fetch = [] {
      return absl::StatusOr<AwsCredentials>(absl::FailedPreconditionError(
          "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
          "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, or run where a container or "
          "instance credential endpoint is"));
    };
  }
  return std::make_unique<CachingProvider>(std::move(owned), std::move(fetch));
}

S3Options S3Options::FromEnv() {
  S3Options options;
  options.endpoint = Env("AWS_ENDPOINT_URL_S3");
  if (options.endpoint.empty()) options.endpoint = Env("AWS_ENDPOINT_URL");
  options.region = Env("AWS_REGION");
  if (options.region.empty()) options.region = Env("AWS_DEFAULT_REGION");
  if (options.region.empty()) options.region = "us-east-1";
  return options;
}

absl::StatusOr<S3ListPage> ObjectStore::List(absl::string_view bucket, absl::string_view prefix,
                                             absl::string_view delimiter) {
  S3ListPage all;
  std::string token;
  do {
    SCOUT_ASSIGN_OR_RETURN(S3ListPage page, ListPage(bucket, prefix, delimiter, token));
    std::move(page.objects.begin(), page.objects.end(), std::back_inserter(all.objects));
    std::move(page.common_prefixes.begin(), page.common_prefixes.end(),
              std::back_inserter(all.common_prefixes));
    if (!page.next_continuation_token.empty() && page.next_continuation_token == token) {
      return absl::UnavailableError(
          absl::StrCat("LIST ", S3Path(bucket, prefix), ": the same continuation token twice"));
    }
    token = std::move(page.next_continuation_token);
  } while (!token.empty());
  return all;
}

std::unique_ptr<ObjectStore> NewS3ObjectStore(std::unique_ptr<HttpClient> http,
                                              std::unique_ptr<AwsCredentialsProvider> credentials,
                                              S3Options options) {
  return std::make_unique<S3ObjectStore>(std::move(http), std::move(credentials),
                                         std::move(options));
}

std::unique_ptr<ObjectStore> NewS3ObjectStoreFromEnv() {
  S3Options options = S3Options::FromEnv();
  std::string region = options.region;
  return NewS3ObjectStore(NewCurlHttpClient(),
                          NewAwsCredentialsChain(NewCurlHttpClient(), std::move(region)),
                          std::move(options));
}

}  // namespace scout
