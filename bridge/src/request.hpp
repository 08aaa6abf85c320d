#pragma once

// Private to the bridge: JSON request parsing helpers shared by the API handlers.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "intelergy/core/result.hpp"

namespace intelergy::bridge {

using Json = nlohmann::json;

// Thrown inside a handler for a request that cannot be served; becomes an error response.
// Never escapes Api::handle().
class RequestError : public std::runtime_error {
public:
    explicit RequestError(const std::string& message, ErrorCode code = ErrorCode::Invalid)
        : std::runtime_error(message), code_(code) {}
    explicit RequestError(const Error& error)
        : std::runtime_error(error.message), code_(error.code) {}
    [[nodiscard]] ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

// A request's fields, with typed accessors that throw RequestError naming the field.
// Every field must be consumed (or allowed) by the handler; leftovers are reported as
// "unknown field", so a misspelt option is never silently ignored.
class Request {
public:
    explicit Request(const Json& body) : body_(body) {}

    [[nodiscard]] bool has(const std::string& key) const { return body_.contains(key); }
    std::string string(const std::string& key);  // required
    std::optional<std::string> opt_string(const std::string& key);
    std::optional<double> opt_number(const std::string& key, double min, double max);
    std::optional<std::int64_t> opt_integer(const std::string& key, std::int64_t min,
                                            std::int64_t max);
    std::optional<bool> opt_bool(const std::string& key);
    // A name field validated with validate_name (no '/', '+', '#', control characters...).
    std::string name(const std::string& key);
    std::optional<std::string> opt_name(const std::string& key);
    // "a/b/c" path field split into `parts` validated names.
    std::vector<std::string> path(const std::string& key, std::size_t parts);
    // Throws if any field other than the consumed ones and "transaction" is present.
    void finish() const;

private:
    const Json& get(const std::string& key);
    const Json& body_;
    std::set<std::string> used_{"transaction"};
};

}  // namespace intelergy::bridge

namespace intelergy::bridge {

using Handler = std::function<Json(Request&)>;
using HandlerTable = std::map<std::string, Handler, std::less<>>;

template <typename T>
T unwrap(Result<T> r) {
    if (!r) throw RequestError(r.error());
    return std::move(r).value();
}

inline void unwrap(const Status& s) {
    if (!s) throw RequestError(s.error());
}

}  // namespace intelergy::bridge
