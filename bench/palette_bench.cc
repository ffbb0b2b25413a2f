// Palette cost per account, side by side on the same pictures:
//   original  full-resolution decode + k-means over every pixel, as the old
//             system did with scikit-learn (stand-in: cv::kmeans, k-means++
//             seeding, 1 attempt, Lloyd until it moves less than 1e-4 or 300
//             iterations: scikit-learn's defaults);
//   cold      scout-palette's per-creator work with an empty sample cache
//             (read, hash, reduced decode, sample, cache append, k-means);
//   warm      the same with every sample cached (read, hash, k-means).
// One thread everywhere (cv::setNumThreads(1)), CPU time of the process.
// Optionally writes a contact sheet: per creator a few pictures, the palette
// found and genlake's true palette.
//
//   palette_bench --cdn DIR [--images 25] [--accounts 20] [--original_accounts 20]
//                 [--contact_sheet out.png]
//
// Quality (issue 13 §1; tests/palette_pictures.h), one JSON line per kind:
//   --fine_detail N  N accounts of --images fine-detail pictures (1080x1080,
//                    60-px cells of 6 known colours, noise, q90): cold cost
//                    per account, worst CIEDE2000 and share error against the
//                    truth, share error against the full-resolution pixel
//                    fractions, and full-pixel k-means on --baseline_pictures
//                    of each account beside it;
//   --photos DIR     each real photograph (scripts/photos) as an account of
//                    one picture: its full-pixel squared error against
//                    cv::kmeans over every pixel (--attempts), and the shares.
// --sample_pixels, --min_decoded_pixels and --restarts override
// scout-palette's settings (all modes), to pick them by measurement.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/io/files.h"
#include "tests/palette_pictures.h"
#include "workers/palette/palette.h"

ABSL_FLAG(std::string, cdn, "", "genlake's CDN directory (<cdn>/<creator>/*.jpg, truth.json)");
ABSL_FLAG(int, images, 25, "pictures per account");
ABSL_FLAG(int, accounts, 20, "accounts measured");
ABSL_FLAG(int, original_accounts, 20, "accounts measured with the original method");
ABSL_FLAG(std::string, contact_sheet, "", "write a PNG contact sheet here");
ABSL_FLAG(double, noise, 0,
          "photo-like pictures: add Gaussian noise of this sigma to each picture and "
          "re-encode it (q90) into a scratch directory first; genlake's flat pictures are "
          "far cheaper to decode than photographs");
ABSL_FLAG(std::string, cache_dir, "/tmp/palette-bench-cache", "scratch sample cache");
ABSL_FLAG(int, fine_detail, 0, "fine-detail accounts to measure (quality and cold cost)");
ABSL_FLAG(int, baseline_pictures, 3, "fine detail: pictures per account for full-pixel k-means");
ABSL_FLAG(std::string, photos, "", "directory of real photographs (scripts/photos)");
ABSL_FLAG(int, attempts, 10, "full-pixel k-means: k-means++ attempts (best kept)");
ABSL_FLAG(int, sample_pixels, scout::palette::kSamplePixels, "scout-palette: pixels per picture");
ABSL_FLAG(int64_t, min_decoded_pixels, scout::palette::kMinDecodedPixels,
          "scout-palette: decode JPEGs at the largest reduction leaving this many pixels");
ABSL_FLAG(int, restarts, scout::palette::KMeansOptions{}.restarts,
          "scout-palette: k-means++ restarts");
ABSL_FLAG(std::string, jpeg_decoder, "libjpeg",
          "scout-palette: libjpeg (direct, the default) or opencv (cv::imdecode, the route "
          "before issue 13 §1's decode change: the baseline)");

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using scout::palette::CreatorPalette;
using scout::palette::ImageCounts;
using scout::palette::PixelSample;

// Process CPU time (all threads; there is one).
double Cpu() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Account {
  std::string id;
  std::vector<std::string> pictures;
};

std::string Read(const std::string& path) {
  absl::StatusOr<std::string> bytes = scout::ReadFile(path);
  if (!bytes.ok()) {
    std::cerr << bytes.status() << "\n";
    std::exit(1);
  }
  return *std::move(bytes);
}

