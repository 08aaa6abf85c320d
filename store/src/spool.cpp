// The on-disk outage spool (see spool.hpp for the file format and the guarantees).
#include "intelergy/store/spool.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

namespace intelergy::store {

namespace {

namespace fs = std::filesystem;

std::shared_ptr<spdlog::logger> store_log() {
    auto log = spdlog::get("store");
    return log ? log : spdlog::default_logger();
}

constexpr std::array<std::uint8_t, 8> SEGMENT_MAGIC{'I', 'N', 'T', 'L', 'S', 'P', 'L', '1'};
constexpr std::uint32_t SEGMENT_VERSION = 1;
constexpr std::uint64_t SEGMENT_HEADER = 16;   // magic, version, crc32c of the 12 bytes before
constexpr std::uint32_t RECORD_MAGIC = 0x52'4C'50'53;  // "SPLR" on disk
constexpr std::uint64_t RECORD_HEADER = 16;
constexpr std::uint64_t MAX_PAYLOAD = 64ULL * 1024 * 1024;
constexpr std::uint8_t PAYLOAD_VERSION = 1;

const std::array<std::uint32_t, 256>& crc_table() {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1U) ? (c >> 1) ^ 0x82F6'3B78U : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    return table;
}

// ---- little-endian encoding ----------------------------------------------------------------

void put_u8(std::vector<std::uint8_t>& out, std::uint8_t v) { out.push_back(v); }

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_i64(std::vector<std::uint8_t>& out, std::int64_t v) {
    put_u64(out, static_cast<std::uint64_t>(v));
}

void put_f64(std::vector<std::uint8_t>& out, double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    put_u64(out, bits);
}

void put_str(std::vector<std::uint8_t>& out, const std::string& s) {
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(s.size(), 0xFFFF));
    put_u16(out, n);
    out.insert(out.end(), s.begin(), s.begin() + n);
}

std::uint32_t get_u32_at(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

void put_u32_at(std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> d) : d_(d) {}
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] bool at_end() const { return pos_ == d_.size(); }

    std::uint64_t uint(int bytes) {
        if (!ok_ || d_.size() - pos_ < static_cast<std::size_t>(bytes)) {
            ok_ = false;
            return 0;
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < static_cast<std::size_t>(bytes); ++i)
            v |= static_cast<std::uint64_t>(d_[pos_ + i]) << (8 * i);
        pos_ += static_cast<std::size_t>(bytes);
        return v;
    }
    std::uint8_t u8() { return static_cast<std::uint8_t>(uint(1)); }
    std::int64_t i64() { return static_cast<std::int64_t>(uint(8)); }
    std::int32_t i32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(uint(4))); }
    double f64() {
        const std::uint64_t bits = uint(8);
        double v = 0;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    std::string str() {
        const auto n = static_cast<std::size_t>(uint(2));
        if (!ok_ || d_.size() - pos_ < n) {
            ok_ = false;
            return {};
        }
        std::string s(reinterpret_cast<const char*>(d_.data() + pos_), n);
        pos_ += n;
        return s;
    }

private:
    std::span<const std::uint8_t> d_;
    std::size_t pos_{0};
    bool ok_{true};
};

// Reading flags.
enum : std::uint8_t {
    R_POWER = 1, R_VOLTAGE = 2, R_CURRENT = 4, R_TEMP = 8, R_RELAY = 16, R_RELAY_ON = 32,
    R_RAW = 64, R_ENERGY = 128
};
enum : std::uint8_t { R2_WATT_MINUTE = 1, R2_DEVICE_TIME = 2 };
enum : std::uint8_t { B_LAST_RAW = 1, B_LAST_TS = 2 };

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Error io_error(const std::string& what, const fs::path& path, int err) {
    return make_error(ErrorCode::Internal, what + " " + path.string() + ": " + errno_text(err),
                      "spool");
}

