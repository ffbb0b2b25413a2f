// scout-palette's parts in isolation: k-means, the sampler and the sample
// cache. No services needed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>  // Before jpeglib.h.
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>

#include <jpeglib.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "client/format.h"
#include "common/backends/lease.h"
#include "common/base/clock.h"
#include "common/io/files.h"
#include "common/io/lake.h"
#include "workers/palette/kmeans.h"
#include "workers/palette/palette.h"
#include "workers/palette/sample_cache.h"
#include "workers/palette/sampler.h"

namespace scout::palette {
namespace {

namespace fs = std::filesystem;

// n pixels around each centre, +-spread on every channel, shuffled.
std::string Clusters(const std::vector<std::array<int, 3>>& centres, const std::vector<int>& counts,
                     int spread, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string rgb;
  for (size_t c = 0; c < centres.size(); ++c) {
    for (int i = 0; i < counts[c]; ++i) {
      for (int ch = 0; ch < 3; ++ch) {
        const int v = centres[c][ch] + static_cast<int>(rng() % (2 * spread + 1)) - spread;
        rgb.push_back(static_cast<char>(std::clamp(v, 0, 255)));
      }
    }
  }
  // Shuffle whole pixels.
  std::vector<size_t> order(rgb.size() / 3);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::string out;
  for (size_t i : order) out.append(rgb, 3 * i, 3);
  return out;
}

const std::vector<std::array<int, 3>> kSix = {{200, 30, 40},  {20, 180, 60}, {30, 40, 210},
                                              {240, 230, 50}, {10, 10, 10},  {250, 250, 250}};

TEST(KMeansTest, SameInputGivesIdenticalBytesWhateverThePixelOrder) {
  const std::string a = Clusters(kSix, {900, 700, 500, 400, 300, 200}, 12, 1);
  std::string b = a;  // The same pixels, reversed.
  for (size_t i = 0, j = b.size() - 3; i < j; i += 3, j -= 3) {
    for (int ch = 0; ch < 3; ++ch) std::swap(b[i + ch], b[j + ch]);
  }
  const std::string first = ColorsJson(ToPalette(KMeans(a)));
  for (int run = 0; run < 3; ++run) EXPECT_EQ(ColorsJson(ToPalette(KMeans(a))), first);
  EXPECT_EQ(ColorsJson(ToPalette(KMeans(b))), first);
}

TEST(KMeansTest, FindsSeparatedClustersLargestFirst) {
  const std::vector<int> counts = {900, 700, 500, 400, 300, 200};
  const KMeansResult result = KMeans(Clusters(kSix, counts, 10, 2));
  EXPECT_GE(result.iterations, 1);
  EXPECT_LE(result.iterations, 100);
  const std::vector<PaletteColor> palette = ToPalette(result);
  ASSERT_EQ(palette.size(), 6u);
  double sum = 0;
  for (size_t i = 0; i < palette.size(); ++i) {
    sum += palette[i].percentage;
    EXPECT_EQ(palette[i].pixels, counts[i]);
    EXPECT_NEAR(palette[i].red, kSix[i][0], 3);
    EXPECT_NEAR(palette[i].green, kSix[i][1], 3);
    EXPECT_NEAR(palette[i].blue, kSix[i][2], 3);
    EXPECT_EQ(palette[i].hex.size(), 7u);
    EXPECT_EQ(palette[i].hex[0], '#');
    if (i > 0) {
      EXPECT_GE(palette[i - 1].pixels, palette[i].pixels);
    }
  }
  EXPECT_NEAR(sum, 1.0, 1e-9);
}

// The shares are the fractions of the pixels the reported colours win,
// even when Lloyd stopped right after moving the centres (max_iterations).
TEST(KMeansTest, SharesAreWhatTheReportedColoursWin) {
  std::string rgb;
  for (int r = 0; r < 256; r += 3) {
    for (int g = 0; g < 256; g += 17) rgb += {static_cast<char>(r), static_cast<char>(g), '\x40'};
  }
  const int64_t n = static_cast<int64_t>(rgb.size() / 3);
  for (int iterations : {1, 2, 100}) {
    SCOPED_TRACE(iterations);
    const std::vector<PaletteColor> palette =
        ToPalette(KMeans(rgb, {.k = 5, .max_iterations = iterations}));
    ASSERT_EQ(palette.size(), 5u);
    std::vector<int64_t> wins(palette.size(), 0);
    int64_t ties = 0;  // Equidistant from two colours: either may win.
    for (int64_t i = 0; i < n; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(rgb.data() + 3 * i);
      size_t best = 0;
      int best_distance = INT32_MAX;
      for (size_t c = 0; c < palette.size(); ++c) {
        const int d = (p[0] - palette[c].red) * (p[0] - palette[c].red) +
                      (p[1] - palette[c].green) * (p[1] - palette[c].green) +
                      (p[2] - palette[c].blue) * (p[2] - palette[c].blue);
        if (d == best_distance) ++ties;
        if (d < best_distance) {
          best_distance = d;
          best = c;
        }
      }
      ++wins[best];
    }
    for (size_t c = 0; c < palette.size(); ++c) {
      EXPECT_NEAR(palette[c].pixels, wins[c], ties) << palette[c].hex;
      EXPECT_NEAR(palette[c].percentage, static_cast<double>(wins[c]) / n,
                  static_cast<double>(ties) / n + 1e-12);
    }
  }
}

TEST(KMeansTest, FewerDistinctColoursGiveOnlyThoseClusters) {
  std::string rgb;
  for (int i = 0; i < 30; ++i) rgb += std::string("\x10\x20\x30", 3);
  for (int i = 0; i < 10; ++i) rgb += std::string("\xff\x00\x00", 3);
  const std::vector<PaletteColor> palette = ToPalette(KMeans(rgb));
  ASSERT_EQ(palette.size(), 2u);
  EXPECT_EQ(palette[0].hex, "#102030");
  EXPECT_DOUBLE_EQ(palette[0].percentage, 0.75);
  EXPECT_EQ(palette[1].hex, "#ff0000");
  EXPECT_DOUBLE_EQ(palette[1].percentage, 0.25);
  EXPECT_TRUE(ToPalette(KMeans("")).empty());
}

TEST(KMeansTest, EqualClustersAreOrderedByHex) {
  std::string rgb;
  for (int i = 0; i < 5; ++i) rgb += std::string("\x80\x80\x80\x01\x02\x03", 6);
  const std::vector<PaletteColor> palette = ToPalette(KMeans(rgb));
  ASSERT_EQ(palette.size(), 2u);
  EXPECT_EQ(palette[0].hex, "#010203");
  EXPECT_EQ(palette[1].hex, "#808080");
}

TEST(KMeansTest, JsonIsWhatTheServerReads) {
  std::string rgb(std::string("\x01\x02\x03", 3));
  EXPECT_EQ(ColorsJson(ToPalette(KMeans(rgb))),
            R"([{"percentage":1.0,"red":1,"green":2,"blue":3,"hex":"#010203"}])");
  CreatorPalette palette = PaletteOfSamples({PixelSample{1, 1, rgb}}, {});
  EXPECT_EQ(PaletteJson(palette, absl::FromUnixSeconds(0)),
            R"({"colors":[{"percentage":1.0,"red":1,"green":2,"blue":3,"hex":"#010203"}],)"
            R"("computed_at":"1970-01-01T00:00:00Z","image_count":1,"pixel_count":1})");
}

std::string Jpeg(int width, int height, const cv::Scalar& bgr, int quality = 90) {
  cv::Mat image(height, width, CV_8UC3, bgr);
  cv::rectangle(image, cv::Rect(0, 0, width / 2, height), cv::Scalar(255, 255, 255), cv::FILLED);
  std::vector<uchar> out;
  EXPECT_TRUE(cv::imencode(".jpg", image, out, {cv::IMWRITE_JPEG_QUALITY, quality}));
  return std::string(out.begin(), out.end());
}

TEST(SamplerTest, DecodesAtReducedScaleAndSamplesAGrid) {
  const std::string jpeg = Jpeg(1080, 720, cv::Scalar(0, 0, 255));
  const std::optional<ImageSize> size = JpegSize(jpeg);
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->width, 1080);
  EXPECT_EQ(size->height, 720);
  // The largest reduction leaving kMinDecodedPixels (60,000): 1080x720 at
  // 1/4 would be 48,600.
  EXPECT_EQ(ReductionFor(*size), 2);
  EXPECT_EQ(ReductionFor({1080, 1080}), 4);  // 270 x 270 = 72,900
  EXPECT_EQ(ReductionFor({872, 1000}), 2);   // 1/4: 218 x 250 = 54,500
  EXPECT_EQ(ReductionFor({4000, 3000}), 8);  // 500 x 375
  EXPECT_EQ(ReductionFor({1081, 1081}, 1), 8);
  EXPECT_EQ(ReductionFor({1081, 1081}, 136 * 136), 8);  // Sides rounded up.
  EXPECT_EQ(ReductionFor({160, 160}), 1);
  EXPECT_EQ(ReductionFor({100, 100}), 1);
  // OpenCV really scales in libjpeg: the reduced decode has 1/8 the side.
  const cv::Mat reduced = cv::imdecode(
      cv::Mat(1, static_cast<int>(jpeg.size()), CV_8UC1, const_cast<char*>(jpeg.data())),
      cv::IMREAD_REDUCED_COLOR_8);
  EXPECT_EQ(reduced.cols, 135);
  EXPECT_EQ(reduced.rows, 90);

  absl::StatusOr<PixelSample> sample = SampleImage(jpeg);
  ASSERT_TRUE(sample.ok()) << sample.status();
  EXPECT_EQ(sample->width, 1080);
  EXPECT_EQ(sample->height, 720);
  const size_t pixels = sample->rgb.size() / 3;
  EXPECT_GE(pixels, 3900u);
  EXPECT_LE(pixels, 4300u);
  const std::vector<PaletteColor> palette = ToPalette(KMeans(sample->rgb, {.k = 2}));
  ASSERT_EQ(palette.size(), 2u);
  EXPECT_NEAR(palette[0].percentage, 0.5, 0.05);
  EXPECT_EQ(*SampleImage(jpeg), *sample);  // Deterministic.
}

std::string Encode(const std::string& ext, const cv::Mat& image) {
  std::vector<uchar> bytes;
  if (!cv::imencode(ext, image, bytes)) return "";
  return std::string(bytes.begin(), bytes.end());
}

TEST(SamplerTest, HeaderSizesAreReadWithoutDecoding) {
  const cv::Mat image(37, 53, CV_8UC3, cv::Scalar(10, 200, 30));  // 53 wide, 37 high.
  for (const char* ext : {".png", ".bmp", ".webp"}) {
    const std::string bytes = Encode(ext, image);
    ASSERT_FALSE(bytes.empty()) << ext;
    const std::optional<ImageSize> size = HeaderSize(bytes);
    ASSERT_TRUE(size.has_value()) << ext;
    EXPECT_EQ(size->width, 53) << ext;
    EXPECT_EQ(size->height, 37) << ext;
    EXPECT_TRUE(SampleImage(bytes).ok()) << ext;
  }
  std::vector<int> lossless = {cv::IMWRITE_WEBP_QUALITY, 101};  // VP8L.
  std::vector<uchar> webp;
  ASSERT_TRUE(cv::imencode(".webp", image, webp, lossless));
  const std::optional<ImageSize> size = HeaderSize(std::string(webp.begin(), webp.end()));
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->width, 53);
  EXPECT_EQ(size->height, 37);
  EXPECT_EQ(HeaderSize(Jpeg(64, 64, cv::Scalar(1, 2, 3))), std::nullopt);  // JpegSize's job.
  EXPECT_EQ(HeaderSize("GIF89a"), std::nullopt);                           // Truncated.
}

TEST(SamplerTest, HugePicturesAreSkippedBeforeDecoding) {
  // A real PNG one pixel row over the limit: cheap to encode (grey, flat),
  // 75 MB once decoded to colour. Without the check it decodes fine.
  const int side = static_cast<int>(std::sqrt(static_cast<double>(kMaxPixels))) + 1;
  const std::string png = Encode(".png", cv::Mat(side, side, CV_8UC1, cv::Scalar(128)));
  ASSERT_FALSE(png.empty());
  const absl::StatusOr<PixelSample> sample = SampleImage(png);
  EXPECT_EQ(sample.status().code(), absl::StatusCode::kResourceExhausted) << sample.status();
  EXPECT_NE(sample.status().message().find("pixel limit"), absl::string_view::npos);

  // A few hundred bytes claiming 65535 x 65535 pixels (the PNG's CRC no
  // longer matches: the size is refused before anything reads it).
  std::string bomb = Encode(".png", cv::Mat(8, 8, CV_8UC1, cv::Scalar(0)));
  for (int i : {16, 20}) bomb.replace(i, 4, std::string("\x00\x00\xff\xff", 4));
  EXPECT_EQ(SampleImage(bomb).status().code(), absl::StatusCode::kResourceExhausted);

  // The same flat picture under the limit is sampled.
  EXPECT_TRUE(SampleImage(Encode(".png", cv::Mat(2000, 2000, CV_8UC1, cv::Scalar(128)))).ok());
}

TEST(SamplerTest, CorruptAndTruncatedPicturesAreErrors) {
  const std::string jpeg = Jpeg(320, 320, cv::Scalar(10, 200, 30));
  EXPECT_TRUE(absl::IsDataLoss(SampleImage(jpeg.substr(0, jpeg.size() / 2)).status()));
  EXPECT_TRUE(absl::IsDataLoss(SampleImage("not a picture at all").status()));
  EXPECT_TRUE(absl::IsDataLoss(SampleImage("").status()));
  std::string garbled = jpeg;
  for (size_t i = 200; i < garbled.size() - 2; i += 7) garbled[i] = '\xff';
  // Garbled data may decode to noise or fail; it must never throw.
  (void)SampleImage(garbled);

  ImageCounts counts;
  EXPECT_FALSE(SamplePicture(jpeg.substr(0, 100), nullptr, kSamplePixels, counts).ok());
  EXPECT_EQ(counts.corrupt, 1);
  EXPECT_EQ(counts.decoded, 1);
}

// Smooth colour fields plus Gaussian noise: photo-like, every block of a
// JPEG busy.
cv::Mat Noisy(int width, int height, uint64_t seed) {
  cv::RNG rng(seed);
  cv::Mat coarse(7, 9, CV_8UC3);
  rng.fill(coarse, cv::RNG::UNIFORM, 0, 256);
  cv::Mat image, noise(height, width, CV_16SC3), noisy;
  cv::resize(coarse, image, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
  rng.fill(noise, cv::RNG::NORMAL, 0, 20);
  cv::add(image, noise, noisy, cv::noArray(), CV_8UC3);
  return noisy;
}

// A JPEG encoded by libjpeg with what cv::imencode cannot choose: the luma
// sampling factors (chroma 1x1), the colour space (JCS_YCbCr, JCS_RGB,
// JCS_GRAYSCALE, JCS_CMYK: Adobe marker, stored as is), restart markers.
std::string LibjpegEncode(const cv::Mat& bgr, int h_samp, int v_samp, J_COLOR_SPACE space,
                          bool progressive, bool restarts) {
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  cv::Mat input;
  switch (space) {
    case JCS_GRAYSCALE:
      cv::cvtColor(bgr, input, cv::COLOR_BGR2GRAY);
      break;
    case JCS_CMYK: {
      cv::Mat rgba;
      cv::cvtColor(bgr, rgba, cv::COLOR_BGR2RGBA);  // C, M, Y from R, G, B; K from alpha.
      input = rgba;
      break;
    }
    default:
      cv::cvtColor(bgr, input, cv::COLOR_BGR2RGB);
  }
  info.image_width = static_cast<JDIMENSION>(input.cols);
  info.image_height = static_cast<JDIMENSION>(input.rows);
  info.input_components = input.channels();
  info.in_color_space = space == JCS_GRAYSCALE ? JCS_GRAYSCALE
                        : space == JCS_CMYK    ? JCS_CMYK
                                               : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_colorspace(&info, space);
  jpeg_set_quality(&info, 90, TRUE);
  if (space == JCS_YCbCr) {
    info.comp_info[0].h_samp_factor = h_samp;
    info.comp_info[0].v_samp_factor = v_samp;
  }
  if (progressive) jpeg_simple_progression(&info);
  if (restarts) info.restart_in_rows = 1;
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = input.ptr(static_cast<int>(info.next_scanline));
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  free(buffer);
  jpeg_destroy_compress(&info);
  return out;
}

// The direct libjpeg route must give cv::imdecode's sample bit for bit (so
// the sample cache and the palettes did not change with it): every scale,
// odd sizes, chroma subsampling, progressive, restarts, grey, RGB-coded,
// and CMYK (which takes the OpenCV route).
TEST(SamplerTest, LibjpegSamplesAsOpenCvBitForBit) {
  struct Case {
    int width, height;
    int h_samp, v_samp;
    J_COLOR_SPACE space;
    bool progressive, restarts;
  };
  std::vector<Case> cases;
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{
           {1080, 1080}, {872, 1000}, {1080, 1350}, {333, 517}, {17, 9}, {1, 1}, {1500, 7}}) {
    for (const auto& [hs, vs] : std::vector<std::pair<int, int>>{{2, 2}, {2, 1}, {1, 2}, {1, 1}}) {
      cases.push_back({w, h, hs, vs, JCS_YCbCr, false, false});
    }
    cases.push_back({w, h, 2, 2, JCS_YCbCr, true, false});
    cases.push_back({w, h, 2, 2, JCS_YCbCr, false, true});
    cases.push_back({w, h, 1, 1, JCS_GRAYSCALE, false, false});
    cases.push_back({w, h, 1, 1, JCS_RGB, false, false});
    cases.push_back({w, h, 1, 1, JCS_CMYK, false, false});
  }
  int compared = 0;
  for (const Case& c : cases) {
    const std::string jpeg = LibjpegEncode(Noisy(c.width, c.height, compared), c.h_samp, c.v_samp,
                                           c.space, c.progressive, c.restarts);
    const std::string what =
        absl::StrCat(c.width, "x", c.height, " sampling ", c.h_samp, "x", c.v_samp, " space ",
                     c.space, " progressive ", c.progressive, " restarts ", c.restarts);
    // 1/1, 1/2, 1/4 and 1/8 for the larger pictures.
    for (int64_t min_decoded : {int64_t{1}, int64_t{20'000}, kMinDecodedPixels, int64_t{1} << 40}) {
      for (int pixels : {kSamplePixels, 512, 1'000'000}) {
        const absl::StatusOr<PixelSample> direct =
            SampleImage(jpeg, pixels, min_decoded, JpegDecoder::kLibjpeg);
        const absl::StatusOr<PixelSample> opencv =
            SampleImage(jpeg, pixels, min_decoded, JpegDecoder::kOpenCv);
        ASSERT_TRUE(direct.ok()) << what << ": " << direct.status();
        ASSERT_TRUE(opencv.ok()) << what << ": " << opencv.status();
        ASSERT_EQ(*direct, *opencv)
            << what << " min_decoded " << min_decoded << " pixels " << pixels;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, static_cast<int>(cases.size()) * 12);
  // The default route is the direct one, and the same.
  const std::string photo = Encode(".jpg", Noisy(1080, 1080, 7));
  EXPECT_EQ(*SampleImage(photo),
            *SampleImage(photo, kSamplePixels, kMinDecodedPixels, JpegDecoder::kOpenCv));
}

// libjpeg's fatal errors come back as DATA_LOSS with its message (its
// default error_exit would end the process); damaged pictures fail or
// decode exactly as they did through cv::imdecode, and never crash.
TEST(SamplerTest, DamagedJpegsFailAsWithOpenCv) {
  const std::string jpeg = Encode(".jpg", Noisy(320, 240, 3));
  ASSERT_TRUE(JpegSize(jpeg).has_value());
  // The header up to and with the frame, then EOI: no scan.
  size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  const std::string no_scan = jpeg.substr(0, sof + 20) + "\xff\xd9";
  ASSERT_TRUE(JpegSize(no_scan).has_value());
  const absl::StatusOr<PixelSample> failed = SampleImage(no_scan);
  EXPECT_TRUE(absl::IsDataLoss(failed.status())) << failed.status();
  EXPECT_NE(failed.status().message().find("cannot decode JPEG: "), absl::string_view::npos)
      << failed.status();
  // A bogus Huffman table.
  std::string bad_table = jpeg;
  const size_t dht = bad_table.find("\xff\xc4");
  ASSERT_NE(dht, std::string::npos);
  for (size_t i = dht + 5; i < dht + 21; ++i) bad_table[i] = '\xff';
  const absl::StatusOr<PixelSample> bad = SampleImage(bad_table);
  EXPECT_TRUE(absl::IsDataLoss(bad.status())) << bad.status();
  EXPECT_NE(bad.status().message().find("Huffman"), absl::string_view::npos) << bad.status();

  // Random damage anywhere but the last two bytes (so it passes the EOI
  // check and reaches libjpeg): the two routes agree on every one.
  std::mt19937 rng(13);
  int failures = 0;
  for (int round = 0; round < 400; ++round) {
    std::string damaged = jpeg;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      damaged[rng() % (damaged.size() - 2)] = static_cast<char>(rng() % 256);
    }
    const absl::StatusOr<PixelSample> direct = SampleImage(damaged);
    const absl::StatusOr<PixelSample> opencv =
        SampleImage(damaged, kSamplePixels, kMinDecodedPixels, JpegDecoder::kOpenCv);
    ASSERT_EQ(direct.ok(), opencv.ok())
        << round << ": " << direct.status() << " / " << opencv.status();
    if (direct.ok()) {
      ASSERT_EQ(*direct, *opencv) << round;
    } else {
      ++failures;
      EXPECT_TRUE(absl::IsDataLoss(direct.status()) || absl::IsResourceExhausted(direct.status()))
          << direct.status();
    }
  }
  EXPECT_GT(failures, 0);  // Some damage is fatal, so the error route ran.
}

class SampleCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / absl::StrCat("palette-cache-", getpid());
    fs::remove_all(dir_);
    path_ = (dir_ / "palette-cache" / "samples-0-of-1.bin").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

TEST_F(SampleCacheTest, RoundTripAndTornTail) {
  const PixelSample a{1080, 720, std::string("\x01\x02\x03\x04\x05\x06", 6)};
  const PixelSample b{64, 64, std::string(3 * 500, '\x7f')};
  const ImageKey ka = KeyOf("picture a"), kb = KeyOf("picture b"), kc = KeyOf("picture c");
  EXPECT_NE(ka, kb);
  EXPECT_EQ(SampleCachePath(dir_.string(), *Shard::Parse("3/8")),
            (dir_ / "palette-cache/samples-3-of-8.bin").string());
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = SampleCache::Open(path_);
    ASSERT_TRUE(cache.ok()) << cache.status();
    EXPECT_FALSE((*cache)->Find(ka).has_value());
    ASSERT_TRUE((*cache)->Add(ka, a).ok());
    ASSERT_TRUE((*cache)->Add(kb, b).ok());
    ASSERT_TRUE((*cache)->Add(kc, PixelSample{}).ok());  // Undecodable.
    ASSERT_TRUE((*cache)->Add(ka, b).ok());              // Already there: kept.
    EXPECT_EQ(*(*cache)->Find(ka), a);
    // A second process on the same shard is refused.
    EXPECT_TRUE(absl::IsFailedPrecondition(SampleCache::Open(path_).status()));
  }
  const auto size = fs::file_size(path_);
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = SampleCache::Open(path_);
    ASSERT_TRUE(cache.ok());
    EXPECT_EQ((*cache)->size(), 3u);
    EXPECT_EQ((*cache)->dropped_bytes(), 0);
    EXPECT_EQ(*(*cache)->Find(ka), a);
    EXPECT_EQ(*(*cache)->Find(kb), b);
    EXPECT_TRUE((*cache)->Find(kc)->rgb.empty());
  }
  // A crash in the middle of the last append: that record is lost, the
  // others survive, and the next append does not glue onto the torn bytes.
  fs::resize_file(path_, size - 5);
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = SampleCache::Open(path_);
    ASSERT_TRUE(cache.ok());
    EXPECT_EQ((*cache)->size(), 2u);
    EXPECT_GT((*cache)->dropped_bytes(), 0);
    EXPECT_FALSE((*cache)->Find(kc).has_value());
    ASSERT_TRUE((*cache)->Add(kc, a).ok());
  }
  {
    // A damaged byte inside the last record fails its checksum.
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.put('\x55');
  }
  absl::StatusOr<std::unique_ptr<SampleCache>> cache = SampleCache::Open(path_);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ((*cache)->size(), 2u);
  EXPECT_EQ(*(*cache)->Find(kb), b);

  // Not a cache file at all: started over.
  cache->reset();
  { std::ofstream(path_, std::ios::trunc) << "something else entirely"; }
  cache = SampleCache::Open(path_);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ((*cache)->size(), 0u);
}

TEST_F(SampleCacheTest, SamplePictureDecodesOnce) {
  absl::StatusOr<std::unique_ptr<SampleCache>> cache = SampleCache::Open(path_);
  ASSERT_TRUE(cache.ok());
  const std::string jpeg = Jpeg(640, 640, cv::Scalar(200, 100, 0));
  ImageCounts counts;
  absl::StatusOr<PixelSample> first = SamplePicture(jpeg, cache->get(), kSamplePixels, counts);
  absl::StatusOr<PixelSample> second = SamplePicture(jpeg, cache->get(), kSamplePixels, counts);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(counts.decoded, 1);
  EXPECT_EQ(counts.from_cache, 1);
  // Corrupt pictures are remembered too.
  EXPECT_FALSE(SamplePicture("junk", cache->get(), kSamplePixels, counts).ok());
  EXPECT_FALSE(SamplePicture("junk", cache->get(), kSamplePixels, counts).ok());
  EXPECT_EQ(counts.decoded, 2);
  EXPECT_EQ(counts.corrupt, 2);
}

// The shard's cache kept in a CacheStore (SCOUT_STATE on S3), here over a
// local folder: every run starts from an empty scratch folder, as on a new
// machine.
class SharedSampleCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / absl::StrCat("shared-cache-", getpid());
    fs::remove_all(dir_);
    store_ = NewLocalCacheStore((dir_ / "remote").string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  SharedCacheOptions Options(int64_t flush_records) {
    SharedCacheOptions options;
    options.scratch_dir = (dir_ / absl::StrCat("scratch-", ++runs_)).string();
    options.flush_records = flush_records;
    options.lease.renew_every = absl::ZeroDuration();
    options.lease.ttl = absl::Minutes(1);
    return options;
  }
  absl::StatusOr<std::unique_ptr<SampleCache>> Open(SharedCacheOptions options) {
    return SampleCache::OpenShared(store_.get(), Shard(), std::move(options));
  }
  std::vector<std::string> Segments() {
    std::vector<std::string> names;
    absl::StatusOr<std::vector<CacheObject>> objects = store_->List("samples-0-of-1/");
    EXPECT_TRUE(objects.ok()) << objects.status();
    if (!objects.ok()) return names;
    for (const CacheObject& object : *objects) names.push_back(object.name);
    return names;
  }
  fs::path Remote(const std::string& name) { return dir_ / "remote" / name; }

  static PixelSample Sample(int i) {
    return PixelSample{i, 2 * i, std::string(3 * (i + 1), static_cast<char>('a' + i))};
  }
  static ImageKey Key(int i) { return KeyOf(absl::StrCat("picture ", i)); }

  fs::path dir_;
  std::unique_ptr<CacheStore> store_;
  int runs_ = 0;
};

TEST_F(SharedSampleCacheTest, AFreshDiskResumesFromTheSegments) {
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(Options(2));
    ASSERT_TRUE(cache.ok()) << cache.status();
    EXPECT_EQ((*cache)->size(), 0u);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*cache)->Add(Key(i), Sample(i)).ok());
    // Uploaded every 2 records: a crash now would lose only the fifth.
    EXPECT_EQ(Segments().size(), 2u);
    // A second run of the shard is refused while this one holds the lease.
    absl::StatusOr<std::unique_ptr<SampleCache>> other = Open(Options(2));
    EXPECT_TRUE(absl::IsUnavailable(other.status())) << other.status();
    EXPECT_NE(other.status().message().find("is held by"), std::string::npos);
    ASSERT_TRUE((*cache)->Close().ok());
    EXPECT_EQ((*cache)->segment_counts().written, 3);
  }
  EXPECT_EQ(Segments(), (std::vector<std::string>{"samples-0-of-1/0000000001.bin",
                                                  "samples-0-of-1/0000000002.bin",
                                                  "samples-0-of-1/0000000003.bin"}));
  EXPECT_TRUE(fs::is_empty(dir_ / "scratch-1"));  // The working copy is gone.

  absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(Options(2));
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ((*cache)->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*(*cache)->Find(Key(i)), Sample(i)) << i;
  EXPECT_EQ((*cache)->segment_counts().loaded, 3);
  EXPECT_EQ((*cache)->segment_counts().damaged, 0);
  EXPECT_EQ((*cache)->dropped_bytes(), 0);
  ASSERT_TRUE((*cache)->Close().ok());
  EXPECT_EQ((*cache)->segment_counts().written, 0);  // Nothing new: nothing uploaded.
}

