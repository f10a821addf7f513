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

// Bodies of the index tests read "name=value;name=value": the indexer the control
// plane supplies does the same with JSON.
IndexEntries testIndexer(std::string_view, std::string_view body) {
  IndexEntries out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find(';', start);
    if (end == std::string_view::npos) end = body.size();
    auto pair = body.substr(start, end - start);
    if (auto eq = pair.find('='); eq != std::string_view::npos)
      out.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    start = end + 1;
  }
  return out;
}

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
    auto s = openSqliteStore(dir_, testIndexer);
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
  void put(const std::string& id, const std::string& body) {
    ASSERT_TRUE(store_
                    ->update([&](WriteTxn& t) {
                      t.put("eni", id, body);
                      return Status::Ok();
                    })
                    .ok());
  }
  // Ids holding subnet=value, in the order forEachIndexed visits them, from fromId.
  static std::vector<std::string> holders(const ReadView& r, const std::string& value, std::string_view fromId = {}) {
    std::vector<std::string> ids;
    r.forEachIndexed(
        "eni", "subnet", value,
        [&](const Object& o) {
          ids.push_back(o.id);
          return true;
        },
        fromId);
    return ids;
  }
  std::vector<std::string> committedHolders(const std::string& value) {
    std::vector<std::string> ids;
    store_->read([&](const ReadView& r) { ids = holders(r, value); });
    return ids;
  }
  size_t committedCount(const std::string& value) {
    size_t n = 0;
    store_->read([&](const ReadView& r) { n = r.count("eni", "subnet", value); });
    return n;
  }
  std::string dir_;
  std::unique_ptr<Store> store_;
};

using Ids = std::vector<std::string>;

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

