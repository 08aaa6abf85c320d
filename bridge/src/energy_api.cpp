#include "energy_api.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "intelergy/core/names.hpp"
#include "intelergy/core/time_format.hpp"
#include "intelergy/store/timezone.hpp"

namespace intelergy::bridge {

namespace chr = std::chrono;

// ---- TZif ---------------------------------------------------------------------------------

namespace {

// One zone: UTC offsets in force from each transition on (TZif v2+ 64-bit data).
struct Zone {
    std::vector<std::int64_t> at;      // transition instants, UTC seconds, ascending
    std::vector<std::int32_t> offset;  // offset in force from at[i]
    std::int32_t initial{0};           // before the first transition

    [[nodiscard]] std::int32_t offset_at(std::int64_t utc) const {
        const auto it = std::upper_bound(at.begin(), at.end(), utc);
        if (it == at.begin()) return initial;
        return offset[static_cast<std::size_t>(it - at.begin() - 1)];
    }
};

std::int64_t be(const unsigned char* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
}

Result<Zone> parse_tzif(const std::string& bytes, const std::string& name) {
    const auto bad = [&] {
        return make_error(ErrorCode::Invalid, "time zone file of '" + name + "' is not valid TZif");
    };
    const auto* d = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    struct Counts {
        std::int64_t isut, isstd, leap, time, type, chars;
    };
    auto counts = [&](std::size_t pos) -> std::optional<Counts> {
        if (pos + 44 > n || bytes.compare(pos, 4, "TZif") != 0) return std::nullopt;
        const auto* c = d + pos + 20;
        return Counts{be(c, 4), be(c + 4, 4), be(c + 8, 4), be(c + 12, 4), be(c + 16, 4),
                      be(c + 20, 4)};
    };
    auto c1 = counts(0);
    if (!c1) return bad();
    int tsize = 4;
    std::size_t pos = 44;
    Counts c = *c1;
    if (bytes[4] >= '2') {  // skip the v1 block, use the 64-bit one
        pos += static_cast<std::size_t>(c.time * 4 + c.time + c.type * 6 + c.chars +
                                        c.leap * 8 + c.isstd + c.isut);
        auto c2 = counts(pos);
        if (!c2) return bad();
        c = *c2;
        pos += 44;
        tsize = 8;
    }
    const auto need = static_cast<std::size_t>(c.time * tsize + c.time + c.type * 6);
    if (c.type < 1 || pos + need > n) return bad();
    Zone z;
    std::vector<std::int32_t> type_off(static_cast<std::size_t>(c.type));
    std::vector<bool> type_dst(static_cast<std::size_t>(c.type));
    const auto* types = d + pos + c.time * tsize + c.time;
    for (std::int64_t i = 0; i < c.type; ++i) {
        type_off[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(be(types + i * 6, 4));
        type_dst[static_cast<std::size_t>(i)] = types[i * 6 + 4] != 0;
    }
    for (std::int64_t i = 0; i < c.time; ++i) {
        const auto idx = d[pos + static_cast<std::size_t>(c.time * tsize + i)];
        if (idx >= c.type) return bad();
        z.at.push_back(be(d + pos + i * tsize, tsize));
        z.offset.push_back(type_off[idx]);
    }
    // RFC 8536: local time before the first transition uses the first non-DST type (or type 0).
    z.initial = type_off[0];
    for (std::size_t i = 0; i < type_off.size(); ++i)
        if (!type_dst[i]) {
            z.initial = type_off[i];
            break;
        }
    return z;
}

std::mutex zones_mutex;
std::map<std::string, std::shared_ptr<const Zone>, std::less<>> zones;
std::filesystem::path zoneinfo_dir = "/usr/share/zoneinfo";

Result<std::shared_ptr<const Zone>> load_zone(const std::string& name) {
    std::lock_guard lock(zones_mutex);
    if (auto it = zones.find(name); it != zones.end()) return it->second;
    if (auto st = store::validate_timezone(name, zoneinfo_dir); !st) return st.error();
    std::ifstream in(zoneinfo_dir / name, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto z = parse_tzif(bytes, name);
    if (!z) return z.error();
    auto p = std::make_shared<const Zone>(std::move(*z));
    zones.emplace(name, p);
    return p;
}

std::int64_t secs(SysTime t) { return chr::duration_cast<chr::seconds>(t.time_since_epoch()).count(); }
SysTime from_secs(std::int64_t s) { return SysTime(chr::seconds(s)); }

SysTime midnight(const Zone& z, chr::year_month_day ymd) {
    const std::int64_t local = chr::sys_days(ymd).time_since_epoch().count() * 86'400LL;
    const std::int32_t before = z.offset_at(local - 86'400), after = z.offset_at(local + 86'400);
    std::optional<std::int64_t> best;
    for (const auto o : {before, after}) {
        const std::int64_t t = local - o;
        if (z.offset_at(t) == o && (!best || t < *best)) best = t;
    }
    if (best) return from_secs(*best);
    // Midnight falls into a gap: the day starts at the transition.
    const auto it = std::upper_bound(z.at.begin(), z.at.end(), local - before);
    return from_secs(it == z.at.end() ? local - before : *it);
}

chr::year_month_day local_date(const Zone& z, SysTime at) {
    const std::int64_t local = secs(at) + z.offset_at(secs(at));
    const std::int64_t days = local >= 0 ? local / 86'400 : -((-local + 86'399) / 86'400);
    return chr::year_month_day(chr::sys_days(chr::days(days)));
}

}  // namespace

Result<std::string> format_local(const std::string& tz, SysTime t) {
    auto zr = load_zone(tz);
    if (!zr) return zr.error();
    const auto off = (*zr)->offset_at(secs(t));
    const std::int64_t local = secs(t) + off;
    const std::int64_t days = local >= 0 ? local / 86'400 : -((-local + 86'399) / 86'400);
    const chr::year_month_day ymd{chr::sys_days(chr::days(days))};
    const auto sod = local - days * 86'400;
    const auto aoff = off < 0 ? -off : off;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d%c%02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60), off < 0 ? '-' : '+',
                  aoff / 3600, aoff / 60 % 60);
    return std::string(buf);
}

