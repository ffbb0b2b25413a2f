#include "common/backends/warehouse.h"

#include <libpq-fe.h>

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"

namespace scout {
namespace {

// Each migration runs once, in order, in its own transaction. SQL that runs on
// PostgreSQL 15 and Amazon Redshift alike: no arrays, no JSONB (series and
// palettes are JSON text), upserts by staging + delete/insert.
struct Migration {
  int version;
  const char* sql;
};
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE creator_daily_stats (
  creator_id VARCHAR(32) NOT NULL,
  day DATE NOT NULL,
  username VARCHAR(256),
  name VARCHAR(512),
  biography VARCHAR(4096),
  website VARCHAR(1024),
  profile_picture_source VARCHAR(2048),
  followers_count BIGINT NOT NULL,
  follows_count BIGINT,
  media_count BIGINT,
  is_business BOOLEAN NOT NULL,
  impressions BIGINT,
  reach BIGINT,
  follower_count BIGINT,
  profile_views BIGINT,
  website_clicks BIGINT,
  email_contacts BIGINT,
  phone_call_clicks BIGINT,
  text_message_clicks BIGINT,
  get_directions_clicks BIGINT,
  source_key VARCHAR(512) NOT NULL,
  loaded_at TIMESTAMP NOT NULL,
  PRIMARY KEY (creator_id, day)
);
CREATE TABLE stats_quarantine (
  source_key VARCHAR(512) NOT NULL PRIMARY KEY,
  reason VARCHAR(2048) NOT NULL,
  quarantined_at TIMESTAMP NOT NULL
);
CREATE TABLE creator_palette (
  creator_id VARCHAR(32) NOT NULL PRIMARY KEY,
  computed_at TIMESTAMP NOT NULL,
  image_count INTEGER NOT NULL,
  pixel_count BIGINT NOT NULL,
  colors_json VARCHAR(4096) NOT NULL
);
CREATE TABLE profile_facts (
  creator_id VARCHAR(32) NOT NULL PRIMARY KEY,
  as_of DATE NOT NULL,
  username VARCHAR(256),
  name VARCHAR(512),
  biography VARCHAR(4096),
  website VARCHAR(1024),
  profile_picture_url VARCHAR(2048),
  followers_count BIGINT NOT NULL,
  follows_count BIGINT,
  media_count BIGINT,
  is_business BOOLEAN NOT NULL,
  daily_json VARCHAR(65535) NOT NULL,
  doc_count BIGINT NOT NULL,
  fol_avg DOUBLE PRECISION,
  eng_avg DOUBLE PRECISION,
  engagement_rate DOUBLE PRECISION,
  follower_growth_30d DOUBLE PRECISION,
  palette_json VARCHAR(4096),
  load_version BIGINT NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE TABLE load_versions (
  version BIGINT NOT NULL PRIMARY KEY,
  kind VARCHAR(32) NOT NULL,
  as_of DATE,
  shard VARCHAR(32) NOT NULL,
  row_count BIGINT NOT NULL,
  finished_at TIMESTAMP NOT NULL
);
)sql"},
    // Creator discovery (issue 11): what a creator posts about, tier
    // benchmarks and the platform's daily numbers. One ADD COLUMN per ALTER
    // (Redshift takes no more).
    {2, R"sql(
ALTER TABLE profile_facts ADD COLUMN last_post_at TIMESTAMP;
ALTER TABLE profile_facts ADD COLUMN avg_reach DOUBLE PRECISION;
ALTER TABLE profile_facts ADD COLUMN avg_impressions DOUBLE PRECISION;
ALTER TABLE profile_facts ADD COLUMN topics_json VARCHAR(1024);
CREATE TABLE creator_content (
  creator_id VARCHAR(32) NOT NULL PRIMARY KEY,
  as_of DATE NOT NULL,
  posts_90d BIGINT NOT NULL,
  hashtags_json VARCHAR(65535) NOT NULL,
  mentions_json VARCHAR(65535) NOT NULL,
  captions_json VARCHAR(65535) NOT NULL,
  topics_json VARCHAR(1024) NOT NULL,
  load_version BIGINT NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE TABLE tier_benchmarks (
  as_of DATE NOT NULL,
  tier VARCHAR(8) NOT NULL,
  creators BIGINT NOT NULL,
  engagement_p25 DOUBLE PRECISION,
  engagement_median DOUBLE PRECISION,
  engagement_p75 DOUBLE PRECISION,
  computed_at TIMESTAMP NOT NULL,
  PRIMARY KEY (as_of, tier)
);
CREATE TABLE tier_centiles (
  as_of DATE NOT NULL,
  tier VARCHAR(8) NOT NULL,
  centile SMALLINT NOT NULL,
  max_engagement_rate DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (as_of, tier, centile)
);
CREATE TABLE platform_daily (
  as_of DATE NOT NULL PRIMARY KEY,
  creators BIGINT NOT NULL,
  business_creators BIGINT NOT NULL,
  posts_30d BIGINT NOT NULL,
  median_followers DOUBLE PRECISION,
  median_engagement_rate DOUBLE PRECISION,
  computed_at TIMESTAMP NOT NULL
);
)sql"},
};

}  // namespace

std::optional<size_t> SqlRows::ColumnIndex(absl::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return i;
  }
  return std::nullopt;
}

