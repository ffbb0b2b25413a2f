// scout-ingest --follow's event adapters and queue, without services: AWS S3
// event records as AWS documents them (raw and in SNS envelopes), SeaweedFS
// filer webhook bodies as its Go code writes them, hostile bodies, the
// receiver over real HTTP, the queue's deduplication and lanes, which posts
// stay fresh, and the sweep's flat listing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/backends/http.h"
#include "workers/ingest/changes.h"
#include "workers/ingest/events.h"
#include "workers/ingest/follow.h"
#include "workers/ingest/ingest.h"

namespace scout::ingest {
namespace {

using nlohmann::json;

// AWS's documented example message ("Event message structure", S3 user
// guide), verbatim.
constexpr char kAwsDocumentedRecord[] = R"({
  "Records":[
    {
      "eventVersion":"2.1",
      "eventSource":"aws:s3",
      "awsRegion":"us-west-2",
      "eventTime":"1970-01-01T00:00:00.000Z",
      "eventName":"ObjectCreated:Put",
      "userIdentity":{
        "principalId":"AIDAJDPLRKLG7UEXAMPLE"
      },
      "requestParameters":{
        "sourceIPAddress":"172.16.0.1"
      },
      "responseElements":{
        "x-amz-request-id":"C3D13FE58DE4C810",
        "x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
      },
      "s3":{
        "s3SchemaVersion":"1.0",
        "configurationId":"testConfigRule",
        "bucket":{
          "name":"amzn-s3-demo-bucket",
          "ownerIdentity":{
            "principalId":"A3NL1KOZZKExample"
          },
          "arn":"arn:aws:s3:::amzn-s3-demo-bucket"
        },
        "object":{
          "key":"HappyFace.jpg",
          "size":1024,
          "eTag":"d41d8cd98f00b204e9800998ecf8427e",
          "versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko",
          "sequencer":"0055AED6DCD90281E5"
        }
      }
    }
  ]
})";

// The S3 test message S3 sends when a notification is configured.
constexpr char kAwsTestEvent[] =
    R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z",)"
    R"("Bucket":"amzn-s3-demo-bucket","RequestId":"5582815E1AEA5ADF",)"
    R"("HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"})";

// A record for the lake's bucket, in the documented shape.
json Record(const std::string& event, const std::string& bucket, const std::string& key,
            int64_t size, const std::string& time) {
  return {{"eventVersion", "2.1"},
          {"eventSource", "aws:s3"},
          {"awsRegion", "eu-west-1"},
          {"eventTime", time},
          {"eventName", event},
          {"s3",
           {{"s3SchemaVersion", "1.0"},
            {"configurationId", "scout-posts"},
            {"bucket", {{"name", bucket}, {"arn", "arn:aws:s3:::" + bucket}}},
            {"object",
             {{"key", key},
              {"size", size},
              {"eTag", "0123456789abcdef0123456789abcdef"},
              {"sequencer", "0055AED6DCD90281E5"}}}}}};
}

// An SNS HTTP(S) notification envelope (SNS developer guide's format).
json SnsEnvelope(const std::string& message) {
  return {{"Type", "Notification"},
          {"MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"},
          {"TopicArn", "arn:aws:sns:eu-west-1:123456789012:scout-lake"},
          {"Subject", "Amazon S3 Notification"},
          {"Message", message},
          {"Timestamp", "2026-11-20T10:00:01.655Z"},
          {"SignatureVersion", "1"},
          {"Signature", "EXAMPLEw6JRN"},
          {"SigningCertURL",
           "https://sns.eu-west-1.amazonaws.com/"
           "SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"},
          {"UnsubscribeURL", "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"}};
}

const S3Location kLake{"scout-lake", "raw/"};

