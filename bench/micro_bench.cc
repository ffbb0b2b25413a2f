// Per-file CPU costs of scout-ingest, each beside the baseline it is built on
// in the same run: parsing a post with nlohmann alone vs our full
// normalization; a byte loop vs our folding; building the ES document, and
// building it through protobuf's JSON printer as before issue 13 §5; reading
// it back (the server, per hit), and through protobuf's JSON parser.
// Then what every server call pays on top of its work: the API key check,
// the metrics and the JSON log line (run with 2>/dev/null). Last, palette
// search: the exact palette distance, CIEDE2000 and the palette vector.
// And scout-palette's sampling of one photo-like JPEG: the direct libjpeg
// route beside cv::imdecode's (issue 13 §1), and libjpeg's entropy decoding
// alone, the floor of any route.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>  // Before jpeglib.h.
#include <cstdlib>
#include <random>

#include <jpeglib.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <prometheus/counter.h>

#include "absl/strings/str_cat.h"
#include "common/backends/metrics.h"
#include "common/backends/post_index.h"
#include "common/base/colour.h"
#include "common/base/hash.h"
#include "common/base/log.h"
#include "common/base/sha256.h"
#include "common/base/text.h"
#include "scout/v1/service.pb.h"
#include "server/api_keys.h"
#include "server/arena_messages.h"
#include "server/palette_index.h"
#include "server/profiles.h"
#include "tests/proto_printer_document.h"
#include "tools/genlake/pictures.h"
#include "workers/ingest/normalize.h"
#include "workers/palette/sampler.h"

namespace {

const std::string kPost =
    R"({"caption":"Crème brûlée at the #CAFÉ in São Paulo with @bob.smith 🍝✨ so cozy, the sourdough was perfect #FoodPorn #crèmebrûlée","comments_count":199,"id":"17849999999999991","ig_id":"2248137977777777","is_comment_enabled":true,"like_count":888,"media_type":"CAROUSEL_ALBUM","media_url":"https://cdn.example/v/t51/1.jpg","owner":{"id":"178414000888888","username":"kariah.von","followers_count":5993},"permalink":"https://www.instagram.com/p/B8y_ZttbnlwiT/","shortcode":"B8y_ZttbnlwiT","timestamp":"2026-11-20T17:05:52+0000","username":"kariah.von","children":{"data":[{"id":"178823899999999","media_type":"IMAGE","media_url":"https://cdn.example/v/t51/1.jpg"},{"id":"178823899999998","media_type":"IMAGE","media_url":"https://cdn.example/v/t51/2.jpg"},{"id":"178823899999997","media_type":"IMAGE","media_url":"https://cdn.example/v/t51/3.jpg"}]},"mentioned_users":"udacity, nanodegree","hashtags":"learningData, CAFÉ","impressions":2531,"reach":2009,"engagement":130,"saved":27})";

void BM_ParseJsonOnly_Baseline(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(nlohmann::json::parse(kPost));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPost.size()));
}
BENCHMARK(BM_ParseJsonOnly_Baseline);

void BM_NormalizePost(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(scout::ingest::NormalizePost(kPost, "1"));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPost.size()));
}
BENCHMARK(BM_NormalizePost);

void BM_NormalizeAndBuildDocument(benchmark::State& state) {
  for (auto _ : state) {
    const auto post = scout::ingest::NormalizePost(kPost, "1");
    benchmark::DoNotOptimize(scout::PostToDocument(*post, "instagram_graph/posts/1/1.json"));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPost.size()));
}
BENCHMARK(BM_NormalizeAndBuildDocument);

// The same through the route PostToDocument took until issue 13 §5:
// protobuf's JSON printer (tests/proto_printer_document.h).
void BM_NormalizeAndBuildDocument_ProtoPrinter_Baseline(benchmark::State& state) {
  for (auto _ : state) {
    const auto post = scout::ingest::NormalizePost(kPost, "1");
    benchmark::DoNotOptimize(
        scout::testing::ProtoPrinterPostDocument(*post, "instagram_graph/posts/1/1.json"));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPost.size()));
}
BENCHMARK(BM_NormalizeAndBuildDocument_ProtoPrinter_Baseline);

