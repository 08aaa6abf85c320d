#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "intelergy/core/result.hpp"
#include "intelergy/store/batch_sink.hpp"

namespace intelergy::store {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI and ext4.
// crc32c("123456789") == 0xE3069283. `crc` continues a previous value (0 to start).
std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

// A WriteBatch as the spool's record payload (little-endian, versioned) and back.
std::vector<std::uint8_t> encode_batch(const WriteBatch& batch);
Result<WriteBatch> decode_batch(std::span<const std::uint8_t> payload);

struct SpoolOptions {
    std::uint64_t max_bytes{512ULL * 1024 * 1024};  // segment files together never exceed this
    // A segment is closed when the next record would take it past this; 0 = max_bytes / 16
    // clamped to 64 KiB .. 16 MiB. Space is reclaimed a whole segment at a time.
    std::uint64_t segment_bytes{0};
};

struct SpoolStats {
    std::uint64_t bytes{0};            // on disk: every segment file, consumed records included
    std::uint64_t records{0};          // records not yet popped
    std::uint64_t segments{0};
    std::uint64_t appended{0};         // records appended by this process
    std::uint64_t corrupt_skipped{0};  // records skipped for a bad checksum, length or payload
    std::uint64_t file_syncs{0};       // fdatasync of a segment (one per append, one per new segment)
    std::uint64_t dir_syncs{0};        // fsync of the directory (new or deleted segment)
};

// One replayed record: `id` grows with file order (segment number << 32 | offset in the
// segment), so a record appended later always has a greater id.
struct SpoolRecord {
    std::uint64_t id{0};
    WriteBatch batch;
};

enum class SpoolAppend { Stored, Full };

// Append-only, bounded, crash-safe FIFO of WriteBatches in a directory, for PostgreSQL
// outages. Files: `<20-digit number>.seg`, each a 16-byte header then records
//     magic u32 | payload length u32 | crc32c(payload) u32 | crc32c(these 12 bytes) u32 | payload
// An append is one write() and one fdatasync(); a new segment is synced with its directory
// before its first record. Opening never appends to an existing segment (it may end in a torn
// record): writes go to a new one and the old ones are replayed first, in order. A record whose
// header or payload checksum fails is skipped with a log line (a torn tail, or a damaged middle
// record: the reader resynchronises on the next valid header). A segment file is deleted only
// when every record in it has been popped, i.e. committed by the caller.
// Not thread-safe: one owner thread (the store writer).
class Spool {
public:
    // Creates `dir` if needed, takes an exclusive lock on `dir/LOCK` (a second process using the
    // same directory gets an error), and scans the existing segments. Errors: Config for a
    // path that is not a writable directory or is locked, Internal for other I/O failures.
    static Result<std::unique_ptr<Spool>> open(const std::filesystem::path& dir,
                                               SpoolOptions options = {});
    // Closes the files; an empty spool also removes its LOCK and, if nothing else is in it,
    // its directory.
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Durably appends the batch as one record (on return it survives a crash or power cut).
    // Full when it would take the spool past max_bytes; the spool is unchanged then. An I/O
    // error (disk full, EIO) is an Error; the segment is closed and the next append starts a
    // new one, so a partial record is never followed by good ones in the same file.
    // `id` (if given) receives the record's id.
    Result<SpoolAppend> append(const WriteBatch& batch, std::uint64_t* id = nullptr);

    // The oldest record not yet popped (skipping damaged ones), or nullopt when empty. Repeated
    // calls return the same record until pop().
    Result<std::optional<SpoolRecord>> front();

    // Marks the record front() returned as committed; deletes its segment when that was the
    // segment's last record.
    Status pop();

    [[nodiscard]] bool empty() const { return stats_.records == 0; }
    [[nodiscard]] const SpoolStats& stats() const { return stats_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

private:
    struct Segment {
        std::uint64_t number{0};
        std::filesystem::path path;
        std::uint64_t size{0};
        std::uint64_t records{0};  // valid records not yet popped
    };
    struct Parsed;

    Spool(std::filesystem::path dir, SpoolOptions options, int lock_fd);
    Status scan_existing();
    Status start_segment();
    Status close_writer();
    Status drop_front_segment();
    Status sync_dir();
    Result<Parsed> read_next(int fd, std::uint64_t size, std::uint64_t offset, bool quiet,
                             const std::filesystem::path& path);

    std::filesystem::path dir_;
    SpoolOptions opt_;
    int lock_fd_{-1};
    int write_fd_{-1};    // the active segment (segments_.back()) while >= 0
    int read_fd_{-1};     // segments_.front() while >= 0
    std::uint64_t read_offset_{0};
    std::deque<Segment> segments_;
    std::uint64_t next_number_{1};
    std::optional<SpoolRecord> cached_;
    std::uint64_t cached_end_{0};
    SpoolStats stats_;
};

}  // namespace intelergy::store