// Writes all of `data` at `offset` (EINTR and short writes handled; bounded by the data size).
bool pwrite_all(int fd, const std::uint8_t* data, std::size_t n, std::uint64_t offset) {
    while (n > 0) {
        const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (w == 0) {
            errno = EIO;
            return false;
        }
        data += w;
        n -= static_cast<std::size_t>(w);
        offset += static_cast<std::uint64_t>(w);
    }
    return true;
}

// Reads exactly n bytes at offset; false on error or end of file.
bool pread_all(int fd, std::uint8_t* data, std::size_t n, std::uint64_t offset) {
    while (n > 0) {
        const ssize_t r = ::pread(fd, data, n, static_cast<off_t>(offset));
        if (r < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (r == 0) return false;
        data += r;
        n -= static_cast<std::size_t>(r);
        offset += static_cast<std::uint64_t>(r);
    }
    return true;
}

bool parse_segment_name(const fs::path& p, std::uint64_t& number) {
    const auto name = p.filename().string();
    if (name.size() != 24 || name.substr(20) != ".seg") return false;
    number = 0;
    for (std::size_t i = 0; i < 20; ++i) {
        if (name[i] < '0' || name[i] > '9') return false;
        number = number * 10 + static_cast<std::uint64_t>(name[i] - '0');
    }
    return true;
}

std::array<std::uint8_t, SEGMENT_HEADER> segment_header() {
    std::array<std::uint8_t, SEGMENT_HEADER> h{};
    std::copy(SEGMENT_MAGIC.begin(), SEGMENT_MAGIC.end(), h.begin());
    put_u32_at(h.data() + 8, SEGMENT_VERSION);
    put_u32_at(h.data() + 12, crc32c(std::span<const std::uint8_t>(h.data(), 12)));
    return h;
}

bool valid_record_header(const std::uint8_t* h) {
    return get_u32_at(h) == RECORD_MAGIC &&
           get_u32_at(h + 12) == crc32c(std::span<const std::uint8_t>(h, 12)) &&
           get_u32_at(h + 4) <= MAX_PAYLOAD;
}

}  // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
    const auto& t = crc_table();
    crc = ~crc;
    for (const auto b : data) crc = t[(crc ^ b) & 0xFFU] ^ (crc >> 8);
    return ~crc;
}

std::vector<std::uint8_t> encode_batch(const WriteBatch& batch) {
    std::vector<std::uint8_t> out;
    out.reserve(16 + batch.readings.size() * 96 + batch.books.size() * 72);
    put_u8(out, PAYLOAD_VERSION);
    put_u32(out, static_cast<std::uint32_t>(batch.readings.size()));
    for (const auto& r : batch.readings) {
        put_str(out, r.device_id);
        put_u8(out, r.channel);
        put_i64(out, r.ts.time_since_epoch().count());
        std::uint8_t f = 0;
        if (r.power_w) f |= R_POWER;
        if (r.voltage_v) f |= R_VOLTAGE;
        if (r.current_a) f |= R_CURRENT;
        if (r.temperature_c) f |= R_TEMP;
        if (r.relay) f |= R_RELAY;
        if (r.relay.value_or(false)) f |= R_RELAY_ON;
        if (r.counter_raw) f |= R_RAW;
        if (r.energy_wh) f |= R_ENERGY;
        std::uint8_t f2 = 0;
        if (r.counter_unit == CounterUnit::WattMinute) f2 |= R2_WATT_MINUTE;
        if (r.device_time) f2 |= R2_DEVICE_TIME;
        put_u8(out, f);
        put_u8(out, f2);
        for (const auto* v : {&r.power_w, &r.voltage_v, &r.current_a, &r.temperature_c,
                              &r.counter_raw, &r.energy_wh})
            if (*v) put_f64(out, **v);
        if (r.device_time) put_i64(out, r.device_time->time_since_epoch().count());
    }
    put_u32(out, static_cast<std::uint32_t>(batch.books.size()));
    for (const auto& b : batch.books) {
        put_str(out, b.device_id);
        put_u32(out, static_cast<std::uint32_t>(b.channel));
        std::uint8_t f = 0;
        if (b.last_raw_wh) f |= B_LAST_RAW;
        if (b.last_ts) f |= B_LAST_TS;
        put_u8(out, f);
        if (b.last_raw_wh) put_f64(out, *b.last_raw_wh);
        put_f64(out, b.offset_wh);
        put_f64(out, b.lifetime_wh);
        if (b.last_ts) put_i64(out, b.last_ts->time_since_epoch().count());
        put_u32(out, static_cast<std::uint32_t>(b.pending_rejects));
    }
    return out;
}