TEST(AwsEventsTest, ReadsTheDocumentedSample) {
  absl::StatusOr<ParsedEvents> parsed =
      ParseAwsS3Events(kAwsDocumentedRecord, S3Location{"amzn-s3-demo-bucket", ""});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->changes.size(), 1u);
  const Change& change = parsed->changes[0];
  EXPECT_EQ(change.key, "HappyFace.jpg");
  EXPECT_EQ(change.size, 1024);
  EXPECT_EQ(change.etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(change.landed, absl::UnixEpoch());
  EXPECT_EQ(change.mtime_ns, 0);  // An event's time is not the listing's LastModified.
  EXPECT_FALSE(change.listed);
  EXPECT_EQ(change.source, "s3");

  // The same record for another bucket, or outside the prefix, is not the lake's.
  parsed = ParseAwsS3Events(kAwsDocumentedRecord, kLake);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->changes.empty());
  EXPECT_EQ(parsed->ignored, 1);
  parsed = ParseAwsS3Events(kAwsDocumentedRecord, S3Location{"amzn-s3-demo-bucket", "raw/"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->changes.empty());

  parsed = ParseAwsS3Events(kAwsTestEvent, kLake);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->changes.empty());
}

TEST(AwsEventsTest, DecodesKeysFiltersEventsAndUnwrapsSns) {
  const json records = {
      {"Records",
       {Record("ObjectCreated:Put", "scout-lake",
               "raw/instagram_graph/posts/17841/caf%C3%A9+1.json", 321, "2026-11-20T10:00:00.250Z"),
        Record("ObjectCreated:CompleteMultipartUpload", "scout-lake",
               "raw/instagram_graph/posts/17841/2.json", 10, "2026-11-20T10:00:01Z"),
        Record("ObjectRemoved:Delete", "scout-lake", "raw/instagram_graph/posts/17841/3.json", 0,
               "2026-11-20T10:00:01Z"),
        Record("ObjectCreated:Put", "other-bucket", "raw/instagram_graph/posts/17841/4.json", 1,
               "2026-11-20T10:00:01Z"),
        Record("ObjectCreated:Put", "scout-lake", "elsewhere/5.json", 1, "2026-11-20T10:00:01Z")}}};
  const std::string sns = SnsEnvelope(records.dump()).dump();
  for (const std::string& body : {records.dump(), sns}) {
    absl::StatusOr<ParsedEvents> parsed = ParseAwsS3Events(body, kLake);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->changes.size(), 2u);
    EXPECT_EQ(parsed->changes[0].key, "instagram_graph/posts/17841/caf\xC3\xA9 1.json");
    EXPECT_EQ(parsed->changes[0].size, 321);
    EXPECT_EQ(
        parsed->changes[0].landed,
        absl::FromUnixMillis(absl::ToUnixMillis(absl::FromCivil(
                                 absl::CivilSecond(2026, 11, 20, 10, 0, 0), absl::UTCTimeZone())) +
                             250));
    EXPECT_EQ(parsed->changes[1].key, "instagram_graph/posts/17841/2.json");
    EXPECT_EQ(parsed->ignored, 3);
  }

  const json confirmation = {
      {"Type", "SubscriptionConfirmation"},
      {"MessageId", "165545c9-2a5c-472c-8df2-7ff2be2b3b1b"},
      {"Token", "2336412f37"},
      {"TopicArn", "arn:aws:sns:eu-west-1:123456789012:scout-lake"},
      {"Message", "You have chosen to subscribe to the topic."},
      {"SubscribeURL",
       "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37"},
      {"Timestamp", "2012-04-26T20:45:04.751Z"}};
  absl::StatusOr<ParsedEvents> parsed = ParseAwsS3Events(confirmation.dump(), kLake);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->changes.empty());
  EXPECT_EQ(parsed->subscribe_url,
            "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37");
}