std::string WarehouseText(absl::string_view text, size_t max_bytes) {
  std::string clean = ToValidUtf8(text);
  clean.erase(std::remove(clean.begin(), clean.end(), '\0'), clean.end());
  if (clean.size() <= max_bytes) return clean;
  size_t end = max_bytes;
  // Back off continuation bytes (10xxxxxx) so no character is cut in two.
  while (end > 0 && (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80) --end;
  clean.resize(end);
  return clean;
}

absl::StatusOr<std::unique_ptr<Warehouse>> Warehouse::Connect(const std::string& dsn) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("warehouse: cannot connect: ", message));
  }
  // Notices (e.g. "table already exists, skipping") are not errors.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Warehouse>(new Warehouse(conn));
}

Warehouse::~Warehouse() { PQfinish(conn_); }

absl::Status Warehouse::ConnectionError(absl::string_view what, const PGresult* result) const {
  const std::string message = absl::StrCat("warehouse: ", what, ": ", PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK) return absl::UnavailableError(message);
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state != nullptr &&
      (std::string_view(state) == "40001" || std::string_view(state) == "40P01")) {
    return absl::AbortedError(message);  // The transaction may simply be run again.
  }
  return absl::InternalError(message);
}

absl::StatusOr<SqlRows> Warehouse::Query(absl::string_view sql,
                                         const std::vector<SqlValue>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const SqlValue& param : params) values.push_back(param ? param->c_str() : nullptr);
  const std::string statement(sql);
  // Without parameters the simple protocol runs scripts of several
  // statements (migrations); any value from outside goes in as a parameter.
  PGresult* result = params.empty()
                         ? PQexec(conn_, statement.c_str())
                         : PQexecParams(conn_, statement.c_str(), static_cast<int>(values.size()),
                                        nullptr, values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    absl::Status error = ConnectionError(statement.substr(0, 80), result);
    PQclear(result);
    return error;
  }
  SqlRows rows;
  const int columns = PQnfields(result);
  for (int c = 0; c < columns; ++c) rows.columns.emplace_back(PQfname(result, c));
  const int count = PQntuples(result);
  rows.rows.reserve(count);
  for (int r = 0; r < count; ++r) {
    std::vector<SqlValue>& row = rows.rows.emplace_back();
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result, r, c), PQgetlength(result, r, c)));
      }
    }
  }
  PQclear(result);
  return rows;
}

absl::Status Warehouse::Exec(absl::string_view sql, const std::vector<SqlValue>& params) {
  return Query(sql, params).status();
}

absl::Status Warehouse::CopyIn(absl::string_view copy_statement, absl::string_view data) {
  const std::string statement(copy_statement);
  PGresult* result = PQexec(conn_, statement.c_str());
  if (PQresultStatus(result) != PGRES_COPY_IN) {
    absl::Status error = ConnectionError(statement, result);
    PQclear(result);
    return error;
  }
  PQclear(result);
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    if (PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) != 1) {
      return ConnectionError("COPY data");
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) return ConnectionError("COPY end");
  absl::Status status = absl::OkStatus();
  while (PGresult* done = PQgetResult(conn_)) {
    if (PQresultStatus(done) != PGRES_COMMAND_OK && status.ok()) {
      status = ConnectionError(statement, done);
    }
    PQclear(done);
  }
  return status;
}

void AppendCopyRow(const std::vector<SqlValue>& values, std::string& out) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += '\t';
    if (!values[i]) {
      out += "\\N";
      continue;
    }
    for (char c : *values[i]) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out += c;
      }
    }
  }
  out += '\n';
}

absl::Status Migrate(Warehouse& warehouse) {
  SCOUT_RETURN_IF_ERROR(
      warehouse.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version INTEGER NOT NULL PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"));
  for (const Migration& migration : kMigrations) {
    SCOUT_RETURN_IF_ERROR(warehouse.InTransaction([&]() -> absl::Status {
      // Concurrent workers wait here; the second one then sees the version.
      SCOUT_RETURN_IF_ERROR(warehouse.Exec("LOCK TABLE schema_migrations"));
      SCOUT_ASSIGN_OR_RETURN(const SqlRows applied,
                             warehouse.Query("SELECT 1 FROM schema_migrations WHERE version = $1",
                                             {std::to_string(migration.version)}));
      if (!applied.rows.empty()) return absl::OkStatus();
      SCOUT_RETURN_IF_ERROR(warehouse.Exec(migration.sql));
      return warehouse.Exec(
          "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, CURRENT_TIMESTAMP)",
          {std::to_string(migration.version)});
    }));
  }
  return absl::OkStatus();
}

}  // namespace scout