TEST_F(SharedSampleCacheTest, DamagedSegmentsAreCutAndRewritten) {
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(Options(2));
    ASSERT_TRUE(cache.ok()) << cache.status();
    for (int i = 0; i < 6; ++i) ASSERT_TRUE((*cache)->Add(Key(i), Sample(i)).ok());
    ASSERT_TRUE((*cache)->Close().ok());
  }
  ASSERT_EQ(Segments().size(), 3u);
  // A torn upload of segment 2 (its last record cut), a flipped byte in
  // segment 3's first record, and junk where a segment should be.
  const fs::path second = Remote("samples-0-of-1/0000000002.bin");
  fs::resize_file(second, fs::file_size(second) - 2);
  {
    std::fstream f(Remote("samples-0-of-1/0000000003.bin"),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 8 + 3);
    f.put('\x55');
  }
  { std::ofstream(Remote("samples-0-of-1/0000000007.bin")) << "not a cache segment"; }
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(Options(100));
    ASSERT_TRUE(cache.ok()) << cache.status();
    // Segment 1 whole, segment 2's first record; segment 3 from its damaged first record on.
    EXPECT_EQ((*cache)->size(), 3u);
    EXPECT_EQ(*(*cache)->Find(Key(2)), Sample(2));
    EXPECT_FALSE((*cache)->Find(Key(3)).has_value());
    EXPECT_FALSE((*cache)->Find(Key(4)).has_value());
    EXPECT_EQ((*cache)->segment_counts().loaded, 4);
    EXPECT_EQ((*cache)->segment_counts().damaged, 3);
    EXPECT_GT((*cache)->dropped_bytes(), 0);
    ASSERT_TRUE((*cache)->Add(Key(3), Sample(3)).ok());
    ASSERT_TRUE((*cache)->Close().ok());
    // The new record went up, then everything was rewritten into one
    // segment (the damaged ones always are; the rest fits the merge).
    EXPECT_EQ((*cache)->segment_counts().written, 2);
    EXPECT_EQ((*cache)->segment_counts().deleted, 5);
  }
  EXPECT_EQ(Segments(), std::vector<std::string>{"samples-0-of-1/0000000009.bin"});
  absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(Options(100));
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ((*cache)->size(), 4u);
  EXPECT_EQ((*cache)->segment_counts().damaged, 0);
  EXPECT_EQ((*cache)->dropped_bytes(), 0);
  EXPECT_EQ(*(*cache)->Find(Key(3)), Sample(3));
}

