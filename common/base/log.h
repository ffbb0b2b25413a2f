// Structured logs: one JSON object per line on stderr, so log shippers and
// `jq` read them without regexes. Thread-safe: a line is one write(2), so
// lines from different threads never interleave.
#pragma once

#include <initializer_list>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"

namespace scout {

enum class LogLevel { kInfo, kWarning, kError };

using LogFields = std::initializer_list<std::pair<const char*, nlohmann::json>>;

// Names the program in every line; call once at the start of main.
void SetLogProgram(absl::string_view program);

// {"ts":"…Z","level":"info","program":"scout-server","msg":"…",<fields>}.
// Invalid UTF-8 in a field is replaced, never dropped with the line.
void Log(LogLevel level, absl::string_view msg, LogFields fields = {});

// The same, with fields built at run time.
void Log(LogLevel level, absl::string_view msg, const nlohmann::ordered_json& fields);

}  // namespace scout