Result<WriteBatch> decode_batch(std::span<const std::uint8_t> payload) {
    Reader in(payload);
    const auto version = in.u8();
    if (!in.ok() || version != PAYLOAD_VERSION)
        return make_error(ErrorCode::Parse, "unknown spool record version " + std::to_string(version),
                          "spool");
    WriteBatch batch;
    const auto n = in.uint(4);
    // Every reading takes at least 13 bytes: a count beyond that is damage, not a reason to
    // reserve gigabytes.
    if (!in.ok() || n > payload.size() / 13)
        return make_error(ErrorCode::Parse, "bad reading count in spool record", "spool");
    batch.readings.reserve(n);
    for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
        Reading r;
        r.device_id = in.str();
        r.channel = in.u8();
        r.ts = SysTime{std::chrono::milliseconds(in.i64())};
        const auto f = in.u8();
        const auto f2 = in.u8();
        if (f & R_POWER) r.power_w = in.f64();
        if (f & R_VOLTAGE) r.voltage_v = in.f64();
        if (f & R_CURRENT) r.current_a = in.f64();
        if (f & R_TEMP) r.temperature_c = in.f64();
        if (f & R_RELAY) r.relay = (f & R_RELAY_ON) != 0;
        if (f & R_RAW) r.counter_raw = in.f64();
        if (f & R_ENERGY) r.energy_wh = in.f64();
        r.counter_unit = (f2 & R2_WATT_MINUTE) ? CounterUnit::WattMinute : CounterUnit::WattHour;
        if (f2 & R2_DEVICE_TIME) r.device_time = SysTime{std::chrono::milliseconds(in.i64())};
        batch.readings.push_back(std::move(r));
    }
    const auto nb = in.uint(4);
    if (!in.ok() || nb > payload.size() / 23)
        return make_error(ErrorCode::Parse, "bad book count in spool record", "spool");
    batch.books.reserve(nb);
    for (std::uint64_t i = 0; i < nb && in.ok(); ++i) {
        EnergyBookRow b;
        b.device_id = in.str();
        b.channel = in.i32();
        const auto f = in.u8();
        if (f & B_LAST_RAW) b.last_raw_wh = in.f64();
        b.offset_wh = in.f64();
        b.lifetime_wh = in.f64();
        if (f & B_LAST_TS) b.last_ts = SysTime{std::chrono::milliseconds(in.i64())};
        b.pending_rejects = in.i32();
        batch.books.push_back(std::move(b));
    }
    if (!in.ok() || !in.at_end())
        return make_error(ErrorCode::Parse, "truncated or oversized spool record", "spool");
    return batch;
}

// ---- Spool ---------------------------------------------------------------------------------

struct Spool::Parsed {
    bool found{false};          // a valid record at `offset`; otherwise the segment ends
    std::uint64_t offset{0};
    std::uint64_t end{0};
    std::uint64_t skipped{0};   // damaged records passed over
    WriteBatch batch;
};

Spool::Spool(fs::path dir, SpoolOptions options, int lock_fd)
    : dir_(std::move(dir)), opt_(options), lock_fd_(lock_fd) {
    if (opt_.segment_bytes == 0)
        opt_.segment_bytes =
            std::clamp<std::uint64_t>(opt_.max_bytes / 16, 64 * 1024, 16 * 1024 * 1024);
}