TEST_F(SharedSampleCacheTest, ManySegmentsAreMergedWithoutDuplicates) {
  SharedCacheOptions options = Options(1);
  options.max_segments = 3;
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(options);
    ASSERT_TRUE(cache.ok()) << cache.status();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*cache)->Add(Key(i), Sample(i)).ok());
    EXPECT_EQ(Segments().size(), 5u);
    ASSERT_TRUE((*cache)->Close().ok());
    EXPECT_EQ((*cache)->segment_counts().deleted, 5);
  }
  // A copy of a segment under a new number (a crash between a merge's
  // upload and its deletes leaves such duplicates).
  ASSERT_EQ(Segments(), std::vector<std::string>{"samples-0-of-1/0000000006.bin"});
  const std::string merged = *ReadFile(Remote(Segments()[0]).string());
  for (int n = 10; n < 13; ++n) {
    std::ofstream(Remote(absl::StrCat("samples-0-of-1/00000000", n, ".bin")), std::ios::binary)
        << merged;
  }
  options.scratch_dir = (dir_ / "scratch-again").string();
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(options);
    ASSERT_TRUE(cache.ok()) << cache.status();
    EXPECT_EQ((*cache)->size(), 5u);
    ASSERT_TRUE((*cache)->Close().ok());
  }
  ASSERT_EQ(Segments().size(), 1u);
  EXPECT_EQ(fs::file_size(Remote(Segments()[0])), merged.size());  // Each record once.
}

