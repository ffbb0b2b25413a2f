#include "server/api_keys.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/log.h"
#include "common/base/sha256.h"
#include "common/base/status.h"
#include "common/io/files.h"

namespace scout::server {
namespace {

bool IsHashHex(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

absl::StatusOr<KeyHashes> ParseKeyFile(absl::string_view text) {
  KeyHashes keys;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (!IsHashHex(parts[0]) || parts.size() > 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_number, ": want \"<sha256 of the key, 64 hex digits> [name]\""));
    }
    const std::string hash = absl::AsciiStrToLower(parts[0]);
    keys[hash] = parts.size() == 2 ? std::string(parts[1]) : hash.substr(0, 8);
  }
  return keys;
}

absl::StatusOr<std::unique_ptr<ApiKeys>> ApiKeys::Load(std::string path, absl::Duration poll) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(std::move(path)));
  if (absl::Status loaded = keys->ReloadIfChanged(); !loaded.ok()) {
    // Whatever the reason (missing, unreadable, malformed), the flag is
    // wrong: a configuration error, as a missing --tls_cert file is.
    return absl::InvalidArgumentError(absl::StrCat("--api_keys: ", loaded.message()));
  }
  keys->watcher_ =
      std::make_unique<Periodic>(poll, [raw = keys.get(), last_error = std::string()]() mutable {
        const absl::Status status = raw->ReloadIfChanged();
        // Said once per distinct problem, not every second.
        if (!status.ok() && status.ToString() != last_error) {
          Log(LogLevel::kError, "API key file not reloaded; the previous keys stay valid",
              {{"path", raw->path_}, {"error", status.ToString()}});
        }
        last_error = status.ok() ? "" : status.ToString();
      });
  return keys;
}

absl::Status ApiKeys::ReloadIfChanged() {
  struct stat now {};
  if (::stat(path_.c_str(), &now) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot stat ", path_, ": ", std::strerror(errno)));
  }
  if (keys_.load() != nullptr && SameFile(now, seen_)) return absl::OkStatus();
  SCOUT_ASSIGN_OR_RETURN(const std::string text, ReadFile(path_));
  absl::StatusOr<KeyHashes> parsed = ParseKeyFile(text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", parsed.status().message()));
  }
  const size_t count = parsed->size();
  keys_.store(std::make_shared<const KeyHashes>(*std::move(parsed)));
  seen_ = now;
  Log(LogLevel::kInfo, "API keys loaded", {{"path", path_}, {"keys", count}});
  return absl::OkStatus();
}

absl::StatusOr<std::string> ApiKeys::Check(absl::string_view authorization) const {
  constexpr absl::string_view kScheme = "Bearer ";
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing API key: send metadata \"authorization: Bearer <key>\"");
  }
  if (!absl::StartsWithIgnoreCase(authorization, kScheme)) {
    return absl::UnauthenticatedError("authorization: want \"Bearer <key>\"");
  }
  const absl::string_view key = absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  const std::shared_ptr<const KeyHashes> keys = keys_.load();
  // Looking up the hash, not the key, leaks nothing about valid keys through timing.
  const auto it = keys->find(Sha256Hex(key));
  if (it == keys->end()) return absl::UnauthenticatedError("unknown or revoked API key");
  return it->second;
}

}  // namespace scout::server