// The document alone, of the post as scout-ingest sends it (pictures
// copied: store URLs filled in), both routes.
scout::v1::Post IndexedPost() {
  scout::v1::Post post = *scout::ingest::NormalizePost(kPost, "1");
  for (scout::v1::MediaItem& item : *post.mutable_media()) {
    item.set_url(absl::StrCat("https://media.example/posts/", post.id(), "/", item.id(), ".jpg"));
  }
  post.set_media_url(post.media(0).url());
  return post;
}

void BM_PostDocument(benchmark::State& state) {
  const scout::v1::Post post = IndexedPost();
  for (auto _ : state) {
    benchmark::DoNotOptimize(scout::PostToDocument(post, "instagram_graph/posts/1/1.json"));
  }
}
BENCHMARK(BM_PostDocument);

void BM_PostDocument_ProtoPrinter_Baseline(benchmark::State& state) {
  const scout::v1::Post post = IndexedPost();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        scout::testing::ProtoPrinterPostDocument(post, "instagram_graph/posts/1/1.json"));
  }
}
BENCHMARK(BM_PostDocument_ProtoPrinter_Baseline);

// The way back, as the server reads each hit's _source (already parsed by
// nlohmann with the whole answer): directly, and through protobuf's JSON
// parser as before issue 13 §2's hit decoding.
void BM_PostFromDocument(benchmark::State& state) {
  const nlohmann::json doc =
      nlohmann::json::parse(scout::PostToDocument(IndexedPost(), "instagram_graph/posts/1/1.json"));
  for (auto _ : state) benchmark::DoNotOptimize(scout::PostFromDocument(doc));
}
BENCHMARK(BM_PostFromDocument);

void BM_PostFromDocument_ProtoParser_Baseline(benchmark::State& state) {
  const nlohmann::json doc =
      nlohmann::json::parse(scout::PostToDocument(IndexedPost(), "instagram_graph/posts/1/1.json"));
  for (auto _ : state) benchmark::DoNotOptimize(scout::testing::ProtoParserPostFromDocument(doc));
}
BENCHMARK(BM_PostFromDocument_ProtoParser_Baseline);

// GetUserProfile's own work: a 90-day business profile with a palette
// decoded from its compact facts and serialized, as gRPC then does.
scout::server::ProfileFacts BenchProfile(scout::server::ByteArena& arena) {
  scout::v1::UserProfile base;
  base.set_username("kariah.von");
  base.set_name("Kariah Von");
  base.set_biography("Food, travel and the odd cat. São Paulo.");
  base.set_followers_count(5993);
  base.set_engagement_rate(0.0412);
  std::vector<scout::DailyPoint> daily;
  for (int d = 0; d < 90; ++d) {
    daily.push_back({absl::CivilDay(2026, 9, 1) + d, 5000 + 11 * d, 2500 + 37 * (d % 7), 2000 + d});
  }
  scout::v1::Palette palette;
  for (int i = 0; i < 6; ++i) {
    scout::v1::Color* colour = palette.add_colors();
    colour->set_red(160);
    colour->set_green(177);
    colour->set_blue(194);
    colour->set_hex("#a0b1c2");
    colour->set_percentage(1.0 / 6);
  }
  return *scout::server::ProfileFacts::Pack(base, daily, &palette, arena);
}

