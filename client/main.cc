// scoutctl: the command-line client of scout.v1.BrandService.
//   scoutctl profile ID [--recent N] [--json]
//   scoutctl palette ID [--svg FILE] [--json]
//   scoutctl search [--query TEXT] [--hashtags a,b] [--mentions x] [--owners id,..]
//                   [--types image,video,...] [--since D] [--until D]
//                   [--sort relevance|recent|engagement] [--page_size N]
//                   [--page_token T] [--json]
// Against a server with API keys, set SCOUT_API_KEY (an environment
// variable, so the key stays out of `ps` and shell history); with TLS, give
// --tls (system roots) or --tls_ca FILE.
#include <iostream>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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
ABSL_FLAG(std::string, sort, "relevance", "relevance, recent or engagement");
ABSL_FLAG(int, page_size, 0, "posts per page (default 20, at most 100)");
ABSL_FLAG(std::string, page_token, "", "next_page_token of the previous page");
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
  if (!scout::v1::SortOrder_Parse(
          absl::StrCat("SORT_ORDER_", absl::AsciiStrToUpper(absl::GetFlag(FLAGS_sort))), &sort)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sort: unknown order ", absl::GetFlag(FLAGS_sort)));
  }
  request.set_sort(sort);
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Queries a Scout server.\n"
      "Usage: scoutctl search [--query TEXT] [--hashtags a,b] [--mentions x] [--owners id]\n"
      "                       [--types image,video] [--since D] [--until D]\n"
      "                       [--sort relevance|recent|engagement] [--page_size N] [--json]\n"
      "       scoutctl profile ID [--recent N] [--json]\n"
      "       scoutctl palette ID [--svg FILE] [--json]");
  const std::vector<char*> args = scout::ParseFlags(argc, argv);
  const std::string command = args.size() >= 2 ? args[1] : "";
  if (!((command == "search" && args.size() == 2) || (command == "profile" && args.size() == 3) ||
        (command == "palette" && args.size() == 3))) {
    return Usage("expected: search [flags], profile ID, or palette ID");
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
    return 1;
  }
  std::cout << output;
  return 0;
}
