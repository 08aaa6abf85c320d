#pragma once

#include <string_view>
#include <vector>

namespace intelergy::store {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// All migrations compiled into this binary, sorted by version (store/migrations/NNNN_*.sql).
const std::vector<Migration>& migrations();

}  // namespace intelergy::store
