// Palette quality against scout-genlake's ground truth: every true colour
// matched (best assignment over all 6! pairings) to a recovered one within
// CIEDE2000 3.0 and 0.03 of its share, and a within-cluster squared error at
// most 1.02 times that of OpenCV's cv::kmeans (k-means++, 10 attempts) on
// the very same sampled pixels. No services needed: the pictures are read
// from genlake's fake CDN, as the media store would hold them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/colour.h"
#include "common/io/files.h"
#include "tools/genlake/genlake.h"
#include "workers/palette/palette.h"

namespace scout::palette {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class PaletteQualityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ =
        new fs::path(fs::path(::testing::TempDir()) / absl::StrCat("palette-quality-", getpid()));
    fs::remove_all(*root_);
    genlake::Options options;
    options.lake = (*root_ / "lake").string();
    options.cdn = (*root_ / "cdn").string();
    options.users = 8;
    options.days = 20;
    options.today = absl::CivilDay(2026, 11, 20);
    options.seed = 4;
    options.image_size = 160;
    ASSERT_TRUE(genlake::Generate(options, 2).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*root_);
    delete root_;
  }
  static fs::path* root_;
};
fs::path* PaletteQualityTest::root_ = nullptr;

// Up to 50 of the creator's post pictures, as scout-palette would take them.
std::vector<std::string> Pictures(const fs::path& dir) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename() != "profile.jpg") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.size() > 50) paths.resize(50);
  return paths;
}

TEST_F(PaletteQualityTest, RecoversTheTruePalettes) {
  std::ifstream in(*root_ / "cdn" / "truth.json");
  const json truth = json::parse(in);
  ASSERT_EQ(truth.size(), 8u);
  double worst_delta_e = 0, worst_share = 0, worst_sse_ratio = 0;
  for (const auto& [creator, true_colors] : truth.items()) {
    SCOPED_TRACE(creator);
    std::vector<PixelSample> samples;
    ImageCounts counts;
    for (const std::string& path : Pictures(*root_ / "cdn" / creator)) {
      absl::StatusOr<std::string> bytes = ReadFile(path);
      ASSERT_TRUE(bytes.ok());
      absl::StatusOr<PixelSample> sample = SamplePicture(*bytes, nullptr, kSamplePixels, counts);
      ASSERT_TRUE(sample.ok()) << path << ": " << sample.status();
      samples.push_back(*std::move(sample));
    }
    ASSERT_GE(samples.size(), 3u);
    const CreatorPalette palette = PaletteOfSamples(samples, {});
    ASSERT_EQ(palette.colors.size(), 6u);

    // Best assignment: the permutation with the smallest total CIEDE2000.
    std::vector<Lab> want, got;
    for (const json& c : true_colors) {
      want.push_back(SrgbToLab(c["red"].get<int>(), c["green"].get<int>(), c["blue"].get<int>()));
    }
    for (const PaletteColor& c : palette.colors) got.push_back(SrgbToLab(c.red, c.green, c.blue));
    std::vector<int> perm(6), best;
    std::iota(perm.begin(), perm.end(), 0);
    double best_total = 1e300;
    do {
      double total = 0;
      for (int i = 0; i < 6; ++i) total += Ciede2000(want[i], got[perm[i]]);
      if (total < best_total) {
        best_total = total;
        best = perm;
      }
    } while (std::next_permutation(perm.begin(), perm.end()));
    for (int i = 0; i < 6; ++i) {
      const PaletteColor& c = palette.colors[best[i]];
      const double delta_e = Ciede2000(want[i], got[best[i]]);
      const double share = std::abs(c.percentage - true_colors[i]["percentage"].get<double>());
      EXPECT_LE(delta_e, 3.0) << true_colors[i]["hex"] << " vs " << c.hex;
      EXPECT_LE(share, 0.03) << true_colors[i]["hex"] << " vs " << c.hex;
      worst_delta_e = std::max(worst_delta_e, delta_e);
      worst_share = std::max(worst_share, share);
    }

    // The same pixels through OpenCV's k-means, best of 10 attempts.
    std::string pixels;
    for (const PixelSample& s : samples) pixels += s.rgb;
    cv::Mat data(static_cast<int>(pixels.size() / 3), 3, CV_32F);
    for (int i = 0; i < data.rows; ++i) {
      for (int ch = 0; ch < 3; ++ch) {
        data.at<float>(i, ch) = static_cast<unsigned char>(pixels[3 * i + ch]);
      }
    }
    cv::Mat labels, centres;
    cv::setRNGSeed(1);
    const double opencv_sse =
        cv::kmeans(data, 6, labels,
                   cv::TermCriteria(cv::TermCriteria::EPS | cv::TermCriteria::COUNT, 300, 1e-4), 10,
                   cv::KMEANS_PP_CENTERS, centres);
    EXPECT_LE(palette.clusters.sse, 1.02 * opencv_sse);
    // Our reported error is the error of our centres.
    EXPECT_NEAR(SquaredError(pixels, palette.clusters.centres), palette.clusters.sse,
                1e-6 * palette.clusters.sse + 1e-6);
    worst_sse_ratio = std::max(worst_sse_ratio, palette.clusters.sse / opencv_sse);
  }
  std::cout << "worst CIEDE2000 " << worst_delta_e << ", worst share error " << worst_share
            << ", worst SSE / cv::kmeans SSE " << worst_sse_ratio << "\n";
}

}  // namespace
}  // namespace scout::palette
