#include "intelergy/store/pg_energy_history.hpp"

#include <pqxx/pqxx>

#include "pg_common.hpp"

namespace intelergy::store {

namespace {

template <typename T>
std::optional<T> opt(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<T>();
}

struct Path {
    std::optional<std::string> device_id;
    std::optional<std::string> user, profile, room, device;
};

std::optional<Path> parse_scope(const std::string& scope) {
    Path p;
    std::vector<std::string> parts;
    std::string::size_type start = 0;
    for (;;) {
        const auto slash = scope.find('/', start);
        parts.push_back(scope.substr(start, slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    if (parts.size() > 4) return std::nullopt;
    for (const auto& s : parts)
        if (s.empty()) return std::nullopt;
    p.user = parts[0];
    if (parts.size() > 1) p.profile = parts[1];
    if (parts.size() > 2) p.room = parts[2];
    if (parts.size() > 3) p.device = parts[3];
    return p;
}

const char* DEVICES_CTE = R"SQL(
    WITH devs AS (
        SELECT d.id, p.timezone FROM devices d JOIN rooms r ON r.id = d.room_id
          JOIN profiles p ON p.id = r.profile_id JOIN users u ON u.id = p.user_id
         WHERE ($1::text IS NOT NULL AND d.id = $1)
            OR ($1::text IS NULL AND u.name = $2 AND ($3::text IS NULL OR p.name = $3)
                AND ($4::text IS NULL OR r.name = $4) AND ($5::text IS NULL OR d.name = $5)))
)SQL";

}  // namespace

struct PgEnergyHistory::Impl {
    std::string dsn;
    std::unique_ptr<pqxx::connection> conn;
    pqxx::connection& connection() {
        if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(dsn);
        return *conn;
    }
};

PgEnergyHistory::PgEnergyHistory(std::string dsn) : impl_(std::make_unique<Impl>()) {
    impl_->dsn = std::move(dsn);
}
PgEnergyHistory::~PgEnergyHistory() = default;

Result<std::vector<EnergyBucket>> PgEnergyHistory::query_energy(const std::string& scope,
                                                               Resolution resolution,
                                                               SysTime from, SysTime to) {
    if (from >= to) return make_error(ErrorCode::Invalid, "'from' must be before 'to'", "energy/query");
    auto parsed = parse_scope(scope);
    if (!parsed) return make_error(ErrorCode::Invalid, "bad scope '" + scope + "'", "energy/query");
    const std::string unit = to_string(resolution);
    bool broken = false;
    auto out = pg::guarded("energy/query", broken, [&]() -> Result<std::vector<EnergyBucket>> {
        pqxx::read_transaction tx(impl_->connection());
        Path p = *parsed;
        if (!p.profile) {
            // A bare name is a device id when such a device exists, else a user.
            const auto dev = tx.exec_params("SELECT 1 FROM devices WHERE id = $1", scope);
            if (!dev.empty()) p = Path{scope, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
        }
        const auto n = tx.exec_params1(std::string(DEVICES_CTE) + " SELECT count(*) FROM devs",
                                       p.device_id, p.user, p.profile, p.room, p.device)[0]
                           .as<long>();
        if (n == 0) {
            const auto exists = tx.exec_params1(
                "SELECT EXISTS (SELECT 1 FROM users u LEFT JOIN profiles p ON p.user_id = u.id "
                "LEFT JOIN rooms r ON r.profile_id = p.id WHERE u.name = $1 AND ($2::text IS NULL "
                "OR p.name = $2) AND ($3::text IS NULL OR r.name = $3)) AND $4::text IS NULL",
                p.user, p.profile, p.room, p.device)[0].as<bool>();
            if (!exists || p.device_id)
                return make_error(ErrorCode::NotFound, "scope '" + scope + "' not found",
                                  "energy/query");
            return std::vector<EnergyBucket>{};
        }
        const auto rows = tx.exec_params(
            std::string(DEVICES_CTE) + ", rows AS (SELECT e.*, devs.timezone FROM energy_" + unit +
                " e JOIN devs ON devs.id = e.device_id WHERE e.bucket_start >= " +
                pg::ts_from_ms("$6") + " AND e.bucket_start < " + pg::ts_from_ms("$7") +
                "), mem AS (SELECT count(*) AS n FROM (SELECT DISTINCT device_id, channel FROM "
                "rows) x) SELECT " +
                pg::ms_from_ts("bucket_start") + ", " + pg::ms_from_ts("bucket_end") +
                ", intelergy_bucket_label($8, bucket_start, timezone), "
                "sum(energy_wh::numeric)::float8, sum(energy_integrated_wh::numeric)::float8, "
                "sum(sum_w_s::numeric)::float8, sum(power_s::numeric)::float8, min(min_w), "
                "max(max_w), sum(covered_s::numeric)::float8, sum(samples), sum(resets), "
                "count(*), (SELECT n FROM mem) FROM rows GROUP BY bucket_start, bucket_end, "
                "timezone ORDER BY bucket_start, timezone",
            p.device_id, p.user, p.profile, p.room, p.device, from.time_since_epoch().count(),
            to.time_since_epoch().count(), unit);
        std::vector<EnergyBucket> buckets;
        buckets.reserve(rows.size());
        for (const auto& row : rows) {
            EnergyBucket b;
            b.start = SysTime(std::chrono::milliseconds(row[0].as<long long>()));
            b.end = SysTime(std::chrono::milliseconds(row[1].as<long long>()));
            b.label = row[2].as<std::string>();
            b.energy_wh = opt<double>(row[3]);
            b.energy_integrated_wh = opt<double>(row[4]);
            const double sum_w_s = row[5].as<double>();
            const double power_s = row[6].as<double>();
            if (power_s > 0) b.mean_power_w = sum_w_s / power_s;
            b.min_power_w = opt<double>(row[7]);
            b.max_power_w = opt<double>(row[8]);
            b.covered_s = row[9].as<double>();
            b.samples = row[10].as<long>();
            b.resets = row[11].as<int>();
            b.members = row[12].as<int>();
            const auto members = row[13].as<double>();
            const auto length_s =
                std::chrono::duration<double>(b.end - b.start).count();
            b.coverage = length_s > 0 && members > 0 ? b.covered_s / (length_s * members) : 0;
            buckets.push_back(std::move(b));
        }
        return buckets;
    });
    if (broken) impl_->conn.reset();
    return out;
}

}  // namespace intelergy::store