// On the heap, as before the server's ArenaMessages.
void BM_ProfileAnswer_Heap_Baseline(benchmark::State& state) {
  scout::server::ByteArena bytes;
  const scout::server::ProfileFacts facts = BenchProfile(bytes);
  std::string wire;
  for (auto _ : state) {
    const scout::v1::UserProfile profile = facts.ToProto();
    wire.clear();
    profile.AppendToString(&wire);
    benchmark::DoNotOptimize(wire);
  }
  state.counters["bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_ProfileAnswer_Heap_Baseline);

// As the server does it: into the response of the call's arena.
void BM_ProfileAnswer(benchmark::State& state) {
  scout::server::ByteArena bytes;
  const scout::server::ProfileFacts facts = BenchProfile(bytes);
  scout::server::ArenaMessages<scout::v1::GetUserProfileRequest, scout::v1::UserProfile> messages;
  std::string wire;
  for (auto _ : state) {
    auto* holder = messages.AllocateMessages();
    facts.ToProto(*holder->response());
    wire.clear();
    holder->response()->AppendToString(&wire);
    benchmark::DoNotOptimize(wire);
    holder->Release();
  }
}
BENCHMARK(BM_ProfileAnswer);

void BM_StableHash(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(scout::StableHash(kPost));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPost.size()));
}
BENCHMARK(BM_StableHash);

void BM_AsciiLowercase_Baseline(benchmark::State& state) {
  for (auto _ : state) {
    std::string out(kPost);
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPost.size()));
}
BENCHMARK(BM_AsciiLowercase_Baseline);

void BM_FoldForSearch(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(scout::FoldForSearch(kPost));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPost.size()));
}
BENCHMARK(BM_FoldForSearch);

// --- Per-call overhead of the server ---------------------------------------

void BM_Sha256OfAKey(benchmark::State& state) {
  const std::string key = "k-0123456789abcdef0123456789abcdef0123456789ab";
  for (auto _ : state) benchmark::DoNotOptimize(scout::Sha256Hex(key));
}
BENCHMARK(BM_Sha256OfAKey);

void BM_ApiKeyCheck(benchmark::State& state) {
  char path[] = "/tmp/scout-bench-keys-XXXXXX";
  const int fd = mkstemp(path);
  std::string lines;
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&lines, scout::Sha256Hex(absl::StrCat("k-", i)), " client", i, "\n");
  }
  (void)!write(fd, lines.data(), lines.size());
  close(fd);
  auto keys = scout::server::ApiKeys::Load(path);
  unlink(path);
  if (!keys.ok()) {
    state.SkipWithError("keys");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize((*keys)->Check("Bearer k-500"));
}
BENCHMARK(BM_ApiKeyCheck);

void BM_CounterByLabels(benchmark::State& state) {
  auto& family = prometheus::BuildCounter().Name("bench_calls_total").Register(scout::Metrics());
  for (auto _ : state) family.Add({{"method", "GetUserProfile"}, {"code", "OK"}}).Increment();
}
BENCHMARK(BM_CounterByLabels);

void BM_JsonLogLine(benchmark::State& state) {
  for (auto _ : state) {
    scout::Log(scout::LogLevel::kInfo, "rpc",
               {{"request_id", "5851a4f11f0f4211"},
                {"method", "GetUserProfile"},
                {"code", "OK"},
                {"ms", 0.0158},
                {"peer", "ipv4:127.0.0.1:58462"}});
  }
}
BENCHMARK(BM_JsonLogLine);

// Palette search: the exact distance the server ranks its pool by
// (6 x 6 colours, as creators' palettes), its ground distance, and the
// vector the creators index stores.
scout::ColourSet BenchPalette(int seed) {
  std::vector<scout::WeightedColour> colours;
  for (int i = 0; i < 6; ++i) {
    const int v = seed * 97 + i * 53;
    colours.push_back({scout::SrgbToLab(v % 256, (v * 7) % 256, (v * 13) % 256), 1.0 + i % 3});
  }
  return scout::MakeColourSet(colours);
}

void BM_Ciede2000(benchmark::State& state) {
  const scout::Lab x = scout::SrgbToLab(232, 213, 196), y = scout::SrgbToLab(160, 82, 45);
  for (auto _ : state) benchmark::DoNotOptimize(scout::Ciede2000(x, y));
}
BENCHMARK(BM_Ciede2000);

