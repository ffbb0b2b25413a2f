// ObjectStore: Scout's S3 client (the lake, the media store and worker state
// on S3), behind an interface in the LevelDB-Env style with one
// real implementation over libcurl: requests signed by curl's built-in SigV4
// (CURLOPT_AWS_SIGV4), XML answers read with libxml2. Also the AWS
// credential provider chain it signs with. See docs/s3.md.
//
// Two quirks of Debian's curl 7.88 SigV4 shape every request:
//  - curl does not hash a PUT body into the signature the way S3 checks it:
//    every request carries an explicit x-amz-content-sha256 (the body's
//    SHA-256), or S3 answers SignatureDoesNotMatch;
//  - curl signs the query exactly as written: values are URI-encoded here
//    (RFC 3986, "/" as %2F) and parameters sorted by name, so what is sent
//    is the canonical query.
//
// Both the store and the providers are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/backends/http.h"

namespace scout {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // Temporary credentials only.
  absl::Time expiration = absl::InfiniteFuture();
};

class AwsCredentialsProvider {
 public:
  virtual ~AwsCredentialsProvider() = default;
  // UNAVAILABLE when a credential endpoint is down; FAILED_PRECONDITION when
  // nothing is configured or the answer is unusable.
  virtual absl::StatusOr<AwsCredentials> Get() = 0;
};

// The standard chain, its source chosen from the environment when made:
//  1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//  2. AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE: STS AssumeRoleWithWebIdentity
//     (endpoint AWS_ENDPOINT_URL_STS, else https://sts.<region>.amazonaws.com);
//  3. AWS_CONTAINER_CREDENTIALS_FULL_URI, or _RELATIVE_URI under
//     http://169.254.170.2, with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
//  4. the EC2 instance metadata service, IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT,
//     off with AWS_EC2_METADATA_DISABLED=true).
// Temporary credentials are cached and fetched again 5 minutes before they
// expire; if that refresh fails, the cached ones serve until they expire.
// `http` reaches the credential endpoints.
std::unique_ptr<AwsCredentialsProvider> NewAwsCredentialsChain(std::unique_ptr<HttpClient> http,
                                                               std::string region);

struct S3Options {
  // S3-compatible server (AWS_ENDPOINT_URL), addressed path-style:
  // <endpoint>/<bucket>/<key>. Empty: AWS itself, virtual-host style
  // https://<bucket>.s3.<region>.amazonaws.com/<key> (path-style on the
  // regional endpoint for bucket names with dots, which TLS would refuse).
  std::string endpoint;
  std::string region = "us-east-1";  // AWS_REGION, else AWS_DEFAULT_REGION.
  // Attempts per request for 500, 502, 503 (SlowDown), 504 and transport
  // failures or timeouts, with full-jitter exponential backoff between them.
  int max_attempts = 5;
  absl::Duration first_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  absl::Duration timeout = absl::Minutes(5);  // One attempt.
  // Objects go up in one PUT; S3 takes up to 5 GiB that way. Larger is
  // INVALID_ARGUMENT (Scout's pictures and lake files are far smaller).
  int64_t max_put_bytes = int64_t{5} << 30;

  // endpoint and region from the environment (above); the rest defaults.
  static S3Options FromEnv();
};

struct S3Object {
  std::string key;
  int64_t size = 0;
  std::string etag;                                 // Without the quotes S3 puts around it.
  absl::Time last_modified = absl::InfinitePast();  // From listings and HEAD.
};

struct S3ListPage {
  std::vector<S3Object> objects;             // Sorted by key.
  std::vector<std::string> common_prefixes;  // Full prefixes, ending in the delimiter.
  std::string next_continuation_token;       // Empty on the last page.
};

// S3 conditional writes: the PUT happens only if they hold, else it fails
// with FAILED_PRECONDITION (HTTP 412; 404 for If-Match on a missing key).
// A PUT retried after a lost answer may fail its own condition: callers
// that must know read the object back.
struct PutConditions {
  std::string if_match;            // Overwrite only the version with this ETag.
  bool if_none_match_any = false;  // Create only (If-None-Match: *).
};

// Requests sent, by kind (retries included): S3 bills per request.
struct S3RequestCounts {
  int64_t list = 0, get = 0, head = 0, put = 0, del = 0;
};

// Errors name the bucket and key (s3://bucket/key) and S3's error code:
// NOT_FOUND (404: no such key or bucket), PERMISSION_DENIED (403: wrong keys
// or rights, SignatureDoesNotMatch), INVALID_ARGUMENT (400, bad key, too
// large), ALREADY_EXISTS (409), FAILED_PRECONDITION (412: a PutConditions
// failed; other 4xx),
// UNAVAILABLE (5xx or transport failures left after the retries).
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual absl::StatusOr<std::string> Get(absl::string_view bucket, absl::string_view key) = 0;
  // Size and ETag, without the body.
  virtual absl::StatusOr<S3Object> Head(absl::string_view bucket, absl::string_view key) = 0;
  // Returns the new object's ETag.
  absl::StatusOr<std::string> Put(absl::string_view bucket, absl::string_view key,
                                  absl::string_view bytes) {
    return Put(bucket, key, bytes, PutConditions());
  }
  virtual absl::StatusOr<std::string> Put(absl::string_view bucket, absl::string_view key,
                                          absl::string_view bytes,
                                          const PutConditions& conditions) = 0;
  // One ListObjectsV2 page; `continuation_token` from the page before, or
  // empty for the first. max_keys <= 0: the server's default (1000).
  virtual absl::StatusOr<S3ListPage> ListPage(absl::string_view bucket, absl::string_view prefix,
                                              absl::string_view delimiter,
                                              absl::string_view continuation_token,
                                              int max_keys = 0) = 0;
  // Deleting a missing key succeeds (as in S3).
  virtual absl::Status Delete(absl::string_view bucket, absl::string_view key) = 0;
  virtual absl::Status CreateBucket(absl::string_view bucket) = 0;
  virtual absl::Status DeleteBucket(absl::string_view bucket) = 0;
  virtual S3RequestCounts Counts() const = 0;

  // Every page of a listing, merged.
  absl::StatusOr<S3ListPage> List(absl::string_view bucket, absl::string_view prefix,
                                  absl::string_view delimiter);
};

// Owns its HTTP client and credentials.
std::unique_ptr<ObjectStore> NewS3ObjectStore(std::unique_ptr<HttpClient> http,
                                              std::unique_ptr<AwsCredentialsProvider> credentials,
                                              S3Options options);
// Curl, the credential chain and S3Options::FromEnv().
std::unique_ptr<ObjectStore> NewS3ObjectStoreFromEnv();

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters
// (A-Z a-z 0-9 - _ . ~) kept, everything else %XX in upper case; "/" kept
// only when keep_slash (object paths).
std::string AwsUriEncode(absl::string_view text, bool keep_slash);

}  // namespace scout
