#include "workers/ingest/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/lake.h"
#include "common/status.h"

namespace scout::ingest {
namespace {

// One line per file: key \t size \t mtime_ns \t hash(hex) \t outcome.
void AppendLine(std::string& out, absl::string_view key, const FileState& state) {
  absl::StrAppend(&out, key, "\t", state.size, "\t", state.mtime_ns, "\t",
                  absl::Hex(state.content_hash), "\t",
                  absl::string_view(reinterpret_cast<const char*>(&state.outcome), 1), "\n");
}

bool ParseLine(absl::string_view line, std::string& key, FileState& state) {
  const std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
  if (fields.size() != 5 || fields[4].size() != 1) return false;
  key = std::string(fields[0]);
  state.outcome = static_cast<Outcome>(fields[4][0]);
  return absl::SimpleAtoi(fields[1], &state.size) &&
         absl::SimpleAtoi(fields[2], &state.mtime_ns) &&
         absl::SimpleHexAtoi(fields[3], &state.content_hash);
}

}  // namespace

absl::StatusOr<Checkpoint> Checkpoint::Open(std::string path) {
  Checkpoint checkpoint(std::move(path));
  SCOUT_RETURN_IF_ERROR(checkpoint.Load(checkpoint.path_));
  SCOUT_RETURN_IF_ERROR(checkpoint.Load(checkpoint.path_ + ".journal"));
  const std::string journal = checkpoint.path_ + ".journal";
  // The journal only ever grows between compactions; make sure a torn tail
  // from a crash does not glue onto the next line we append.
  SCOUT_RETURN_IF_ERROR(checkpoint.Compact());
  checkpoint.journal_fd_ = open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (checkpoint.journal_fd_ < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", journal, ": ", std::strerror(errno)));
  }
  return checkpoint;
}

Checkpoint::~Checkpoint() {
  if (journal_fd_ >= 0) close(journal_fd_);
}

absl::Status Checkpoint::Load(const std::string& file) {
  absl::StatusOr<std::string> data = ReadFile(file);
  if (absl::IsNotFound(data.status())) return absl::OkStatus();
  if (!data.ok()) return data.status();
  std::string key;
  FileState state;
  size_t start = 0;
  // Lines without their newline are torn writes: ignored.
  for (size_t end; (end = data->find('\n', start)) != std::string::npos; start = end + 1) {
    if (ParseLine(absl::string_view(*data).substr(start, end - start), key, state)) {
      entries_.insert_or_assign(key, state);
    }
  }
  return absl::OkStatus();
}

const FileState* Checkpoint::Find(absl::string_view key) const {
  const auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

absl::Status Checkpoint::Commit(const std::vector<std::pair<std::string, FileState>>& entries) {
  if (entries.empty()) return absl::OkStatus();
  std::string lines;
  for (const auto& [key, state] : entries) AppendLine(lines, key, state);
  for (size_t written = 0; written < lines.size();) {
    const ssize_t n = write(journal_fd_, lines.data() + written, lines.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("checkpoint journal: ", std::strerror(errno)));
    written += static_cast<size_t>(n);
  }
  if (fdatasync(journal_fd_) != 0) {
    return absl::InternalError(absl::StrCat("checkpoint journal sync: ", std::strerror(errno)));
  }
  for (const auto& [key, state] : entries) entries_.insert_or_assign(key, state);
  return absl::OkStatus();
}

absl::Status Checkpoint::Compact() {
  std::string snapshot;
  snapshot.reserve(entries_.size() * 96);
  for (const auto& [key, state] : entries_) AppendLine(snapshot, key, state);
  SCOUT_RETURN_IF_ERROR(WriteFileAtomically(path_, snapshot));
  const std::string journal = path_ + ".journal";
  if (truncate(journal.c_str(), 0) != 0 && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("cannot truncate ", journal, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace scout::ingest