// Full decode, every pixel into one k-means.
double Original(const Account& account) {
  cv::Mat all;
  for (const std::string& path : account.pictures) {
    const std::string bytes = Read(path);
    const cv::Mat image = cv::imdecode(
        cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())),
        cv::IMREAD_COLOR);
    cv::Mat floats;
    image.reshape(1, image.rows * image.cols).convertTo(floats, CV_32F);
    all.push_back(floats);
  }
  cv::Mat labels, centres;
  return cv::kmeans(all, 6, labels,
                    cv::TermCriteria(cv::TermCriteria::EPS | cv::TermCriteria::COUNT, 300, 1e-4), 1,
                    cv::KMEANS_PP_CENTERS, centres);
}

scout::palette::KMeansOptions KMeansSettings() {
  scout::palette::KMeansOptions options;
  options.restarts = absl::GetFlag(FLAGS_restarts);
  return options;
}

double clustering_cpu = 0;  // Of ScoutOf's calls: k-means alone.

scout::palette::JpegDecoder Decoder() {
  return absl::GetFlag(FLAGS_jpeg_decoder) == "opencv" ? scout::palette::JpegDecoder::kOpenCv
                                                       : scout::palette::JpegDecoder::kLibjpeg;
}

// scout-palette's per-creator work on pictures already in memory.
CreatorPalette ScoutOf(const std::vector<std::string>& pictures, scout::palette::SampleCache* cache,
                       ImageCounts& counts) {
  std::vector<PixelSample> samples;
  for (const std::string& bytes : pictures) {
    absl::StatusOr<PixelSample> sample =
        scout::palette::SamplePicture(bytes, cache, absl::GetFlag(FLAGS_sample_pixels), counts,
                                      absl::GetFlag(FLAGS_min_decoded_pixels), Decoder());
    if (sample.ok()) samples.push_back(*std::move(sample));
  }
  const double start = Cpu();
  CreatorPalette palette = scout::palette::PaletteOfSamples(samples, KMeansSettings());
  clustering_cpu += Cpu() - start;
  return palette;
}

CreatorPalette Scout(const Account& account, scout::palette::SampleCache* cache,
                     ImageCounts& counts) {
  std::vector<PixelSample> samples;
  for (const std::string& path : account.pictures) {
    absl::StatusOr<PixelSample> sample =
        scout::palette::SamplePicture(Read(path), cache, absl::GetFlag(FLAGS_sample_pixels), counts,
                                      absl::GetFlag(FLAGS_min_decoded_pixels), Decoder());
    if (sample.ok()) samples.push_back(*std::move(sample));
  }
  return scout::palette::PaletteOfSamples(samples, KMeansSettings());
}

std::vector<double> SharesOf(const CreatorPalette& palette) {
  std::vector<double> out;
  for (const auto& c : palette.colors) out.push_back(c.percentage);
  return out;
}

json Settings() {
  return {{"sample_pixels", absl::GetFlag(FLAGS_sample_pixels)},
          {"min_decoded_pixels", absl::GetFlag(FLAGS_min_decoded_pixels)},
          {"restarts", absl::GetFlag(FLAGS_restarts)},
          {"jpeg_decoder", absl::GetFlag(FLAGS_jpeg_decoder)}};
}

