// SQLite implementation of Store: the only code that includes sqlite3.h.
//
// Durability: WAL with synchronous=FULL, so a committed update survives kill -9
// and power loss. Reads are served from an in-memory copy of every object, which
// is updated after each commit under an exclusive lock; the file is read only at
// open. Secondary indexes (see Indexer in store.h) live beside that copy and move
// with it; they are computed again from the objects at open, never stored.
//
// Group commit: writers run their transaction functions one at a time (write_mu_)
// against the committed state plus the writes still queued for the disk, so each
// sees every earlier write; then one of them (the leader, holding commit_mu_)
// writes everything queued in one SQLite transaction and one fsync, and only then
// are those writes visible to readers and their update() calls return. A call
// therefore never returns ok before its write is on disk, while concurrent
// writers share the cost of the sync.
//
// Checkpoints: SQLite's automatic checkpoint runs inside the commit that pushes the
// WAL past 1000 pages, copying pages into the database file and syncing it while
// every writer waits; with many small writes that was the API's write p99. Here a
// checkpointer thread with its own connection runs PASSIVE checkpoints (they never
// block the writer) once the WAL passes kCheckpointPages, and a blocking RESTART
// only if the WAL grows past kWalHardLimitPages because the writer never pauses.
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "common/log.h"
#include "metrics/prometheus.h"
#include "store/sqlite/schema.h"
#include "store/store.h"

namespace lp::store {

std::vector<Object> ReadView::list(std::string_view kind) const {
  std::vector<Object> out;
  forEach(kind, [&](const Object& o) {
    out.push_back(o);
    return true;
  });
  return out;
}

namespace {

// linkplane_store_commit_duration_seconds: one observation per group commit (the
// SQLite transaction and its fsync, for every write transaction queued behind it).
void recordCommitMetrics(size_t transactions, bool ok, std::chrono::steady_clock::duration took) {
  static auto& commits = metrics::prom::processRegistry().histogram(
      "linkplane_store_commit_duration_seconds", "Time to commit one group of write transactions durably.", {});
  static auto& txns = metrics::prom::processRegistry().counter(
      "linkplane_store_transactions_total", "Write transactions committed (ok) or failed at commit (error).",
      {"result"});
  commits.observe({}, std::chrono::duration<double>(took).count());
  txns.add({ok ? "ok" : "error"}, transactions);
}


// An object and the index entries computed from it.
struct Stored {
  Object object;
  IndexEntries entries;
};

using KindMap = std::map<std::string, Stored, std::less<>>;
using IdSet = std::set<std::string, std::less<>>;
// kind -> indexKey(name, value) -> ids of the objects holding that entry.
using IndexMap = std::map<std::string, std::map<std::string, IdSet, std::less<>>, std::less<>>;

struct Cache {
  std::map<std::string, KindMap, std::less<>> objects;
  IndexMap index;
};

std::string indexKey(std::string_view name, std::string_view value) {
  std::string k;
  k.reserve(name.size() + 1 + value.size());
  k.append(name);
  k.push_back('\0');
  k.append(value);
  return k;
}

bool holds(const IndexEntries& entries, std::string_view name, std::string_view value) {
  for (const auto& [n, v] : entries)
    if (n == name && v == value) return true;
  return false;
}

const IdSet* indexedIds(const Cache& cache, std::string_view kind, std::string_view name, std::string_view value) {
  auto k = cache.index.find(kind);
  if (k == cache.index.end()) return nullptr;
  auto ids = k->second.find(indexKey(name, value));
  return ids == k->second.end() ? nullptr : &ids->second;
}

// Replaces (or, with nullopt, removes) one object of the cache, keeping its index in step.
void applyToCache(Cache& cache, const std::string& kind, const std::string& id, const std::optional<Stored>& next) {
  auto& km = cache.objects[kind];
  auto& index = cache.index[kind];
  if (auto old = km.find(id); old != km.end()) {
    for (const auto& [name, value] : old->second.entries) {
      auto ids = index.find(indexKey(name, value));
      if (ids == index.end()) continue;
      ids->second.erase(id);
      if (ids->second.empty()) index.erase(ids);
    }
  }
  if (!next) {
    km.erase(id);
    return;
  }
  for (const auto& [name, value] : next->entries) index[indexKey(name, value)].insert(id);
  km[id] = *next;
}

constexpr size_t kChangeHistory = 20000;
constexpr int kCheckpointPages = 1000;     // SQLite's own default threshold
constexpr int kWalHardLimitPages = 16000;  // about 64 MB of WAL with 4 KiB pages
constexpr int kWalKeepBytes = 16 << 20;    // a WAL started over is cut back to this

class CacheView final : public ReadView {
 public:
  explicit CacheView(const Cache& cache) : cache_(cache) {}
  std::optional<Object> get(std::string_view kind, std::string_view id) const override {
    auto k = cache_.objects.find(kind);
    if (k == cache_.objects.end()) return std::nullopt;
    auto o = k->second.find(id);
    if (o == k->second.end()) return std::nullopt;
    return o->second.object;
  }
  void forEach(std::string_view kind, const std::function<bool(const Object&)>& fn) const override {
    auto k = cache_.objects.find(kind);
    if (k == cache_.objects.end()) return;
    for (auto& [id, o] : k->second)
      if (!fn(o.object)) return;
  }
  void forEachFrom(std::string_view kind, std::string_view fromId,
                   const std::function<bool(const Object&)>& fn) const override {
    auto k = cache_.objects.find(kind);
    if (k == cache_.objects.end()) return;
    for (auto it = k->second.lower_bound(fromId); it != k->second.end(); ++it)
      if (!fn(it->second.object)) return;
  }
  void forEachIndexed(std::string_view kind, std::string_view index, std::string_view value,
                      const std::function<bool(const Object&)>& fn, std::string_view fromId) const override {
    const IdSet* ids = indexedIds(cache_, kind, index, value);
    if (!ids) return;
    const KindMap& km = cache_.objects.find(kind)->second;
    for (auto it = ids->lower_bound(fromId); it != ids->end(); ++it)
      if (!fn(km.find(*it)->second.object)) return;
  }
  size_t count(std::string_view kind, std::string_view index, std::string_view value) const override {
    const IdSet* ids = indexedIds(cache_, kind, index, value);
    return ids ? ids->size() : 0;
  }

