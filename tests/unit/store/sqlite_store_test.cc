// The SQLite store under concurrent writers (group commit): no lost update, every
// acknowledged write visible and on disk, reads in id order across queued writes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace lp::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    store_.reset();
    auto s = openSqliteStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().toString();
    store_ = std::move(s.value());
  }
  // threads x each writers, each write one object "o-<thread>-<n>" with body(id)
  // and checked to succeed.
  void writeConcurrently(int threads, int each, const std::function<std::string(const std::string&)>& body) {
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) {
      ts.emplace_back([&, i] {
        for (int j = 0; j < each; ++j) {
          std::string id = "o-" + std::to_string(i) + "-" + std::to_string(j);
          ASSERT_TRUE(store_
                          ->update([&](WriteTxn& t) {
                            t.put("obj", id, body(id));
                            return Status::Ok();
                          })
                          .ok());
          bool seen = false;  // read-your-writes once update() returned
          store_->read([&](const ReadView& r) { seen = r.get("obj", id).has_value(); });
          ASSERT_TRUE(seen) << id;
        }
      });
    }
    for (auto& t : ts) t.join();
  }
  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, ConcurrentReadModifyWriteLosesNoUpdate) {
  ASSERT_TRUE(store_
                  ->update([](WriteTxn& t) {
                    t.put("counter", "c", "0");
                    return Status::Ok();
                  })
                  .ok());
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kEach; ++j) {
        Status st = store_->update([](WriteTxn& t) {
          int v = std::stoi(t.get("counter", "c")->body);
          t.put("counter", "c", std::to_string(v + 1));
          return Status::Ok();
        });
        if (!st.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::string v;
  store_->read([&](const ReadView& r) { v = r.get("counter", "c")->body; });
  EXPECT_EQ(v, std::to_string(kThreads * kEach));
  EXPECT_EQ(store_->revision(), 1u + kThreads * kEach);
  reopen();
  store_->read([&](const ReadView& r) { v = r.get("counter", "c")->body; });
  EXPECT_EQ(v, std::to_string(kThreads * kEach));
  EXPECT_EQ(store_->revision(), 1u + kThreads * kEach);
}

TEST_F(SqliteStoreTest, AcknowledgedWritesAreVisibleAndDurableWithOrderedChanges) {
  constexpr int kThreads = 8, kEach = 40;
  writeConcurrently(kThreads, kEach, [](const std::string&) { return "{}"; });
  auto changes = store_->changesSince(0);
  ASSERT_EQ(changes.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < changes.size(); ++i) EXPECT_EQ(changes[i].revision, i + 1);
  reopen();
  size_t n = 0;
  store_->read([&](const ReadView& r) { n = r.list("obj").size(); });
  EXPECT_EQ(n, static_cast<size_t>(kThreads * kEach));
}

TEST_F(SqliteStoreTest, FailedTransactionChangesNothing) {
  ASSERT_TRUE(store_
                  ->update([](WriteTxn& t) {
                    t.put("obj", "a", "1");
                    return Status::Ok();
                  })
                  .ok());
  Status st = store_->update([](WriteTxn& t) {
    t.put("obj", "a", "2");
    t.put("obj", "b", "2");
    return Status("InvalidParameterValue", "no");
  });
  EXPECT_EQ(st.code(), "InvalidParameterValue");
  store_->read([&](const ReadView& r) {
    EXPECT_EQ(r.get("obj", "a")->body, "1");
    EXPECT_FALSE(r.get("obj", "b"));
  });
  EXPECT_EQ(store_->revision(), 1u);
}

TEST_F(SqliteStoreTest, ForEachMergesOwnWritesInIdOrder) {
  ASSERT_TRUE(store_
                  ->update([](WriteTxn& t) {
                    for (auto id : {"b", "d", "f"}) t.put("obj", id, "old");
                    return Status::Ok();
                  })
                  .ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store_
                  ->update([&](WriteTxn& t) {
                    t.put("obj", "a", "new");
                    t.put("obj", "d", "new");
                    t.erase("obj", "f");
                    t.put("obj", "g", "new");
                    t.forEach("obj", [&](const Object& o) {
                      seen.push_back(o.id + "=" + o.body);
                      return true;
                    });
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a=new", "b=old", "d=new", "g=new"}));
  seen.clear();
  store_->read([&](const ReadView& r) {
    r.forEach("obj", [&](const Object& o) {
      seen.push_back(o.id);
      return o.id != "d";  // stops early
    });
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "d"}));
}

// The reconciler's pattern: walk a kind and rewrite or erase what it sees, passing
// the object's own kind and id, which live in the transaction's pending writes
// that the put replaces. The write must land under the right key (it once read the
// replaced strings: the commit threw and the daemon aborted).
TEST_F(SqliteStoreTest, RewritingObjectsSeenInForEachByTheirOwnIds) {
  // Real ids are longer than a string's inline buffer: their bytes live on the heap.
  constexpr const char* kKind = "vpc-endpoint-connection";
  constexpr const char* kA = "vpce-0123456789abcdef0", *kB = "vpce-0123456789abcdef1", *kC = "vpce-0123456789abcdef2";
  ASSERT_TRUE(store_
                  ->update([](WriteTxn& t) {
                    for (auto id : {kA, kB, kC}) t.put(kKind, id, "v1");
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->update([](WriteTxn& t) {
                    t.put(kKind, kA, "v2");  // now a pending write: forEach hands out that object
                    t.put(kKind, kB, "v2");
                    t.forEach(kKind, [&](const Object& o) {
                      if (o.id == kB) {
                        t.erase(o.kind, o.id);
                      } else {
                        t.put(o.kind, o.id, std::string(64, 'x'));  // longer than any inline string
                      }
                      return true;
                    });
                    return Status::Ok();
                  })
                  .ok());
  std::vector<std::string> seen;
  store_->read([&](const ReadView& r) {
    r.forEach(kKind, [&](const Object& o) {
      seen.push_back(o.kind + "/" + o.id + "=" + o.body.substr(0, 2));
      return true;
    });
  });
  EXPECT_EQ(seen, (std::vector<std::string>{std::string(kKind) + "/" + kA + "=xx", std::string(kKind) + "/" + kC + "=xx"}));
}

// The automatic checkpoint is replaced by a background one: the database file must
// still receive the data (not only the WAL), the WAL must stay bounded, and
// everything must be there after a reopen.
TEST_F(SqliteStoreTest, BackgroundCheckpointMovesTheWalIntoTheDatabase) {
  constexpr int kThreads = 4, kEach = 150;  // 600 writes of 8 KiB: several thousand WAL pages
  std::string body(8192, 'x');
  writeConcurrently(kThreads, kEach, [&](const std::string& id) { return body + id; });
  auto db = std::filesystem::path(dir_) / "linkplane.db";
  auto wal = std::filesystem::path(dir_) / "linkplane.db-wal";
  // The checkpointer runs beside the writers; give it a moment. How much it has
  // copied when they stop depends on timing (what came after the last checkpoint
  // stays in the WAL until the next one), but without it the file stays at a few
  // KiB: 1 MiB of the 4.9 MB written proves it ran.
  for (int i = 0; i < 100 && std::filesystem::file_size(db) < 1u << 20; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GE(std::filesystem::file_size(db), 1u << 20) << "the WAL was never checkpointed";
  EXPECT_LE(std::filesystem::file_size(wal), 70u << 20);
  reopen();
  size_t n = 0;
  bool bodiesRight = true;
  store_->read([&](const ReadView& r) {
    r.forEach("obj", [&](const Object& o) {
      ++n;
      bodiesRight &= o.body == body + o.id;
      return true;
    });
  });
  EXPECT_EQ(n, static_cast<size_t>(kThreads * kEach));
  EXPECT_TRUE(bodiesRight);
}

}  // namespace
}  // namespace lp::store