void set_zoneinfo_dir(std::filesystem::path dir) {
    std::lock_guard lock(zones_mutex);
    zoneinfo_dir = std::move(dir);
    zones.clear();
}

Result<SysTime> local_midnight(const std::string& tz, chr::year_month_day ymd) {
    auto z = load_zone(tz);
    if (!z) return z.error();
    if (!ymd.ok()) return make_error(ErrorCode::Invalid, "not a calendar date");
    return midnight(**z, ymd);
}

Result<LocalPeriod> local_period(const std::string& tz, store::Resolution period, SysTime at,
                                 int offset) {
    auto zr = load_zone(tz);
    if (!zr) return zr.error();
    const Zone& z = **zr;
    const auto date = local_date(z, at);
    chr::year_month_day first{}, next{};
    switch (period) {
        case store::Resolution::Day: {
            const auto d = chr::sys_days(date) + chr::days(offset);
            first = chr::year_month_day(d);
            next = chr::year_month_day(d + chr::days(1));
            break;
        }
        case store::Resolution::Week: {
            const auto sd = chr::sys_days(date);
            const auto monday = sd - (chr::weekday(sd) - chr::Monday) + chr::weeks(offset);
            first = chr::year_month_day(monday);
            next = chr::year_month_day(monday + chr::weeks(1));
            break;
        }
        case store::Resolution::Month: {
            const auto m = chr::year_month(date.year(), date.month()) + chr::months(offset);
            first = m / chr::day(1);
            next = (m + chr::months(1)) / chr::day(1);
            break;
        }
        default:
            return make_error(ErrorCode::Invalid, "period must be day, week or month");
    }
    return LocalPeriod{midnight(z, first), midnight(z, next)};
}

// ---- energy/query -----------------------------------------------------------------------------

