// The S3 client against the real S3-compatible server scripts/services starts
// (SeaweedFS; AWS_ENDPOINT_URL and keys in the environment): round trips,
// listings and their pages, ETags, errors, retries (faults injected through
// the HttpClient seam in front of the real server), the credential chain's
// container / instance-metadata / STS sources (a tiny loopback server hands
// out the real keys), the s3:// Lake and MediaStore, and s3:// parsing.
// Each test makes its own bucket and removes it.
#include "common/backends/s3.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/md5.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/backends/s3_stores.h"
#include "common/base/config.h"
#include "common/base/time.h"

namespace scout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Md5Hex(absl::string_view bytes) {
  unsigned char digest[16];
  // MD5 is what S3 reports as a single PUT's ETag; deprecated for crypto only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  MD5(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
#pragma GCC diagnostic pop
  std::string hex;
  for (unsigned char byte : digest) absl::StrAppend(&hex, absl::Hex(byte, absl::kZeroPad2));
  return hex;
}

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

// Sets environment variables for one scope and puts the old values back.
class ScopedEnv {
 public:
  void Set(const char* name, const std::string& value) {
    Save(name);
    setenv(name, value.c_str(), 1);
  }
  void Unset(const char* name) {
    Save(name);
    unsetenv(name);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value.has_value()) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  void Save(const char* name) {
    if (saved_.count(name) > 0) return;
    const char* old = std::getenv(name);
    saved_[name] = old == nullptr ? std::nullopt : std::optional<std::string>(old);
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

// A loopback HTTP server for credential endpoints: one request per
// connection, answered by `handler`, every request kept for checks.
struct SeenRequest {
  std::string method, path, head, body;
};
class CredentialServer {
 public:
  using Handler = std::function<std::pair<int, std::string>(const SeenRequest&)>;
  explicit CredentialServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    listen(listen_fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CredentialServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
  }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  std::vector<SeenRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void Serve() {
    for (;;) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::string data;
      char buffer[4096];
      size_t head_end;
      while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        data.append(buffer, static_cast<size_t>(n));
      }
      SeenRequest request;
      if (head_end != std::string::npos) {
        request.head = data.substr(0, head_end);
        const std::string lower = absl::AsciiStrToLower(request.head);
        size_t length = 0;
        if (size_t at = lower.find("content-length:"); at != std::string::npos) {
          (void)absl::SimpleAtoi(lower.substr(at + 15, lower.find("\r\n", at) - at - 15), &length);
        }
        while (data.size() < head_end + 4 + length) {
          const ssize_t n = read(fd, buffer, sizeof buffer);
          if (n <= 0) break;
          data.append(buffer, static_cast<size_t>(n));
        }
        request.body = data.substr(head_end + 4);
        request.method = request.head.substr(0, request.head.find(' '));
        const size_t start = request.head.find(' ') + 1;
        request.path = request.head.substr(start, request.head.find(' ', start) - start);
      }
      const auto [status, body] = handler_(request);
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(request);
      }
      const std::string answer =
          absl::StrCat("HTTP/1.1 ", status, " X\r\nContent-Length: ", body.size(),
                       "\r\nConnection: close\r\n\r\n", body);
      (void)!write(fd, answer.data(), answer.size());
      close(fd);
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
  std::thread thread_;
};

// Fault injection in front of the real server: the first `failures` sends
// get `fault` instead of reaching it: a 503 SlowDown answer (OK status), or a
// transport failure (UNAVAILABLE: reset; DEADLINE_EXCEEDED: timeout).
class FlakyHttp final : public HttpClient {
 public:
  FlakyHttp(int failures, absl::Status fault) : failures_(failures), fault_(std::move(fault)) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    ++sends;
    if (failures_ > 0) {
      --failures_;
      if (!fault_.ok()) return fault_;
      HttpResponse slow_down;
      slow_down.status = 503;
      slow_down.body =
          "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Reduce your request "
          "rate.</Message></Error>";
      return slow_down;
    }
    return real_->Send(request);
  }
  std::atomic<int> sends{0};

 private:
  std::atomic<int> failures_;
  const absl::Status fault_;
  std::unique_ptr<HttpClient> real_ = NewCurlHttpClient();
};