TEST_F(SharedSampleCacheTest, ACrashedRunLosesItsUnsentRecordsAndItsLeaseExpires) {
  SharedCacheOptions options = Options(2);
  options.lease.ttl = absl::Seconds(1);
  std::string held;
  {
    absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(options);
    ASSERT_TRUE(cache.ok()) << cache.status();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*cache)->Add(Key(i), Sample(i)).ok());
    // Dies here: no Close. A crash runs no destructor either, so the lease
    // object stays as the run last wrote it (an orderly destruction would
    // release it): put back below.
    absl::StatusOr<VersionedBytes> lease = store_->Get("samples-0-of-1.lease");
    ASSERT_TRUE(lease.ok()) << lease.status();
    held = lease->bytes;
  }
  ASSERT_TRUE(store_->Put("samples-0-of-1.lease", held, PutConditions()).ok());
  options.scratch_dir = (dir_ / "scratch-next").string();
  EXPECT_TRUE(absl::IsUnavailable(Open(options).status()));
  absl::SleepFor(absl::Milliseconds(1100));
  absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(options);
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ((*cache)->size(), 2u);
  EXPECT_FALSE((*cache)->Find(Key(2)).has_value());
}

TEST_F(SharedSampleCacheTest, ALostLeaseStopsTheUploads) {
  absl::StatusOr<std::unique_ptr<SampleCache>> cache = Open(Options(1));
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_TRUE((*cache)->status().ok());
  // Someone else takes the lease (an operator, or a run that judged it
  // expired).
  ASSERT_TRUE(store_
                  ->Put("samples-0-of-1.lease",
                        R"({"holder":"thief","expires":"1970-01-01T00:00:00Z"})", PutConditions())
                  .ok());
  absl::StatusOr<std::unique_ptr<Lease>> lease =
      Lease::Acquire(CacheStoreObject(store_.get(), "samples-0-of-1.lease"),
                     LeaseOptions{absl::Minutes(1), absl::ZeroDuration(), "thief", nullptr});
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_TRUE((*lease)->Renew().ok());
  // The first run's next upload checks its lease and finds it gone.
  EXPECT_FALSE((*cache)->Add(Key(1), Sample(1)).ok());
  EXPECT_TRUE(Segments().empty());
  EXPECT_TRUE(absl::IsAborted((*cache)->status())) << (*cache)->status();
  EXPECT_TRUE(absl::IsAborted((*cache)->Close()));
  // Its release does not free the thief's lease.
  EXPECT_TRUE((*lease)->Check().ok());
  EXPECT_TRUE(absl::IsUnavailable(Open(Options(1)).status()));
  ASSERT_TRUE((*lease)->Release().ok());
  EXPECT_TRUE(Open(Options(1)).ok());
}

