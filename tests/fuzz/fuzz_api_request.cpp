// The MQTT command API: Api::handle(path, payload) over an InMemoryStore. Each input line is
// one request "<path> <payload>" (the text before the first space is the path), run in order
// against one fresh store so that later requests see what earlier ones created. Every response
// must be one JSON object with "status" ok/error (and "error" when it is an error), the
// transaction echoed, no internal error, and a request answered with an error must have
// written nothing. energy/query runs against a stub history; device/* handlers are not
// registered (they need the core loop and a device probe).
#include "fuzz_common.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "energy_api.hpp"  // bridge-private: EnergyApiContext
#include "intelergy/bridge/api.hpp"
#include "intelergy/fakes/fake_clock.hpp"
#include "intelergy/fakes/in_memory_store.hpp"

using namespace intelergy;
using namespace intelergy::fuzz;
using Json = nlohmann::json;

namespace {

class StubHistory final : public store::EnergyHistory {
public:
    Result<std::vector<store::EnergyBucket>> query_energy(const std::string&, store::Resolution,
                                                          SysTime from, SysTime to) override {
        FUZZ_CHECK(from < to);
        store::EnergyBucket b;
        b.start = from;
        b.end = from + std::chrono::hours{1};
        b.label = "bucket";
        b.energy_wh = 12.5;
        b.members = 1;
        return std::vector<store::EnergyBucket>{b};
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 2 * bridge::MAX_REQUEST_BYTES) return 0;
    fakes::FakeClock clock;
    bridge::EnergyApiContext energy{[] { return std::make_unique<StubHistory>(); }, clock};
    fakes::InMemoryStore store;
    bridge::ApiHooks hooks;
    hooks.energy = &energy;
    hooks.info_json = [] { return std::string(R"({"version":"fuzz"})"); };
    hooks.mqtt_connected = [] { return true; };
    bridge::Api api(store, hooks);

    for (const auto line : split_lines(as_text(data, size), 16)) {
        const auto sp = line.find(' ');
        const auto path = line.substr(0, sp);
        const auto payload = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
        const auto before = store.dump();

        const auto out = api.handle(path, payload);

        const auto j = Json::parse(out, nullptr, false);
        FUZZ_CHECK(!j.is_discarded());
        FUZZ_CHECK(j.is_object());
        FUZZ_CHECK(j.contains("status") && j["status"].is_string());
        const auto status = j["status"].get<std::string>();
        FUZZ_CHECK(status == "ok" || status == "error");
        FUZZ_CHECK(j.contains("data"));
        if (status == "error") {
            FUZZ_CHECK(j.contains("error") && j["error"].is_string());
            const auto error = j["error"].get<std::string>();
            if (error.rfind("internal error", 0) == 0) {
                std::fprintf(stderr, "internal error for path '%.*s': %s\n",
                             static_cast<int>(path.size()), path.data(), error.c_str());
                FUZZ_CHECK(false && "an exception other than RequestError escaped a handler");
            }
            FUZZ_CHECK(store.dump() == before);  // a bad request writes nothing
        } else {
            FUZZ_CHECK(!j.contains("error"));
        }
        // The transaction comes back as given (when the payload was an object that had one).
        const auto body = Json::parse(payload, nullptr, false);
        if (!body.is_discarded() && body.is_object() && body.contains("transaction") &&
            !body["transaction"].is_null() && payload.size() <= bridge::MAX_REQUEST_BYTES &&
            out.find("nests deeper") == std::string::npos) {
            FUZZ_CHECK(j.contains("transaction"));
        }
    }
    return 0;
}