class S3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* endpoint = std::getenv("AWS_ENDPOINT_URL");
    // Not a skip: an integration test that silently does nothing could never fail.
    ASSERT_TRUE(endpoint != nullptr && *endpoint != '\0')
        << "AWS_ENDPOINT_URL is not set: run through scripts/test, which starts the services "
           "(or eval \"$(scripts/services up)\")";
    ASSERT_NE(std::getenv("AWS_ACCESS_KEY_ID"), nullptr) << "AWS_ACCESS_KEY_ID is not set";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    bucket_ = absl::AsciiStrToLower(absl::StrCat("t-", info->name(), "-", getpid()));
    absl::StrReplaceAll({{"_", "-"}, {"/", "-"}}, &bucket_);
    if (bucket_.size() > 63) bucket_ = bucket_.substr(bucket_.size() - 63);
    store_ = NewStore(NewCurlHttpClient());
    absl::Status created = store_->CreateBucket(bucket_);
    ASSERT_TRUE(created.ok()) << created;
  }
  void TearDown() override {
    if (store_ == nullptr || bucket_.empty()) return;
    absl::StatusOr<S3ListPage> all = store_->List(bucket_, "", "");
    if (all.ok()) {
      for (const S3Object& object : all->objects) (void)store_->Delete(bucket_, object.key);
    }
    EXPECT_TRUE(store_->DeleteBucket(bucket_).ok());
  }

  static std::unique_ptr<ObjectStore> NewStore(std::unique_ptr<HttpClient> http,
                                               S3Options options = S3Options::FromEnv()) {
    options.first_backoff = absl::Milliseconds(5);
    options.max_backoff = absl::Milliseconds(50);
    std::string region = options.region;
    return NewS3ObjectStore(std::move(http), NewAwsCredentialsChain(NewCurlHttpClient(), region),
                            std::move(options));
  }

  std::string bucket_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(S3Test, PutGetHeadRoundTripWithEtags) {
  const std::string bytes = std::string("binary\0with\xff\x00nul", 16) + RandomBytes(1000, 1);
  absl::StatusOr<std::string> etag = store_->Put(bucket_, "a/b.bin", bytes);
  ASSERT_TRUE(etag.ok()) << etag.status();
  EXPECT_EQ(*etag, Md5Hex(bytes));

  absl::StatusOr<std::string> got = store_->Get(bucket_, "a/b.bin");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, bytes);

  absl::StatusOr<S3Object> head = store_->Head(bucket_, "a/b.bin");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->size, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(head->etag, Md5Hex(bytes));
  EXPECT_LT(absl::AbsDuration(head->last_modified - absl::Now()), absl::Minutes(2));

  // A rewrite changes the ETag: what later change detection relies on.
  ASSERT_TRUE(store_->Put(bucket_, "a/b.bin", "new").ok());
  head = store_->Head(bucket_, "a/b.bin");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->size, 3);
  EXPECT_EQ(head->etag, Md5Hex("new"));

  const S3RequestCounts counts = store_->Counts();
  EXPECT_EQ(counts.put, 2);
  EXPECT_EQ(counts.get, 1);
  EXPECT_EQ(counts.head, 2);
  EXPECT_EQ(counts.list, 0);
}

// Quirk 1: without an explicit x-amz-content-sha256, curl 7.88's signature
// of a PUT does not match the server's (SignatureDoesNotMatch, a 403).
TEST_F(S3Test, PutSignsItsPayloadHash) {
  for (const std::string& body : {std::string("x"), std::string(), RandomBytes(70000, 2)}) {
    absl::StatusOr<std::string> etag = store_->Put(bucket_, "put/quirk", body);
    ASSERT_TRUE(etag.ok()) << etag.status();
    absl::StatusOr<std::string> got = store_->Get(bucket_, "put/quirk");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, body);
  }
}

