// A real SQLite store in a temporary directory, removed after the test, and a way
// to write raw objects into it: the base of fixtures whose code reads the store.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "store/store.h"

namespace lp::store::testing {

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-storetest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = openSqliteStore(dir_, indexer());
    ASSERT_TRUE(s.ok()) << s.status().toString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The store's secondary indexes: none here; a control-plane fixture supplies its own.
  virtual Indexer indexer() const { return nullptr; }

  // One object as the control plane would have written it.
  void put(std::string_view kind, const std::string& id, const nlohmann::json& body) {
    ASSERT_TRUE(store_
                    ->update([&](WriteTxn& t) {
                      t.put(kind, id, body.dump());
                      return Status::Ok();
                    })
                    .ok());
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace lp::store::testing
