#include "workers/palette/sampler.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>  // Before jpeglib.h, which uses FILE and size_t.

#include <jpeglib.h>
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace scout::palette {
namespace {

int ReducedFlag(int reduction) {
  switch (reduction) {
    case 2:
      return cv::IMREAD_REDUCED_COLOR_2;
    case 4:
      return cv::IMREAD_REDUCED_COLOR_4;
    case 8:
      return cv::IMREAD_REDUCED_COLOR_8;
    default:
      return cv::IMREAD_COLOR;
  }
}

// A JPEG ends with FF D9; encoders may pad a few bytes after it.
bool HasJpegEnd(absl::string_view bytes) {
  const size_t from = bytes.size() > 32 ? bytes.size() - 32 : 0;
  for (size_t i = bytes.size(); i-- > from + 1;) {
    if (static_cast<unsigned char>(bytes[i - 1]) == 0xFF &&
        static_cast<unsigned char>(bytes[i]) == 0xD9) {
      return true;
    }
  }
  return false;
}

uint32_t Le16(const unsigned char* p) { return p[0] | (uint32_t{p[1]} << 8); }
uint32_t Le24(const unsigned char* p) { return Le16(p) | (uint32_t{p[2]} << 16); }
uint32_t Le32(const unsigned char* p) { return Le24(p) | (uint32_t{p[3]} << 24); }
uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::optional<ImageSize> Size(int64_t width, int64_t height) {
  if (width <= 0 || height <= 0 || width > INT32_MAX || height > INT32_MAX) return std::nullopt;
  return ImageSize{static_cast<int>(width), static_cast<int>(height)};
}

}  // namespace

std::optional<ImageSize> HeaderSize(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  // PNG: signature, then IHDR (width, height: 32-bit big-endian).
  if (n >= 24 && bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n" && bytes.substr(12, 4) == "IHDR") {
    return Size(Be32(p + 16), Be32(p + 20));
  }
  // GIF: the logical screen (16-bit little-endian).
  if (n >= 10 && (bytes.substr(0, 6) == "GIF87a" || bytes.substr(0, 6) == "GIF89a")) {
    return Size(Le16(p + 6), Le16(p + 8));
  }
  // BMP: the DIB header; OS/2 v1 headers (12 bytes) have 16-bit sides,
  // the others signed 32-bit ones (a negative height is top-down).
  if (n >= 26 && bytes.substr(0, 2) == "BM") {
    if (Le32(p + 14) == 12) return Size(Le16(p + 18), Le16(p + 20));
    const int32_t height = static_cast<int32_t>(Le32(p + 22));
    return Size(static_cast<int32_t>(Le32(p + 18)), height < 0 ? -int64_t{height} : height);
  }
  // WebP: RIFF container, then a lossy (VP8), lossless (VP8L) or extended
  // (VP8X, canvas size) first chunk.
  if (n >= 30 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    const absl::string_view chunk = bytes.substr(12, 4);
    if (chunk == "VP8 ") return Size(Le16(p + 26) & 0x3FFF, Le16(p + 28) & 0x3FFF);
    if (chunk == "VP8L" && p[20] == 0x2F) {
      const uint32_t bits = Le32(p + 21);
      return Size((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
    }
    if (chunk == "VP8X") return Size(Le24(p + 24) + 1, Le24(p + 27) + 1);
  }
  return std::nullopt;
}

std::optional<ImageSize> JpegSize(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return std::nullopt;
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return std::nullopt;
    const unsigned char marker = p[i + 1];
    if (marker == 0xFF) {  // Fill byte.
      ++i;
      continue;
    }
    const size_t length = (size_t{p[i + 2]} << 8) | p[i + 3];
    // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (i + 9 > n) return std::nullopt;
      const int height = (p[i + 5] << 8) | p[i + 6];
      const int width = (p[i + 7] << 8) | p[i + 8];
      if (width == 0 || height == 0) return std::nullopt;
      return ImageSize{width, height};
    }
    if (marker == 0xDA || length < 2) return std::nullopt;  // Scan before a frame.
    i += 2 + length;
  }
  return std::nullopt;
}

int ReductionFor(ImageSize size, int64_t min_decoded_pixels) {
  for (int64_t reduction : {8, 4, 2}) {
    const int64_t width = (size.width + reduction - 1) / reduction;
    const int64_t height = (size.height + reduction - 1) / reduction;
    if (width * height >= min_decoded_pixels) return static_cast<int>(reduction);
  }
  return 1;
}

namespace {

// A gx x gy grid with gx / gy close to the aspect ratio and gx * gy close to
// `pixels`, never more cells than pixels; points at the cell centres.
struct Grid {
  Grid(int cols, int rows, int pixels) : cols(cols), rows(rows) {
    const double aspect = static_cast<double>(cols) / rows;
    gx = std::clamp(static_cast<int>(std::lround(std::sqrt(pixels * aspect))), 1, cols);
    gy = std::clamp(static_cast<int>(std::lround(static_cast<double>(pixels) / gx)), 1, rows);
  }
  int X(int i) const { return static_cast<int>((2 * int64_t{i} + 1) * cols / (2 * int64_t{gx})); }
  int Y(int j) const { return static_cast<int>((2 * int64_t{j} + 1) * rows / (2 * int64_t{gy})); }

  int cols, rows, gx, gy;
};

absl::StatusOr<PixelSample> SampleWithOpenCv(absl::string_view bytes, int flag, int pixels) {
  cv::Mat image;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                         const_cast<char*>(bytes.data()));
    // EXIF orientation is irrelevant to colours; skipping it saves a parse.
    image = cv::imdecode(buffer, flag | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    return absl::DataLossError(absl::StrCat("cannot decode picture: ", e.what()));
  }
  if (image.empty() || image.type() != CV_8UC3) {
    return absl::DataLossError("cannot decode picture");
  }
  PixelSample sample;
  sample.width = image.cols;
  sample.height = image.rows;
  const Grid grid(image.cols, image.rows, pixels);
  sample.rgb.resize(static_cast<size_t>(3 * grid.gx * grid.gy));
  char* out = sample.rgb.data();
  for (int j = 0; j < grid.gy; ++j) {
    const uchar* row = image.ptr<uchar>(grid.Y(j));
    for (int i = 0; i < grid.gx; ++i) {
      const uchar* bgr = row + 3 * grid.X(i);
      *out++ = static_cast<char>(bgr[2]);
      *out++ = static_cast<char>(bgr[1]);
      *out++ = static_cast<char>(bgr[0]);
    }
  }
  return sample;
}

// libjpeg reports fatal errors through error_exit, which must not return
// (the default calls exit()): it jumps back to the setjmp in
// SampleWithLibjpeg with the message kept here.
struct JpegErrors {
  jpeg_error_mgr manager;  // First: libjpeg's err points here.
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
};

[[noreturn]] void JumpOnError(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrors*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings (corrupt data that libjpeg recovers from, as cv::imdecode did)
// are not printed: lake pictures would flood stderr.
void IgnoreMessage(j_common_ptr, int) {}

struct JpegDecompressor {
  JpegDecompressor() {
    info.err = jpeg_std_error(&errors.manager);
    errors.manager.error_exit = JumpOnError;
    errors.manager.emit_message = IgnoreMessage;
  }
  ~JpegDecompressor() {
    if (created) jpeg_destroy_decompress(&info);  // Also after an error.
  }
  JpegDecompressor(const JpegDecompressor&) = delete;
  JpegDecompressor& operator=(const JpegDecompressor&) = delete;

  jpeg_decompress_struct info = {};
  JpegErrors errors;
  bool created = false;
};

inline uint8_t Clamp255(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

// YCbCr -> RGB exactly as libjpeg's jdcolor.c (and its SIMD versions, which
// match it bit for bit): 16-bit fixed point, rounded.
inline void YccToRgb(int y, int cb, int cr, char* out) {
  constexpr int kHalf = 1 << 15;
  constexpr auto kFix = [](double x) { return static_cast<int>(x * 65536 + 0.5); };
  cb -= 128;
  cr -= 128;
  out[0] = static_cast<char>(Clamp255(y + ((kFix(1.40200) * cr + kHalf) >> 16)));
  out[1] =
      static_cast<char>(Clamp255(y + ((-kFix(0.34414) * cb - kFix(0.71414) * cr + kHalf) >> 16)));
  out[2] = static_cast<char>(Clamp255(y + ((kFix(1.77200) * cb + kHalf) >> 16)));
}

// The same sample as SampleWithOpenCv at the same scale, bit for bit
// (palette_unit_test), with libjpeg driven directly: YCbCr pictures are
// output as YCbCr and only the sampled pixels converted to RGB; no cv::Mat,
// no copy of the picture, no BGR swap; one scratch row. nullopt for CMYK
// and YCCK pictures, left to OpenCV (which converts CMYK itself). Fills
// sample.rgb only.
//
// Nothing with a destructor may live only between the setjmp and a
// libjpeg call: the jump would skip it.
std::optional<absl::Status> SampleWithLibjpeg(absl::string_view bytes, int reduction, int pixels,
                                              PixelSample& sample) {
  JpegDecompressor jpeg;
  jpeg_decompress_struct& info = jpeg.info;
  if (setjmp(jpeg.errors.jump) != 0) {
    return absl::DataLossError(absl::StrCat("cannot decode JPEG: ", jpeg.errors.message));
  }
  jpeg_create_decompress(&info);
  jpeg.created = true;
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  (void)jpeg_read_header(&info, TRUE);  // TRUE: a tables-only stream is an error.
  if (info.num_components == 4) return std::nullopt;
  const bool ycc = info.jpeg_color_space == JCS_YCbCr;
  info.out_color_space = ycc ? JCS_YCbCr : JCS_RGB;  // Grey is expanded to RGB, as OpenCV does.
  info.scale_num = 1;
  info.scale_denom = static_cast<unsigned int>(reduction);
  (void)jpeg_start_decompress(&info);
  if (info.output_components != 3) return absl::DataLossError("cannot decode JPEG");
  const Grid grid(static_cast<int>(info.output_width), static_cast<int>(info.output_height),
                  pixels);
  // Freed by jpeg_destroy_decompress, error or not.
  JSAMPARRAY row = (*info.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&info), JPOOL_IMAGE,
                                             info.output_width * 3, 1);
  sample.rgb.resize(static_cast<size_t>(3 * grid.gx * grid.gy));
  char* out = sample.rgb.data();
  for (int j = 0; j < grid.gy; ++j) {
    // The rows in between are decoded into the same scratch row:
    // jpeg_skip_scanlines would save little (nearly every iMCU row holds a
    // sampled row at 1/4) and does not give the same pixels for 2x2
    // chroma subsampling at every size (libjpeg-turbo 2.1.5).
    const JDIMENSION y = static_cast<JDIMENSION>(grid.Y(j));
    while (info.output_scanline <= y) {
      // jpeg_mem_src never suspends; a row not read would loop forever.
      if (jpeg_read_scanlines(&info, row, 1) != 1) return absl::DataLossError("cannot decode JPEG");
    }
    const JSAMPLE* pixel_row = row[0];
    for (int i = 0; i < grid.gx; ++i, out += 3) {
      const JSAMPLE* p = pixel_row + 3 * grid.X(i);
      if (ycc) {
        YccToRgb(p[0], p[1], p[2], out);
      } else {
        out[0] = static_cast<char>(p[0]);
        out[1] = static_cast<char>(p[1]);
        out[2] = static_cast<char>(p[2]);
      }
    }
  }
  // The last rows are decoded as cv::imdecode does, so that the same
  // pictures fail (it costs the last iMCU row or so). What follows the
  // scan is not read (the destructor aborts): cv::imdecode ignores errors
  // there too (palette_unit_test's damaged JPEGs).
  while (info.output_scanline < info.output_height) {
    if (jpeg_read_scanlines(&info, row, 1) != 1) return absl::DataLossError("cannot decode JPEG");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PixelSample> SampleImage(absl::string_view bytes, int pixels,
                                        int64_t min_decoded_pixels, JpegDecoder decoder) {
  const std::optional<ImageSize> jpeg = JpegSize(bytes);
  if (jpeg && !HasJpegEnd(bytes)) return absl::DataLossError("truncated JPEG (no EOI marker)");
  const std::optional<ImageSize> size = jpeg ? jpeg : HeaderSize(bytes);
  if (!size) {
    return absl::DataLossError("not a picture: no JPEG, PNG, WebP, GIF or BMP header with a size");
  }
  if (int64_t{size->width} * size->height > kMaxPixels) {
    return absl::ResourceExhaustedError(absl::StrCat("picture of ", size->width, "x", size->height,
                                                     " pixels: over the ", kMaxPixels,
                                                     " pixel limit, not decoded"));
  }
  if (!jpeg) return SampleWithOpenCv(bytes, cv::IMREAD_COLOR, pixels);
  const int reduction = ReductionFor(*jpeg, min_decoded_pixels);
  PixelSample sample;
  std::optional<absl::Status> decoded;
  if (decoder == JpegDecoder::kLibjpeg) {
    decoded = SampleWithLibjpeg(bytes, reduction, pixels, sample);
  }
  if (!decoded) {
    SCOUT_ASSIGN_OR_RETURN(sample, SampleWithOpenCv(bytes, ReducedFlag(reduction), pixels));
  } else if (!decoded->ok()) {
    return *decoded;
  }
  // The size as stored, not as decoded.
  sample.width = jpeg->width;
  sample.height = jpeg->height;
  return sample;
}

}  // namespace scout::palette
