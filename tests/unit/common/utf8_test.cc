#include "common/utf8.h"

#include <gtest/gtest.h>

namespace lp {
namespace {

TEST(Utf8, Validation) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(isValidUtf8("\xC5"));                                     // truncated
  EXPECT_FALSE(isValidUtf8("a\xC5" "b"));                                // bad continuation
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));                                 // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));                             // surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));                         // past U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xFF"));
  EXPECT_FALSE(isValidUtf8("\xE2\x82"));  // truncated 3-byte
}

}  // namespace
}  // namespace lp
