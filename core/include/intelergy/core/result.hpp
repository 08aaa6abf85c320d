#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace intelergy {

// Closed set of failure kinds; adapters translate vendor exceptions into one of these.
enum class ErrorCode { Timeout, Unreachable, Protocol, Parse, NotFound, Conflict, Config, Auth,
                       Invalid, Internal };

const char* to_string(ErrorCode code) noexcept;

struct Error {
    ErrorCode code{ErrorCode::Internal};
    std::string message;
    std::string context;  // e.g. "device=shellyplug-s-abc" or "file.toml:3:1"

    [[nodiscard]] std::string describe() const {
        return context.empty() ? message : context + ": " + message;
    }
};

inline Error make_error(ErrorCode code, std::string message, std::string context = {}) {
    return Error{code, std::move(message), std::move(context)};
}

// A small std::expected look-alike (C++20 has none): value or Error.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(v_); }
    const T& value() const& { assert(has_value()); return std::get<0>(v_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { assert(!has_value()); return std::get<1>(v_); }
    Error&& error() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

    template <typename U>
    T value_or(U&& fallback) const& {
        return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT implicit
    [[nodiscard]] bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error& error() const& { assert(!ok_); return error_; }

private:
    Error error_;
    bool ok_{true};
};

using Status = Result<void>;

}  // namespace intelergy
