#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "intelergy/core/reading.hpp"
#include "intelergy/core/result.hpp"
#include "intelergy/store/store.hpp"

namespace intelergy::store {

// What ReadingWriter hands to its sink: readings in submission order and the newest energy
// book per device + channel of the batch.
struct WriteBatch {
    std::vector<Reading> readings;
    std::vector<EnergyBookRow> books;
};

struct BatchOutcome {
    std::size_t inserted{0};    // new readings stored
    std::size_t duplicates{0};  // readings already stored (same device, channel, ts)
};

// Where batches go (real: the PostgreSQL sink from make_pg_batch_sink; later a disk spool can
// wrap it). write() is all or nothing: on error nothing of the batch is stored and the caller
// retries the same batch. Called from one thread only.
class BatchSink {
public:
    virtual ~BatchSink() = default;
    virtual Result<BatchOutcome> write(const WriteBatch& batch) = 0;
};

}  // namespace intelergy::store
