// scout::ParseFlags: dashed spellings, and exit code 2 (bad usage, not
// retried by Airflow) where absl alone would exit 1.
#include "common/base/flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/flags/flag.h"

ABSL_FLAG(int, image_size, 0, "a typed flag");
ABSL_FLAG(bool, verbose, false, "a bool flag");

namespace scout {
namespace {

std::vector<char*> Parse(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

TEST(ParseFlagsTest, TakesDashedSpellingsAndStopsAtDoubleDash) {
  std::vector<std::string> args = {"prog", "--image-size", "32", "--noverbose", "--", "--x"};
  const std::vector<char*> positional = Parse(args);
  EXPECT_EQ(absl::GetFlag(FLAGS_image_size), 32);
  EXPECT_FALSE(absl::GetFlag(FLAGS_verbose));
  ASSERT_EQ(positional.size(), 2u);
  EXPECT_STREQ(positional[1], "--x");
}

TEST(ParseFlagsDeathTest, MalformedValueIsBadUsage) {
  std::vector<std::string> args = {"prog", "--image_size=big"};
  EXPECT_EXIT(Parse(args), ::testing::ExitedWithCode(2), "--image_size: Illegal value 'big'");
  std::vector<std::string> spaced = {"prog", "--image-size", "1.5"};
  EXPECT_EXIT(Parse(spaced), ::testing::ExitedWithCode(2), "--image_size");
}

TEST(ParseFlagsDeathTest, UnknownFlagIsBadUsage) {
  std::vector<std::string> args = {"prog", "--rebuild_everything"};
  EXPECT_EXIT(Parse(args), ::testing::ExitedWithCode(2), "unknown flag --rebuild_everything");
}

}  // namespace
}  // namespace scout
