#include "common/base/flags.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/base/process.h"

namespace scout {
namespace {

// absl exits 1 on an unknown flag or a value it cannot parse, which Airflow
// (and any caller reading Scout's exit codes) takes for a backend failure and
// retries. They are checked first here, so a typo exits kExitBadUsage.
void ExitOnMalformedValues(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) continue;
    const size_t equals = arg.find('=');
    const absl::string_view name = arg.substr(0, equals);
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      // absl handles its usage flags itself; they are not in the registry.
      if (absl::StartsWith(name, "help") || name == "version" || name == "only_check_args") {
        continue;
      }
      absl::string_view negated = name;
      const absl::CommandLineFlag* positive =
          absl::ConsumePrefix(&negated, "no") ? absl::FindCommandLineFlag(negated) : nullptr;
      if (positive != nullptr && positive->IsOfType<bool>()) continue;  // --noverbose
      std::fprintf(stderr, "ERROR: unknown flag --%s\n", std::string(name).c_str());
      std::exit(kExitBadUsage);
    }
    if (flag->IsOfType<bool>()) continue;  // absl checks --x=maybe (exit 1; rare by hand).
    std::string value;
    if (equals != absl::string_view::npos) {
      value = std::string(arg.substr(equals + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      continue;
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "ERROR: --%s: %s\n", std::string(name).c_str(), error.c_str());
      std::exit(kExitBadUsage);
    }
  }
}

}  // namespace

std::vector<char*> ParseFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    if (arg[0] != '-' || arg[1] != '-') continue;
    if (arg[2] == '\0') break;  // "--": the rest is positional.
    for (char* c = arg + 2; *c != '\0' && *c != '='; ++c) {
      if (*c == '-') *c = '_';
    }
  }
  ExitOnMalformedValues(argc, argv);
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace scout