 private:
  const Cache& cache_;
};

// Pending writes of one transaction: kind -> id -> object (nullopt = erased).
using Overlay = std::map<std::string, std::map<std::string, std::optional<Stored>, std::less<>>, std::less<>>;

class TxnImpl final : public WriteTxn {
 public:
  // staged: writes queued for the disk but not yet in cache, seen as if committed.
  TxnImpl(const Cache& cache, uint64_t rev, Overlay staged, const Indexer& indexer)
      : base_(cache), cache_(cache), rev_(rev), overlay_(std::move(staged)), indexer_(indexer) {}

  std::optional<Object> get(std::string_view kind, std::string_view id) const override {
    if (auto k = overlay_.find(kind); k != overlay_.end()) {
      if (auto o = k->second.find(id); o != k->second.end()) {
        if (!o->second) return std::nullopt;
        return o->second->object;
      }
    }
    return base_.get(kind, id);
  }
  void forEach(std::string_view kind, const std::function<bool(const Object&)>& fn) const override {
    forEachFrom(kind, {}, fn);
  }
  void forEachFrom(std::string_view kind, std::string_view fromId,
                   const std::function<bool(const Object&)>& fn) const override {
    auto k = overlay_.find(kind);
    if (k == overlay_.end()) {
      base_.forEachFrom(kind, fromId, fn);
      return;
    }
    // Merge base and overlay in id order (both are sorted maps), without copies.
    static const KindMap kEmpty;
    auto c = cache_.objects.find(kind);
    const KindMap& base = c == cache_.objects.end() ? kEmpty : c->second;
    auto b = base.lower_bound(fromId);
    auto o = k->second.lower_bound(fromId);
    while (b != base.end() || o != k->second.end()) {
      if (o == k->second.end() || (b != base.end() && b->first < o->first)) {
        if (!fn(b->second.object)) return;
        ++b;
        continue;
      }
      if (b != base.end() && b->first == o->first) ++b;  // the overlay's version wins
      if (o->second && !fn(o->second->object)) return;
      ++o;
    }
  }
  void forEachIndexed(std::string_view kind, std::string_view index, std::string_view value,
                      const std::function<bool(const Object&)>& fn, std::string_view fromId) const override {
    auto k = overlay_.find(kind);
    if (k == overlay_.end()) {
      base_.forEachIndexed(kind, index, value, fn, fromId);
      return;
    }
    // Committed holders the overlay does not touch, merged in id order with the
    // overlay's own holders (the overlay is small: one batch of writes).
    // Iterators, not pointers, and checked again when visited: fn may write (even
    // erase) an object further on, as it may in forEach.
    const auto& ov = k->second;
    std::vector<decltype(ov.begin())> mine;
    for (auto it = ov.lower_bound(fromId); it != ov.end(); ++it)
      if (it->second && holds(it->second->entries, index, value)) mine.push_back(it);
    static const IdSet kNone;
    const IdSet* found = indexedIds(cache_, kind, index, value);
    const IdSet& ids = found ? *found : kNone;
    auto b = ids.lower_bound(fromId);
    auto o = mine.begin();
    while (true) {
      while (b != ids.end() && ov.count(*b)) ++b;
      if (b == ids.end() && o == mine.end()) return;
      if (o == mine.end() || (b != ids.end() && *b < (*o)->first)) {
        if (!fn(cache_.objects.find(kind)->second.find(*b)->second.object)) return;
        ++b;
      } else {
        const auto& now = (*o)->second;
        if (now && holds(now->entries, index, value) && !fn(now->object)) return;
        ++o;
      }
    }
  }
  size_t count(std::string_view kind, std::string_view index, std::string_view value) const override {
    size_t n = base_.count(kind, index, value);
    auto k = overlay_.find(kind);
    if (k == overlay_.end()) return n;
    const IdSet* ids = indexedIds(cache_, kind, index, value);
    for (const auto& [id, o] : k->second) {
      if (ids && ids->count(id)) --n;
      if (o && holds(o->entries, index, value)) ++n;
    }
    return n;
  }
  // kind and id may point into the very object being replaced (a caller passing
  // o.kind, o.id of an object forEach handed it): copy them before the write.
  void put(std::string_view kind, std::string_view id, std::string body) override {
    std::string k(kind), i(id);
    IndexEntries entries = indexer_ ? indexer_(k, body) : IndexEntries{};
    own_[k][i];
    overlay_[k][i] = Stored{Object{k, i, std::move(body), rev_}, std::move(entries)};
  }
  void erase(std::string_view kind, std::string_view id) override {
    std::string k(kind), i(id);
    own_[k][i];
    overlay_[k][i] = std::nullopt;
  }
  uint64_t revision() const override { return rev_; }
  bool wrote() const { return !own_.empty(); }
  // This transaction's own writes (not the staged ones it started from).
  Overlay ownWrites() const {
    Overlay out = own_;
    for (auto& [kind, ids] : out)
      for (auto& [id, o] : ids) o = overlay_.at(kind).at(id);
    return out;
  }
  // Everything it saw as written: staged plus its own writes.
  Overlay takeOverlay() { return std::move(overlay_); }