// Ciede2000Below over a batch of 1,152 pairs (palette search's 32
// candidates x 36 pairs): items/s gives the cost per pair against
// BM_Ciede2000's per call.
void BM_Ciede2000Below(benchmark::State& state) {
  constexpr size_t kCount = 1152;
  std::vector<float> columns[6];
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> channel(0, 255);
  for (size_t k = 0; k < kCount; ++k) {
    for (int side = 0; side < 2; ++side) {
      const scout::Lab lab = scout::SrgbToLab(channel(rng), channel(rng), channel(rng));
      columns[3 * side].push_back(static_cast<float>(lab.l));
      columns[3 * side + 1].push_back(static_cast<float>(lab.a));
      columns[3 * side + 2].push_back(static_cast<float>(lab.b));
    }
  }
  std::vector<float> out(kCount);
  for (auto _ : state) {
    scout::Ciede2000Below({columns[0].data(), columns[1].data(), columns[2].data()},
                          {columns[3].data(), columns[4].data(), columns[5].data()}, kCount,
                          out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCount));
}
BENCHMARK(BM_Ciede2000Below);

void BM_PaletteDistance6x6(benchmark::State& state) {
  const scout::ColourSet x = BenchPalette(1), y = BenchPalette(2);
  for (auto _ : state) benchmark::DoNotOptimize(scout::PaletteDistance(x, y));
}
BENCHMARK(BM_PaletteDistance6x6);

void BM_PaletteDistance2x6(benchmark::State& state) {  // A typed two-colour query.
  const scout::ColourSet x = scout::MakeColourSet(
      {{scout::SrgbToLab(232, 213, 196), 1}, {scout::SrgbToLab(160, 82, 45), 1}});
  const scout::ColourSet y = BenchPalette(3);
  for (auto _ : state) benchmark::DoNotOptimize(scout::PaletteDistance(x, y));
}
BENCHMARK(BM_PaletteDistance2x6);

void BM_PaletteVector(benchmark::State& state) {
  const scout::ColourSet x = BenchPalette(4);
  for (auto _ : state) benchmark::DoNotOptimize(scout::PaletteVector(x));
}
BENCHMARK(BM_PaletteVector);

// The server's palette search per query (server/palette_index.h) over 50,000
// palettes: the scan of every projected vector for the nearest 2,000 (it
// grows with the creators: x10 at 500,000), then the exact ranking of a page
// out of them (it does not). Built once from stored codes, as the server
// loads them.
const scout::server::PaletteIndex& BenchIndex() {
  static const auto* index = [] {
    std::vector<scout::server::PaletteCreator> creators;
    std::vector<std::string> codes;
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> channel(0, 255);
    for (int i = 0; i < 50000; ++i) {
      scout::server::PaletteCreator creator;
      creator.id = std::to_string(i);
      std::vector<scout::WeightedColour> colours;
      for (int k = 0; k < 6; ++k) {
        colours.push_back(
            {scout::SrgbToLab(channel(rng), channel(rng), channel(rng)), 1.0 + channel(rng)});
      }
      creator.palette = scout::MakeColourSet(colours);
      creator.followers = i * 37 % 200000;
      codes.push_back(scout::PackPaletteVector(scout::PaletteVector(creator.palette)));
      creators.push_back(std::move(creator));
    }
    return new std::shared_ptr<const scout::server::PaletteIndex>(
        scout::server::PaletteIndex::Build(std::move(creators), std::move(codes)));
  }();
  return **index;
}

void BM_PaletteScan50k(benchmark::State& state) {
  const scout::server::PaletteIndex& index = BenchIndex();
  const scout::ColourSet target = BenchPalette(123457);
  scout::server::PaletteFilter filter;
  if (state.range(0) != 0) filter.min_followers = 10000;  // Keeps 95 %: the test costs.
  for (auto _ : state) benchmark::DoNotOptimize(index.Nearest(target, filter, 2000));
}
BENCHMARK(BM_PaletteScan50k)->Arg(0)->Arg(1);