// Fine-detail accounts: cold cost (no cache: a cold run's cache only costs an
// append) and quality against the truth and the full-resolution pixels.
void FineDetail(int accounts, int images) {
  namespace q = scout::palette::quality;
  double cpu = 0, worst_delta_e = 0, worst_share_truth = 0, worst_share_pixels = 0;
  double baseline_delta_e = 0, worst_mse_ratio = 0;
  for (int a = 0; a < accounts; ++a) {
    const q::Account account = q::FineDetailAccount(a, images);
    ImageCounts counts;
    const double start = Cpu();
    const CreatorPalette palette = ScoutOf(account.pictures, nullptr, counts);
    cpu += Cpu() - start;
    const q::TruthError truth = q::AgainstTruth(account.truth, palette.colors);
    worst_delta_e = std::max(worst_delta_e, truth.delta_e);
    worst_share_truth = std::max(worst_share_truth, truth.share);
    std::vector<cv::Mat> pixels;
    cv::Mat pooled;
    const int n_baseline = std::min<int>(images, absl::GetFlag(FLAGS_baseline_pictures));
    for (int p = 0; p < images; ++p) {
      pixels.push_back(q::Pixels(account.pictures[static_cast<size_t>(p)]));
      if (p < n_baseline) pooled.push_back(pixels.back());
    }
    const q::FullPixelError ours =
        q::AgainstPixels(pixels, q::CentresOf(palette.colors), SharesOf(palette));
    worst_share_pixels = std::max(worst_share_pixels, ours.share);
    // Full-pixel k-means on the first pictures, and our colours on the same.
    const Eigen::Matrix3Xd full = q::FullPixelKMeans(pooled, 6, absl::GetFlag(FLAGS_attempts));
    std::vector<scout::palette::PaletteColor> full_colours;
    for (Eigen::Index c = 0; c < full.cols(); ++c) {
      auto& colour = full_colours.emplace_back();
      colour.red = static_cast<int>(std::lround(full(0, c)));
      colour.green = static_cast<int>(std::lround(full(1, c)));
      colour.blue = static_cast<int>(std::lround(full(2, c)));
    }
    baseline_delta_e =
        std::max(baseline_delta_e, q::AgainstTruth(account.truth, full_colours).delta_e);
    const std::vector<cv::Mat> first(pixels.begin(), pixels.begin() + n_baseline);
    const double ratio = q::AgainstPixels(first, q::CentresOf(palette.colors), {}).mse /
                         q::AgainstPixels(first, full, {}).mse;
    worst_mse_ratio = std::max(worst_mse_ratio, ratio);
  }
  json line = {{"pictures", "fine detail (1080x1080, 60-px cells, noise 5, q90)"},
               {"accounts", accounts},
               {"images_per_account", images},
               {"cold_cpu_s_per_account", cpu / accounts},
               {"of_which_kmeans", clustering_cpu / accounts},
               {"worst_ciede2000", worst_delta_e},
               {"worst_share_vs_truth", worst_share_truth},
               {"worst_share_vs_pixel_fractions", worst_share_pixels},
               {"full_pixel_kmeans_worst_ciede2000", baseline_delta_e},
               {"worst_mse_vs_full_pixel_kmeans", worst_mse_ratio}};
  line.update(Settings());
  std::cout << line.dump() << std::endl;
}

// Each photograph an account of one picture.
void Photos(const std::string& dir) {
  namespace q = scout::palette::quality;
  double worst_ratio = 0, sum_ratio = 0, worst_share = 0, cpu = 0;
  json per_photo = json::object();
  for (const std::string& name : q::PhotoNames()) {
    const std::string bytes = Read((fs::path(dir) / name).string());
    ImageCounts counts;
    const double start = Cpu();
    const CreatorPalette palette = ScoutOf({bytes}, nullptr, counts);
    cpu += Cpu() - start;
    const cv::Mat pixels = q::Pixels(bytes);
    const q::FullPixelError ours =
        q::AgainstPixels({pixels}, q::CentresOf(palette.colors), SharesOf(palette));
    const double full =
        q::AgainstPixels({pixels}, q::FullPixelKMeans(pixels, 6, absl::GetFlag(FLAGS_attempts)), {})
            .mse;
    const double ratio = ours.mse / full;
    per_photo[name] = {{"mse_ratio", ratio}, {"share", ours.share}};
    worst_ratio = std::max(worst_ratio, ratio);
    sum_ratio += ratio;
    worst_share = std::max(worst_share, ours.share);
  }
  // All of them as one account, each picture weighted equally.
  std::vector<std::string> all;
  std::vector<cv::Mat> all_pixels;
  for (const std::string& name : q::PhotoNames()) {
    all.push_back(Read((fs::path(dir) / name).string()));
    all_pixels.push_back(q::Pixels(all.back()));
  }
  ImageCounts counts;
  const CreatorPalette pooled = ScoutOf(all, nullptr, counts);
  const q::FullPixelError pooled_ours =
      q::AgainstPixels(all_pixels, q::CentresOf(pooled.colors), SharesOf(pooled));
  const double pooled_full =
      q::AgainstPixels(
          all_pixels,
          q::FullPixelKMeans(q::EqualWeights(all_pixels), 6, absl::GetFlag(FLAGS_attempts)), {})
          .mse;
  const double n = static_cast<double>(q::PhotoNames().size());
  json line = {{"pictures", "real photographs (scikit-image), one account each"},
               {"photos", q::PhotoNames().size()},
               {"cpu_s_per_photo", cpu / n},
               {"worst_mse_vs_full_pixel_kmeans", worst_ratio},
               {"mean_mse_vs_full_pixel_kmeans", sum_ratio / n},
               {"worst_share_vs_pixel_fractions", worst_share},
               {"one_account_mse_vs_full_pixel_kmeans", pooled_ours.mse / pooled_full},
               {"one_account_share_vs_pixel_fractions", pooled_ours.share},
               {"full_pixel_kmeans_attempts", absl::GetFlag(FLAGS_attempts)},
               {"per_photo", per_photo}};
  line.update(Settings());
  std::cout << line.dump() << std::endl;
}