TEST(AwsEventsTest, RefusesHostileBodiesSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {R"({"Records":{}})", "Records: expected an array"},
      {R"({"Records":[1]})", "Records[0]: expected an object"},
      {R"({"Records":[{"eventName":"ObjectCreated:Put"}]})", "Records[0].s3"},
      {Record("ObjectCreated:Put", "scout-lake", "raw/a%zz.json", 1, "2026-11-20T10:00:00Z").dump(),
       "Records: missing"},
      {json{{"Records",
             {Record("ObjectCreated:Put", "scout-lake", "raw/a%zz.json", 1,
                     "2026-11-20T10:00:00Z")}}}
           .dump(),
       "Records[0].s3.object.key: a bad %-escape"},
      {json{{"Records",
             {Record("ObjectCreated:Put", "scout-lake", "raw/a.json", -4, "2026-11-20T10:00:00Z")}}}
           .dump(),
       "Records[0].s3.object.size"},
      {json{{"Records", {Record("ObjectCreated:Put", "scout-lake", "raw/a.json", 1, "yesterday")}}}
           .dump(),
       "Records[0].eventTime: not a time"},
      {R"({"Type":"Notification"})", "SNS Notification: Message missing"},
      {SnsEnvelope("not json").dump(), "SNS Message: the body is not a JSON object"},
      {R"({"Type":"Nonsense"})", "unknown SNS message type"},
  };
  for (const auto& [body, expected] : cases) {
    absl::StatusOr<ParsedEvents> parsed = ParseAwsS3Events(body, kLake);
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(expected), std::string::npos)
        << parsed.status() << " for " << body;
  }
}

// What SeaweedFS's webhook posts (weed/notification/webhook/http.go: the
// EventNotification through Go's encoding/json, bytes in base64).
json SeaweedBody(const std::string& key, const json& old_entry, const json& new_entry,
                 const std::string& new_parent) {
  json message = json::object();
  if (!old_entry.is_null()) message["old_entry"] = old_entry;
  if (!new_entry.is_null()) message["new_entry"] = new_entry;
  if (!new_parent.empty()) message["new_parent_path"] = new_parent;
  message["signatures"] = {-1170180347};
  return {{"key", key},
          {"event_type", new_entry.is_null() ? "delete" : "create"},
          {"message", message}};
}

json SeaweedEntry(const std::string& name, int64_t size, int64_t mtime) {
  return {
      {"name", name},
      {"chunks", {{{"file_id", "3,01637037d6"}, {"size", size}}}},
      {"attributes",
       {{"file_size", size},
        {"mtime", mtime},
        {"file_mode", 432},
        {"crtime", mtime},
        {"mime", "application/json"},
        {"md5", absl::Base64Escape(absl::HexStringToBytes("0123456789abcdef0123456789abcdef"))}}}};
}

