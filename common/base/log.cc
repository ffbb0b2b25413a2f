#include "common/base/log.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/json_fields.h"

namespace scout {
namespace {

std::string& Program() {
  static std::string* program = new std::string("\"scout\"");
  return *program;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// "2026-11-22T09:36:00.647Z". The seconds part is formatted once a second
// per thread: absl::FormatTime is most of a log line's cost otherwise.
void AppendTimestamp(std::string& out) {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached;  // Up to the seconds, "...T09:36:00".
  const absl::Time now = absl::Now();
  const int64_t millis = absl::ToUnixMillis(now);
  const int64_t second = millis / 1000;
  if (second != cached_second) {
    cached =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    cached_second = second;
  }
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(millis % 1000));
  out += cached;
  out += fraction;
}

// Invalid UTF-8 is replaced, never allowed to drop the line.
void AppendJson(std::string& out, const nlohmann::json& value) { out += DumpJson(value); }

void Write(std::string line) {
  line.push_back('\n');
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // Nowhere left to complain to.
    data += n;
    left -= static_cast<size_t>(n);
  }
}

// The line up to and including the message; fields follow as ,"key":value.
std::string Head(LogLevel level, absl::string_view msg) {
  std::string line = "{\"ts\":\"";
  line.reserve(256);
  AppendTimestamp(line);
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"program\":";
  line += Program();
  line += ",\"msg\":";
  AppendJson(line, std::string(msg));
  return line;
}

void AppendField(std::string& line, absl::string_view key, const nlohmann::json& value) {
  line += ",\"";
  line.append(key.data(), key.size());  // Keys are our own identifiers.
  line += "\":";
  AppendJson(line, value);
}

}  // namespace

void SetLogProgram(absl::string_view program) {
  Program() = nlohmann::json(std::string(program)).dump();
}

void Log(LogLevel level, absl::string_view msg, LogFields fields) {
  std::string line = Head(level, msg);
  for (const auto& [key, value] : fields) AppendField(line, key, value);
  line += '}';
  Write(std::move(line));
}

void Log(LogLevel level, absl::string_view msg, const nlohmann::ordered_json& fields) {
  std::string line = Head(level, msg);
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) AppendField(line, key, value);
  }
  line += '}';
  Write(std::move(line));
}

}  // namespace scout