void Strip(cv::Mat& sheet, cv::Rect area, const std::vector<std::pair<double, cv::Scalar>>& parts) {
  double at = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const int x0 = area.x + static_cast<int>(std::lround(at * area.width));
    at += parts[i].first;
    const int x1 = i + 1 == parts.size() ? area.x + area.width
                                         : area.x + static_cast<int>(std::lround(at * area.width));
    cv::rectangle(sheet, cv::Rect(x0, area.y, std::max(0, x1 - x0), area.height), parts[i].second,
                  cv::FILLED);
  }
}

void ContactSheet(const std::vector<Account>& accounts, const std::vector<CreatorPalette>& found,
                  const json& truth, const std::string& path) {
  constexpr int kThumb = 128, kShown = 6, kPad = 8, kStrip = 400, kLabel = 18;
  const int rows = static_cast<int>(std::min<size_t>(accounts.size(), 5));
  const int width = kPad + kShown * (kThumb + kPad) + kStrip + kPad;
  const int row_height = kThumb + kPad + kLabel;
  cv::Mat sheet(kPad + rows * row_height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int r = 0; r < rows; ++r) {
    const int y = kPad + r * row_height;
    cv::putText(sheet, absl::StrCat("creator ", accounts[r].id), cv::Point(kPad, y + 13),
                cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    for (int i = 0; i < kShown && i < static_cast<int>(accounts[r].pictures.size()); ++i) {
      cv::Mat image = cv::imread(accounts[r].pictures[i], cv::IMREAD_REDUCED_COLOR_4);
      cv::Mat thumb;
      cv::resize(image, thumb, cv::Size(kThumb, kThumb), 0, 0, cv::INTER_AREA);
      thumb.copyTo(sheet(cv::Rect(kPad + i * (kThumb + kPad), y + kLabel, kThumb, kThumb)));
    }
    const int x = kPad + kShown * (kThumb + kPad);
    std::vector<std::pair<double, cv::Scalar>> ours, want;
    for (const auto& c : found[r].colors) {
      ours.emplace_back(c.percentage, cv::Scalar(c.blue, c.green, c.red));
    }
    if (truth.contains(accounts[r].id)) {
      for (const json& c : truth[accounts[r].id]) {
        want.emplace_back(
            c["percentage"].get<double>(),
            cv::Scalar(c["blue"].get<int>(), c["green"].get<int>(), c["red"].get<int>()));
      }
    }
    const int half = (kThumb - kPad) / 2;
    cv::putText(sheet, "scout-palette (top) / genlake truth (bottom)", cv::Point(x, y + 13),
                cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    Strip(sheet, cv::Rect(x, y + kLabel, kStrip, half), ours);
    Strip(sheet, cv::Rect(x, y + kLabel + half + kPad, kStrip, half), want);
  }
  fs::create_directories(fs::path(path).parent_path());
  if (!cv::imwrite(path, sheet)) std::cerr << "cannot write " << path << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (const std::string d = absl::GetFlag(FLAGS_jpeg_decoder); d != "libjpeg" && d != "opencv") {
    std::cerr << "--jpeg_decoder: libjpeg or opencv, not " << d << "\n";
    return 2;
  }
  cv::setNumThreads(1);
  const std::string cdn = absl::GetFlag(FLAGS_cdn);
  const size_t want = static_cast<size_t>(absl::GetFlag(FLAGS_images));
  if (absl::GetFlag(FLAGS_fine_detail) > 0) {
    FineDetail(absl::GetFlag(FLAGS_fine_detail), static_cast<int>(want));
  }
  if (!absl::GetFlag(FLAGS_photos).empty()) Photos(absl::GetFlag(FLAGS_photos));
  if (cdn.empty()) return 0;
  std::vector<Account> accounts;
  std::vector<std::string> ids;
  for (const auto& entry : fs::directory_iterator(cdn)) {
    if (entry.is_directory()) ids.push_back(entry.path().filename().string());
  }
  std::sort(ids.begin(), ids.end());
  for (const std::string& id : ids) {
    Account account{id, {}};
    for (const auto& entry : fs::directory_iterator(fs::path(cdn) / id)) {
      if (entry.path().filename() != "profile.jpg") account.pictures.push_back(entry.path());
    }
    std::sort(account.pictures.begin(), account.pictures.end());
    if (account.pictures.size() < want) continue;
    account.pictures.resize(want);
    accounts.push_back(std::move(account));
    if (accounts.size() == static_cast<size_t>(absl::GetFlag(FLAGS_accounts))) break;
  }
  if (const double sigma = absl::GetFlag(FLAGS_noise); sigma > 0) {
    const fs::path scratch = fs::path(absl::GetFlag(FLAGS_cache_dir) + "-noisy");
    fs::remove_all(scratch);
    fs::create_directories(scratch);
    cv::RNG rng(7);
    int64_t bytes = 0, count = 0;
    for (Account& a : accounts) {
      for (std::string& path : a.pictures) {
        cv::Mat image = cv::imread(path, cv::IMREAD_COLOR), noise(image.size(), CV_16SC3);
        rng.fill(noise, cv::RNG::NORMAL, 0, sigma);
        cv::Mat noisy;
        cv::add(image, noise, noisy, cv::noArray(), CV_8UC3);
        path = (scratch / absl::StrCat(a.id, "-", fs::path(path).filename().string())).string();
        cv::imwrite(path, noisy, {cv::IMWRITE_JPEG_QUALITY, 90});
        bytes += static_cast<int64_t>(fs::file_size(path));
        ++count;
      }
    }
    std::cerr << "photo-like pictures: " << count << ", " << bytes / count / 1024
              << " KiB each on average\n";
  }
  if (accounts.empty()) {
    std::cerr << "no account with " << want << " pictures under " << cdn << "\n";
    return 1;
  }
  const auto report = [&](const char* method, size_t n, double cpu, const json& extra) {
    json line = {
        {"method", method},
        {"accounts", n},
        {"images_per_account", want},
        {"cpu_s_per_account", cpu / static_cast<double>(n)},
        {"projected_core_hours_50k", cpu / static_cast<double>(n) * 50000 / 3600},
        {"projected_wall_minutes_50k_2_cores", cpu / static_cast<double>(n) * 50000 / 2 / 60}};
    if (extra.is_object()) line.update(extra);
    std::cout << line.dump() << std::endl;
    return cpu / static_cast<double>(n);
  };

  // Warm the page cache so every method reads from memory alike.
  for (const Account& a : accounts) {
    for (const std::string& p : a.pictures) (void)Read(p);
  }

  const size_t n_original =
      std::min(accounts.size(), static_cast<size_t>(absl::GetFlag(FLAGS_original_accounts)));
  double start = Cpu();
  for (size_t i = 0; i < n_original; ++i) (void)Original(accounts[i]);
  const double original = report("original", n_original, Cpu() - start, json::object());

  const std::string cache_path = absl::StrCat(absl::GetFlag(FLAGS_cache_dir), "/samples.bin");
  fs::remove_all(absl::GetFlag(FLAGS_cache_dir));
  std::vector<CreatorPalette> found;
  ImageCounts cold_counts, warm_counts;
  start = Cpu();
  {
    auto cache = scout::palette::SampleCache::Open(cache_path);
    if (!cache.ok()) return 1;
    for (const Account& a : accounts) found.push_back(Scout(a, cache->get(), cold_counts));
  }
  const double cold =
      report("scout-palette cold", accounts.size(), Cpu() - start,
             {{"decoded", cold_counts.decoded},
              {"from_cache", cold_counts.from_cache},
              {"cheaper_than_original", original / ((Cpu() - start) / accounts.size())}});
  start = Cpu();
  bool same = true;
  {
    auto cache = scout::palette::SampleCache::Open(cache_path);  // Next week: reopened.
    if (!cache.ok()) return 1;
    for (size_t i = 0; i < accounts.size(); ++i) {
      const CreatorPalette p = Scout(accounts[i], cache->get(), warm_counts);
      same = same &&
             scout::palette::ColorsJson(p.colors) == scout::palette::ColorsJson(found[i].colors);
    }
  }
  const double warm_cpu = Cpu() - start;
  report("scout-palette warm", accounts.size(), warm_cpu,
         {{"decoded", warm_counts.decoded},
          {"from_cache", warm_counts.from_cache},
          {"same_palettes_as_cold", same},
          {"cheaper_than_original", original / (warm_cpu / accounts.size())}});
  (void)cold;
  fs::remove_all(absl::GetFlag(FLAGS_cache_dir));

  if (const std::string sheet = absl::GetFlag(FLAGS_contact_sheet); !sheet.empty()) {
    std::ifstream in(fs::path(cdn) / "truth.json");
    const json truth = json::parse(in, nullptr, false);
    ContactSheet(accounts, found, truth.is_object() ? truth : json::object(), sheet);
    std::cerr << "contact sheet: " << sheet << "\n";
  }
  return 0;
}
