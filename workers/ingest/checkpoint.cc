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

class LocalCheckpointStorage final : public CheckpointStorage {
 public:
  LocalCheckpointStorage(std::string path, FileSystem* fs) : path_(std::move(path)), fs_(fs) {}

  absl::Status Lock() {
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    if (!dir.empty()) SCOUT_RETURN_IF_ERROR(fs_->CreateDirs(dir));
    SCOUT_ASSIGN_OR_RETURN(lock_, fs_->Lock(path_ + ".lock"));
    return absl::OkStatus();
  }

  // Always asks for a Replace: the journal only ever grows between
  // compactions, and a torn tail from a crash must not glue onto the next
  // line appended.
  absl::StatusOr<bool> Load(const std::function<void(absl::string_view)>& apply) override {
    for (const std::string& file : {path_, path_ + ".journal"}) {
      absl::StatusOr<std::string> data = fs_->ReadFile(file, -1);
      if (absl::IsNotFound(data.status())) continue;
      if (!data.ok()) return data.status();
      apply(*data);
    }
    return true;
  }

  absl::Status Append(absl::string_view lines) override {
    if (!broken_.ok()) return broken_;
    absl::Status status = absl::OkStatus();
    if (journal_ == nullptr) {
      absl::StatusOr<std::unique_ptr<WritableFile>> opened =
          fs_->OpenForWrite(path_ + ".journal", /*append=*/true);
      if (opened.ok()) journal_ = *std::move(opened);
      status = opened.status();
    }
    if (status.ok()) status = journal_->Append(lines);
    if (status.ok()) status = journal_->Sync();
    if (!status.ok()) {
      // A short write leaves a line without its newline; appending after it
      // would glue two lines into one that may parse as a wrong entry.
      broken_ = absl::Status(status.code(), absl::StrCat("checkpoint journal: ", status.message()));
      return broken_;
    }
    return absl::OkStatus();
  }

  absl::Status Replace(absl::string_view snapshot) override {
    // The snapshot is on disk (file and rename) before the journal it
    // replaces is emptied: a power loss in between keeps both, never neither.
    SCOUT_RETURN_IF_ERROR(WriteFileAtomically(*fs_, path_, snapshot));
    SCOUT_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> emptied,
                           fs_->OpenForWrite(path_ + ".journal", /*append=*/false));
    SCOUT_RETURN_IF_ERROR(emptied->Sync());
    SCOUT_RETURN_IF_ERROR(emptied->Close());
    broken_ = absl::OkStatus();
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  FileSystem* const fs_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<WritableFile> journal_;  // Opened for append at the first commit.
  absl::Status broken_;                    // Why the journal cannot be appended to (until Replace).
};

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointStorage>> OpenLocalCheckpointStorage(std::string path,
                                                                              FileSystem* fs) {
  auto storage = std::make_unique<LocalCheckpointStorage>(std::move(path), fs);
  SCOUT_RETURN_IF_ERROR(storage->Lock());
  return storage;
}

absl::StatusOr<Checkpoint> Checkpoint::Open(std::string path, FileSystem* fs) {
  SCOUT_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointStorage> storage,
                         OpenLocalCheckpointStorage(std::move(path), fs));
  return Open(std::move(storage));
}

absl::StatusOr<Checkpoint> Checkpoint::Open(std::unique_ptr<CheckpointStorage> storage) {
  Checkpoint checkpoint(std::move(storage));
  SCOUT_ASSIGN_OR_RETURN(
      checkpoint.journal_dirty_,
      checkpoint.storage_->Load([&](absl::string_view lines) { checkpoint.Apply(lines); }));
  SCOUT_RETURN_IF_ERROR(checkpoint.Compact());
  return checkpoint;
}

void Checkpoint::Apply(absl::string_view data) {
  std::string key;
  FileState state;
  size_t start = 0;
  // Lines without their newline are torn writes: ignored.
  for (size_t end; (end = data.find('\n', start)) != absl::string_view::npos; start = end + 1) {
    if (ParseLine(data.substr(start, end - start), key, state)) {
      entries_.insert_or_assign(key, state);
    }
  }
}

const FileState* Checkpoint::Find(absl::string_view key) const {
  const auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

absl::Status Checkpoint::Commit(const std::vector<std::pair<std::string, FileState>>& entries) {
  if (entries.empty()) return absl::OkStatus();
  std::string lines;
  for (const auto& [key, state] : entries) AppendLine(lines, key, state);
  journal_dirty_ = true;  // Even a failed append may have left bytes behind.
  SCOUT_RETURN_IF_ERROR(storage_->Append(lines));
  for (const auto& [key, state] : entries) entries_.insert_or_assign(key, state);
  return absl::OkStatus();
}

absl::Status Checkpoint::Compact() {
  if (!journal_dirty_) return absl::OkStatus();
  std::string snapshot;
  snapshot.reserve(entries_.size() * 96);
  for (const auto& [key, state] : entries_) AppendLine(snapshot, key, state);
  SCOUT_RETURN_IF_ERROR(storage_->Replace(snapshot));
  journal_dirty_ = false;
  return absl::OkStatus();
}

}  // namespace scout::ingest