// Keys are signed as curl sends them: every byte outside the unreserved set
// is percent-encoded once, "/" kept.
TEST_F(S3Test, KeysWithReservedAndUnicodeCharacters) {
  const std::string key = "dir with space/\xc3\xbc+plus=eq&amp;semi;colon:@!$'()*,%25/[x]~y.json";
  ASSERT_TRUE(store_->Put(bucket_, key, "payload").ok());
  absl::StatusOr<std::string> got = store_->Get(bucket_, key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "payload");
  absl::StatusOr<S3ListPage> listing = store_->List(bucket_, "dir with space/", "");
  ASSERT_TRUE(listing.ok()) << listing.status();
  ASSERT_EQ(listing->objects.size(), 1u);
  EXPECT_EQ(listing->objects[0].key, key);
  EXPECT_EQ(AwsUriEncode("a/b c+\xc3\xbc~", true), "a/b%20c%2B%C3%BC~");
  EXPECT_EQ(AwsUriEncode("a/b", false), "a%2Fb");
}

// Quirk 2: query values (prefix "instagram_graph/posts/", continuation
// tokens) must reach curl URI-encoded, or the canonical query differs.
TEST_F(S3Test, ListPagesWithPrefixDelimiterAndContinuationTokens) {
  std::map<std::string, std::string> posts;
  for (int i = 0; i < 5; ++i) {
    posts[absl::StrCat("instagram_graph/posts/p", i, ".json")] = std::string(10 + i, 'x');
  }
  for (const auto& [key, body] : posts) ASSERT_TRUE(store_->Put(bucket_, key, body).ok());
  ASSERT_TRUE(store_->Put(bucket_, "instagram_graph/creators/c1.json", "{}").ok());
  ASSERT_TRUE(store_->Put(bucket_, "instagram_graph/top.json", "{}").ok());
  ASSERT_TRUE(store_->Put(bucket_, "other/o.json", "{}").ok());

  absl::StatusOr<S3ListPage> level = store_->ListPage(bucket_, "instagram_graph/", "/", "");
  ASSERT_TRUE(level.ok()) << level.status();
  EXPECT_THAT(level->common_prefixes,
              ElementsAre("instagram_graph/creators/", "instagram_graph/posts/"));
  ASSERT_EQ(level->objects.size(), 1u);
  EXPECT_EQ(level->objects[0].key, "instagram_graph/top.json");
  EXPECT_TRUE(level->next_continuation_token.empty());

  const int64_t lists_before = store_->Counts().list;
  std::vector<S3Object> seen;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<S3ListPage> page =
        store_->ListPage(bucket_, "instagram_graph/posts/", "/", token, 2);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->objects.size(), 2u);
    seen.insert(seen.end(), page->objects.begin(), page->objects.end());
    token = page->next_continuation_token;
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(store_->Counts().list - lists_before, 3);
  ASSERT_EQ(seen.size(), posts.size());
  auto expected = posts.begin();
  for (const S3Object& object : seen) {
    EXPECT_EQ(object.key, expected->first);
    EXPECT_EQ(object.size, static_cast<int64_t>(expected->second.size()));
    EXPECT_EQ(object.etag, Md5Hex(expected->second));
    ++expected;
  }

  absl::StatusOr<S3ListPage> none = store_->List(bucket_, "instagram_graph/nothing/", "/");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->objects.empty());
  EXPECT_TRUE(none->common_prefixes.empty());
}

// Conditional writes (what the checkpoint lease is built on): create-only
// and overwrite-this-version, a failed condition FAILED_PRECONDITION with a
// message naming the object, and nothing written.
TEST_F(S3Test, ConditionalPutsCreateOnlyAndOverwriteOnlyTheVersionRead) {
  PutConditions create;
  create.if_none_match_any = true;
  absl::StatusOr<std::string> first = store_->Put(bucket_, "lease", "one", create);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::Status exists = store_->Put(bucket_, "lease", "two", create).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(exists)) << exists;
  EXPECT_THAT(exists.message(), HasSubstr(absl::StrCat("PUT s3://", bucket_, "/lease")));
  EXPECT_THAT(exists.message(), HasSubstr("precondition failed (HTTP 412"));

  PutConditions stale;
  stale.if_match = Md5Hex("something else");
  absl::Status changed = store_->Put(bucket_, "lease", "three", stale).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(changed)) << changed;
  absl::StatusOr<std::string> got = store_->Get(bucket_, "lease");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "one");

  PutConditions current;
  current.if_match = *first;
  absl::StatusOr<std::string> second = store_->Put(bucket_, "lease", "four", current);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, Md5Hex("four"));
  // The version just replaced is no longer current.
  EXPECT_TRUE(absl::IsFailedPrecondition(store_->Put(bucket_, "lease", "five", current).status()));
  got = store_->Get(bucket_, "lease");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "four");

  // If-Match on a missing key: 404, as on AWS.
  EXPECT_TRUE(absl::IsNotFound(store_->Put(bucket_, "missing", "x", current).status()));
}