Spool::~Spool() {
    if (write_fd_ >= 0) ::close(write_fd_);
    if (read_fd_ >= 0) ::close(read_fd_);
    if (segments_.empty()) {
        // Nothing to replay: leave no directory behind (one per database name accumulates
        // otherwise). Unlinked while still locked; rmdir fails harmlessly if anything else is
        // in the directory, or if another process has just created a LOCK of its own.
        ::unlink((dir_ / "LOCK").c_str());
        if (lock_fd_ >= 0) ::close(lock_fd_);
        lock_fd_ = -1;
        ::rmdir(dir_.c_str());
    }
    if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<Spool>> Spool::open(const fs::path& dir, SpoolOptions options) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        return make_error(ErrorCode::Config,
                          "cannot create spool directory " + dir.string() + ": " + ec.message(),
                          "spool");
    if (!fs::is_directory(dir, ec))
        return make_error(ErrorCode::Config, "spool path " + dir.string() + " is not a directory",
                          "spool");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return make_error(ErrorCode::Config,
                          "spool directory " + dir.string() + " is not writable: " +
                              errno_text(errno),
                          "spool");
    const auto lock_path = dir / "LOCK";
    const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd < 0) return io_error("cannot open", lock_path, errno);
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(lock_fd);
        if (err == EWOULDBLOCK)
            return make_error(ErrorCode::Config,
                              "spool directory " + dir.string() +
                                  " is in use by another process (LOCK is held)",
                              "spool");
        return io_error("cannot lock", lock_path, err);
    }
    std::unique_ptr<Spool> spool(new Spool(dir, options, lock_fd));
    if (auto st = spool->scan_existing(); !st) return st.error();
    return spool;
}

Status Spool::scan_existing() {
    auto log = store_log();
    std::vector<std::pair<std::uint64_t, fs::path>> found;
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        std::uint64_t number = 0;
        if (parse_segment_name(it->path(), number)) found.emplace_back(number, it->path());
    }
    if (ec) return io_error("cannot list", dir_, ec.value());
    std::sort(found.begin(), found.end());
    bool removed = false;
    for (const auto& [number, path] : found) {
        next_number_ = std::max(next_number_, number + 1);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return io_error("cannot open", path, errno);
        struct stat sb {};
        if (::fstat(fd, &sb) != 0) {
            const int err = errno;
            ::close(fd);
            return io_error("cannot stat", path, err);
        }
        const auto size = static_cast<std::uint64_t>(sb.st_size);
        std::array<std::uint8_t, SEGMENT_HEADER> h{};
        const auto want = segment_header();
        Segment seg{number, path, size, 0};
        if (size < SEGMENT_HEADER || !pread_all(fd, h.data(), h.size(), 0) || h != want) {
            // The header is synced before any record is written: a bad header means a crash
            // while the segment was being created (or damage); it holds nothing replayable.
            log->warn("spool segment has no valid header, removed file={} size={}", path.string(),
                      size);
        } else {
            std::uint64_t offset = SEGMENT_HEADER, skipped = 0;
            for (;;) {  // bounded: every step moves forward through a finite file
                auto p = read_next(fd, size, offset, true, path);
                if (!p) {
                    ::close(fd);
                    return p.error();
                }
                skipped += p->skipped;
                if (!p->found) break;
                ++seg.records;
                offset = p->end;
            }
            if (skipped > 0)
                log->warn("spool segment has damaged records that will be skipped file={} "
                          "damaged={} good={}",
                          path.string(), skipped, seg.records);
        }
        ::close(fd);
        if (seg.records == 0) {
            if (::unlink(path.c_str()) != 0) return io_error("cannot remove", path, errno);
            removed = true;
            continue;
        }
        stats_.bytes += size;
        stats_.records += seg.records;
        segments_.push_back(std::move(seg));
    }
    stats_.segments = segments_.size();
    if (removed)
        if (auto st = sync_dir(); !st) return st;
    if (!segments_.empty())
        log->info("spool holds records from a previous run dir={} records={} bytes={} segments={}",
                  dir_.string(), stats_.records, stats_.bytes, segments_.size());
    return {};
}