// The lease itself over the local store (the same code as on S3): refused
// while live, taken over once expired; the old holder learns it lost the
// lease at its next Check, and its release leaves the taker's lease alone.
TEST_F(SharedSampleCacheTest, AnExpiredLeaseIsTakenOverAndItsOldHolderLearnsItLost) {
  const auto acquire = [this](const std::string& holder, const Clock* clock) {
    LeaseOptions options;
    options.ttl = absl::Minutes(1);
    options.renew_every = absl::ZeroDuration();
    options.holder = holder;
    options.clock = clock;
    return Lease::Acquire(CacheStoreObject(store_.get(), "x.lease"), options);
  };
  absl::StatusOr<std::unique_ptr<Lease>> stalled = acquire("run-stalled", nullptr);
  ASSERT_TRUE(stalled.ok()) << stalled.status();
  EXPECT_TRUE((*stalled)->Check().ok());

  const absl::Status early = acquire("run-early", nullptr).status();
  EXPECT_TRUE(absl::IsUnavailable(early)) << early;
  EXPECT_NE(early.message().find("is held by run-stalled until 20"), std::string::npos) << early;
  EXPECT_NE(early.message().find(Remote("x.lease").string()), std::string::npos) << early;

  // A minute and a second later (the TTL is a minute): taken over.
  const std::unique_ptr<Clock> later = NewFixedClock(absl::Now() + absl::Seconds(61));
  absl::StatusOr<std::unique_ptr<Lease>> taker = acquire("run-taker", later.get());
  ASSERT_TRUE(taker.ok()) << taker.status();
  // Without a request the old holder cannot know yet...
  EXPECT_TRUE((*stalled)->status().ok());
  // ...its next renewal finds the lease gone, and it stays lost.
  const absl::Status lost = (*stalled)->Check();
  EXPECT_TRUE(absl::IsAborted(lost)) << lost;
  EXPECT_NE(lost.message().find("taken by run-taker"), std::string::npos) << lost;
  EXPECT_TRUE(absl::IsAborted((*stalled)->status()));
  EXPECT_TRUE(absl::IsAborted((*stalled)->Renew()));

  stalled->reset();  // Its release must not free the taker's lease.
  EXPECT_TRUE((*taker)->Check().ok());
  EXPECT_TRUE(absl::IsUnavailable(acquire("run-late", nullptr).status()));
  ASSERT_TRUE((*taker)->Release().ok());
  absl::StatusOr<std::unique_ptr<Lease>> next = acquire("run-next", nullptr);
  EXPECT_TRUE(next.ok()) << next.status();  // Released: no wait for the expiry.
}