 private:
  CacheView base_;
  const Cache& cache_;
  uint64_t rev_;
  Overlay overlay_;
  Overlay own_;  // keys only
  const Indexer& indexer_;
};

// One transaction queued for the disk.
struct Pending {
  uint64_t revision = 0;
  Overlay writes;
  bool done = false;  // guarded by commit_mu_
  Status status;      // guarded by commit_mu_
};

class SqliteStore final : public Store {
 public:
  ~SqliteStore() override {
    {
      std::lock_guard l(ckpt_mu_);
      ckpt_stop_ = true;
    }
    ckpt_cv_.notify_all();
    if (ckpt_thread_.joinable()) ckpt_thread_.join();
    if (ckpt_db_) sqlite3_close(ckpt_db_);
    for (auto* s : {put_, del_, rev_stmt_, begin_, commit_, rollback_})
      if (s) sqlite3_finalize(s);
    if (db_) sqlite3_close(db_);  // the last connection: checkpoints and removes the WAL
  }

  explicit SqliteStore(Indexer indexer) : indexer_(std::move(indexer)) {}

  Status open(const std::string& dir) {
    std::string path = dir + "/linkplane.db";
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      return error("open " + path);
    }
    LP_RETURN_IF_ERROR(exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;"));
    LP_RETURN_IF_ERROR(exec(fmt::format("PRAGMA journal_size_limit={};", kWalKeepBytes).c_str()));
    LP_RETURN_IF_ERROR(startCheckpointer(path));
    LP_RETURN_IF_ERROR(sqlite::migrateSchema(db_, path));
    LP_RETURN_IF_ERROR(prepare("INSERT OR REPLACE INTO objects (kind, id, body, revision) VALUES (?, ?, ?, ?)", &put_));
    LP_RETURN_IF_ERROR(prepare("DELETE FROM objects WHERE kind = ? AND id = ?", &del_));
    LP_RETURN_IF_ERROR(prepare("UPDATE meta SET value = ? WHERE key = 'revision'", &rev_stmt_));
    LP_RETURN_IF_ERROR(prepare("BEGIN IMMEDIATE", &begin_));
    LP_RETURN_IF_ERROR(prepare("COMMIT", &commit_));
    LP_RETURN_IF_ERROR(prepare("ROLLBACK", &rollback_));
    return load();
  }

