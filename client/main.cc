// scoutctl: the command-line client of scout.v1.BrandService.
//   scoutctl profile ID [--recent N] [--json]
//   scoutctl palette ID [--svg FILE] [--json]
//   scoutctl search [--query TEXT] [--hashtags a,b] [--mentions x] [--owners id,..]
//                   [--types image,video,...] [--since D] [--until D]
//                   [--sort relevance|recent|engagement] [--page_size N]
//                   [--page_token T] [--json]
//   scoutctl creators [--query TEXT] [--hashtag T].. [--mention U].. [--topic S]..
//                     [--tier nano|micro|mid|macro|mega].. [--min_followers N]
//                     [--max_followers N] [--min_engagement_rate F] [--max_engagement_rate F]
//                     [--min_follower_growth F] [--min_posts_30d N] [--active_within_days N]
//                     [--is_business[=false]] [--palette "#rrggbb[:w],.."] [--like ID]
//                     [--sort relevance|followers|engagement_rate|growth|palette_distance]
//                     [--page_size N] [--page_token T] [--color always|never|auto] [--json]
// Malformed flag values exit 2 (usage), as does a request the server answers
// INVALID_ARGUMENT; any other failure exits 1.
// Against a server with API keys, set SCOUT_API_KEY (an environment
// variable, so the key stays out of `ps` and shell history); with TLS, give
// --tls (system roots) or --tls_ca FILE.
#include <unistd.h>

#include <iostream>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/creators_args.h"
#include "client/format.h"
#include "common/base/flags.h"
#include "common/base/proto_json.h"
#include "common/base/time.h"
#include "common/io/files.h"
#include "scout/v1/service.grpc.pb.h"

ABSL_FLAG(std::string, server, "", "server address (env SCOUT_SERVER; default 127.0.0.1:50051)");
ABSL_FLAG(bool, json, false, "print the response as JSON");
ABSL_FLAG(bool, tls, false, "connect with TLS, trusting the system's roots");
ABSL_FLAG(std::string, tls_ca, "", "connect with TLS, trusting this PEM file's certificates");
ABSL_FLAG(double, timeout, 10, "seconds to wait for the answer");
ABSL_FLAG(std::string, query, "", "free text (case- and accent-insensitive)");
ABSL_FLAG(std::vector<std::string>, hashtags, {}, "every one of these tags");
ABSL_FLAG(std::vector<std::string>, mentions, {}, "every one of these @usernames");
ABSL_FLAG(std::vector<std::string>, owners, {}, "any of these creator ids");
ABSL_FLAG(std::vector<std::string>, types, {},
          "any of: image, carousel_album, video, story_image, story_video");
ABSL_FLAG(std::string, since, "", "posts at or after (YYYY-MM-DD or RFC 3339)");
ABSL_FLAG(std::string, until, "", "posts at or before (YYYY-MM-DD or RFC 3339)");
ABSL_FLAG(std::string, sort, "",
          "search: relevance (default), recent or engagement; creators: relevance, followers, "
          "engagement_rate, growth or palette_distance (default: the server's choice)");
ABSL_FLAG(int, page_size, 0, "posts or creators per page (default 20, at most 100)");
ABSL_FLAG(std::string, page_token, "", "next_page_token of the previous page");
// scoutctl creators. List flags may be repeated or hold comma lists (or both).
ABSL_FLAG(std::vector<std::string>, hashtag, {}, "creators: used any of these tags (repeatable)");
ABSL_FLAG(std::vector<std::string>, mention, {}, "creators: mentioned any of these (repeatable)");
ABSL_FLAG(std::vector<std::string>, topic, {}, "creators: any of these topic slugs (repeatable)");
ABSL_FLAG(std::vector<std::string>, tier, {},
          "creators: any of these size tiers: nano, micro, mid, macro, mega (repeatable)");
ABSL_FLAG(std::string, min_followers, "", "creators: at least N followers (25000, 25k, 1.5m)");
ABSL_FLAG(std::string, max_followers, "", "creators: at most N followers");
ABSL_FLAG(std::string, min_engagement_rate, "", "creators: at least this rate (0.03 or 3%)");
ABSL_FLAG(std::string, max_engagement_rate, "", "creators: at most this rate (0.03 or 3%)");
ABSL_FLAG(std::string, min_follower_growth, "",
          "creators: at least this 30-day growth (0.05, 5%, -2%)");
ABSL_FLAG(std::string, min_posts_30d, "", "creators: at least N posts in the last 30 days");
ABSL_FLAG(std::string, active_within_days, "", "creators: last post within N days (1..90)");
ABSL_FLAG(bool, is_business, false,
          "creators: business accounts only; --is_business=false: basic only; absent: both");
ABSL_FLAG(std::vector<std::string>, palette, {},
          "creators: up to 6 target colours \"#rrggbb\" or \"#rrggbb:weight\" (repeatable)");
ABSL_FLAG(std::string, like, "", "creators: lookalikes of this creator id (similar_to)");
ABSL_FLAG(std::string, color, "auto",
          "creators: colours and bold: always, never or auto (when stdout is a terminal)");