Result<Spool::Parsed> Spool::read_next(int fd, std::uint64_t size, std::uint64_t offset,
                                       bool quiet, const fs::path& path) {
    auto log = store_log();
    Parsed out;
    std::uint64_t pos = offset;
    std::array<std::uint8_t, RECORD_HEADER> h{};
    std::vector<std::uint8_t> payload;
    auto damaged = [&](const char* what) {
        ++out.skipped;
        if (!quiet)
            log->warn("spool record skipped: {} file={} offset={}", what, path.string(), pos);
    };
    while (pos + RECORD_HEADER <= size) {  // bounded: pos only grows
        if (!pread_all(fd, h.data(), h.size(), pos)) return io_error("cannot read", path, errno);
        if (valid_record_header(h.data())) {
            const std::uint64_t len = get_u32_at(h.data() + 4);
            if (pos + RECORD_HEADER + len > size) {
                damaged("torn record at the end of the segment (crash mid-write)");
                return out;
            }
            payload.resize(len);
            if (len > 0 && !pread_all(fd, payload.data(), len, pos + RECORD_HEADER))
                return io_error("cannot read", path, errno);
            const std::uint64_t next = pos + RECORD_HEADER + len;
            if (crc32c(payload) != get_u32_at(h.data() + 8)) {
                damaged("payload checksum mismatch");
                pos = next;
                continue;
            }
            auto batch = decode_batch(payload);
            if (!batch) {
                damaged("undecodable payload");
                pos = next;
                continue;
            }
            out.found = true;
            out.offset = pos;
            out.end = next;
            out.batch = std::move(*batch);
            return out;
        }
        // A damaged header: its length cannot be trusted. Resynchronise on the next position
        // that holds a valid record header.
        damaged("header checksum mismatch, resynchronising");
        const std::uint64_t from = pos + 1;
        std::vector<std::uint8_t> rest(size - from);
        if (!rest.empty() && !pread_all(fd, rest.data(), rest.size(), from))
            return io_error("cannot read", path, errno);
        std::uint64_t next = size;
        for (std::size_t i = 0; i + RECORD_HEADER <= rest.size(); ++i) {
            if (rest[i] == (RECORD_MAGIC & 0xFFU) && valid_record_header(rest.data() + i)) {
                next = from + i;
                break;
            }
        }
        pos = next;
    }
    if (pos < size) damaged("torn record header at the end of the segment (crash mid-write)");
    return out;
}

Status Spool::sync_dir() {
    const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open", dir_, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return io_error("cannot fsync", dir_, err);
    ++stats_.dir_syncs;
    return {};
}

Status Spool::start_segment() {
    char name[32];
    std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(next_number_));
    const fs::path path = dir_ / name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return io_error("cannot create", path, errno);
    const auto h = segment_header();
    if (!pwrite_all(fd, h.data(), h.size(), 0) || ::fdatasync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return io_error("cannot write", path, err);
    }
    ++stats_.file_syncs;
    ++next_number_;
    segments_.push_back(Segment{next_number_ - 1, path, SEGMENT_HEADER, 0});
    write_fd_ = fd;
    stats_.bytes += SEGMENT_HEADER;
    stats_.segments = segments_.size();
    return sync_dir();  // the new name must survive a power cut before records rely on it
}

Status Spool::close_writer() {
    if (write_fd_ < 0) return {};
    const int rc = ::close(write_fd_);
    write_fd_ = -1;
    if (rc != 0) return io_error("cannot close", segments_.back().path, errno);
    return {};
}