// A store that refuses the write (no rights on the bucket, no bucket) is
// said as it is, not as a lease another run took.
TEST_F(SharedSampleCacheTest, AStoreRefusingWritesIsNotALeaseTaken) {
  class Refusing final : public CacheStore {
   public:
    explicit Refusing(CacheStore* target) : target_(target) {}
    absl::StatusOr<std::vector<CacheObject>> List(absl::string_view prefix) override {
      return target_->List(prefix);
    }
    absl::StatusOr<VersionedBytes> Get(absl::string_view name) override {
      return target_->Get(name);
    }
    absl::StatusOr<std::string> Put(absl::string_view name, absl::string_view,
                                    const PutConditions&) override {
      return absl::PermissionDeniedError(absl::StrCat("PUT s3://bucket/", name, ": access denied"));
    }
    absl::Status Delete(absl::string_view name) override { return target_->Delete(name); }
    std::string Where() const override { return target_->Where(); }

   private:
    CacheStore* const target_;
  };
  Refusing refusing(store_.get());
  const absl::Status status = SampleCache::OpenShared(&refusing, Shard(), Options(1)).status();
  EXPECT_TRUE(absl::IsPermissionDenied(status)) << status;
  EXPECT_EQ(status.message().find("lease first"), std::string::npos) << status;
}