// One PUT up to S3's 5 GiB: 20 MB goes up whole and comes back equal;
// more than max_put_bytes is refused before sending.
TEST_F(S3Test, LargeSinglePutAndTheSizeLimit) {
  const std::string big = RandomBytes(20 << 20, 3);
  absl::StatusOr<std::string> etag = store_->Put(bucket_, "media/big.jpg", big);
  ASSERT_TRUE(etag.ok()) << etag.status();
  EXPECT_EQ(*etag, Md5Hex(big));
  absl::StatusOr<S3Object> head = store_->Head(bucket_, "media/big.jpg");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->size, int64_t{20} << 20);
  absl::StatusOr<std::string> got = store_->Get(bucket_, "media/big.jpg");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == big);

  S3Options small = S3Options::FromEnv();
  small.max_put_bytes = 1000;
  std::unique_ptr<ObjectStore> limited = NewStore(NewCurlHttpClient(), small);
  absl::Status refused = limited->Put(bucket_, "media/too-big", std::string(1001, 'x')).status();
  EXPECT_TRUE(absl::IsInvalidArgument(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr(absl::StrCat("s3://", bucket_, "/media/too-big")));
  EXPECT_EQ(limited->Counts().put, 0);
}

TEST_F(S3Test, ErrorsNameBucketAndKeyWithCodesByWhatToDoNext) {
  const std::string where = absl::StrCat("s3://", bucket_, "/missing/key.json");
  absl::Status missing = store_->Get(bucket_, "missing/key.json").status();
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_THAT(missing.message(), HasSubstr(where));
  EXPECT_THAT(missing.message(), HasSubstr("NoSuchKey"));
  absl::Status head = store_->Head(bucket_, "missing/key.json").status();
  EXPECT_TRUE(absl::IsNotFound(head)) << head;
  EXPECT_THAT(head.message(), HasSubstr(where));

  const std::string no_bucket = absl::StrCat(bucket_, "-none");
  absl::Status bucket = store_->Get(no_bucket, "k").status();
  EXPECT_TRUE(absl::IsNotFound(bucket)) << bucket;
  EXPECT_THAT(bucket.message(), HasSubstr(absl::StrCat("s3://", no_bucket, "/k")));
  absl::Status list = store_->List(no_bucket, "p/", "/").status();
  EXPECT_TRUE(absl::IsNotFound(list)) << list;
  EXPECT_THAT(list.message(), HasSubstr(absl::StrCat("LIST s3://", no_bucket, "/p/")));
  EXPECT_THAT(list.message(), HasSubstr("NoSuchBucket"));

  // Deleting what is not there is no error, as in S3.
  EXPECT_TRUE(store_->Delete(bucket_, "missing/key.json").ok());

  absl::Status dots = store_->Get(bucket_, "a/../b").status();
  EXPECT_TRUE(absl::IsInvalidArgument(dots)) << dots;
  absl::Status bad_bucket = store_->Get("Bad_Bucket", "k").status();
  EXPECT_TRUE(absl::IsInvalidArgument(bad_bucket)) << bad_bucket;

  // Wrong secret: the server refuses the signature.
  ASSERT_TRUE(store_->Put(bucket_, "secret/k", "v").ok());
  ScopedEnv env;
  env.Set("AWS_SECRET_ACCESS_KEY", "0000000000000000000000000000000000000000");
  std::unique_ptr<ObjectStore> wrong = NewStore(NewCurlHttpClient());
  absl::Status denied = wrong->Get(bucket_, "secret/k").status();
  EXPECT_TRUE(absl::IsPermissionDenied(denied)) << denied;
  EXPECT_THAT(denied.message(), HasSubstr(absl::StrCat("s3://", bucket_, "/secret/k")));
  EXPECT_EQ(wrong->Counts().get, 1);  // A 403 is not retried.
}

