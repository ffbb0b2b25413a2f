#include "workers/ingest/checkpoint.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/io/files.h"

namespace scout::ingest {
namespace {

// One line per file: key \t size \t mtime_ns \t hash(hex) \t outcome \t etag.
// Lines of five fields (written before ETags were kept) load without one.
void AppendLine(std::string& out, absl::string_view key, const FileState& state) {
  // An ETag comes from the server: one that would break the line is not
  // kept (the file is then read again next time, which is only work).
  const bool etag_fits = state.etag.find_first_of("\t\r\n") == std::string::npos;
  absl::StrAppend(&out, key, "\t", state.size, "\t", state.mtime_ns, "\t",
                  absl::Hex(state.content_hash), "\t",
                  absl::string_view(reinterpret_cast<const char*>(&state.outcome), 1), "\t",
                  etag_fits ? state.etag : "", "\n");
}

bool ParseLine(absl::string_view line, std::string& key, FileState& state) {
  const std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
  if ((fields.size() != 5 && fields.size() != 6) || fields[4].size() != 1) return false;
  key = std::string(fields[0]);
  state.outcome = static_cast<Outcome>(fields[4][0]);
  state.etag = fields.size() == 6 ? std::string(fields[5]) : std::string();
  return absl::SimpleAtoi(fields[1], &state.size) && absl::SimpleAtoi(fields[2], &state.mtime_ns) &&
         absl::SimpleHexAtoi(fields[3], &state.content_hash);
}

}  // namespace

absl::StatusOr<Checkpoint> Checkpoint::Open(std::string path, FileSystem* fs) {
  Checkpoint checkpoint(std::move(path), fs);
  const std::string dir = std::filesystem::path(checkpoint.path_).parent_path().string();
  if (!dir.empty()) SCOUT_RETURN_IF_ERROR(fs->CreateDirs(dir));
  SCOUT_ASSIGN_OR_RETURN(checkpoint.lock_, fs->Lock(checkpoint.path_ + ".lock"));
  SCOUT_RETURN_IF_ERROR(checkpoint.Load(checkpoint.path_));
  SCOUT_RETURN_IF_ERROR(checkpoint.Load(checkpoint.path_ + ".journal"));
  // The journal only ever grows between compactions; make sure a torn tail
  // from a crash does not glue onto the next line we append.
  SCOUT_RETURN_IF_ERROR(checkpoint.Compact());
  SCOUT_ASSIGN_OR_RETURN(checkpoint.journal_,
                         fs->OpenForWrite(checkpoint.path_ + ".journal", /*append=*/true));
  return checkpoint;
}

absl::Status Checkpoint::Load(const std::string& file) {
  absl::StatusOr<std::string> data = fs_->ReadFile(file, -1);
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
  if (!broken_.ok()) return broken_;
  std::string lines;
  for (const auto& [key, state] : entries) AppendLine(lines, key, state);
  absl::Status status = journal_->Append(lines);
  if (status.ok()) status = journal_->Sync();
  if (!status.ok()) {
    // A short write leaves a line without its newline; appending after it
    // would glue two lines into one that may parse as a wrong entry.
    broken_ = absl::Status(status.code(), absl::StrCat("checkpoint journal: ", status.message()));
    return broken_;
  }
  for (const auto& [key, state] : entries) entries_.insert_or_assign(key, state);
  return absl::OkStatus();
}

absl::Status Checkpoint::Compact() {
  std::string snapshot;
  snapshot.reserve(entries_.size() * 96);
  for (const auto& [key, state] : entries_) AppendLine(snapshot, key, state);
  // The snapshot is on disk (file and rename) before the journal it
  // replaces is emptied: a power loss in between keeps both, never neither.
  SCOUT_RETURN_IF_ERROR(WriteFileAtomically(*fs_, path_, snapshot));
  const std::string journal = path_ + ".journal";
  SCOUT_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> emptied,
                         fs_->OpenForWrite(journal, /*append=*/false));
  SCOUT_RETURN_IF_ERROR(emptied->Sync());
  SCOUT_RETURN_IF_ERROR(emptied->Close());
  broken_ = absl::OkStatus();
  return absl::OkStatus();
}

}  // namespace scout::ingest