  Status update(const std::function<Status(WriteTxn&)>& fn) override {
    std::shared_ptr<Pending> mine;
    bool sawStaged = false;
    Status result;
    {
      std::lock_guard writer(write_mu_);
      sawStaged = !staged_.empty();
      uint64_t next = staged_revision_ + 1;
      std::unique_ptr<TxnImpl> txn;
      {
        std::shared_lock rl(cache_mu_);
        txn = std::make_unique<TxnImpl>(cache_, next, staged_, indexer_);
        result = fn(*txn);
      }
      if (result.ok() && txn->wrote()) {
        mine = std::make_shared<Pending>();
        mine->revision = next;
        mine->writes = txn->ownWrites();
        staged_ = txn->takeOverlay();
        staged_revision_ = next;
        queue_.push_back(mine);
      }
    }
    // An answer that read writes not yet on disk waits for them too.
    if (!mine && !sawStaged) return result;
    std::lock_guard committer(commit_mu_);
    if (mine && mine->done) return mine->status;
    Status st = commitQueued();
    if (mine) return mine->status;
    return st.ok() ? result : st;
  }

  void read(const std::function<void(const ReadView&)>& fn) const override {
    std::shared_lock rl(cache_mu_);
    CacheView view(cache_);
    fn(view);
  }

  uint64_t revision() const override {
    std::shared_lock rl(cache_mu_);
    return revision_;
  }

  std::vector<Change> changesSince(uint64_t rev) const override {
    std::shared_lock rl(cache_mu_);
    // Sorted by revision: start at the first newer one rather than scanning the history.
    auto first = std::upper_bound(changes_.begin(), changes_.end(), rev,
                                  [](uint64_t r, const Change& c) { return r < c.revision; });
    return std::vector<Change>(first, changes_.end());
  }

  bool waitForRevision(uint64_t rev, std::chrono::milliseconds timeout) const override {
    std::unique_lock lk(rev_wait_mu_);
    return rev_cv_.wait_for(lk, timeout, [&] { return revision() > rev; });
  }

 private:
  Status error(const std::string& what) const {
    return Status("InternalError", fmt::format("store: {}: {}", what, db_ ? sqlite3_errmsg(db_) : "no database"));
  }

  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      return Status("InternalError", "store: " + msg);
    }
    return Status::Ok();
  }

  Status prepare(const char* sql, sqlite3_stmt** stmt) {
    if (sqlite3_prepare_v2(db_, sql, -1, stmt, nullptr) != SQLITE_OK) return error(sql);
    return Status::Ok();
  }