TEST_F(S3Test, RetriesSlowDownAndTransportFailuresThenGivesUp) {
  for (const absl::Status& fault :
       {absl::OkStatus(), absl::UnavailableError("connection reset (injected)"),
        absl::DeadlineExceededError("timed out (injected)")}) {
    SCOPED_TRACE(fault.ToString());
    auto* flaky = new FlakyHttp(2, fault);
    std::unique_ptr<ObjectStore> store = NewStore(std::unique_ptr<HttpClient>(flaky));
    absl::StatusOr<std::string> etag = store->Put(bucket_, "retry/k", "after two failures");
    ASSERT_TRUE(etag.ok()) << etag.status();
    EXPECT_EQ(flaky->sends.load(), 3);
    EXPECT_EQ(store->Counts().put, 3);  // Retries are billed too.
    absl::StatusOr<std::string> got = store_->Get(bucket_, "retry/k");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, "after two failures");
  }

  auto* down = new FlakyHttp(1000, absl::OkStatus());
  S3Options options = S3Options::FromEnv();
  options.max_attempts = 4;
  std::unique_ptr<ObjectStore> store = NewStore(std::unique_ptr<HttpClient>(down), options);
  const absl::Time start = absl::Now();
  absl::Status failed = store->Get(bucket_, "retry/k").status();
  EXPECT_TRUE(absl::IsUnavailable(failed)) << failed;
  EXPECT_THAT(failed.message(), HasSubstr(absl::StrCat("s3://", bucket_, "/retry/k")));
  EXPECT_THAT(failed.message(), HasSubstr("SlowDown"));
  EXPECT_EQ(down->sends.load(), 4);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));  // Bounded: 3 sleeps of at most 50 ms.
}

// The server's keys, as a credential endpoint would hand them out.
std::string CredentialsJson(const std::string& key, const std::string& secret,
                            absl::Time expiration) {
  return absl::StrCat(R"({"AccessKeyId":")", key, R"(","SecretAccessKey":")", secret,
                      R"(","Token":"","Expiration":")", FormatRfc3339(expiration), R"("})");
}

// The container endpoint hands out the real keys; temporary credentials
// near their expiry are fetched again before the next request.
TEST_F(S3Test, ContainerCredentialsAreUsedAndRefreshedBeforeExpiry) {
  const std::string key = std::getenv("AWS_ACCESS_KEY_ID");
  const std::string secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  for (const absl::Duration lifetime : {absl::Minutes(2), absl::Hours(1)}) {
    CredentialServer server([&, lifetime](const SeenRequest&) {
      return std::pair{200, CredentialsJson(key, secret, absl::Now() + lifetime)};
    });
    ScopedEnv env;
    env.Unset("AWS_ACCESS_KEY_ID");
    env.Unset("AWS_SECRET_ACCESS_KEY");
    env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.Url("/v2/credentials/abc"));
    env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-token");
    std::unique_ptr<ObjectStore> store = NewStore(NewCurlHttpClient());
    ASSERT_TRUE(store->Put(bucket_, "creds/k", "v").ok());
    absl::StatusOr<std::string> got = store->Get(bucket_, "creds/k");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, "v");
    const std::vector<SeenRequest> seen = server.seen();
    // Two minutes left is inside the 5-minute refresh window: fetched for
    // each request; an hour: fetched once.
    EXPECT_EQ(seen.size(), lifetime < absl::Minutes(5) ? 2u : 1u);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen[0].path, "/v2/credentials/abc");
    EXPECT_THAT(seen[0].head, HasSubstr("Authorization: Bearer pod-token"));
  }
}

