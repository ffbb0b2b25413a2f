// Pictures and yardsticks for palette quality (issue 13 §1), shared by
// palette_quality_test and bench/palette_bench.cc so both measure alike:
//   - fine detail: 1080x1080 pictures of 60-px cells, each cell one of 6
//     known colours (cell counts proportional to the colours' weights, so
//     the true shares are exact), Gaussian noise, JPEG q90;
//   - real photographs: scikit-image's sample pictures (scripts/photos);
//   - full-pixel k-means: OpenCV's cv::kmeans (k-means++, several attempts)
//     over every full-resolution pixel, the stand-in for the original
//     system's scikit-learn KMeans(6, n_init=10);
//   - errors in scout-palette's own space: squared RGB distance (kmeans.h),
//     shares as the fraction of pixels a reported colour is nearest to.
// Header-only, test and benchmark code. Pure functions, thread-safe (but
// cv::kmeans seeds from OpenCV's thread-local RNG).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/colour.h"
#include "tools/genlake/pictures.h"
#include "workers/palette/kmeans.h"

namespace scout::palette::quality {

struct TrueColour {
  int red = 0, green = 0, blue = 0;
  double share = 0;
};

struct Account {
  std::vector<std::string> pictures;  // Encoded, as the media store holds them.
  std::vector<TrueColour> truth;      // Empty for photographs.
};

// `pictures` fine-detail pictures of genlake's palette for `account`: a
// size x size grid of cell x cell squares (18 x 18 = 324 at the defaults),
// as many squares of each colour as its weight gives (largest remainders),
// placed at random, then Gaussian noise of `noise` sigma and JPEG q90.
inline Account FineDetailAccount(int account, int pictures, int size = 1080, int cell = 60,
                                 double noise = 5, uint64_t seed = 13) {
  const genlake::Palette palette = genlake::MakePalette(seed, account);
  const int side = (size + cell - 1) / cell, cells = side * side;
  std::vector<int> count(palette.size());
  std::vector<std::pair<double, int>> remainder;
  int assigned = 0;
  for (size_t j = 0; j < palette.size(); ++j) {
    const double exact = static_cast<double>(palette[j].weight) * cells / genlake::kWeightUnits;
    count[j] = static_cast<int>(exact);
    assigned += count[j];
    remainder.emplace_back(-(exact - count[j]), static_cast<int>(j));
  }
  std::sort(remainder.begin(), remainder.end());
  for (size_t i = 0; assigned < cells; ++i, ++assigned) ++count[remainder[i].second];
  Account out;
  std::vector<int> colour_of;  // One entry per cell.
  for (size_t j = 0; j < palette.size(); ++j) {
    // Cells at the right and bottom edges are cut when cell does not divide
    // size; the defaults divide, so the shares are exact.
    out.truth.push_back(
        {palette[j].r, palette[j].g, palette[j].b, static_cast<double>(count[j]) / cells});
    colour_of.insert(colour_of.end(), static_cast<size_t>(count[j]), static_cast<int>(j));
  }
  cv::RNG rng(seed * 7919 + static_cast<uint64_t>(account));
  for (int p = 0; p < pictures; ++p) {
    for (int i = cells - 1; i > 0; --i) std::swap(colour_of[i], colour_of[rng.uniform(0, i + 1)]);
    cv::Mat image(size, size, CV_8UC3);
    for (int c = 0; c < cells; ++c) {
      const genlake::PaletteColor& colour = palette[static_cast<size_t>(colour_of[c])];
      const cv::Rect r(c % side * cell, c / side * cell, cell, cell);
      image(r & cv::Rect(0, 0, size, size)) = cv::Scalar(colour.b, colour.g, colour.r);
    }
    cv::Mat noisy = image;
    if (noise > 0) {
      cv::Mat n(image.size(), CV_16SC3);
      rng.fill(n, cv::RNG::NORMAL, 0, noise);
      cv::add(image, n, noisy, cv::noArray(), CV_8UC3);
    }
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", noisy, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
    out.pictures.emplace_back(jpeg.begin(), jpeg.end());
  }
  return out;
}

// The directory scripts/photos fills (it fetches once, then only prints);
// empty with the reason in `error` when that fails.
inline std::string PhotosDir(const std::string& source_dir, std::string* error) {
  const std::string command = absl::StrCat(source_dir, "/scripts/photos");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *error = absl::StrCat("cannot run ", command);
    return "";
  }
  std::string out;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  const int rc = pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (rc != 0 || out.empty()) {
    *error = absl::StrCat(command, " failed (exit ", rc, ")");
    return "";
  }
  return out;
}

// The colour pictures scripts/photos extracts.
inline const std::vector<std::string>& PhotoNames() {
  static const auto* names = new std::vector<std::string>{"astronaut.png",
                                                          "coffee.png",
                                                          "chelsea.png",
                                                          "rocket.jpg",
                                                          "motorcycle_left.png",
                                                          "motorcycle_right.png",
                                                          "retina.jpg",
                                                          "hubble_deep_field.jpg",
                                                          "ihc.png"};
  return *names;
}

// Every pixel of a picture, one row of r, g, b floats each.
inline cv::Mat Pixels(const std::string& bytes) {
  const cv::Mat image = cv::imdecode(
      cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())),
      cv::IMREAD_COLOR);
  cv::Mat rgb, floats;
  cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
  rgb.reshape(1, rgb.rows * rgb.cols).convertTo(floats, CV_32F);
  return floats;
}