namespace {


struct Scope {
    std::string query;  // what EnergyHistory gets: device id or hierarchy path
    std::string kind;   // device | room | profile | user
    std::optional<std::string> id;
    std::string path;
    std::set<std::string> timezones;
};

std::vector<std::string> split_names(const std::string& text, const std::string& field) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto slash = text.find('/', start);
        parts.push_back(text.substr(start, slash == std::string::npos ? slash : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    if (parts.size() > 4)
        throw RequestError("field '" + field + "' has more than 4 parts (user/profile/room/device)");
    for (const auto& p : parts)
        if (auto st = validate_name(p, "field '" + field + "'"); !st) throw RequestError(st.error());
    return parts;
}

Scope resolve_scope(store::Store& store, const std::string& text, const std::string& field,
                    bool device_only) {
    const auto parts = split_names(text, field);
    if (device_only && parts.size() != 1 && parts.size() != 4)
        throw RequestError("field 'device' must be a device id or user/profile/room/device");
    const auto unknown = [&] {
        return RequestError("unknown scope '" + text + "'", ErrorCode::NotFound);
    };
    Scope s;
    s.query = text;
    s.path = text;
    const auto devices = unwrap(store.list_devices());
    if (parts.size() == 1 || parts.size() == 4) {
        for (const auto& d : devices) {
            if ((parts.size() == 1 && d.id == text) || (parts.size() == 4 && d.path() == text)) {
                s.kind = "device";
                s.id = d.id;
                s.query = d.id;
                s.path = d.path();
                s.timezones.insert(d.timezone);
                return s;
            }
        }
        if (parts.size() == 1 && (device_only || text.rfind("shelly-", 0) == 0)) {
            // Maybe a soft-removed device: its history stays; EnergyHistory knows it.
            s.kind = "device";
            s.id = text;
            return s;
        }
    }
    auto profiles = store.list_profiles(parts[0]);
    if (!profiles) {
        if (profiles.error().code == ErrorCode::NotFound) throw unknown();
        throw RequestError(profiles.error());
    }
    if (parts.size() == 1) {
        s.kind = "user";
        for (const auto& p : *profiles) s.timezones.insert(p.timezone);
        return s;
    }
    const auto prof = std::find_if(profiles->begin(), profiles->end(),
                                   [&](const store::ProfileRow& p) { return p.name == parts[1]; });
    if (prof == profiles->end()) throw unknown();
    s.timezones.insert(prof->timezone);
    s.kind = "profile";
    if (parts.size() == 2) return s;
    const auto rooms = unwrap(store.list_rooms(parts[0], parts[1]));
    if (std::none_of(rooms.begin(), rooms.end(),
                     [&](const store::RoomRow& r) { return r.name == parts[2]; }))
        throw unknown();
    s.kind = parts.size() == 3 ? "room" : "device";  // a soft-removed device keeps its path
    return s;
}

std::optional<chr::year_month_day> date_only(const std::string& text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    const chr::year_month_day ymd{chr::year(std::stoi(text.substr(0, 4))),
                                  chr::month(static_cast<unsigned>(std::stoi(text.substr(5, 2)))),
                                  chr::day(static_cast<unsigned>(std::stoi(text.substr(8, 2))))};
    if (!ymd.ok()) return std::nullopt;
    return ymd;
}

const std::string& single_zone(const Scope& s, const std::string& why) {
    if (s.timezones.size() != 1)
        throw RequestError(s.timezones.empty()
                               ? "the time zone of '" + s.path + "' is unknown; " + why
                               : "'" + s.path + "' spans several time zones; " + why);
    return *s.timezones.begin();
}

SysTime time_field(Request& req, const std::string& key, const Scope& scope) {
    const auto text = req.string(key);
    if (const auto ymd = date_only(text)) {
        const auto& tz = single_zone(scope, "give '" + key + "' as an instant with a UTC offset");
        return unwrap(local_midnight(tz, *ymd));
    }
    const auto t = parse_iso8601(text);
    if (!t)
        throw RequestError("field '" + key + "' must be an ISO-8601 time (e.g. "
                           "2026-11-27T00:00:00Z) or a local date (2026-11-27), got '" + text + "'");
    return *t;
}

Json opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

std::string span_text(chr::seconds s) {
    const auto days = s.count() / 86'400;
    if (days >= 730) return std::to_string(days / 365) + " years";
    return std::to_string(days) + " days";
}

}  // namespace

std::chrono::seconds max_query_span(store::Resolution r) {
    switch (r) {
        case store::Resolution::Minute: return chr::days(31);
        case store::Resolution::Hour: return chr::days(732);
        case store::Resolution::Day:
        case store::Resolution::Week: return chr::days(7305);
        case store::Resolution::Month: return chr::days(36'525);
    }
    return chr::days(31);
}


void register_energy_handlers(HandlerTable& handlers, store::Store& store, EnergyApiContext& ctx) {
    // One EnergyHistory per Api (i.e. per API worker thread), opened on first use.
    auto history = std::make_shared<std::unique_ptr<store::EnergyHistory>>();
    handlers["energy/query"] = [&store, &ctx, history](Request& req) {
        const bool by_device = req.has("device"), by_path = req.has("path");
        if (by_device == by_path)
            throw RequestError("give exactly one of 'device' (id or user/profile/room/device) "
                               "and 'path' (user[/profile[/room[/device]]])");
        const std::string field = by_device ? "device" : "path";
        const auto scope_text = req.string(field);
        const auto res_text = req.string("resolution");
        const auto resolution = store::parse_resolution(res_text);
        if (!resolution)
            throw RequestError("field 'resolution' must be minute, hour, day, week or month, got '" +
                               res_text + "'");
        const auto scope = resolve_scope(store, scope_text, field, by_device);

        SysTime from{}, to{};
        if (req.has("period")) {
            if (req.has("from") || req.has("to"))
                throw RequestError("give either 'period' or 'from' and 'to', not both");
            const auto p_text = req.string("period");
            const auto p = store::parse_resolution(p_text);
            if (!p || *p == store::Resolution::Minute || *p == store::Resolution::Hour)
                throw RequestError("field 'period' must be day, week or month, got '" + p_text + "'");
            const auto offset = static_cast<int>(req.opt_integer("offset", -1200, 1200).value_or(0));
            const auto& tz = single_zone(scope, "give 'from' and 'to' instead of 'period'");
            const auto lp = unwrap(local_period(tz, *p, ctx.clock.now(), offset));
            from = lp.from, to = lp.to;
        } else {
            from = time_field(req, "from", scope);
            to = time_field(req, "to", scope);
        }
        req.finish();
        if (from >= to) throw RequestError("'from' must be before 'to'");
        const auto limit = max_query_span(*resolution);
        if (to - from > limit)
            throw RequestError("range too long for resolution '" + res_text + "': at most " +
                               span_text(limit) + " (use a coarser resolution)");

        if (!*history) *history = ctx.open_history();
        auto buckets = (*history)->query_energy(scope.query, *resolution, from, to);
        if (!buckets) {
            if (buckets.error().code == ErrorCode::NotFound)
                throw RequestError("unknown scope '" + scope_text + "'", ErrorCode::NotFound);
            throw RequestError(buckets.error());
        }

        Json list = Json::array();
        std::optional<double> total;
        double covered_len = 0;  // Σ coverage × bucket length (s)
        SysTime span_end = to;
        for (const auto& b : *buckets) {
            const double len = chr::duration<double>(b.end - b.start).count();
            covered_len += b.coverage * len;
            span_end = std::max(span_end, b.end);
            if (b.energy_wh) total = total.value_or(0.0) + *b.energy_wh;
            list.push_back({{"start", format_iso8601(b.start)},
                            {"end", format_iso8601(b.end)},
                            {"label", b.label},
                            {"energy_wh", opt(b.energy_wh)},
                            {"mean_power_w", opt(b.mean_power_w)},
                            {"max_power_w", opt(b.max_power_w)},
                            {"coverage", b.coverage},
                            {"samples", b.samples}});
        }
        const double span = chr::duration<double>(span_end - from).count();
        Json out{{"scope", scope.path},
                 {"kind", scope.kind},
                 {"resolution", res_text},
                 {"timezone", scope.timezones.empty() ? Json(nullptr) : Json(*scope.timezones.begin())},
                 {"from", format_iso8601(from)},
                 {"to", format_iso8601(to)},
                 {"buckets", list},
                 {"total_wh", opt(total)},
                 {"coverage", span > 0 ? std::min(1.0, covered_len / span) : 0.0}};
        if (scope.id) out["id"] = *scope.id;
        if (scope.timezones.size() == 1) {  // local names of the range, e.g. 2026-03-01T00:00+01:00
            out["from_local"] = unwrap(format_local(*scope.timezones.begin(), from));
            out["to_local"] = unwrap(format_local(*scope.timezones.begin(), to));
        }
        if (scope.timezones.size() > 1) out["timezones"] = scope.timezones;
        return out;
    };
}

// ---- EnergyTotalsPublisher --------------------------------------------------------------------

struct EnergyTotalsPublisher::Impl {
    MqttClient& mqtt;
    std::string base;
    const Clock& clock;
    std::function<std::unique_ptr<store::Store>()> open_store;
    EnergyHistoryFactory open_history;
    EnergyTotalsOptions opt;
    std::shared_ptr<spdlog::logger> log;

    std::mutex m;
    std::condition_variable cv;
    bool stopping{false};
    // Set by stop(): a round in progress gives up before and after its query (one
    // period_totals call for all devices and rooms), publishing nothing of it.
    std::atomic<bool> abandon{false};
    static constexpr std::size_t PUBLISH_SLICE = 100;
    static constexpr std::chrono::milliseconds PUBLISH_PAUSE{10};
    std::thread thread;
    std::mutex published_m;
    std::map<std::string, std::string> published;  // topic → payload (under published_m)
    std::unique_ptr<store::Store> store;
    std::unique_ptr<store::EnergyHistory> history;
    std::optional<SteadyTime> last_error_log;

    Impl(MqttClient& mq, std::string b, const Clock& c,
         std::function<std::unique_ptr<store::Store>()> s, EnergyHistoryFactory h,
         EnergyTotalsOptions o)
        : mqtt(mq), base(std::move(b)), clock(c), open_store(std::move(s)),
          open_history(std::move(h)), opt(o) {
        log = spdlog::get("bridge");
        if (!log) log = spdlog::default_logger();
    }

    // One round: the today and this-week totals of every device and room, asked of the
    // history in one period_totals call (one SQL statement with PgEnergyHistory, whatever the
    // number of devices). Before, a round was two query_energy calls per device and room:
    // 10,000 a minute with 5,000 plugs, ~9 % of the bridge's CPU in a profile (issue 8).
    Result<std::size_t> refresh() {
        if (!store) store = open_store();
        if (!history) history = open_history();
        auto devices = store->list_devices();
        if (!devices) return devices.error();
        const auto now = clock.now();
        std::map<std::string, std::string> rooms;  // room path → time zone (of its last device)
        std::optional<Error> first_error;
        std::vector<store::TotalRequest> requests;
        std::vector<std::string> request_topics;  // topic of requests[i]
        std::vector<std::string> request_since, request_until;
        // Local periods per time zone and period: the same for every device of a zone.
        std::map<std::pair<std::string, store::Resolution>, Result<LocalPeriod>> periods;
        const auto add = [&](const std::string& scope, const std::string& tz,
                             const std::string& prefix) {
            for (const auto& [period, suffix] :
                 {std::pair{store::Resolution::Day, "/energy_today"},
                  std::pair{store::Resolution::Week, "/energy_week"}}) {
                auto it = periods.find({tz, period});
                if (it == periods.end())
                    it = periods.emplace(std::pair{tz, period}, local_period(tz, period, now))
                             .first;
                const auto& lp = it->second;
                if (!lp) {
                    if (!first_error) first_error = lp.error();
                    continue;
                }
                requests.push_back({scope, period, lp->from, lp->to});
                request_topics.push_back(prefix + suffix);
                request_since.push_back(format_iso8601(lp->from));
                request_until.push_back(format_iso8601(lp->to));
            }
        };
        for (const auto& d : *devices) {
            add(d.id, d.timezone, base + "/devices/" + d.id);
            rooms[d.user + "/" + d.profile + "/" + d.room] = d.timezone;
        }
        for (const auto& [room, tz] : rooms) add(room, tz, base + "/homes/" + room);
        if (abandon.load()) return std::size_t{0};  // stopping: publish nothing half-computed
        Result<std::vector<store::PeriodTotal>> totals{std::vector<store::PeriodTotal>{}};
        if (!requests.empty()) totals = history->period_totals(requests);
        if (abandon.load()) return std::size_t{0};
        if (!totals) return totals.error();  // the store objects reopen their connections
        if (totals->size() != requests.size())
            return make_error(ErrorCode::Internal, "energy totals: wrong number of answers");
        std::map<std::string, std::string> topics;  // topic → payload
        for (std::size_t i = 0; i < requests.size(); ++i) {
            const auto& wh = (*totals)[i];
            if (!wh) {
                if (!first_error) first_error = wh.error();
                continue;
            }
            Json j{{"energy_wh", *wh ? Json(std::round(**wh * 1000.0) / 1000.0) : Json(nullptr)},
                   {"since", request_since[i]},
                   {"until", request_until[i]}};
            topics[request_topics[i]] = j.dump();
        }
        // Paced: PUBLISH_SLICE topics, then a short pause (ended early by stop()). A round for
        // 1,000 plugs is 2,000+ retained publishes; queued at once in Paho's send queue they
        // held every state publish behind them for about 120 ms (p99 at 1,000 msg/s in
        // bench/run when a round fell inside the measurement).
        // published_m is not held during the pause: reset_published() never waits on a round.
        std::size_t sent = 0;
        std::unique_lock lock(published_m);
        for (auto& [topic, payload] : topics) {
            auto& last = published[topic];
            if (last == payload) continue;
            mqtt.publish(topic, payload, 1, true);
            last = payload;
            if (++sent % PUBLISH_SLICE == 0) {
                lock.unlock();
                {
                    std::unique_lock pause(m);
                    cv.wait_for(pause, PUBLISH_PAUSE, [this] { return stopping; });
                }
                if (abandon.load()) break;
                lock.lock();
            }
        }
        if (first_error) {
            // The store objects reopen their connections themselves; keep what was published.
            return *first_error;
        }
        return sent;
    }

    void run() {
        std::unique_lock lock(m);
        while (!stopping) {
            lock.unlock();
            auto r = refresh();
            if (!r) {
                const auto steady = clock.steady();
                if (!last_error_log || steady - *last_error_log > chr::minutes(10)) {
                    log->warn("energy totals not refreshed error={}", r.error().describe());
                    last_error_log = steady;
                }
            }
            lock.lock();
            cv.wait_for(lock, opt.interval, [this] { return stopping; });
        }
    }
};

EnergyTotalsPublisher::EnergyTotalsPublisher(MqttClient& mqtt, std::string base_topic,
                                             const Clock& clock,
                                             std::function<std::unique_ptr<store::Store>()> open_store,
                                             EnergyHistoryFactory open_history,
                                             EnergyTotalsOptions options)
    : impl_(std::make_unique<Impl>(mqtt, std::move(base_topic), clock, std::move(open_store),
                                   std::move(open_history), options)) {}

EnergyTotalsPublisher::~EnergyTotalsPublisher() { stop(); }

void EnergyTotalsPublisher::start() {
    if (impl_->thread.joinable()) return;
    {
        std::lock_guard lock(impl_->m);
        impl_->stopping = false;
    }
    impl_->abandon = false;
    impl_->thread = std::thread([this] { impl_->run(); });
}

void EnergyTotalsPublisher::stop() {
    {
        std::lock_guard lock(impl_->m);
        impl_->stopping = true;
    }
    impl_->abandon = true;
    impl_->cv.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->abandon = false;  // refresh() on the caller's thread still works after stop()
}

Result<std::size_t> EnergyTotalsPublisher::refresh() {
    if (impl_->thread.joinable())
        return make_error(ErrorCode::Invalid, "refresh() while the publisher thread runs");
    return impl_->refresh();
}

void EnergyTotalsPublisher::reset_published() {
    std::lock_guard lock(impl_->published_m);
    impl_->published.clear();
}

}  // namespace intelergy::bridge