TEST_F(S3Test, InstanceMetadataV2Credentials) {
  const std::string key = std::getenv("AWS_ACCESS_KEY_ID");
  const std::string secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  CredentialServer server([&](const SeenRequest& request) {
    if (request.method == "PUT" && request.path == "/latest/api/token") {
      return std::pair{200, std::string("imds-token")};
    }
    if (!absl::StrContains(request.head, "X-aws-ec2-metadata-token: imds-token")) {
      return std::pair{401, std::string()};
    }
    if (request.path == "/latest/meta-data/iam/security-credentials/") {
      return std::pair{200, std::string("scout-role\n")};
    }
    if (request.path == "/latest/meta-data/iam/security-credentials/scout-role") {
      return std::pair{200, CredentialsJson(key, secret, absl::Now() + absl::Hours(6))};
    }
    return std::pair{404, std::string()};
  });
  ScopedEnv env;
  env.Unset("AWS_ACCESS_KEY_ID");
  env.Unset("AWS_SECRET_ACCESS_KEY");
  env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.Url(""));
  std::unique_ptr<ObjectStore> store = NewStore(NewCurlHttpClient());
  ASSERT_TRUE(store->Put(bucket_, "imds/k", "v").ok());
  const std::vector<SeenRequest> seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_THAT(seen[0].head, HasSubstr("X-aws-ec2-metadata-token-ttl-seconds: 21600"));
  EXPECT_EQ(seen[2].path, "/latest/meta-data/iam/security-credentials/scout-role");
}

TEST_F(S3Test, WebIdentityCredentialsThroughSts) {
  const std::string key = std::getenv("AWS_ACCESS_KEY_ID");
  const std::string secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  CredentialServer server([&](const SeenRequest& request) {
    return std::pair{
        200,
        absl::StrCat("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
                     "2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>",
                     key, "</AccessKeyId><SecretAccessKey>", secret,
                     "</SecretAccessKey><SessionToken></SessionToken><Expiration>",
                     FormatRfc3339(absl::Now() + absl::Hours(1)),
                     "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
                     "</AssumeRoleWithWebIdentityResponse>")};
  });
  const std::filesystem::path token_file =
      std::filesystem::temp_directory_path() / absl::StrCat("s3_test_token_", getpid());
  std::ofstream(token_file) << "eyJ.web/identity+token\n";
  ScopedEnv env;
  env.Unset("AWS_ACCESS_KEY_ID");
  env.Unset("AWS_SECRET_ACCESS_KEY");
  env.Set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/scout");
  env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.string());
  env.Set("AWS_ENDPOINT_URL_STS", server.Url(""));
  std::unique_ptr<ObjectStore> store = NewStore(NewCurlHttpClient());
  ASSERT_TRUE(store->Put(bucket_, "sts/k", "v").ok());
  ASSERT_TRUE(store->Get(bucket_, "sts/k").ok());
  std::filesystem::remove(token_file);
  const std::vector<SeenRequest> seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);  // Valid for an hour: asked once.
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_THAT(seen[0].body, HasSubstr("Action=AssumeRoleWithWebIdentity"));
  EXPECT_THAT(seen[0].body, HasSubstr("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fscout"));
  // The token file's trailing newline is not part of the token.
  EXPECT_TRUE(absl::EndsWith(seen[0].body, "&WebIdentityToken=eyJ.web%2Fidentity%2Btoken"))
      << seen[0].body;
}

TEST(S3ChainTest, NothingConfiguredIsAClearError) {
  ScopedEnv env;
  for (const char* name :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"}) {
    env.Unset(name);
  }
  env.Set("AWS_EC2_METADATA_DISABLED", "true");
  absl::StatusOr<AwsCredentials> none = NewAwsCredentialsChain(NewCurlHttpClient(), "r")->Get();
  EXPECT_TRUE(absl::IsFailedPrecondition(none.status())) << none.status();
  EXPECT_THAT(none.status().message(), HasSubstr("AWS_ACCESS_KEY_ID"));
}

