// Status and Result<T>: the return type of every fallible call.
//
// A Status is either ok or an error with an AWS-style code ("InvalidVpcID.NotFound")
// and a human message. Control-plane errors are named by their AWS code, listed
// once in control/errors.h; the API edge maps codes to HTTP statuses in one table
// (api/error_table.cc). Value type, no thread-safety concerns.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace lp {

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(std::string code, std::string message) : code_(std::move(code)), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_.empty(); }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string toString() const { return ok() ? "OK" : code_ + ": " + message_; }

 private:
  std::string code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lp

// Returns early from the enclosing function with the error of a Status or Result.
#define LP_RETURN_IF_ERROR(expr)            \
  do {                                      \
    auto&& lp_status_ = (expr);             \
    if (!lp_status_.ok()) return ::lp::internal::statusOf(lp_status_); \
  } while (0)

#define LP_CONCAT_INNER(a, b) a##b
#define LP_CONCAT(a, b) LP_CONCAT_INNER(a, b)
// LP_ASSIGN_OR_RETURN(auto x, expr): x = value of expr, or return its error.
#define LP_ASSIGN_OR_RETURN(lhs, expr) LP_ASSIGN_OR_RETURN_IMPL(LP_CONCAT(lp_result_, __LINE__), lhs, expr)
#define LP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

namespace lp::internal {
inline const Status& statusOf(const Status& s) { return s; }
template <typename T>
const Status& statusOf(const Result<T>& r) { return r.status(); }
}  // namespace lp::internal
