#include "api/params.h"

#include <gtest/gtest.h>

namespace lp::api {
namespace {

TEST(Params, FormDecodes) {
  auto p = Params::parseForm("Action=DescribeVpcs&Tag.1.Value=caf%C3%A9+x");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->get("Tag.1.Value"), "caf\xC3\xA9 x");
}

// Found by fuzz_api_request: bytes that are not UTF-8 once decoded must be refused
// at the edge, before they reach XML, JSON (which throws on them) or the store.
TEST(Params, InvalidUtf8IsMalformedQueryString) {
  auto p = Params::parseForm("Action=CreateTags&Tag.1.Value=%C5");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), "MalformedQueryString");
  EXPECT_FALSE(Params::parseForm("Act%FFion=x").ok());
}

}  // namespace
}  // namespace lp::api
