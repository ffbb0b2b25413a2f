// The two status macros Debian's Abseil (20220623) lacks. Header-only, no state.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SCOUT_CONCAT_INNER_(a, b) a##b
#define SCOUT_CONCAT_(a, b) SCOUT_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define SCOUT_RETURN_IF_ERROR(expr)             \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

// `SCOUT_ASSIGN_OR_RETURN(auto x, Foo());` binds the value of an
// absl::StatusOr or returns its error from the enclosing function.
#define SCOUT_ASSIGN_OR_RETURN(lhs, expr) \
  SCOUT_ASSIGN_OR_RETURN_IMPL_(SCOUT_CONCAT_(_status_or_, __LINE__), lhs, expr)
#define SCOUT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()
