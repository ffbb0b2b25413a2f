// The lake writer: the layout of the lake and the CDN, one creator at a time
// on a few threads; what goes in the files comes from content, lake_json and
// pictures, the options and _genlake.json from state.
#include "tools/genlake/genlake.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/base/status.h"
#include "common/base/time.h"
#include "common/io/files.h"
#include "common/io/lake.h"
#include "tools/genlake/content.h"
#include "tools/genlake/lake_json.h"
#include "tools/genlake/pictures.h"
#include "tools/genlake/random.h"
#include "tools/genlake/state.h"
#include "tools/genlake/vocabulary.h"

namespace scout::genlake {
namespace {

struct Run {
  Options options;  // Resolved: absolute paths, cdn_url and truth filled in.
  bool advance = false;
  int64_t anchor = 0;        // First day any post exists.
  int64_t window_first = 0;  // First day whose posts and stats this run writes.
  int64_t today = 0;
  std::string posts_dir;
  std::string stats_dir;
};

// Reused buffers of one worker thread.
struct Scratch {
  std::string text;
  PictureScratch picture;
};

// ---------------------------------------------------------------------------
// Files.

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create directory", path);
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", ec.message()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Per-creator work.

absl::Status WriteImage(const Palette& palette, Layout layout, uint64_t image_seed, int size,
                        const std::string& dir, absl::string_view name, Scratch* s) {
  SCOUT_RETURN_IF_ERROR(DrawJpeg(palette, layout, image_seed, size, &s->picture));
  const std::vector<uchar>& jpeg = s->picture.jpeg;
  return WriteFileAtomically(
      absl::StrCat(dir, "/", name),
      absl::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
}

absl::Status WritePostImages(const Run& run, const Palette& palette, const Post& post,
                             const std::string& dir, Scratch* s, Summary* summary) {
  const uint64_t seed = run.options.seed;
  const int first = post.type == MediaType::kCarousel ? 1 : 0;
  const int last = post.type == MediaType::kCarousel ? post.children : 0;
  for (int slot = first; slot <= last; ++slot) {
    const uint64_t key = post.key | static_cast<uint64_t>(slot);
    const uint64_t image_seed = Hash(kImageStream, seed, key);
    const auto layout = static_cast<Layout>(image_seed % kLayouts);
    SCOUT_RETURN_IF_ERROR(WriteImage(palette, layout, image_seed, run.options.image_size, dir,
                                     absl::StrCat(MediaId(seed, key), ".jpg"), s));
    ++summary->images;
  }
  return absl::OkStatus();
}

// Writes the window's posts plus the creator's newest 25 (which may be older
// than the window for slow creators), as the API client would have.
absl::Status WritePosts(const Run& run, const Creator& c, const std::vector<TimelinePost>& timeline,
                        Scratch* s, Summary* summary) {
  const Options& o = run.options;
  const int n = static_cast<int>(timeline.size());
  const int first_in_window = static_cast<int>(
      std::lower_bound(timeline.begin(), timeline.end(), run.window_first,
                       [](const TimelinePost& p, int64_t day) { return p.day < day; }) -
      timeline.begin());
  const int first = std::min(first_in_window, std::max(0, n - kCurrentPosts));
  if (first == n) return absl::OkStatus();

  const std::string dir = absl::StrCat(run.posts_dir, "/", c.id);
  SCOUT_RETURN_IF_ERROR(MakeDir(dir));
  const std::string media_dir = absl::StrCat(o.cdn, "/", c.id);
  const Palette palette = MakePalette(o.seed, c.index);
  for (int i = first; i < n; ++i) {
    const Post post = MakePost(o.seed, c, o.users, timeline[i]);
    // A post stops being updated once 25 newer posts exist: its metrics are
    // those of the day before its 25th newer post appeared.
    const int64_t as_of_day = i + kCurrentPosts < n
                                  ? std::max(post.when.day, timeline[i + kCurrentPosts].day - 1)
                                  : run.today;
    const Malform malform = MalformOf(o.seed, o.malformed_rate, post.key);
    s->text.clear();
    AppendPostJson(o, c, post, as_of_day, malform, &s->text);
    SCOUT_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(dir, "/", post.id, ".json"), s->text));
    if (malform != Malform::kNone) ++summary->malformed[static_cast<int>(malform)];

    const bool is_new = !run.advance || i >= first_in_window;
    ++(is_new ? summary->posts_new : summary->posts_rewritten);
    if (is_new && !o.no_media) {
      SCOUT_RETURN_IF_ERROR(MakeDir(media_dir));
      SCOUT_RETURN_IF_ERROR(WritePostImages(run, palette, post, media_dir, s, summary));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteStats(const Run& run, const Creator& c, const std::vector<TimelinePost>& timeline,
                        Scratch* s, Summary* summary) {
  const std::string dir = absl::StrCat(run.stats_dir, "/", c.id);
  SCOUT_RETURN_IF_ERROR(MakeDir(dir));
  for (int64_t day = run.window_first; day <= run.today; ++day) {
    const auto published =
        std::upper_bound(timeline.begin(), timeline.end(), day,
                         [](int64_t d, const TimelinePost& p) { return d < p.day; });
    const int64_t media_count = c.media0 + (published - timeline.begin());
    s->text.clear();
    AppendStatsJson(run.options, c, day, media_count, &s->text);
    SCOUT_RETURN_IF_ERROR(
        WriteFileAtomically(absl::StrCat(dir, "/", FormatDay(StartOfDay(day)), ".json"), s->text));
    ++summary->stats;
  }
  return absl::OkStatus();
}

absl::Status WriteProfilePicture(const Run& run, const Creator& c, Scratch* s, Summary* summary) {
  const Options& o = run.options;
  const std::string dir = absl::StrCat(o.cdn, "/", c.id);
  SCOUT_RETURN_IF_ERROR(MakeDir(dir));
  SCOUT_RETURN_IF_ERROR(WriteImage(MakePalette(o.seed, c.index), Layout::kRings,
                                   Hash(kProfileStream, o.seed, c.index), o.image_size, dir,
                                   "profile.jpg", s));
  ++summary->profile_pictures;
  return absl::OkStatus();
}

absl::Status WriteCreator(const Run& run, int user, Scratch* s, Summary* summary) {
  const Options& o = run.options;
  const Creator c = MakeCreator(o.seed, user, o.business_rate);
  const std::vector<TimelinePost> timeline = BuildTimeline(o.seed, c, run.anchor, run.today);
  SCOUT_RETURN_IF_ERROR(WritePosts(run, c, timeline, s, summary));
  SCOUT_RETURN_IF_ERROR(WriteStats(run, c, timeline, s, summary));
  if (!run.advance && !o.no_media) SCOUT_RETURN_IF_ERROR(WriteProfilePicture(run, c, s, summary));
  return absl::OkStatus();
}

void AddTo(const Summary& part, Summary* total) {
  total->posts_new += part.posts_new;
  total->posts_rewritten += part.posts_rewritten;
  total->stats += part.stats;
  total->images += part.images;
  total->profile_pictures += part.profile_pictures;
  for (int i = 0; i < kMalformKinds; ++i) total->malformed[i] += part.malformed[i];
}

// Creators are handed out one at a time; each one's files depend only on its
// index, so the output is the same for any thread count.
absl::Status WriteAllCreators(const Run& run, int threads, Summary* total) {
  std::atomic<int> next_user{0};
  std::atomic<bool> failed{false};
  std::vector<Summary> parts(threads);
  std::vector<absl::Status> statuses(threads);
  const auto work = [&](int t) {
    Scratch scratch;
    for (int user; !failed && (user = next_user++) < run.options.users;) {
      statuses[t] = WriteCreator(run, user, &scratch, &parts[t]);
      if (!statuses[t].ok()) failed = true;
    }
  };
  std::vector<std::thread> pool;
  absl::Status spawn_status;
  try {
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  } catch (const std::system_error& e) {
    spawn_status = absl::ResourceExhaustedError(absl::StrCat("cannot start threads: ", e.what()));
    failed = true;
  }
  work(0);
  for (std::thread& th : pool) th.join();
  SCOUT_RETURN_IF_ERROR(spawn_status);
  for (int t = 0; t < threads; ++t) {
    SCOUT_RETURN_IF_ERROR(statuses[t]);
    AddTo(parts[t], total);
  }
  return absl::OkStatus();
}

absl::Status WriteTruth(const Options& o) {
  nlohmann::ordered_json truth = nlohmann::ordered_json::object();
  for (int user = 0; user < o.users; ++user) {
    nlohmann::ordered_json colors = nlohmann::ordered_json::array();
    for (const PaletteColor& c : MakePalette(o.seed, user)) {
      colors.push_back({{"red", c.r},
                        {"green", c.g},
                        {"blue", c.b},
                        {"hex", HexColor(c)},
                        {"percentage", static_cast<double>(c.weight) / kWeightUnits}});
    }
    truth[UserId(user)] = std::move(colors);
  }
  SCOUT_RETURN_IF_ERROR(WriteFileAtomically(o.truth, truth.dump(1) + "\n"));
  // Each creator's topic, beside truth.json, whose shape stays as it was.
  nlohmann::ordered_json topics = nlohmann::ordered_json::object();
  for (int user = 0; user < o.users; ++user) {
    const Creator c = MakeCreator(o.seed, user, o.business_rate);
    topics[UserId(user)] = std::string(TopicSlug(*c.topic));
  }
  const std::filesystem::path dir = std::filesystem::path(o.truth).parent_path();
  return WriteFileAtomically((dir / "topics.json").string(), topics.dump(1) + "\n");
}

Run MakeRun(const Options& o, int64_t anchor, bool advance) {
  Run run;
  run.options = o;
  run.advance = advance;
  run.anchor = anchor;
  run.today = DayNumber(o.today);
  run.window_first = advance ? run.today : run.today - o.days + 1;
  run.posts_dir = absl::StrCat(o.lake, "/instagram_graph/posts");
  run.stats_dir = absl::StrCat(o.lake, "/instagram_graph/stats");
  return run;
}

absl::StatusOr<Summary> Execute(const Run& run, int threads) {
  const auto start = std::chrono::steady_clock::now();
  const Options& o = run.options;
  SCOUT_ASSIGN_OR_RETURN(const std::string state, StateJson(o, run.anchor));
  SCOUT_RETURN_IF_ERROR(MakeDirs(run.posts_dir));
  SCOUT_RETURN_IF_ERROR(MakeDirs(run.stats_dir));
  if (!o.no_media) SCOUT_RETURN_IF_ERROR(MakeDirs(o.cdn));

  Summary summary;
  summary.advanced = run.advance;
  summary.today = o.today;
  summary.users = o.users;
  SCOUT_RETURN_IF_ERROR(WriteAllCreators(run, threads, &summary));
  if (!run.advance && !o.no_media) SCOUT_RETURN_IF_ERROR(WriteTruth(o));
  // Last, so an interrupted run leaves the previous state and can be rerun.
  SCOUT_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(o.lake, "/", kStateFile), state));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace

const char* MalformName(Malform kind) {
  switch (kind) {
    case Malform::kNone:
      return "none";
    case Malform::kEmpty:
      return "empty";
    case Malform::kTruncated:
      return "truncated";
    case Malform::kWrongType:
      return "wrong_type";
    case Malform::kMissingId:
      return "missing_id";
    case Malform::kBadTimestamp:
      return "bad_timestamp";
    case Malform::kArray:
      return "array";
  }
  return "unknown";
}

absl::StatusOr<Summary> Generate(const Options& options, int threads) {
  const Options o = Resolve(options);
  SCOUT_RETURN_IF_ERROR(Validate(o, threads));
  const int64_t anchor = DayNumber(o.today) - o.days + 1 - kHistoryDays;

  const std::string state_path = absl::StrCat(o.lake, "/", kStateFile);
  std::error_code ec;
  if (std::filesystem::exists(state_path, ec)) {
    SCOUT_ASSIGN_OR_RETURN(const std::string existing, ReadFile(state_path));
    SCOUT_ASSIGN_OR_RETURN(const std::string requested, StateJson(o, anchor));
    if (existing != requested) {
      return absl::FailedPreconditionError(
          absl::StrCat(o.lake, " holds a lake generated with other options (", state_path,
                       "); use --advance or an empty directory"));
    }
  }
  return Execute(MakeRun(o, anchor, /*advance=*/false), threads);
}

absl::StatusOr<Summary> Advance(const std::string& lake, int threads) {
  const std::string state_path = absl::StrCat(AbsolutePath(lake), "/", kStateFile);
  SCOUT_ASSIGN_OR_RETURN(const std::string text, ReadFile(state_path));
  SCOUT_ASSIGN_OR_RETURN(State state, ParseState(text, state_path));
  // The lake may have been moved since it was generated.
  state.options.lake = AbsolutePath(lake);
  SCOUT_RETURN_IF_ERROR(Validate(state.options, threads));
  state.options.today += 1;
  return Execute(MakeRun(state.options, state.anchor, /*advance=*/true), threads);
}

std::string SummaryToJson(const Summary& s) {
  nlohmann::ordered_json malformed = nlohmann::ordered_json::object();
  for (int i = 0; i < kMalformKinds; ++i) {
    malformed[MalformName(static_cast<Malform>(i))] = s.malformed[i];
  }
  const int64_t files = s.posts_new + s.posts_rewritten + s.stats + s.images + s.profile_pictures;
  const nlohmann::ordered_json out = {
      {"mode", s.advanced ? "advance" : "generate"},
      {"today", FormatDay(StartOfDay(s.today))},
      {"users", s.users},
      {"posts", s.posts_new + s.posts_rewritten},
      {"files",
       {{"posts_new", s.posts_new},
        {"posts_rewritten", s.posts_rewritten},
        {"stats", s.stats},
        {"images", s.images},
        {"profile_pictures", s.profile_pictures}}},
      {"malformed", std::move(malformed)},
      {"seconds", std::round(s.seconds * 1000) / 1000},
      {"files_per_second", s.seconds > 0 ? std::round(files / s.seconds) : 0.0},
  };
  return out.dump();
}

}  // namespace scout::genlake
