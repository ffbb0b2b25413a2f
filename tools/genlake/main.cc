// scout-genlake: writes or advances a synthetic Instagram data lake and prints
// a JSON summary on stdout.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/base/config.h"
#include "common/base/flags.h"
#include "tools/genlake/genlake.h"

ABSL_FLAG(std::string, cdn, "",
          "Directory for the fake CDN's images (required unless --no-media).");
ABSL_FLAG(std::string, cdn_url, "", "URL prefix of the images (default: file://<absolute cdn>/).");
ABSL_FLAG(std::string, truth, "",
          "Ground-truth palettes JSON, outside the lake (default: <cdn>/truth.json).");
ABSL_FLAG(uint64_t, seed, 1, "Random seed; the same seed gives the same bytes.");
ABSL_FLAG(int, users, 100, "Number of creators.");
ABSL_FLAG(int, days, 30, "Days of history, ending --today.");
ABSL_FLAG(std::string, today, "", "Last day of the lake, YYYY-MM-DD (required unless --advance).");
ABSL_FLAG(bool, advance, false,
          "Simulate the day after the lake's today; the other options come from "
          "<lake>/_genlake.json and are ignored.");
ABSL_FLAG(int, image_size, 640, "Side of the square JPEGs, in pixels.");
ABSL_FLAG(double, malformed_rate, 0, "Fraction of post files written broken.");
ABSL_FLAG(double, business_rate, 0.3, "Fraction of creators with a business connection.");
ABSL_FLAG(bool, no_media, false, "Write no images (URLs are still generated).");
ABSL_FLAG(int, threads, 2, "Writer threads; the output does not depend on it.");

namespace {

absl::StatusOr<scout::genlake::Summary> Run(const std::string& lake, int threads) {
  if (absl::GetFlag(FLAGS_advance)) return scout::genlake::Advance(lake, threads);
  scout::genlake::Options options;
  options.lake = lake;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.users = absl::GetFlag(FLAGS_users);
  options.days = absl::GetFlag(FLAGS_days);
  options.image_size = absl::GetFlag(FLAGS_image_size);
  options.malformed_rate = absl::GetFlag(FLAGS_malformed_rate);
  options.business_rate = absl::GetFlag(FLAGS_business_rate);
  options.no_media = absl::GetFlag(FLAGS_no_media);
  options.cdn = absl::GetFlag(FLAGS_cdn);
  options.cdn_url = absl::GetFlag(FLAGS_cdn_url);
  options.truth = absl::GetFlag(FLAGS_truth);
  const std::string today = absl::GetFlag(FLAGS_today);
  if (today.empty()) return absl::InvalidArgumentError("--today is required for a new lake");
  if (!absl::ParseCivilTime(today, &options.today)) {
    return absl::InvalidArgumentError("--today must be a YYYY-MM-DD date: " + today);
  }
  return scout::genlake::Generate(options, threads);
}

}  // namespace

int main(int argc, char** argv) {
  scout::ParseFlags(argc, argv);
  const absl::StatusOr<scout::v1::Config> config = scout::LoadConfig();
  if (!config.ok() || config->lake().empty()) {
    std::cerr << "scout-genlake: --lake / SCOUT_LAKE is required\n";
    return 2;
  }
  const absl::StatusOr<scout::genlake::Summary> summary =
      Run(config->lake(), absl::GetFlag(FLAGS_threads));
  if (!summary.ok()) {
    std::cerr << "scout-genlake: " << summary.status() << "\n";
    return 1;
  }
  std::cout << scout::genlake::SummaryToJson(*summary) << std::endl;
  return 0;
}