void BM_PaletteRank2000(benchmark::State& state) {
  const scout::server::PaletteIndex& index = BenchIndex();
  const scout::ColourSet target = BenchPalette(123457);
  const std::vector<uint32_t> pool = index.Nearest(target, {}, 2000).indices;
  const size_t needed = static_cast<size_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(index.Rank(target, pool, needed));
}
// A first page (20: most distances pruned) and the whole pool (none pruned).
BENCHMARK(BM_PaletteRank2000)->Arg(20)->Arg(2000);

// A genlake 1080x1080 picture with Gaussian noise of sigma 5, re-encoded at
// q90 (~200 KB, 4:2:0), as palette_bench --noise 5 makes its photo-like
// accounts.
const std::string& PhotoLikeJpeg() {
  static const std::string* jpeg = [] {
    scout::genlake::PictureScratch scratch;
    if (!scout::genlake::DrawJpeg(scout::genlake::MakePalette(13, 1),
                                  scout::genlake::Layout::kRings, 5, 1080, &scratch)
             .ok()) {
      std::abort();
    }
    cv::Mat image = cv::imdecode(scratch.jpeg, cv::IMREAD_COLOR), noise(image.size(), CV_16SC3);
    cv::RNG rng(7);
    rng.fill(noise, cv::RNG::NORMAL, 0, 5);
    cv::Mat noisy;
    cv::add(image, noise, noisy, cv::noArray(), CV_8UC3);
    std::vector<uchar> bytes;
    cv::imencode(".jpg", noisy, bytes, {cv::IMWRITE_JPEG_QUALITY, 90});
    return new std::string(bytes.begin(), bytes.end());
  }();
  return *jpeg;
}

// Arg: the minimum decoded pixels (60,000: 1/4, the default; 1: 1/8).
void BM_SampleJpeg_OpenCv_Baseline(benchmark::State& state) {
  const std::string& jpeg = PhotoLikeJpeg();
  cv::setNumThreads(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(scout::palette::SampleImage(
        jpeg, scout::palette::kSamplePixels, state.range(0), scout::palette::JpegDecoder::kOpenCv));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(jpeg.size()));
}
BENCHMARK(BM_SampleJpeg_OpenCv_Baseline)->Arg(scout::palette::kMinDecodedPixels)->Arg(1);

void BM_SampleJpeg_Libjpeg(benchmark::State& state) {
  const std::string& jpeg = PhotoLikeJpeg();
  for (auto _ : state) {
    benchmark::DoNotOptimize(scout::palette::SampleImage(jpeg, scout::palette::kSamplePixels,
                                                         state.range(0),
                                                         scout::palette::JpegDecoder::kLibjpeg));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(jpeg.size()));
}
BENCHMARK(BM_SampleJpeg_Libjpeg)->Arg(scout::palette::kMinDecodedPixels)->Arg(1);

// libjpeg's Huffman decoding of the same picture into DCT coefficients, no
// IDCT, no colour: what no decode at any scale avoids (it also stores every
// coefficient, which a scanline decode does not).
void BM_SampleJpeg_EntropyOnly_Floor(benchmark::State& state) {
  const std::string& jpeg = PhotoLikeJpeg();
  for (auto _ : state) {
    jpeg_decompress_struct info;
    jpeg_error_mgr errors;
    info.err = jpeg_std_error(&errors);  // The picture is valid: no error path.
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size());
    jpeg_read_header(&info, TRUE);
    benchmark::DoNotOptimize(jpeg_read_coefficients(&info));
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(jpeg.size()));
}
BENCHMARK(BM_SampleJpeg_EntropyOnly_Floor);

}  // namespace

BENCHMARK_MAIN();
