#include "tools/genlake/state.h"

#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/base/status.h"
#include "common/base/time.h"
#include "tools/genlake/content.h"

namespace scout::genlake {
namespace {

absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("not a YYYY-MM-DD date: '", text, "'"));
  }
  return day;
}

bool IsInside(const std::string& path, const std::string& dir) {
  return path == dir || absl::StartsWith(path, absl::StrCat(dir, "/"));
}

// Without a CDN the URLs still need a host; .invalid never resolves.
constexpr absl::string_view kNoCdnUrl = "https://cdn.genlake.invalid/";

}  // namespace

absl::StatusOr<std::string> StateJson(const Options& o, int64_t anchor) {
  const nlohmann::ordered_json state = {
      {"seed", o.seed},
      {"users", o.users},
      {"days", o.days},
      {"today", FormatDay(StartOfDay(o.today))},
      {"anchor", FormatDay(StartOfDay(anchor))},
      {"business_rate", o.business_rate},
      {"malformed_rate", o.malformed_rate},
      {"image_size", o.image_size},
      {"no_media", o.no_media},
      {"cdn", o.cdn},
      {"cdn_url", o.cdn_url},
      {"truth", o.truth},
  };
  try {
    return state.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("paths must be UTF-8: ", e.what()));
  }
}

absl::StatusOr<State> ParseState(const std::string& text, const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&path](absl::string_view key) {
    return absl::DataLossError(absl::StrCat(path, ": missing or mistyped \"", key, "\""));
  };
  if (!j.is_object()) return absl::DataLossError(absl::StrCat(path, ": not a JSON object"));
  const auto has = [&j](const char* key, nlohmann::json::value_t type) {
    const auto it = j.find(key);
    return it != j.end() &&
           (it->type() == type ||
            (type == nlohmann::json::value_t::number_integer && it->is_number_unsigned()) ||
            (type == nlohmann::json::value_t::number_float && it->is_number()));
  };
  using T = nlohmann::json::value_t;
  for (const char* key : {"users", "days", "image_size"}) {
    if (!has(key, T::number_integer)) return bad(key);
  }
  for (const char* key : {"business_rate", "malformed_rate"}) {
    if (!has(key, T::number_float)) return bad(key);
  }
  for (const char* key : {"today", "anchor", "cdn", "cdn_url", "truth"}) {
    if (!has(key, T::string)) return bad(key);
  }
  if (!has("seed", T::number_unsigned)) return bad("seed");
  if (!has("no_media", T::boolean)) return bad("no_media");

  State state;
  Options& o = state.options;
  o.seed = j["seed"].get<uint64_t>();
  o.users = j["users"].get<int>();
  o.days = j["days"].get<int>();
  o.image_size = j["image_size"].get<int>();
  o.business_rate = j["business_rate"].get<double>();
  o.malformed_rate = j["malformed_rate"].get<double>();
  o.no_media = j["no_media"].get<bool>();
  o.cdn = j["cdn"].get<std::string>();
  o.cdn_url = j["cdn_url"].get<std::string>();
  o.truth = j["truth"].get<std::string>();
  SCOUT_ASSIGN_OR_RETURN(o.today, ParseDay(j["today"].get<std::string>()));
  SCOUT_ASSIGN_OR_RETURN(const absl::CivilDay anchor, ParseDay(j["anchor"].get<std::string>()));
  state.anchor = DayNumber(anchor);
  return state;
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  std::string out = (ec ? std::filesystem::path(path) : abs).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Options Resolve(Options o) {
  o.lake = AbsolutePath(o.lake);
  if (!o.cdn.empty()) o.cdn = AbsolutePath(o.cdn);
  if (o.cdn_url.empty()) {
    o.cdn_url = o.cdn.empty() ? std::string(kNoCdnUrl) : absl::StrCat("file://", o.cdn, "/");
  }
  if (o.cdn_url.back() != '/') o.cdn_url.push_back('/');
  if (!o.truth.empty()) {
    o.truth = AbsolutePath(o.truth);
  } else if (!o.cdn.empty()) {
    o.truth = absl::StrCat(o.cdn, "/truth.json");
  }
  return o;
}

absl::Status Validate(const Options& o, int threads) {
  const auto bad = [](absl::string_view msg) { return absl::InvalidArgumentError(msg); };
  if (o.lake.empty()) return bad("--lake is required (or set SCOUT_LAKE)");
  if (o.users < 1 || o.users > kMaxUsers) {
    return bad(absl::StrCat("--users must be in [1, ", kMaxUsers, "]"));
  }
  if (o.days < 1 || o.days > 3650) return bad("--days must be in [1, 3650]");
  if (o.image_size < 8 || o.image_size > 4096) return bad("--image-size must be in [8, 4096]");
  const auto is_rate = [](double p) { return p >= 0 && p <= 1; };  // False for NaN.
  if (!is_rate(o.business_rate)) return bad("--business-rate must be in [0, 1]");
  if (!is_rate(o.malformed_rate)) return bad("--malformed-rate must be in [0, 1]");
  if (!o.no_media && o.cdn.empty()) return bad("--cdn is required unless --no-media");
  if (threads < 1 || threads > 256) return bad("--threads must be in [1, 256]");
  if (IsInside(o.truth, o.lake)) {
    return bad(absl::StrCat("--truth must be outside the lake: ", o.truth));
  }
  return absl::OkStatus();
}

}  // namespace scout::genlake