Status Spool::drop_front_segment() {
    if (segments_.empty()) return {};
    if (write_fd_ >= 0 && segments_.size() == 1)
        if (auto st = close_writer(); !st) return st;
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
    read_offset_ = 0;
    cached_.reset();
    const Segment seg = segments_.front();
    segments_.pop_front();
    stats_.bytes -= std::min(stats_.bytes, seg.size);
    stats_.records -= std::min(stats_.records, seg.records);
    stats_.segments = segments_.size();
    if (::unlink(seg.path.c_str()) != 0 && errno != ENOENT)
        return io_error("cannot remove", seg.path, errno);
    return sync_dir();
}

Result<SpoolAppend> Spool::append(const WriteBatch& batch, std::uint64_t* id) {
    const auto payload = encode_batch(batch);
    const std::uint64_t rec = RECORD_HEADER + payload.size();
    if (payload.size() > MAX_PAYLOAD) return SpoolAppend::Full;
    const bool need_new =
        write_fd_ < 0 || (segments_.back().size > SEGMENT_HEADER &&
                          segments_.back().size + rec > opt_.segment_bytes);
    if (stats_.bytes + rec + (need_new ? SEGMENT_HEADER : 0) > opt_.max_bytes)
        return SpoolAppend::Full;
    if (need_new) {
        if (auto st = close_writer(); !st) return st.error();
        if (auto st = start_segment(); !st) return st.error();
    }
    auto& seg = segments_.back();
    std::vector<std::uint8_t> buf(RECORD_HEADER);
    put_u32_at(buf.data(), RECORD_MAGIC);
    put_u32_at(buf.data() + 4, static_cast<std::uint32_t>(payload.size()));
    put_u32_at(buf.data() + 8, crc32c(payload));
    put_u32_at(buf.data() + 12, crc32c(std::span<const std::uint8_t>(buf.data(), 12)));
    buf.insert(buf.end(), payload.begin(), payload.end());
    if (!pwrite_all(write_fd_, buf.data(), buf.size(), seg.size) || ::fdatasync(write_fd_) != 0) {
        const int err = errno;
        // Cut the partial record off (best effort) and never write after it again.
        (void)::ftruncate(write_fd_, static_cast<off_t>(seg.size));
        (void)close_writer();
        return io_error("cannot append to", seg.path, err);
    }
    ++stats_.file_syncs;
    if (id) *id = seg.number << 32 | seg.size;
    seg.size += rec;
    ++seg.records;
    stats_.bytes += rec;
    ++stats_.records;
    ++stats_.appended;
    return SpoolAppend::Stored;
}

Result<std::optional<SpoolRecord>> Spool::front() {
    if (cached_) return cached_;
    while (!segments_.empty()) {  // bounded: each pass reads a record or drops a segment
        auto& seg = segments_.front();
        if (read_fd_ < 0) {
            read_fd_ = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
            if (read_fd_ < 0) return io_error("cannot open", seg.path, errno);
            read_offset_ = SEGMENT_HEADER;
        }
        auto p = read_next(read_fd_, seg.size, read_offset_, false, seg.path);
        if (!p) return p.error();
        stats_.corrupt_skipped += p->skipped;
        if (p->found) {
            cached_ = SpoolRecord{seg.number << 32 | p->offset, std::move(p->batch)};
            cached_end_ = p->end;
            return cached_;
        }
        const bool active = write_fd_ >= 0 && segments_.size() == 1;
        if (active) {
            // Everything written so far is consumed; records may still come.
            read_offset_ = seg.size;
            stats_.records -= std::min(stats_.records, seg.records);
            seg.records = 0;
            return std::optional<SpoolRecord>{};
        }
        if (auto st = drop_front_segment(); !st) return st.error();
    }
    return std::optional<SpoolRecord>{};
}

Status Spool::pop() {
    if (!cached_ || segments_.empty())
        return make_error(ErrorCode::Internal, "spool pop() without a front record", "spool");
    cached_.reset();
    auto& seg = segments_.front();
    read_offset_ = cached_end_;
    if (seg.records > 0) --seg.records;
    if (stats_.records > 0) --stats_.records;
    if (seg.records == 0) return drop_front_segment();
    return {};
}

}  // namespace intelergy::store