// cv::kmeans over `pixels` (rows of r, g, b): the best of `attempts`
// k-means++ seedings, Lloyd until centres move less than 1e-4 or 300
// iterations. Centres as one column per cluster, like KMeansResult.
inline Eigen::Matrix3Xd FullPixelKMeans(const cv::Mat& pixels, int k = 6, int attempts = 3) {
  cv::Mat labels, centres;
  cv::setRNGSeed(1);
  cv::kmeans(pixels, k, labels,
             cv::TermCriteria(cv::TermCriteria::EPS | cv::TermCriteria::COUNT, 300, 1e-4), attempts,
             cv::KMEANS_PP_CENTERS, centres);
  Eigen::Matrix3Xd out(3, centres.rows);
  for (int c = 0; c < centres.rows; ++c) {
    for (int ch = 0; ch < 3; ++ch) out(ch, c) = centres.at<float>(c, ch);
  }
  return out;
}

// The pictures' pixels pooled with each picture weighted equally, as
// cv::kmeans has no weights: as many pixels of each as the smallest has,
// evenly spread over it.
inline cv::Mat EqualWeights(const std::vector<cv::Mat>& pictures) {
  int n = INT32_MAX;
  for (const cv::Mat& p : pictures) n = std::min(n, p.rows);
  cv::Mat out(0, 3, CV_32F);
  for (const cv::Mat& p : pictures) {
    for (int i = 0; i < n; ++i) out.push_back(p.row(static_cast<int>(int64_t{i} * p.rows / n)));
  }
  return out;
}

// Per pixel of `pixels`: the squared distance to the nearest centre and its
// index (first on ties).
struct Nearest {
  double sse = 0;
  std::vector<int64_t> wins;  // Pixels per centre.
};
inline Nearest NearestOf(const cv::Mat& pixels, const Eigen::Matrix3Xd& centres) {
  Nearest out;
  out.wins.assign(static_cast<size_t>(centres.cols()), 0);
  for (int i = 0; i < pixels.rows; ++i) {
    const float* p = pixels.ptr<float>(i);
    double best = 1e300;
    Eigen::Index at = 0;
    for (Eigen::Index c = 0; c < centres.cols(); ++c) {
      const double d0 = p[0] - centres(0, c), d1 = p[1] - centres(1, c), d2 = p[2] - centres(2, c);
      const double d = d0 * d0 + d1 * d1 + d2 * d2;
      if (d < best) {
        best = d;
        at = c;
      }
    }
    out.sse += best;
    ++out.wins[static_cast<size_t>(at)];
  }
  return out;
}

// The reported colours (as rounded and reported) as centres.
inline Eigen::Matrix3Xd CentresOf(const std::vector<PaletteColor>& colours) {
  Eigen::Matrix3Xd out(3, static_cast<Eigen::Index>(colours.size()));
  for (size_t c = 0; c < colours.size(); ++c) {
    out.col(static_cast<Eigen::Index>(c)) =
        Eigen::Vector3d(colours[c].red, colours[c].green, colours[c].blue);
  }
  return out;
}

// The worst CIEDE2000 between a true colour and the reported colour it is
// paired with, over the best pairing (smallest total), and the worst share
// difference over the same pairing. Needs as many reported colours as true
// ones (otherwise +inf).
struct TruthError {
  double delta_e = 0, share = 0;
};
inline TruthError AgainstTruth(const std::vector<TrueColour>& truth,
                               const std::vector<PaletteColor>& got) {
  if (got.size() != truth.size()) return {1e300, 1e300};
  std::vector<Lab> want_lab, got_lab;
  for (const TrueColour& c : truth) want_lab.push_back(SrgbToLab(c.red, c.green, c.blue));
  for (const PaletteColor& c : got) got_lab.push_back(SrgbToLab(c.red, c.green, c.blue));
  std::vector<int> perm(truth.size()), best;
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(i);
  double best_total = 1e300;
  do {
    double total = 0;
    for (size_t i = 0; i < perm.size(); ++i) total += Ciede2000(want_lab[i], got_lab[perm[i]]);
    if (total < best_total) {
      best_total = total;
      best = perm;
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  TruthError out;
  for (size_t i = 0; i < best.size(); ++i) {
    out.delta_e = std::max(out.delta_e, Ciede2000(want_lab[i], got_lab[best[i]]));
    out.share = std::max(out.share, std::abs(truth[i].share - got[best[i]].percentage));
  }
  return out;
}

// The reported colours of an account against every full-resolution pixel of
// its pictures, each picture weighted equally: the mean over pictures of the
// mean squared error, and the worst difference between a reported share and
// the mean over pictures of the fraction of pixels that colour wins.
struct FullPixelError {
  double mse = 0;
  double share = 0;
};
inline FullPixelError AgainstPixels(const std::vector<cv::Mat>& pictures,
                                    const Eigen::Matrix3Xd& centres,
                                    const std::vector<double>& shares) {
  FullPixelError out;
  std::vector<double> fraction(static_cast<size_t>(centres.cols()), 0);
  for (const cv::Mat& pixels : pictures) {
    const Nearest n = NearestOf(pixels, centres);
    out.mse += n.sse / pixels.rows / static_cast<double>(pictures.size());
    for (size_t c = 0; c < fraction.size(); ++c) {
      fraction[c] += static_cast<double>(n.wins[c]) / pixels.rows / pictures.size();
    }
  }
  for (size_t c = 0; c < shares.size() && c < fraction.size(); ++c) {
    out.share = std::max(out.share, std::abs(shares[c] - fraction[c]));
  }
  return out;
}

}  // namespace scout::palette::quality