TEST_F(S3Test, LakeListsOneLevelAndReads) {
  ASSERT_TRUE(store_->Put(bucket_, "lake/instagram_graph/posts/1/a.json", "{\"a\":1}").ok());
  ASSERT_TRUE(store_->Put(bucket_, "lake/instagram_graph/posts/1/b.json", "{}").ok());
  ASSERT_TRUE(store_->Put(bucket_, "lake/instagram_graph/posts/2/c.json", "{}").ok());
  ASSERT_TRUE(store_->Put(bucket_, "lake/instagram_graph/posts/1/.tmp", "x").ok());
  ASSERT_TRUE(store_->Put(bucket_, "lake/instagram_graph/readme.txt", "hello").ok());
  absl::StatusOr<S3Location> location = ParseS3Url(absl::StrCat("s3://", bucket_, "/lake"));
  ASSERT_TRUE(location.ok()) << location.status();
  std::shared_ptr<ObjectStore> shared = NewStore(NewCurlHttpClient());
  std::unique_ptr<Lake> lake = NewS3Lake(shared, *location);

  absl::StatusOr<std::vector<LakeEntry>> top = lake->List("instagram_graph/");
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].name, "posts");
  EXPECT_TRUE((*top)[0].is_dir);
  EXPECT_EQ((*top)[1].name, "readme.txt");
  EXPECT_FALSE((*top)[1].is_dir);
  EXPECT_EQ((*top)[1].size, 5);
  EXPECT_EQ((*top)[1].etag, Md5Hex("hello"));
  // LastModified stands in for the mtime.
  EXPECT_LT(absl::AbsDuration(absl::FromUnixNanos((*top)[1].mtime_ns) - absl::Now()),
            absl::Minutes(2));

  absl::StatusOr<std::vector<LakeEntry>> posts = lake->List("instagram_graph/posts/1");
  ASSERT_TRUE(posts.ok()) << posts.status();
  ASSERT_EQ(posts->size(), 2u);  // .tmp is hidden, as in a local lake.
  EXPECT_EQ((*posts)[0].name, "a.json");
  EXPECT_EQ((*posts)[0].size, 7);
  EXPECT_EQ((*posts)[1].name, "b.json");

  absl::StatusOr<std::vector<LakeEntry>> missing = lake->List("instagram_graph/none/");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_TRUE(missing->empty());

  absl::StatusOr<std::string> read = lake->Read("instagram_graph/posts/1/a.json");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "{\"a\":1}");
  EXPECT_TRUE(absl::IsNotFound(lake->Read("instagram_graph/posts/1/zz.json").status()));

  std::unique_ptr<Lake> no_bucket = NewS3Lake(shared, S3Location{bucket_ + "-none", ""});
  EXPECT_TRUE(absl::IsNotFound(no_bucket->List("").status()));
}