  Status step(sqlite3_stmt* s) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error("step");
    return Status::Ok();
  }

  Status load() {
    sqlite3_stmt* s = nullptr;
    LP_RETURN_IF_ERROR(prepare("SELECT kind, id, body, revision FROM objects", &s));
    while (sqlite3_step(s) == SQLITE_ROW) {
      Object o;
      o.kind = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      o.id = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
      o.body = reinterpret_cast<const char*>(sqlite3_column_text(s, 2));
      o.revision = static_cast<uint64_t>(sqlite3_column_int64(s, 3));
      auto kind = o.kind;
      auto id = o.id;
      IndexEntries entries = indexer_ ? indexer_(o.kind, o.body) : IndexEntries{};
      applyToCache(cache_, kind, id, Stored{std::move(o), std::move(entries)});
    }
    sqlite3_finalize(s);
    LP_RETURN_IF_ERROR(prepare("SELECT value FROM meta WHERE key = 'revision'", &s));
    if (sqlite3_step(s) == SQLITE_ROW)
      revision_ = std::stoull(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    staged_revision_ = revision_;
    sqlite3_finalize(s);
    return Status::Ok();
  }

  // Writes every queued transaction in one SQLite transaction, then makes them
  // visible and marks them done. Caller holds commit_mu_.
  Status commitQueued() {
    std::vector<std::shared_ptr<Pending>> batch;
    {
      std::lock_guard writer(write_mu_);
      batch.swap(queue_);
    }
    if (batch.empty()) return Status::Ok();
    const auto started = std::chrono::steady_clock::now();
    Status st = persist(batch);
    recordCommitMetrics(batch.size(), st.ok(), std::chrono::steady_clock::now() - started);
    if (!st.ok()) {
      // Later queued transactions built on these writes: they fail too, and the
      // staged state goes back to what is committed.
      std::lock_guard writer(write_mu_);
      for (auto& p : queue_) batch.push_back(p);
      queue_.clear();
      staged_.clear();
      staged_revision_ = revision();
      for (auto& p : batch) {
        p->status = st;
        p->done = true;
      }
      return st;
    }
    {
      std::unique_lock wl(cache_mu_);
      for (auto& p : batch) {
        for (auto& [kind, objs] : p->writes) {
          for (auto& [id, o] : objs) {
            applyToCache(cache_, kind, id, o);
            changes_.push_back(Change{p->revision, kind, id, !o.has_value()});
          }
        }
        revision_ = p->revision;
      }
      // Whole revisions only: a reader whose next revision is still held gets all
      // of its changes, and one that is further behind sees a gap and resyncs.
      while (changes_.size() > kChangeHistory) {
        uint64_t oldest = changes_.front().revision;
        while (!changes_.empty() && changes_.front().revision == oldest) changes_.pop_front();
      }
    }
    {
      // What is committed leaves the staged overlay, unless a later queued
      // transaction wrote the same object.
      std::lock_guard writer(write_mu_);
      Overlay rest;
      for (auto& p : queue_)
        for (auto& [kind, objs] : p->writes)
          for (auto& [id, o] : objs) rest[kind][id] = o;
      staged_ = std::move(rest);
    }
    for (auto& p : batch) {
      p->status = Status::Ok();
      p->done = true;
    }
    { std::lock_guard g(rev_wait_mu_); }  // no waiter may miss this between check and sleep
    rev_cv_.notify_all();
    return Status::Ok();
  }

  Status persist(const std::vector<std::shared_ptr<Pending>>& batch) {
    LP_RETURN_IF_ERROR(step(begin_));
    auto fail = [&](Status st) {
      (void)step(rollback_);
      return st;
    };
    for (auto& p : batch) {
      for (auto& [kind, objs] : p->writes) {
        for (auto& [id, o] : objs) {
          sqlite3_stmt* s = o ? put_ : del_;
          sqlite3_bind_text(s, 1, kind.data(), static_cast<int>(kind.size()), SQLITE_TRANSIENT);
          sqlite3_bind_text(s, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
          if (o) {
            const std::string& body = o->object.body;
            sqlite3_bind_text(s, 3, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
            sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(p->revision));
          }
          Status st = step(s);
          sqlite3_clear_bindings(s);
          if (!st.ok()) return fail(st);
        }
      }
    }
    std::string rev = std::to_string(batch.back()->revision);
    sqlite3_bind_text(rev_stmt_, 1, rev.data(), static_cast<int>(rev.size()), SQLITE_TRANSIENT);
    if (Status st = step(rev_stmt_); !st.ok()) return fail(st);
    if (Status st = step(commit_); !st.ok()) return fail(st);
    return Status::Ok();
  }

  Status startCheckpointer(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &ckpt_db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      Status st("InternalError", fmt::format("store: open {} for checkpoints: {}", path,
                                             ckpt_db_ ? sqlite3_errmsg(ckpt_db_) : "no memory"));
      sqlite3_close(ckpt_db_);
      ckpt_db_ = nullptr;
      return st;
    }
    char* err = nullptr;
    if (sqlite3_exec(ckpt_db_, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;", nullptr, nullptr, &err) !=
        SQLITE_OK) {
      Status st("InternalError", fmt::format("store: checkpoint connection: {}", err ? err : "unknown"));
      sqlite3_free(err);
      return st;
    }
    // Replaces the automatic checkpoint of the writing connection.
    sqlite3_wal_hook(db_, &SqliteStore::onWalCommit, this);
    ckpt_thread_ = std::thread([this] { checkpointLoop(); });
    return Status::Ok();
  }

  // Called by SQLite on the writing connection after each commit, with the number
  // of pages now in the WAL.
  static int onWalCommit(void* self, sqlite3*, const char*, int pages) {
    auto* s = static_cast<SqliteStore*>(self);
    if (pages >= kCheckpointPages) {
      {
        std::lock_guard l(s->ckpt_mu_);
        s->wal_pages_ = pages;
      }
      s->ckpt_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void checkpointLoop() {
    std::unique_lock l(ckpt_mu_);
    while (true) {
      ckpt_cv_.wait(l, [&] { return ckpt_stop_ || wal_pages_ > 0; });
      if (ckpt_stop_) return;
      int pages = wal_pages_;
      wal_pages_ = 0;
      l.unlock();
      // PASSIVE copies what it can without blocking the writer; the writer starts
      // the WAL over once everything in it is copied. A writer that never pauses
      // never lets that happen, so past the hard limit RESTART waits for a gap.
      int mode = pages >= kWalHardLimitPages ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
      int rc = sqlite3_wal_checkpoint_v2(ckpt_db_, nullptr, mode, nullptr, nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) LP_LOG_WARN("store: checkpoint: {}", sqlite3_errmsg(ckpt_db_));
      l.lock();
    }
  }

  const Indexer indexer_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt *put_ = nullptr, *del_ = nullptr, *rev_stmt_ = nullptr;
  sqlite3_stmt *begin_ = nullptr, *commit_ = nullptr, *rollback_ = nullptr;

  // Lock order: commit_mu_, then write_mu_, then cache_mu_.
  std::mutex commit_mu_;  // one leader writes the queue to disk at a time
  std::mutex write_mu_;   // transaction functions, queue_, staged_, staged_revision_
  std::vector<std::shared_ptr<Pending>> queue_;
  Overlay staged_;  // merged writes of queue_ (and of a batch being written)
  uint64_t staged_revision_ = 0;
  mutable std::shared_mutex cache_mu_;
  Cache cache_;
  uint64_t revision_ = 0;
  std::deque<Change> changes_;
  mutable std::mutex rev_wait_mu_;
  mutable std::condition_variable rev_cv_;

  sqlite3* ckpt_db_ = nullptr;  // used only by ckpt_thread_
  std::thread ckpt_thread_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  int wal_pages_ = 0;  // guarded by ckpt_mu_: WAL size at the last commit past the threshold
  bool ckpt_stop_ = false;
};

}  // namespace

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& dir, Indexer indexer) {
  auto store = std::make_unique<SqliteStore>(std::move(indexer));
  LP_RETURN_IF_ERROR(store->open(dir));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace lp::store
