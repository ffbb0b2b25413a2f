#include "common/backends/bulk.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/json_fields.h"

namespace scout {

using nlohmann::json;

namespace {

// Sends one request's actions until each has a final answer.
absl::Status SendRequest(Elastic& elastic, std::vector<BulkAction> pending,
                         const BulkOptions& options, const BulkItemHandler& handler,
                         BulkResult& result) {
  absl::Duration backoff = options.backoff;
  absl::Status last_error;
  for (int attempt = 1; !pending.empty(); ++attempt) {
    if (attempt > options.attempts) {
      return absl::UnavailableError(absl::StrCat("elasticsearch did not accept ", pending.size(),
                                                 " bulk items after ", options.attempts,
                                                 " attempts; last error: ", last_error.ToString()));
    }
    if (attempt > 1) {
      absl::SleepFor(backoff);
      backoff *= 2;
    }
    std::string body;
    for (const BulkAction& action : pending) body += action.ndjson;
    ++result.requests;
    absl::StatusOr<json> answer = elastic.CallRaw("POST", options.path, std::move(body),
                                                  "application/x-ndjson", options.timeout);
    if (!answer.ok()) {
      if (!absl::IsUnavailable(answer.status()) && !absl::IsDeadlineExceeded(answer.status())) {
        return answer.status();
      }
      last_error = answer.status();
      continue;
    }
    const json* items =
        answer->is_object() && answer->contains("items") ? &(*answer)["items"] : nullptr;
    if (items == nullptr || !items->is_array() || items->size() != pending.size()) {
      return absl::InternalError("elasticsearch _bulk answered with a different item count");
    }
    std::vector<BulkAction> retry;
    for (size_t i = 0; i < pending.size(); ++i) {
      const json& entry = (*items)[i];
      if (!entry.is_object() || entry.empty() || !entry.begin().value().is_object()) {
        return absl::InternalError(absl::StrCat(
            "elasticsearch _bulk answered an item without a result: ", DumpJson(entry)));
      }
      const json& answered = entry.begin().value();
      const json& status_field = answered.contains("status") ? answered["status"] : json();
      const int status = status_field.is_number_integer() ? status_field.get<int>() : 0;
      if (status == 429 || status >= 500) {
        last_error = absl::UnavailableError(DumpJson(answered.value("error", json())));
        retry.push_back(std::move(pending[i]));
        continue;
      }
      const BulkItem item{&pending[i], status, &answered};
      BulkVerdict verdict;
      if (handler) {
        absl::StatusOr<BulkVerdict> handled = handler(item);
        if (!handled.ok()) return handled.status();
        verdict = *std::move(handled);
      } else {
        verdict.refused = !item.ok();
      }
      if (item.ok()) {
        ++result.accepted;
      } else if (verdict.refused) {
        ++result.refused;
        if (result.refusals.size() < kMaxBulkRefusals) {
          result.refusals.push_back(absl::StrCat(item.id(), ": ", item.error_reason()));
        }
      }
      if (verdict.instead) {
        ++result.replaced;
        retry.push_back(*std::move(verdict.instead));
      }
    }
    pending = std::move(retry);
  }
  return absl::OkStatus();
}

}  // namespace

std::string BulkHeader(absl::string_view op, absl::string_view index, absl::string_view id) {
  return json{{std::string(op), {{"_index", index}, {"_id", id}}}}.dump() + "\n";
}

std::string BulkItem::id() const {
  const auto found = result->find("_id");
  return found != result->end() && found->is_string() ? found->get<std::string>() : "";
}

std::string BulkItem::error_type() const {
  const auto error = result->find("error");
  if (error == result->end() || !error->is_object()) return "";
  const auto type = error->find("type");
  return type != error->end() && type->is_string() ? type->get<std::string>() : "";
}

std::string BulkItem::error_reason() const {
  const auto error = result->find("error");
  if (error == result->end()) return "";
  if (!error->is_object()) return DumpJson(*error);
  const auto reason = error->find("reason");
  return absl::StrCat(
      error_type(), ": ",
      reason != error->end() && reason->is_string() ? reason->get<std::string>() : "");
}

absl::StatusOr<BulkResult> WriteBulk(Elastic& elastic, std::vector<BulkAction> actions,
                                     const BulkOptions& options, const BulkItemHandler& handler) {
  BulkResult result;
  std::vector<BulkAction> request;
  size_t bytes = 0;
  for (size_t i = 0; i <= actions.size(); ++i) {
    const bool full =
        !request.empty() &&
        (i == actions.size() ||
         (options.max_actions > 0 && request.size() >= options.max_actions) ||
         (options.max_bytes > 0 && bytes + actions[i].ndjson.size() > options.max_bytes));
    if (full) {
      absl::Status sent = SendRequest(elastic, std::move(request), options, handler, result);
      if (!sent.ok()) return sent;
      request.clear();
      bytes = 0;
    }
    if (i == actions.size()) break;
    bytes += actions[i].ndjson.size();
    request.push_back(std::move(actions[i]));
  }
  return result;
}

}  // namespace scout