TEST(SeaweedEventsTest, CreatesUpdatesAndRenamesYieldTheNewPath) {
  const std::string dir = "/buckets/scout-lake/raw/instagram_graph/posts/17841";
  absl::StatusOr<ParsedEvents> parsed = ParseSeaweedEvent(
      SeaweedBody(dir + "/1.json", nullptr, SeaweedEntry("1.json", 77, 1795000000), dir).dump(),
      kLake);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->changes.size(), 1u);
  const Change& change = parsed->changes[0];
  EXPECT_EQ(change.key, "instagram_graph/posts/17841/1.json");
  EXPECT_EQ(change.size, 77);
  EXPECT_EQ(change.mtime_ns, int64_t{1795000000} * 1'000'000'000);
  EXPECT_EQ(change.landed, absl::FromUnixSeconds(1795000000));
  EXPECT_EQ(change.etag, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(change.source, "seaweedfs");

  // A rename into the lake: the new path counts.
  parsed = ParseSeaweedEvent(SeaweedBody("/buckets/scout-lake/tmp/x", SeaweedEntry("x", 5, 1),
                                         SeaweedEntry("2.json", 5, 2), dir)
                                 .dump(),
                             kLake);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->changes.size(), 1u);
  EXPECT_EQ(parsed->changes[0].key, "instagram_graph/posts/17841/2.json");

  // Deletes, folders, other buckets and prefixes are ignored.
  json folder = SeaweedEntry("17841", 0, 1);
  folder["is_directory"] = true;
  for (const json& body :
       {SeaweedBody(dir + "/1.json", SeaweedEntry("1.json", 77, 1), nullptr, ""),
        SeaweedBody(dir, nullptr, folder, "/buckets/scout-lake/raw/instagram_graph/posts"),
        SeaweedBody("/buckets/other/raw/a.json", nullptr, SeaweedEntry("a.json", 1, 1),
                    "/buckets/other/raw"),
        SeaweedBody("/buckets/scout-lake/cooked/a.json", nullptr, SeaweedEntry("a.json", 1, 1),
                    "/buckets/scout-lake/cooked"),
        SeaweedBody("/buckets/scout-lake-2/raw/a.json", nullptr, SeaweedEntry("a.json", 1, 1),
                    "/buckets/scout-lake-2/raw")}) {
    parsed = ParseSeaweedEvent(body.dump(), kLake);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(parsed->changes.empty()) << body.dump();
    EXPECT_EQ(parsed->ignored, 1);
  }

  for (const std::string& bad :
       {std::string("{"), std::string(R"({"key":"/a","message":7})"),
        std::string(R"({"message":{}})"),
        std::string(R"({"key":"/a","message":{"new_entry":{"name":"a"}}})")}) {
    parsed = ParseSeaweedEvent(bad, kLake);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ChangeQueueTest, DeduplicatesKeepsTheFirstLandingAndReadsAfterAnEvent) {
  ChangeQueue queue;
  Change listed{"k1", 10, 100, "", absl::FromUnixSeconds(50), false, "sweep"};
  ASSERT_TRUE(queue.OfferListed({listed}));
  Change event{"k1", 12, 0, "e", absl::FromUnixSeconds(60), false, "s3"};
  ASSERT_TRUE(queue.Offer(event));
  ASSERT_TRUE(queue.Offer(Change{"k2", 1, 0, "", absl::InfinitePast(), false, "s3"}));
  EXPECT_EQ(queue.depth(), 2u);
  std::vector<Change> taken = queue.Take(10, absl::ZeroDuration(), absl::Now());
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].key, "k1");
  EXPECT_EQ(taken[0].size, 12);                           // The later offer's facts...
  EXPECT_EQ(taken[0].landed, absl::FromUnixSeconds(50));  // ...but the first landing.
  EXPECT_FALSE(taken[0].listed);                          // An event says: read it.
  EXPECT_EQ(taken[1].key, "k2");

  // Full: events are refused, until there is room.
  ChangeQueue small(1);
  ASSERT_TRUE(small.Offer(Change{"a", 1, 0, "", absl::InfinitePast(), false, "s3"}));
  EXPECT_FALSE(small.Offer(Change{"b", 1, 0, "", absl::InfinitePast(), false, "s3"}));
  EXPECT_TRUE(small.Offer(Change{"a", 2, 0, "", absl::InfinitePast(), false, "s3"}));  // Same key.
  EXPECT_EQ(small.Take(5, absl::ZeroDuration(), absl::Now()).size(), 1u);
  EXPECT_TRUE(small.Offer(Change{"b", 1, 0, "", absl::InfinitePast(), false, "s3"}));

  // A batch waits `linger` for more, not longer.
  const absl::Time start = absl::Now();
  taken = small.Take(5, absl::Milliseconds(300), start + absl::Seconds(5));
  EXPECT_EQ(taken.size(), 1u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(ChangeQueueTest, NewKeysGoFirstAndAloneRewritesKeepTheirOrder) {
  ChangeQueue queue;
  auto offer = [&](const std::string& key) {
    ASSERT_TRUE(queue.Offer(Change{key, 1, 0, "", absl::InfinitePast(), false, "s3"}));
  };
  // A backlog of rewrites, then new posts arriving among them.
  for (const char* key : {"old1", "old2", "new1", "old3", "new2", "old4"}) offer(key);
  int asked = 0;
  auto is_new = [&](const std::string& key) {
    ++asked;
    return key.rfind("new", 0) == 0;
  };
  std::vector<std::string> keys;
  for (const Change& change : queue.Take(3, absl::ZeroDuration(), absl::Now(), is_new)) {
    keys.push_back(change.key);
  }
  // New posts alone, not topped up with rewrites.
  EXPECT_THAT(keys, ::testing::ElementsAre("new1", "new2"));
  EXPECT_EQ(asked, 6);  // Each key once...
  offer("new3");
  offer("old2");  // Already pending: keeps its place in its lane.
  keys.clear();
  for (const Change& change : queue.Take(10, absl::ZeroDuration(), absl::Now(), is_new)) {
    keys.push_back(change.key);
  }
  EXPECT_THAT(keys, ::testing::ElementsAre("new3"));
  keys.clear();
  for (const Change& change : queue.Take(10, absl::ZeroDuration(), absl::Now(), is_new)) {
    keys.push_back(change.key);
  }
  EXPECT_THAT(keys, ::testing::ElementsAre("old1", "old2", "old3", "old4"));
  EXPECT_EQ(asked, 7);  // ...and a pending key is not asked again.
  EXPECT_EQ(queue.depth(), 0u);

  // Without a predicate: one FIFO lane.
  for (const char* key : {"old1", "new1"}) offer(key);
  keys.clear();
  for (const Change& change : queue.Take(10, absl::ZeroDuration(), absl::Now())) {
    keys.push_back(change.key);
  }
  EXPECT_THAT(keys, ::testing::ElementsAre("old1", "new1"));
}

TEST(FreshPostsTest, ANewPostStaysFreshForAWhileAnOldFileNever) {
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  FreshPosts fresh(absl::Minutes(10));
  fresh.Indexed("new", t0 - absl::Seconds(2), t0);       // Landed just before.
  fresh.Indexed("caught-up", t0 - absl::Hours(20), t0);  // A restart's backlog.
  fresh.Indexed("unknown", absl::InfinitePast(), t0);    // No landing time.
  EXPECT_TRUE(fresh.Contains("new", t0 + absl::Minutes(9)));
  EXPECT_FALSE(fresh.Contains("new", t0 + absl::Minutes(10)));
  EXPECT_FALSE(fresh.Contains("caught-up", t0));
  EXPECT_FALSE(fresh.Contains("unknown", t0));
  EXPECT_FALSE(fresh.Contains("never", t0));
  EXPECT_EQ(fresh.size(), 1u);
  fresh.Indexed("later", t0 + absl::Minutes(5), t0 + absl::Minutes(5));
  fresh.Prune(t0 + absl::Minutes(12));
  EXPECT_EQ(fresh.size(), 1u);  // "new" went; "later" is 7 minutes old.
  EXPECT_TRUE(fresh.Contains("later", t0 + absl::Minutes(12)));
}

// A lake of post files in memory that counts its listings.
class CountingLake final : public Lake {
 public:
  absl::StatusOr<std::vector<LakeEntry>> List(absl::string_view) override {
    ++lists;
    return std::vector<LakeEntry>{};
  }
  absl::Status ListFiles(absl::string_view prefix, const FilePageVisitor& visit) override {
    ++flat_listings;
    EXPECT_EQ(prefix, kPostsRoot);
    std::vector<LakeEntry> page;
    for (const char* name : {"1/10.json", "2/20.json", "2/21.json", "3/30.json", "4/x/40.json",
                             "5/.50.json", "6/60.txt", "7/70\t.json", "top.json"}) {
      page.push_back(LakeEntry{name, false, 5, 1'000'000'000, "etag"});
    }
    return visit(page);
  }
  absl::StatusOr<std::string> Read(absl::string_view) override { return std::string(); }
  int lists = 0;
  int flat_listings = 0;
};

TEST(SweepSourceTest, OneFlatListingOffersTheShardsPostFiles) {
  CountingLake lake;
  ChangeQueue queue;
  std::atomic<int> passes{0};
  absl::Status outcome = absl::UnknownError("no pass");
  std::mutex mu;
  // The whole set of shards; the post files are the four well-formed ones.
  std::unique_ptr<ChangeSource> sweep =
      NewSweepSource(&lake, Shard(), absl::ZeroDuration(), [&](const absl::Status& s, int64_t) {
        std::lock_guard<std::mutex> lock(mu);
        outcome = s;
        ++passes;
      });
  ASSERT_TRUE(sweep->Start(&queue).ok());
  for (int i = 0; i < 100 && passes == 0; ++i) absl::SleepFor(absl::Milliseconds(20));
  sweep->Stop();
  ASSERT_EQ(passes, 1);
  EXPECT_TRUE(outcome.ok()) << outcome;
  EXPECT_EQ(lake.flat_listings, 1);
  EXPECT_EQ(lake.lists, 0);  // No listing per creator folder.
  std::vector<std::string> keys;
  for (const Change& change : queue.Take(100, absl::ZeroDuration(), absl::Now())) {
    EXPECT_TRUE(change.listed);
    EXPECT_EQ(change.etag, "etag");
    EXPECT_EQ(change.landed, absl::FromUnixSeconds(1));
    keys.push_back(change.key);
  }
  EXPECT_THAT(keys, ::testing::ElementsAre(
                        "instagram_graph/posts/1/10.json", "instagram_graph/posts/2/20.json",
                        "instagram_graph/posts/2/21.json", "instagram_graph/posts/3/30.json"));
}

TEST(EventReceiverTest, AnswersOverHttp) {
  EventReceiverOptions options;
  options.lake = kLake;
  options.token = "s3cret";
  options.max_body_bytes = 4096;
  std::unique_ptr<EventReceiver> receiver = NewEventReceiver(options);
  ChangeQueue queue;
  ASSERT_TRUE(receiver->Start(&queue).ok());
  ASSERT_GT(receiver->port(), 0);
  std::unique_ptr<HttpClient> http = NewCurlHttpClient();
  auto post = [&](const std::string& path, const std::string& body,
                  const std::string& auth = "Bearer s3cret") {
    HttpRequest request;
    request.method = "POST";
    request.url = absl::StrCat("http://127.0.0.1:", receiver->port(), path);
    request.body = body;
    if (!auth.empty()) request.headers.push_back("Authorization: " + auth);
    request.headers.push_back("Content-Type: application/json");
    absl::StatusOr<HttpResponse> response = http->Send(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  };
  const std::string records =
      json{{"Records",
            {Record("ObjectCreated:Put", "scout-lake", "raw/instagram_graph/posts/9/1.json", 5,
                    "2026-11-20T10:00:00Z")}}}
          .dump();
  HttpResponse answer = post("/events/s3", SnsEnvelope(records).dump());
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(queue.depth(), 1u);

  answer = post("/events/s3", records, "Basic " + absl::Base64Escape("scout:s3cret"));
  EXPECT_EQ(answer.status, 200) << answer.body;
  answer = post("/events/s3", records, "");
  EXPECT_EQ(answer.status, 401);
  answer = post("/events/s3", records, "Bearer wrong!");
  EXPECT_EQ(answer.status, 401);
  answer = post("/events/s3", R"({"Records":[{"eventName":7}]})");
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(answer.body.find("Records[0].eventName"), std::string::npos) << answer.body;
  answer = post("/events/s3", std::string(5000, ' '));
  EXPECT_EQ(answer.status, 413);
  const std::string dir = "/buckets/scout-lake/raw/instagram_graph/posts/9";
  answer = post("/events/seaweedfs",
                SeaweedBody(dir + "/2.json", nullptr, SeaweedEntry("2.json", 7, 1), dir).dump());
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(queue.depth(), 2u);
  std::vector<Change> taken = queue.Take(10, absl::ZeroDuration(), absl::Now());
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].key, "instagram_graph/posts/9/1.json");
  EXPECT_EQ(taken[1].key, "instagram_graph/posts/9/2.json");
  receiver->Stop();
}

}  // namespace
}  // namespace scout::ingest
