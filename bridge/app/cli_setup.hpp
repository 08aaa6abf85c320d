#pragma once

#include "cli_client.hpp"

#include <iosfwd>

namespace intelergy::app::cli {

// `intelergy setup`: walks a first-time user through user → profile → room → plug(s), one
// question per line on `out`, answers read line by line from `in`. Each answer is checked
// locally (names) and then by the bridge (the request's error is shown and the question asked
// again); existing users, profiles and rooms are reused. `terminal`: `in` is a terminal, so echo
// is turned off while a password is typed; otherwise each answer is echoed after its question
// (a password as "(hidden)"). Returns the exit code: 0 done, 1 aborted (end of input), 3 no
// answer from the bridge.
int run_setup(std::istream& in, std::ostream& out, std::ostream& err, ApiClient& api,
              bool terminal);

}  // namespace intelergy::app::cli
