// Media URLs are hostile: the fetch policy (schemes, host allowlist,
// redirects, internal addresses, local files, body cap), the picture check
// and the HTTP client's deadline. A tiny HTTP server on 127.0.0.1 (port 0)
// stands in for a CDN and for an internal service.
#include "common/backends/media_fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/backends/media_copier.h"
#include "common/io/media_store.h"

namespace scout {
namespace {

namespace fs = std::filesystem;

const std::string kJpeg = std::string("\xFF\xD8\xFF\xE0", 4) + "jpeg body";

// Serves canned answers by path, one request per connection.
class TinyServer {
 public:
  TinyServer() {
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
  ~TinyServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
  }

  void Route(const std::string& path, std::string response) { routes_[path] = std::move(response); }
  std::string Url(absl::string_view path, absl::string_view host = "127.0.0.1") const {
    return absl::StrCat("http://", host, ":", port_, path);
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }

  static std::string Ok(const std::string& body) {
    return absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                        "\r\nConnection: close\r\n\r\n", body);
  }
  static std::string Redirect(const std::string& location) {
    return absl::StrCat("HTTP/1.1 302 Found\r\nLocation: ", location,
                        "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  }
  static std::string Chunked(size_t size) {
    std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    for (size_t sent = 0; sent < size; sent += 1000) {
      absl::StrAppend(&out, "3e8\r\n", kJpeg, std::string(1000 - kJpeg.size(), 'x'), "\r\n");
    }
    return out + "0\r\n\r\n";
  }

 private:
  void Serve() {
    for (;;) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::string request;
      char buffer[4096];
      while (!absl::StrContains(request, "\r\n\r\n")) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      ++requests_;
      const size_t start = request.find(' ') + 1;
      const std::string path = request.substr(start, request.find(' ', start) - start);
      const auto route = routes_.find(path);
      const std::string answer = route != routes_.end()
                                     ? route->second
                                     : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      for (size_t sent = 0; sent < answer.size();) {
        const ssize_t n = write(fd, answer.data() + sent, answer.size() - sent);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      close(fd);
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::map<std::string, std::string> routes_;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

MediaFetchPolicy Policy(const std::string& allow, int64_t max_bytes = 1 << 20) {
  absl::StatusOr<MediaFetchPolicy> policy = MediaFetchPolicy::Parse(allow, max_bytes);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : MediaFetchPolicy();
}

class MediaFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Route("/ok/pic.jpg", TinyServer::Ok(kJpeg));
    server_.Route("/ok/in", TinyServer::Redirect("/ok/pic.jpg"));
    server_.Route("/ok/out", TinyServer::Redirect("/secret"));
    server_.Route("/ok/file", TinyServer::Redirect("file:///etc/passwd"));
    server_.Route("/ok/loop", TinyServer::Redirect("/ok/loop"));
    server_.Route("/ok/text", TinyServer::Ok("root:x:0:0:root:/root:/bin/bash\n"));
    server_.Route("/ok/big", TinyServer::Ok(kJpeg + std::string(5000, 'x')));
    server_.Route("/ok/chunked", TinyServer::Chunked(5000));
    server_.Route("/secret", TinyServer::Ok(kJpeg));
  }

  absl::StatusOr<HttpResponse> Fetch(const MediaFetchPolicy& policy, const std::string& url) {
    return FetchMedia(*http_, *FileSystem::Default(), policy, url, absl::Seconds(5));
  }

  TinyServer server_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient();
};

TEST_F(MediaFetchTest, TheDefaultAllowsOnlyTheInstagramCdnOverHttp) {
  const MediaFetchPolicy policy;
  EXPECT_TRUE(policy.Check("https://scontent-cdg4-1.cdninstagram.com/v/t51/1.jpg?x=1").ok());
  EXPECT_TRUE(policy.Check("https://scontent.xx.fbcdn.net/v/p.jpg").ok());
  EXPECT_FALSE(policy.Check("https://scontent.xx.fbcdn.net/v/p.jpg")->allow_private);
  for (const char* url :
       {"file:///etc/passwd", "http://127.0.0.1:9200/_cat/indices", "http://169.254.169.254/",
        "https://evilcdninstagram.com/x.jpg", "https://cdninstagram.com.evil.net/x.jpg",
        "https://a.cdninstagram.com@evil.net/x.jpg", "gopher://a.cdninstagram.com/x",
        "ftp://a.cdninstagram.com/x", "javascript:alert(1)", "/relative.jpg", "",
        "https://a.cdninstagram.com/x y.jpg", "https://user:pw@a.cdninstagram.com/x.jpg"}) {
    const absl::StatusOr<MediaFetchPolicy::Target> target = policy.Check(url);
    EXPECT_TRUE(absl::IsPermissionDenied(target.status())) << url << ": " << target.status();
  }
  server_.Route("/etc", TinyServer::Ok(kJpeg));
  EXPECT_TRUE(absl::IsPermissionDenied(Fetch(policy, server_.Url("/ok/pic.jpg")).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(Fetch(policy, "file:///etc/passwd").status()));
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(MediaFetchTest, WhatIsCheckedIsWhatIsFetched) {
  // curl reads lenient spellings ("HTTPS:/host/p"); the policy hands back its
  // canonical form and the fetch sends exactly that (found by fuzz_normalize).
  const MediaFetchPolicy cdn;
  const absl::StatusOr<MediaFetchPolicy::Target> target =
      cdn.Check("HTTPS:/scontent.CDNINSTAGRAM.com/v/1.jpg");
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->url, "https://scontent.CDNINSTAGRAM.com/v/1.jpg");

  const std::string lenient = absl::StrCat("HTTP:/127.0.0.1:", server_.port(), "/ok/pic.jpg");
  const absl::StatusOr<HttpResponse> fetched = Fetch(Policy(server_.Url("/ok/")), lenient);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(fetched->body, kJpeg);
}

TEST_F(MediaFetchTest, BadEntriesAreRejectedByName) {
  for (const char* allow :
       {"ftp://x/", "https://x/no-slash", "file://host/dir/", ".", "a/b", "file:///a/../b/"}) {
    const absl::StatusOr<MediaFetchPolicy> policy = MediaFetchPolicy::Parse(allow, 10);
    EXPECT_TRUE(absl::IsInvalidArgument(policy.status())) << allow;
    EXPECT_TRUE(absl::StrContains(policy.status().message(), "--media_source_allow")) << allow;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(MediaFetchPolicy::Parse(".x.com", 0).status()));
}

TEST_F(MediaFetchTest, LoopbackIsRefusedUnlessTheHostIsNamedExplicitly) {
  // The domain is allowed, but it resolves to loopback: a suffix only ever
  // reaches public addresses.
  const absl::StatusOr<HttpResponse> refused =
      Fetch(Policy(".localhost"), server_.Url("/ok/pic.jpg", "localhost"));
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "internal address"));
  EXPECT_EQ(server_.requests(), 0);

  const absl::StatusOr<HttpResponse> named = Fetch(
      Policy(absl::StrCat("localhost:", server_.port())), server_.Url("/ok/pic.jpg", "localhost"));
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->status, 200);
  EXPECT_EQ(named->body, kJpeg);
}

TEST_F(MediaFetchTest, RedirectsAreCheckedAtEveryHop) {
  const MediaFetchPolicy policy = Policy(server_.Url("/ok/"));
  const absl::StatusOr<HttpResponse> inside = Fetch(policy, server_.Url("/ok/in"));
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_EQ(inside->body, kJpeg);
  EXPECT_EQ(server_.requests(), 2);

  for (const char* path : {"/ok/out", "/ok/file"}) {
    const absl::StatusOr<HttpResponse> outside = Fetch(policy, server_.Url(path));
    EXPECT_TRUE(absl::IsPermissionDenied(outside.status())) << path << ": " << outside.status();
    EXPECT_TRUE(absl::StrContains(outside.status().message(), "redirected to")) << path;
  }
  EXPECT_EQ(server_.requests(), 4);  // /secret was never asked for.
  EXPECT_TRUE(absl::IsFailedPrecondition(Fetch(policy, server_.Url("/ok/loop")).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(Fetch(policy, server_.Url("/ok/../secret")).status()));
}

TEST_F(MediaFetchTest, BodiesOverTheCapAbort) {
  const MediaFetchPolicy policy = Policy(server_.Url("/ok/"), 1000);
  for (const char* path : {"/ok/big", "/ok/chunked"}) {
    const absl::StatusOr<HttpResponse> big = Fetch(policy, server_.Url(path));
    EXPECT_TRUE(absl::IsFailedPrecondition(big.status())) << path << ": " << big.status();
    EXPECT_TRUE(absl::StrContains(big.status().message(), "larger than 1000")) << path;
  }
  EXPECT_TRUE(Fetch(Policy(server_.Url("/ok/"), 6000), server_.Url("/ok/chunked")).ok());
}

TEST_F(MediaFetchTest, LocalFilesOnlyUnderTheNamedDirectory) {
  const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat("media-fetch-", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir / "cdn");
  ASSERT_TRUE(WriteFileAtomically((dir / "cdn/pic.jpg").string(), kJpeg).ok());
  ASSERT_TRUE(WriteFileAtomically((dir / "secret.jpg").string(), kJpeg).ok());
  fs::create_symlink("/dev/zero", dir / "cdn/zero.jpg");
  const std::string cdn = absl::StrCat("file://", (dir / "cdn").string(), "/");
  const MediaFetchPolicy policy = Policy(cdn);
  const absl::StatusOr<HttpResponse> pic = Fetch(policy, cdn + "pic.jpg");
  ASSERT_TRUE(pic.ok()) << pic.status();
  EXPECT_EQ(pic->status, 200);
  EXPECT_EQ(pic->body, kJpeg);
  for (const std::string& url : {cdn + "../secret.jpg", cdn + "%2e%2e/secret.jpg",
                                 absl::StrCat("file://", dir.string(), "/secret.jpg"),
                                 std::string("file:///etc/passwd"), cdn + "./pic.jpg"}) {
    EXPECT_TRUE(absl::IsPermissionDenied(Fetch(policy, url).status())) << url;
  }
  // Not a regular file: never read (it would never end).
  EXPECT_TRUE(absl::IsFailedPrecondition(Fetch(policy, cdn + "zero.jpg").status()));
  fs::remove_all(dir);
}

TEST_F(MediaFetchTest, TheCopierStoresOnlyPicturesAndCountsRefusals) {
  const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat("media-copy-", getpid());
  fs::remove_all(dir);
  std::unique_ptr<MediaStore> store = NewLocalMediaStore(dir.string(), "");
  MediaCopyOptions options;
  options.first_backoff = absl::Milliseconds(1);
  options.policy = Policy(server_.Url("/ok/"));
  MediaCopier copier(http_.get(), store.get(), options);
  MediaCopyStats stats;
  const std::vector<absl::Status> results =
      copier.CopyBatch({{server_.Url("/ok/pic.jpg"), "1/pic.jpg"},
                        {server_.Url("/ok/text"), "1/text.jpg"},
                        {"file:///etc/passwd", "1/passwd.jpg"},
                        {server_.Url("/secret"), "1/secret.jpg"}},
                       stats);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_TRUE(absl::IsFailedPrecondition(results[1])) << results[1];
  EXPECT_TRUE(absl::IsPermissionDenied(results[2])) << results[2];
  EXPECT_TRUE(absl::IsPermissionDenied(results[3])) << results[3];
  EXPECT_EQ(stats.fetched, 1);
  EXPECT_EQ(stats.failed, 3);
  EXPECT_EQ(stats.refused, 2);
  EXPECT_EQ(*store->Get("1/pic.jpg"), kJpeg);
  EXPECT_FALSE(store->Exists("1/text.jpg"));
  EXPECT_FALSE(store->Exists("1/passwd.jpg"));
  EXPECT_EQ(server_.requests(), 2);  // Final answers are not retried.
  fs::remove_all(dir);
}

TEST(LooksLikePictureTest, MagicBytes) {
  EXPECT_TRUE(LooksLikePicture(kJpeg));
  EXPECT_TRUE(LooksLikePicture(std::string("\x89PNG\r\n\x1A\n....", 12)));
  EXPECT_TRUE(LooksLikePicture("GIF89a..."));
  EXPECT_TRUE(LooksLikePicture(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)));
  EXPECT_FALSE(LooksLikePicture("root:x:0:0"));
  EXPECT_FALSE(LooksLikePicture("<html>"));
  EXPECT_FALSE(LooksLikePicture(""));
}

TEST(CheckPublicAddressTest, InternalRangesAreRefused) {
  auto v4 = [](const char* text) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    inet_pton(AF_INET, text, &address.sin_addr);
    return CheckPublicAddress(reinterpret_cast<const sockaddr&>(address));
  };
  auto v6 = [](const char* text) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &address.sin6_addr);
    return CheckPublicAddress(reinterpret_cast<const sockaddr&>(address));
  };
  for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                        "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1"}) {
    EXPECT_TRUE(absl::IsPermissionDenied(v4(a))) << a;
  }
  for (const char* a : {"::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"}) {
    EXPECT_TRUE(absl::IsPermissionDenied(v6(a))) << a;
  }
  for (const char* a : {"157.240.1.1", "8.8.8.8", "172.32.0.1"}) EXPECT_TRUE(v4(a).ok()) << a;
  EXPECT_TRUE(v6("2a03:2880::1").ok());
}

TEST(HttpDeadlineTest, UnderAMillisecondIsExceededWithoutSending) {
  TinyServer server;
  server.Route("/x", TinyServer::Ok("x"));
  std::unique_ptr<HttpClient> http = NewCurlHttpClient();
  HttpRequest request;
  request.url = server.Url("/x");
  request.timeout = absl::Microseconds(500);
  EXPECT_TRUE(absl::IsDeadlineExceeded(http->Send(request).status()));
  request.timeout = absl::ZeroDuration();
  EXPECT_TRUE(absl::IsDeadlineExceeded(http->Send(request).status()));
  EXPECT_EQ(server.requests(), 0);
  request.timeout = absl::Seconds(5);
  EXPECT_TRUE(http->Send(request).ok());
  EXPECT_EQ(server.requests(), 1);
}

}  // namespace
}  // namespace scout
