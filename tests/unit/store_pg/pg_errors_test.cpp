// A malformed DSN must not leak its password through libpq's parse error (issue 6 part 7).
// libpq rejects these strings before any connection is attempted, so no server is needed.
#include <intelergy/store/pg_store.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(PgStoreErrors, MalformedDsnErrorsHideTheQuotedPieces) {
    for (const char* dsn : {"host=127.0.0.1 password=hunter2 secret dbname=x",
                            "host=127.0.0.1 password='hunter2 dbname=x",
                            "postgresql://u:hunter2@127.0.0.1:1/x?secret=1",
                            "host=127.0.0.1 secret=hunter2"}) {
        intelergy::store::PgStore store(dsn);
        const auto st = store.ping();
        ASSERT_FALSE(st) << dsn;
        const auto text = st.error().describe();
        EXPECT_EQ(text.find("secret"), std::string::npos) << text;
        EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
        EXPECT_NE(text.find("database unreachable"), std::string::npos) << text;
    }
}

}  // namespace