// The flat listing ingest uses: every file under a prefix in LISTs of 1,000
// keys, whatever folders hold them (one LIST per creator folder would cost
// 50,000 LISTs a day at 50,000 creators).
TEST_F(S3Test, LakeListsEveryFileUnderAPrefixInPagesOfAThousand) {
  std::vector<std::string> keys;
  for (int creator = 0; creator < 40; ++creator) {
    for (int post = 0; post < 30; ++post) {
      keys.push_back(absl::StrCat("lake/posts/", 1000 + creator, "/", post, ".json"));
    }
  }
  // Byte order of the keys: "a-b" < "a/..." < "a0" ('-' < '/' < '0').
  for (const char* key :
       {"lake/posts/a-b", "lake/posts/a/x.json", "lake/posts/a0", "lake/posts/1000/deep/er.json"}) {
    keys.push_back(key);
  }
  std::vector<std::string> hidden = {"lake/posts/1000/.tmp.json", "lake/posts/.staging/1.json",
                                     "lake/posts/1001/", "lake/other/1.json"};
  std::vector<std::thread> writers;
  std::atomic<int> failed{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = t; i < keys.size() + hidden.size(); i += 4) {
        const std::string& key = i < keys.size() ? keys[i] : hidden[i - keys.size()];
        if (!store_->Put(bucket_, key, std::string(i % 7 + 1, 'x')).ok()) ++failed;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  ASSERT_EQ(failed.load(), 0);

  std::shared_ptr<ObjectStore> shared = NewStore(NewCurlHttpClient());
  std::unique_ptr<Lake> lake = NewS3Lake(shared, S3Location{bucket_, "lake/"});
  std::vector<std::string> names;
  std::vector<size_t> pages;
  absl::Status listed = lake->ListFiles("posts/", [&](std::vector<LakeEntry>& page) {
    pages.push_back(page.size());
    for (const LakeEntry& entry : page) {
      EXPECT_FALSE(entry.is_dir);
      EXPECT_FALSE(entry.etag.empty()) << entry.name;
      names.push_back(entry.name);
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(listed.ok()) << listed;
  // 1,200 posts + 4 others + 4 skipped keys: two LISTs (the second page
  // loses the skipped keys).
  EXPECT_EQ(shared->Counts().list, 2);
  ASSERT_EQ(pages.size(), 2u);
  std::vector<std::string> expected;
  for (const std::string& key : keys) expected.push_back(key.substr(strlen("lake/posts/")));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);
  EXPECT_THAT(std::vector<std::string>(names.end() - 3, names.end()),
              ElementsAre("a-b", "a/x.json", "a0"));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));

  // The visitor's error stops the listing.
  int calls = 0;
  absl::Status stopped = lake->ListFiles("posts", [&](std::vector<LakeEntry>&) {
    ++calls;
    return absl::CancelledError("enough");
  });
  EXPECT_TRUE(absl::IsCancelled(stopped)) << stopped;
  EXPECT_EQ(calls, 1);

  // Nothing under a missing prefix; a missing bucket is an error.
  ASSERT_TRUE(lake->ListFiles("none/",
                              [&](std::vector<LakeEntry>&) {
                                ADD_FAILURE() << "a page for a missing prefix";
                                return absl::OkStatus();
                              })
                  .ok());
  std::unique_ptr<Lake> no_bucket = NewS3Lake(shared, S3Location{bucket_ + "-none", ""});
  EXPECT_TRUE(absl::IsNotFound(
      no_bucket->ListFiles("", [](std::vector<LakeEntry>&) { return absl::OkStatus(); })));
}

TEST_F(S3Test, MediaStoreKnowsStoredPicturesByHeadNeverGet) {
  std::shared_ptr<ObjectStore> shared = NewStore(NewCurlHttpClient());
  std::unique_ptr<MediaStore> media =
      NewS3MediaStore(shared, S3Location{bucket_, "media/"}, "https://cdn.example/m/");
  const std::string key = PostMediaKey("17841", "9001", 0);
  EXPECT_FALSE(media->Exists(key));
  ASSERT_TRUE(media->Put(key, "\xFF\xD8jpeg").ok());
  EXPECT_TRUE(media->Exists(key));
  EXPECT_EQ(shared->Counts().head, 2);
  EXPECT_EQ(shared->Counts().get, 0);
  absl::StatusOr<std::string> stored = store_->Get(bucket_, "media/17841/9001/0.jpg");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, "\xFF\xD8jpeg");
  EXPECT_EQ(media->Url(key), "https://cdn.example/m/17841/9001/0.jpg");

  std::unique_ptr<MediaStore> by_default = NewS3MediaStore(shared, S3Location{bucket_, "m/"}, "");
  EXPECT_EQ(by_default->Url("1/2/0.jpg"),
            absl::StrCat(std::getenv("AWS_ENDPOINT_URL"), "/", bucket_, "/m/1/2/0.jpg"));
}

TEST(S3UrlTest, ParsesAndNamesWhatIsWrong) {
  absl::StatusOr<S3Location> full = ParseS3Url("s3://scout-lake/raw/instagram/");
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->bucket, "scout-lake");
  EXPECT_EQ(full->prefix, "raw/instagram/");
  absl::StatusOr<S3Location> bare = ParseS3Url("s3://scout-lake");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->prefix, "");
  EXPECT_EQ(ParseS3Url("s3://scout-lake/a")->prefix, "a/");

  EXPECT_TRUE(IsS3Url("s3:/oops"));
  EXPECT_TRUE(IsS3Url("S3://x"));
  EXPECT_FALSE(IsS3Url("/data/lake"));
  for (const char* bad : {"s3:/oops", "s3://", "s3:///prefix", "s3://Upper_Case/x", "s3://ab",
                          "s3://bucket//x", "s3://bucket/a/../b"}) {
    absl::StatusOr<S3Location> parsed = ParseS3Url(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr(bad));
  }
}

}  // namespace
}  // namespace scout