TEST(PaletteFormatTest, SwatchesAndSvgFollowThePercentages) {
  v1::Palette palette;
  palette.set_user_id("42");
  for (const auto& [pct, r, g, b, hex] :
       {std::tuple{0.5, 255, 0, 0, "#ff0000"}, std::tuple{0.3, 0, 255, 0, "#00ff00"},
        std::tuple{0.2, 0, 0, 255, "#0000ff"}}) {
    v1::Color* c = palette.add_colors();
    c->set_percentage(pct);
    c->set_red(r);
    c->set_green(g);
    c->set_blue(b);
    c->set_hex(hex);
  }
  const std::string text = client::FormatPalette(palette);
  EXPECT_NE(text.find("\x1b[48;2;255;0;0m"), std::string::npos) << text;
  EXPECT_NE(text.find("#00ff00"), std::string::npos);
  EXPECT_NE(text.find("50.0%"), std::string::npos);
  const std::string svg = client::PaletteSvg(palette, 600, 80);
  EXPECT_NE(svg.find(R"(<rect x="0" y="0" width="300" height="80" fill="#ff0000")"),
            std::string::npos)
      << svg;
  EXPECT_NE(svg.find(R"(<rect x="300" y="0" width="180" height="80" fill="#00ff00")"),
            std::string::npos)
      << svg;
  EXPECT_NE(svg.find(R"(<rect x="480" y="0" width="120" height="80" fill="#0000ff")"),
            std::string::npos)
      << svg;
}

}  // namespace
}  // namespace scout::palette
