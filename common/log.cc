#include "common/log.h"

#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace scout {
namespace {

std::string& Program() {
  static std::string* program = new std::string("scout");
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

void WriteLine(std::string line) {
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

}  // namespace

void SetLogProgram(absl::string_view program) { Program() = std::string(program); }

void Log(LogLevel level, absl::string_view msg, const nlohmann::ordered_json& fields) {
  nlohmann::ordered_json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = LevelName(level);
  line["program"] = Program();
  line["msg"] = std::string(msg);
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  WriteLine(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Log(LogLevel level, absl::string_view msg, LogFields fields) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto& [key, value] : fields) object[key] = value;
  Log(level, msg, object);
}

}  // namespace scout
