#include "intelergy/store/pg_energy_history.hpp"

#include <pqxx/pqxx>

#include <set>

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

using pg::int_array;
using pg::text_array;

// The checks both queries make before touching the database: a range, and a scope that parses.
Result<Path> checked_scope(const std::string& scope, SysTime from, SysTime to) {
    if (from >= to) return make_error(ErrorCode::Invalid, "'from' must be before 'to'", "energy/query");
    auto parsed = parse_scope(scope);
    if (!parsed) return make_error(ErrorCode::Invalid, "bad scope '" + scope + "'", "energy/query");
    return *parsed;
}

// period_totals: the requests (i = index, '' for an absent path part), the devices each one
// covers (the rules of query_energy and DEVICES_CTE: a bare name is a device id when such a
// device exists, else a user; soft-removed devices count), their rows in the tier, summed per
// bucket and time zone as query_energy does. A request without devices says whether its scope
// exists (empty, i.e. null) or not (NotFound). %ROWS% is one branch per tier asked for, over
// the distinct (tier, range, device) of all requests: a room and its devices share the probes.
const char* TOTALS_SQL = R"SQL(
    WITH q AS (
        SELECT r.i, r.unit, r.u, r.p, r.rm, r.dv,
               ('epoch'::timestamptz + r.f * interval '1 millisecond') AS f,
               ('epoch'::timestamptz + r.t * interval '1 millisecond') AS t,
               (r.p = '' AND EXISTS (SELECT 1 FROM devices x WHERE x.id = r.u)) AS by_id
          FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                      $7::bigint[], $8::bigint[]) AS r(i, unit, u, p, rm, dv, f, t)),
    tree AS (
        SELECT d.id, pr.timezone, u.name AS u, pr.name AS p, ro.name AS rm, d.name AS dv
          FROM devices d JOIN rooms ro ON ro.id = d.room_id
          JOIN profiles pr ON pr.id = ro.profile_id JOIN users u ON u.id = pr.user_id),
    m AS (
        SELECT q.i, q.unit, q.f, q.t, tree.id, tree.timezone
          FROM q JOIN tree ON tree.id = q.u WHERE q.by_id
        UNION ALL
        SELECT q.i, q.unit, q.f, q.t, tree.id, tree.timezone
          FROM q JOIN tree ON tree.u = q.u WHERE NOT q.by_id AND q.p = ''
        UNION ALL
        SELECT q.i, q.unit, q.f, q.t, tree.id, tree.timezone
          FROM q JOIN tree ON tree.u = q.u AND tree.p = q.p WHERE q.p <> '' AND q.rm = ''
        UNION ALL
        SELECT q.i, q.unit, q.f, q.t, tree.id, tree.timezone
          FROM q JOIN tree ON tree.u = q.u AND tree.p = q.p AND tree.rm = q.rm
         WHERE q.rm <> '' AND q.dv = ''
        UNION ALL
        SELECT q.i, q.unit, q.f, q.t, tree.id, tree.timezone
          FROM q JOIN tree ON tree.u = q.u AND tree.p = q.p AND tree.rm = q.rm AND tree.dv = q.dv
         WHERE q.dv <> ''),
    k AS (SELECT DISTINCT unit, f, t, id FROM m),
    rows AS (%ROWS%),
    sums AS (
        SELECT m.i, rows.bucket_start, rows.bucket_end, m.timezone,
               sum(rows.energy_wh::numeric)::float8 AS wh
          FROM m JOIN rows ON rows.id = m.id AND rows.unit = m.unit AND rows.f = m.f
                          AND rows.t = m.t
         GROUP BY m.i, rows.bucket_start, rows.bucket_end, m.timezone)
    SELECT q.i, s.wh,
           CASE WHEN q.by_id OR mi.i IS NOT NULL THEN true
                WHEN q.dv <> '' THEN false
                ELSE EXISTS (SELECT 1 FROM users u LEFT JOIN profiles p ON p.user_id = u.id
                               LEFT JOIN rooms r ON r.profile_id = p.id
                              WHERE u.name = q.u AND (q.p = '' OR p.name = q.p)
                                AND (q.rm = '' OR r.name = q.rm)) END
      FROM q LEFT JOIN (SELECT DISTINCT i FROM m) mi ON mi.i = q.i
             LEFT JOIN sums s ON s.i = q.i
     ORDER BY q.i, s.bucket_start, s.timezone, s.bucket_end
)SQL";

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
    std::uint64_t statements{0};
    pqxx::connection& connection() {
        if (!conn || !conn->is_open()) {
            conn = std::make_unique<pqxx::connection>(dsn);
            // The batched totals plan costs enough to be JIT-compiled, which took longer than
            // running it (0.2-4 s per round with 5,000 plugs); these queries never gain by it.
            pqxx::nontransaction(*conn).exec0("SET jit = off");
        }
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
    auto parsed = checked_scope(scope, from, to);
    if (!parsed) return parsed.error();
    const std::string unit = to_string(resolution);
    bool broken = false;
    auto out = pg::guarded("energy/query", broken, [&]() -> Result<std::vector<EnergyBucket>> {
        pqxx::read_transaction tx(impl_->connection());
        Path p = *parsed;
        if (!p.profile) {
            // A bare name is a device id when such a device exists, else a user.
            ++impl_->statements;
            const auto dev = tx.exec_params("SELECT 1 FROM devices WHERE id = $1", scope);
            if (!dev.empty()) p = Path{scope, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
        }
        ++impl_->statements;
        const auto n = tx.exec_params1(std::string(DEVICES_CTE) + " SELECT count(*) FROM devs",
                                       p.device_id, p.user, p.profile, p.room, p.device)[0]
                           .as<long>();
        if (n == 0) {
            ++impl_->statements;
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
        ++impl_->statements;
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

Result<std::vector<PeriodTotal>> PgEnergyHistory::period_totals(
    const std::vector<TotalRequest>& requests) {
    std::vector<PeriodTotal> out(requests.size(), PeriodTotal(std::optional<double>{}));
    std::vector<long long> idx, from, to;
    std::vector<std::string> units, users, profiles, rooms, devices;
    std::set<Resolution> tiers;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        const auto p = checked_scope(r.scope, r.from, r.to);
        if (!p) {
            out[i] = p.error();
            continue;
        }
        idx.push_back(static_cast<long long>(i));
        units.emplace_back(to_string(r.resolution));
        users.push_back(*p->user);
        profiles.push_back(p->profile.value_or(""));
        rooms.push_back(p->room.value_or(""));
        devices.push_back(p->device.value_or(""));
        from.push_back(r.from.time_since_epoch().count());
        to.push_back(r.to.time_since_epoch().count());
        tiers.insert(r.resolution);
    }
    if (idx.empty()) return out;
    std::string branches;
    for (const auto tier : tiers) {
        const std::string unit = to_string(tier);
        if (!branches.empty()) branches += " UNION ALL ";
        // LATERAL … OFFSET 0: one primary-key probe per device and range (a plain join
        // hashes the whole tier: seconds with years of data of thousands of plugs).
        branches += "SELECT k.unit, k.f, k.t, k.id, e.bucket_start, e.bucket_end, e.energy_wh "
                    "FROM k CROSS JOIN LATERAL (SELECT e.bucket_start, e.bucket_end, e.energy_wh "
                    "FROM energy_" + unit + " e WHERE e.device_id = k.id AND e.bucket_start >= "
                    "k.f AND e.bucket_start < k.t OFFSET 0) e WHERE k.unit = '" + unit + "'";
    }
    std::string sql = TOTALS_SQL;
    sql.replace(sql.find("%ROWS%"), 6, branches);
    bool broken = false;
    auto status = pg::guarded("energy/totals", broken, [&]() -> Status {
        pqxx::read_transaction tx(impl_->connection());
        ++impl_->statements;
        const auto rows = tx.exec_params(sql, int_array(idx), text_array(units), text_array(users),
                                         text_array(profiles), text_array(rooms),
                                         text_array(devices), int_array(from), int_array(to));
        for (const auto& row : rows) {
            const auto i = row[0].as<std::size_t>();
            if (i >= out.size()) continue;
            if (!row[2].as<bool>()) {
                out[i] = make_error(ErrorCode::NotFound,
                                    "scope '" + requests[i].scope + "' not found", "energy/query");
                continue;
            }
            // Added up as the caller of query_energy does: in bucket order, from the first one.
            if (const auto wh = opt<double>(row[1]))
                out[i] = std::optional<double>((*out[i]).value_or(0.0) + *wh);
        }
        return {};
    });
    if (broken) impl_->conn.reset();
    if (!status) return status.error();
    return out;
}

std::uint64_t PgEnergyHistory::statements() const noexcept { return impl_->statements; }

}  // namespace intelergy::store
