// The state schema across releases: a state directory written before the schema
// recorded its migrations opens with every object, one of a newer schema is refused
// and left as it was, and a backup is a state that opens.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "store/state_admin.h"
#include "store/store.h"

namespace lp::store {
namespace {

namespace fs = std::filesystem;

// tests/integration/fixtures/state-v1: made by linkplane at b7d7782 (schema version 1).
const fs::path kFixture = fs::path(LP_TEST_FIXTURES) / "state-v1";

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-schematest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  int64_t query(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ / "linkplane.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
  }
  void exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "linkplane.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  fs::path dir_;
};

TEST_F(SchemaTest, StateOfTheReleaseBeforeOpensWithEveryObjectAndIsMigratedOnce) {
  fs::copy_file(kFixture / "linkplane.db", dir_ / "linkplane.db");
  ASSERT_EQ(query("SELECT version FROM schema_version"), 1);
  int64_t objects = query("SELECT count(*) FROM objects");
  int64_t revision = query("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'revision'");
  ASSERT_GT(objects, 10);

  auto s = openSqliteStore(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ((*s)->revision(), static_cast<uint64_t>(revision));
  std::ifstream in(kFixture / "expected.json");
  auto expected = nlohmann::json::parse(in);
  (*s)->read([&](const ReadView& v) {
    EXPECT_TRUE(v.get("vpc", expected["provider"]["vpc"].get<std::string>()));
    EXPECT_TRUE(v.get("vpc", expected["consumer"]["vpc"].get<std::string>()));
    EXPECT_TRUE(v.get("subnet", expected["consumer"]["subnet"].get<std::string>()));
    EXPECT_TRUE(v.get("security-group", expected["provider"]["security_group"].get<std::string>()));
    EXPECT_TRUE(v.get("network-interface", expected["provider"]["network_interface"].get<std::string>()));
    EXPECT_TRUE(v.get("vpc-endpoint", expected["consumer"]["endpoint"].get<std::string>()));
  });
  s->reset();
  EXPECT_EQ(query("SELECT version FROM schema_version"), stateSchemaVersion());
  EXPECT_EQ(query("SELECT count(*) FROM objects"), objects);
  EXPECT_EQ(query("SELECT count(*) FROM migrations WHERE version = 2"), 1);
  EXPECT_FALSE(fs::exists(dir_ / "linkplane.db.pre-migration")) << "the copy stays only until the migration commits";

  // A second open has nothing to migrate.
  auto again = openSqliteStore(dir_.string());
  ASSERT_TRUE(again.ok()) << again.status().toString();
  again->reset();
  EXPECT_EQ(query("SELECT count(*) FROM migrations"), stateSchemaVersion() - 1);  // 2, 3, ...
}

TEST_F(SchemaTest, Migration3GivesEveryLiveInstanceItsRootVolume) {
  {
    auto s = openSqliteStore(dir_.string());
    ASSERT_TRUE(s.ok()) << s.status().toString();
    ASSERT_TRUE((*s)->update([](WriteTxn& t) {
                      t.put("instance", "i-0aaaaaaaaaaaaaaaa",
                            R"({"id":"i-0aaaaaaaaaaaaaaaa","ownerId":"111111111111","zoneId":"use1-az1",)"
                            R"("imageId":"ami-0d3b1e2c4a5f60712","state":"running","launchTime":"2026-12-05T10:00:00.000Z",)"
                            R"("rootVolumeId":"vol-0aaaaaaaaaaaaaaaa","rootVolumeSizeGiB":8,)"
                            R"("volumeTags":[{"key":"Name","value":"root"}]})");
                      t.put("instance", "i-0bbbbbbbbbbbbbbbb",
                            R"({"id":"i-0bbbbbbbbbbbbbbbb","ownerId":"111111111111","state":"terminated",)"
                            R"("rootVolumeId":"vol-0bbbbbbbbbbbbbbbb"})");
                      return Status::Ok();
                    }).ok());
  }
  // As a state of schema version 2 had it: no volume objects.
  exec("UPDATE schema_version SET version = 2; DELETE FROM migrations WHERE version >= 3;"
       " DELETE FROM objects WHERE kind = 'volume';");
  auto s = openSqliteStore(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status().toString();
  (*s)->read([&](const ReadView& v) {
    auto o = v.get("volume", "vol-0aaaaaaaaaaaaaaaa");
    ASSERT_TRUE(o);
    auto j = nlohmann::json::parse(o->body);
    EXPECT_EQ(j["ownerId"], "111111111111");
    EXPECT_EQ(j["instanceId"], "i-0aaaaaaaaaaaaaaaa");
    EXPECT_EQ(j["sizeGiB"], 8);
    EXPECT_EQ(j["iops"], 100);
    EXPECT_EQ(j["state"], "in-use");
    EXPECT_EQ(j["device"], "/dev/xvda");
    EXPECT_EQ(j["deleteOnTermination"], true);
    EXPECT_EQ(j["snapshotId"], "snap-0d3b1e2c4a5f60712");
    EXPECT_EQ(j["tags"], nlohmann::json::parse(R"([{"key":"Name","value":"root"}])"));
    EXPECT_FALSE(v.get("volume", "vol-0bbbbbbbbbbbbbbbb")) << "a terminated instance's volume was deleted with it";
  });
}

// A migration that fails rolls back: the state stays at its version with every
// object, and the copy made before it stays beside it, named in the error. Here
// migration 3 meets an instance whose stored document is not JSON (SQLite's
// json_extract refuses it), as a damaged or hand-edited state would have.
TEST_F(SchemaTest, AFailedMigrationLeavesTheStateAsItWasAndKeepsTheCopy) {
  {
    auto s = openSqliteStore(dir_.string());
    ASSERT_TRUE(s.ok()) << s.status().toString();
    ASSERT_TRUE((*s)->update([](WriteTxn& t) {
                      t.put("vpc", "vpc-1", "{}");
                      t.put("instance", "i-0aaaaaaaaaaaaaaaa", "{not json");
                      return Status::Ok();
                    }).ok());
  }
  exec("UPDATE schema_version SET version = 2; DELETE FROM migrations WHERE version >= 3;");
  const fs::path copy = dir_ / "linkplane.db.pre-migration";

  auto s = openSqliteStore(dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("from schema version 2 to"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("the state is unchanged, and a copy is at " + copy.string()), std::string::npos)
      << s.status().message();
  EXPECT_EQ(query("SELECT version FROM schema_version"), 2);
  EXPECT_EQ(query("SELECT count(*) FROM objects WHERE kind IN ('vpc', 'instance')"), 2);
  EXPECT_EQ(query("SELECT count(*) FROM migrations WHERE version >= 3"), 0);
  ASSERT_TRUE(fs::exists(copy));
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(copy.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT (SELECT version FROM schema_version), (SELECT count(*) FROM objects"
                                     " WHERE kind IN ('vpc', 'instance'))", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 2) << "the copy is the state as it was before the migration";
    EXPECT_EQ(sqlite3_column_int(st, 1), 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }

  // Repaired, the next start migrates it and the copy goes once the migration commits.
  exec("DELETE FROM objects WHERE kind = 'instance';");
  auto again = openSqliteStore(dir_.string());
  ASSERT_TRUE(again.ok()) << again.status().toString();
  again->reset();
  EXPECT_EQ(query("SELECT version FROM schema_version"), stateSchemaVersion());
  EXPECT_FALSE(fs::exists(copy));
}

TEST_F(SchemaTest, NewStateStartsAtTheLatestVersion) {
  auto s = openSqliteStore(dir_.string());
  ASSERT_TRUE(s.ok()) << s.status().toString();
  s->reset();
  EXPECT_EQ(query("SELECT version FROM schema_version"), stateSchemaVersion());
  EXPECT_EQ(query("SELECT count(*) FROM schema_version"), 1);
}

TEST_F(SchemaTest, StateOfANewerReleaseIsRefusedAndLeftUntouched) {
  {
    auto s = openSqliteStore(dir_.string());
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->update([](WriteTxn& t) {
                      t.put("vpc", "vpc-1", "{}");
                      return Status::Ok();
                    }).ok());
  }
  exec("UPDATE schema_version SET version = 99; CREATE TABLE from_the_future (x);");
  auto s = openSqliteStore(dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), "StateTooNew");
  EXPECT_NE(s.status().message().find("schema version 99"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("newer linkplane"), std::string::npos) << s.status().message();
  EXPECT_EQ(query("SELECT version FROM schema_version"), 99);
  EXPECT_EQ(query("SELECT count(*) FROM objects"), 1);
}

TEST_F(SchemaTest, BackupWhileOpenIsAStateThatOpens) {
  auto s = openSqliteStore(dir_.string());
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*s)->update([&](WriteTxn& t) {
                      t.put("vpc", "vpc-" + std::to_string(i), "{\"n\":" + std::to_string(i) + "}");
                      return Status::Ok();
                    }).ok());
  }
  fs::path copy = dir_ / "backup.db";
  auto info = backupSqliteStore(dir_.string(), copy.string());  // the store is still open and writing
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_EQ(info->revision, 20);
  EXPECT_EQ(info->objects, 20);
  EXPECT_EQ(info->schemaVersion, stateSchemaVersion());
  EXPECT_EQ(info->bytes, static_cast<int64_t>(fs::file_size(copy)));
  s->reset();

  fs::path restored = dir_ / "restored";
  fs::create_directories(restored);
  fs::copy_file(copy, restored / "linkplane.db");
  auto r = openSqliteStore(restored.string());
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ((*r)->revision(), 20u);
  (*r)->read([](const ReadView& v) {
    auto o = v.get("vpc", "vpc-7");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->body, "{\"n\":7}");
  });
}

TEST_F(SchemaTest, BackupOfAMissingStateSaysSoAndWritesNothing) {
  auto info = backupSqliteStore((dir_ / "nothing").string(), (dir_ / "out.db").string());
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("no state at"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "out.db"));
}

}  // namespace
}  // namespace lp::store