ABSL_FLAG(int, recent, 5, "profile: newest posts to show");
ABSL_FLAG(std::string, svg, "", "palette: also write an SVG strip of the colours to this file");

namespace {

using scout::v1::SearchPostsRequest;

int Usage(absl::string_view problem) {
  std::cerr << "scoutctl: " << problem << "\n" << absl::ProgramUsageMessage() << "\n";
  return 2;
}

absl::Status FillSearch(SearchPostsRequest& request) {
  request.set_query(absl::GetFlag(FLAGS_query));
  for (const std::string& tag : absl::GetFlag(FLAGS_hashtags)) request.add_hashtags(tag);
  for (const std::string& user : absl::GetFlag(FLAGS_mentions)) request.add_mentions(user);
  for (const std::string& owner : absl::GetFlag(FLAGS_owners)) request.add_owner_ids(owner);
  for (const std::string& type : absl::GetFlag(FLAGS_types)) {
    scout::v1::MediaType value;
    if (!scout::v1::MediaType_Parse(absl::StrCat("MEDIA_TYPE_", absl::AsciiStrToUpper(type)),
                                    &value)) {
      return absl::InvalidArgumentError(absl::StrCat("--types: unknown media type ", type));
    }
    request.add_media_types(value);
  }
  for (const auto& [flag, field] :
       {std::pair{absl::GetFlag(FLAGS_since), request.mutable_since()},
        std::pair{absl::GetFlag(FLAGS_until), request.mutable_until()}}) {
    if (flag.empty()) continue;
    absl::StatusOr<absl::Time> time = scout::ParseTime(flag);
    if (!time.ok()) return time.status();
    *field = scout::ToTimestamp(*time);
  }
  if (absl::GetFlag(FLAGS_since).empty()) request.clear_since();
  if (absl::GetFlag(FLAGS_until).empty()) request.clear_until();
  scout::v1::SortOrder sort;
  std::string order = absl::GetFlag(FLAGS_sort);
  if (order.empty()) order = "relevance";
  if (!scout::v1::SortOrder_Parse(absl::StrCat("SORT_ORDER_", absl::AsciiStrToUpper(order)),
                                  &sort)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sort: unknown order ", absl::GetFlag(FLAGS_sort)));
  }
  request.set_sort(sort);
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  return absl::OkStatus();
}

// `args`: argv after ParseFlags, for the flags that may be repeated.
absl::StatusOr<scout::v1::SearchCreatorsRequest> CreatorsRequest(
    const std::vector<std::string>& args) {
  using scout::client::RepeatedFlag;
  scout::client::CreatorsFlags flags;
  flags.query = absl::GetFlag(FLAGS_query);
  flags.hashtags = RepeatedFlag(args, "hashtag");
  flags.mentions = RepeatedFlag(args, "mention");
  // The search command's spellings work here too.
  for (const std::string& tag : absl::GetFlag(FLAGS_hashtags)) flags.hashtags.push_back(tag);
  for (const std::string& user : absl::GetFlag(FLAGS_mentions)) flags.mentions.push_back(user);
  flags.topics = RepeatedFlag(args, "topic");
  flags.tiers = RepeatedFlag(args, "tier");
  flags.palette = RepeatedFlag(args, "palette");
  flags.min_followers = absl::GetFlag(FLAGS_min_followers);
  flags.max_followers = absl::GetFlag(FLAGS_max_followers);
  flags.min_engagement_rate = absl::GetFlag(FLAGS_min_engagement_rate);
  flags.max_engagement_rate = absl::GetFlag(FLAGS_max_engagement_rate);
  flags.min_follower_growth = absl::GetFlag(FLAGS_min_follower_growth);
  flags.min_posts_30d = absl::GetFlag(FLAGS_min_posts_30d);
  flags.active_within_days = absl::GetFlag(FLAGS_active_within_days);
  if (scout::client::FlagGiven(args, "is_business")) {
    flags.is_business = absl::GetFlag(FLAGS_is_business);
  }
  flags.like = absl::GetFlag(FLAGS_like);
  flags.sort = absl::GetFlag(FLAGS_sort);  // "": the server's default.
  flags.page_size = absl::GetFlag(FLAGS_page_size);
  flags.page_token = absl::GetFlag(FLAGS_page_token);
  return scout::client::CreatorsRequest(flags);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Queries a Scout server.\n"
      "Usage: scoutctl search [--query TEXT] [--hashtags a,b] [--mentions x] [--owners id]\n"
      "                       [--types image,video] [--since D] [--until D]\n"
      "                       [--sort relevance|recent|engagement] [--page_size N] [--json]\n"
      "       scoutctl creators [--query TEXT] [--hashtag T].. [--mention U].. [--topic S]..\n"
      "                         [--tier micro].. [--min_followers 10k] [--max_followers 1m]\n"
      "                         [--min_engagement_rate 3%] [--max_engagement_rate F]\n"
      "                         [--min_follower_growth F] [--min_posts_30d N]\n"
      "                         [--active_within_days N] [--is_business[=false]]\n"
      "                         [--palette \"#e8d5c4,#a0522d:2\"] [--like ID]\n"
      "                         [--sort relevance|followers|engagement_rate|growth|\n"
      "                                 palette_distance] [--page_size N] [--page_token T]\n"
      "                         [--color always|never|auto] [--json]\n"
      "       scoutctl profile ID [--recent N] [--json]\n"
      "       scoutctl palette ID [--svg FILE] [--json]");
  const std::vector<char*> args = scout::ParseFlags(argc, argv);
  const std::vector<std::string> all_args(argv, argv + argc);  // Names normalised by ParseFlags.
  const std::string command = args.size() >= 2 ? args[1] : "";
  if (!((command == "search" && args.size() == 2) || (command == "creators" && args.size() == 2) ||
        (command == "profile" && args.size() == 3) || (command == "palette" && args.size() == 3))) {
    return Usage("expected: search [flags], creators [flags], profile ID, or palette ID");
  }
  // Checked before connecting: a malformed value is a usage error.
  absl::StatusOr<scout::v1::SearchCreatorsRequest> creators_request;
  bool color = false;
  if (command == "creators") {
    creators_request = CreatorsRequest(all_args);
    if (!creators_request.ok()) return Usage(creators_request.status().message());
    absl::StatusOr<bool> use_color =
        scout::client::UseColor(absl::GetFlag(FLAGS_color), isatty(STDOUT_FILENO) == 1);
    if (!use_color.ok()) return Usage(use_color.status().message());
    color = *use_color;
  }
  std::string address = absl::GetFlag(FLAGS_server);
  if (address.empty()) {
    const char* env = std::getenv("SCOUT_SERVER");
    address = env != nullptr && *env != '\0' ? env : "127.0.0.1:50051";
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (const std::string ca = absl::GetFlag(FLAGS_tls_ca); !ca.empty() || absl::GetFlag(FLAGS_tls)) {
    grpc::SslCredentialsOptions trust;
    if (!ca.empty()) {
      absl::StatusOr<std::string> pem = scout::ReadFile(ca);
      if (!pem.ok()) return Usage(absl::StrCat("--tls_ca: ", pem.status().message()));
      trust.pem_root_certs = *std::move(pem);
    }
    credentials = grpc::SslCredentials(trust);
  }
  auto stub = scout::v1::BrandService::NewStub(grpc::CreateChannel(address, credentials));
  grpc::ClientContext context;
  if (const char* key = std::getenv("SCOUT_API_KEY"); key != nullptr && *key != '\0') {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", key));
  }
  context.set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(absl::GetFlag(FLAGS_timeout) * 1000)));
  grpc::Status status;
  std::string output;
  const bool json = absl::GetFlag(FLAGS_json);
  if (command == "search") {
    SearchPostsRequest request;
    if (absl::Status filled = FillSearch(request); !filled.ok()) return Usage(filled.message());
    scout::v1::SearchPostsResponse response;
    status = stub->SearchPosts(&context, request, &response);
    output = json ? scout::ToJson(response) + "\n" : scout::client::FormatSearch(response);
  } else if (command == "creators") {
    scout::v1::SearchCreatorsResponse response;
    status = stub->SearchCreators(&context, *creators_request, &response);
    output = json ? scout::ToJson(response) + "\n"
                  : scout::client::FormatCreators(response, {.color = color});
  } else if (command == "palette") {
    scout::v1::GetPaletteRequest request;
    request.set_user_id(args[2]);
    scout::v1::Palette response;
    status = stub->GetPalette(&context, request, &response);
    output = json ? scout::ToJson(response) + "\n" : scout::client::FormatPalette(response);
    if (const std::string svg = absl::GetFlag(FLAGS_svg); status.ok() && !svg.empty()) {
      if (absl::Status written =
              scout::WriteFileAtomically(svg, scout::client::PaletteSvg(response));
          !written.ok()) {
        std::cerr << "scoutctl: " << written.message() << "\n";
        return 1;
      }
    }
  } else {
    scout::v1::GetUserProfileRequest request;
    request.set_user_id(args[2]);
    request.set_recent_posts(absl::GetFlag(FLAGS_recent));
    scout::v1::UserProfile response;
    status = stub->GetUserProfile(&context, request, &response);
    output = json ? scout::ToJson(response) + "\n" : scout::client::FormatProfile(response);
  }
  if (!status.ok()) {
    std::cerr << "scoutctl: " << address << " answered " << status.error_code() << " ("
              << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))
              << "): " << status.error_message();
    const auto& metadata = context.GetServerInitialMetadata();
    if (const auto id = metadata.find("x-request-id"); id != metadata.end()) {
      std::cerr << " [request id " << std::string(id->second.data(), id->second.size()) << "]";
    }
    std::cerr << "\n";
    // Retrying cannot fix a request the server rejected: a usage error.
    return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? 2 : 1;
  }
  std::cout << output;
  return 0;
}