TEST_F(SqliteStoreTest, IndexFollowsPutOverwriteAndErase) {
  put("e3", "subnet=s1;owner=a");
  put("e1", "subnet=s1;owner=b");
  put("e2", "subnet=s2;owner=a");
  EXPECT_EQ(committedHolders("s1"), (Ids{"e1", "e3"}));
  EXPECT_EQ(committedCount("s1"), 2u);
  put("e1", "subnet=s2");  // moves from s1 to s2 and loses its owner
  EXPECT_EQ(committedHolders("s1"), (Ids{"e3"}));
  EXPECT_EQ(committedHolders("s2"), (Ids{"e1", "e2"}));
  size_t ownedByB = 9;
  store_->read([&](const ReadView& r) { ownedByB = r.count("eni", "owner", "b"); });
  EXPECT_EQ(ownedByB, 0u);
  ASSERT_TRUE(store_
                  ->update([](WriteTxn& t) {
                    t.erase("eni", "e3");
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(committedHolders("s1"), Ids{});
  EXPECT_EQ(committedCount("s1"), 0u);
  Ids fromE2;
  store_->read([&](const ReadView& r) { fromE2 = holders(r, "s2", "e2"); });
  EXPECT_EQ(fromE2, Ids{"e2"});
}

TEST_F(SqliteStoreTest, IndexIsRebuiltAfterReopen) {
  put("e1", "subnet=s1");
  put("e2", "subnet=s1");
  put("e2", "subnet=s2");
  put("e3", "subnet=s1");
  reopen();
  EXPECT_EQ(committedHolders("s1"), (Ids{"e1", "e3"}));
  EXPECT_EQ(committedHolders("s2"), Ids{"e2"});
  EXPECT_EQ(committedCount("s1"), 2u);
}

TEST_F(SqliteStoreTest, TransactionSeesItsOwnWritesInIndexes) {
  put("e2", "subnet=s1");
  put("e4", "subnet=s1");
  put("e6", "subnet=s1");
  Ids inside, insideFromE3;
  size_t n = 0;
  ASSERT_TRUE(store_
                  ->update([&](WriteTxn& t) {
                    t.put("eni", "e1", "subnet=s1");          // new holder, first in id order
                    t.put("eni", "e4", "subnet=s2");          // moved away
                    t.erase("eni", "e6");                     // gone
                    t.put("eni", "e5", "subnet=s1");          // new holder between committed ones
                    t.put("eni", "e2", "subnet=s1;owner=x");  // rewritten, still a holder
                    inside = holders(t, "s1");
                    insideFromE3 = holders(t, "s1", "e3");
                    n = t.count("eni", "subnet", "s1");
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(inside, (Ids{"e1", "e2", "e5"}));
  EXPECT_EQ(insideFromE3, Ids{"e5"});
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(committedHolders("s1"), (Ids{"e1", "e2", "e5"}));
  EXPECT_EQ(committedHolders("s2"), Ids{"e4"});
}

TEST_F(SqliteStoreTest, FailedTransactionLeavesIndexesAlone) {
  put("e1", "subnet=s1");
  Status st = store_->update([](WriteTxn& t) {
    t.put("eni", "e1", "subnet=s2");
    t.put("eni", "e2", "subnet=s1");
    return Status("InvalidParameterValue", "no");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(committedHolders("s1"), Ids{"e1"});
  EXPECT_EQ(committedCount("s2"), 0u);
}

// A walk over an index may write as it goes (as forEach allows): an object erased
// ahead of the walk is not visited, and nothing reads what the erase freed.
TEST_F(SqliteStoreTest, ErasingAheadWhileWalkingAnIndexSkipsTheErased) {
  put("e1", "subnet=s1");
  Ids visited;
  ASSERT_TRUE(store_
                  ->update([&](WriteTxn& t) {
                    t.put("eni", "e2", "subnet=s1");
                    t.put("eni", "e3", "subnet=s1");
                    t.forEachIndexed("eni", "subnet", "s1", [&](const Object& o) {
                      visited.push_back(o.id);
                      if (o.id == "e1") t.erase("eni", "e3");
                      return true;
                    });
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(visited, (Ids{"e1", "e2"}));
  EXPECT_EQ(committedHolders("s1"), (Ids{"e1", "e2"}));
}

// A quota check (count, then put) from many threads at once: each transaction must
// count the writes queued ahead of it for the disk, or the quota is overrun.
TEST_F(SqliteStoreTest, CountSeesWritesQueuedByConcurrentWriters) {
  constexpr int kThreads = 8, kEach = 40;
  constexpr size_t kQuota = 100;
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kEach; ++j) {
        std::string id = "e-" + std::to_string(i) + "-" + std::to_string(j);
        Status st = store_->update([&](WriteTxn& t) {
          if (t.count("eni", "subnet", "s1") >= kQuota) return Status("LimitExceeded", "full");
          t.put("eni", id, "subnet=s1");
          return Status::Ok();
        });
        if (!st.ok()) ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(committedCount("s1"), kQuota);
  EXPECT_EQ(committedHolders("s1").size(), kQuota);
  EXPECT_EQ(refused.load(), kThreads * kEach - static_cast<int>(kQuota));
  reopen();
  EXPECT_EQ(committedCount("s1"), kQuota);
}

TEST_F(SqliteStoreTest, ForEachFromStartsAtTheGivenIdAcrossOwnWrites) {
  for (auto id : {"a", "c", "e"}) put(id, "x");
  Ids seen;
  ASSERT_TRUE(store_
                  ->update([&](WriteTxn& t) {
                    t.put("eni", "d", "x");
                    t.erase("eni", "e");
                    t.forEachFrom("eni", "b", [&](const Object& o) {
                      seen.push_back(o.id);
                      return true;
                    });
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(seen, (Ids{"c", "d"}));
  seen.clear();
  store_->read([&](const ReadView& r) {
    r.forEachFrom("eni", "c", [&](const Object& o) {
      seen.push_back(o.id);
      return o.id != "c";
    });
  });
  EXPECT_EQ(seen, Ids{"c"});
}

}  // namespace
}  // namespace lp::store
