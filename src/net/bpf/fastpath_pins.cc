#include "net/bpf/fastpath_pins.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "net/bpf/bpffs.h"

namespace lp::net::bpf {

namespace {

std::string errnoText(int err) { return std::strerror(err); }

// The entries of dir (without . and ..); empty when dir is absent.
Result<std::vector<std::string>> entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return names;
    return bpfError(BpfError::kPin, "open " + dir + ": " + errnoText(errno));
  }
  while (dirent* e = readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
  closedir(d);
  return names;
}

// Removes dir and what it holds (pinned maps; directories of pins, recursively).
Status removePins(const std::string& dir) {
  LP_ASSIGN_OR_RETURN(auto names, entries(dir));
  for (const auto& name : names) {
    std::string path = dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      LP_RETURN_IF_ERROR(removePins(path));
    } else if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return bpfError(BpfError::kPin, "unlink " + path + ": " + errnoText(errno));
    }
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT)
    return bpfError(BpfError::kPin, "rmdir " + dir + ": " + errnoText(errno));
  return Status::Ok();
}

// Why maps of this layout cannot serve limits: "" when their sizes are limits'.
Result<std::string> sizeMismatch(const FastpathMaps& maps, const FastpathLimits& limits) {
  const uint32_t want[FastpathMaps::kCount] = {limits.connections, limits.endpoints, limits.links,
                                               limits.targetSets,  limits.hosts,     limits.links};
  for (int m = 0; m < FastpathMaps::kCount; ++m) {
    bpf_map_info info;
    std::memset(&info, 0, sizeof info);
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(maps.fd(static_cast<FastpathMaps::Map>(m)), &info, &len) != 0)
      return bpfError(BpfError::kMap, std::string("info of ") + FastpathMaps::kNames[m] + ": " + errnoText(errno));
    if (info.max_entries != want[m])
      return std::string(FastpathMaps::kNames[m]) + " has " + std::to_string(info.max_entries) +
             " entries, the configuration asks for " + std::to_string(want[m]);
  }
  return std::string();
}

}  // namespace

Result<FastpathPins> adoptOrCreate(const std::string& dir, const FastpathLimits& limits) {
  LP_RETURN_IF_ERROR(ensureBpffs(parentDirectory(dir)));
  FastpathPins pins;
  auto pinned = FastpathMaps::openPinned(dir);
  if (pinned.ok()) {
    LP_ASSIGN_OR_RETURN(pins.discarded, sizeMismatch(**pinned, limits));
    if (pins.discarded.empty()) {
      pins.maps = std::move(pinned).value();
      pins.adopted = true;
      auto count = pins.maps->connectionCount();
      LP_LOG_INFO("bpf fast path: adopted the maps pinned under {} ({} connection-table entries)", dir,
                  count.ok() ? *count : 0);
      return pins;
    }
  } else {
    auto why = bpfErrorOf(pinned.status());
    if (why == BpfError::kIncompatible) {
      pins.discarded = pinned.status().message();
    } else if (why == BpfError::kNotPinned) {
      LP_ASSIGN_OR_RETURN(auto names, entries(dir));
      if (!names.empty()) pins.discarded = "an incomplete set of pins (" + pinned.status().message() + ")";
    } else {
      return pinned.status();
    }
  }
  if (!pins.discarded.empty())
    LP_LOG_WARN(
        "bpf fast path: not adopting the maps pinned under {}: {}; starting with fresh maps, so the "
        "connections established on the fast path before this start are cut",
        dir, pins.discarded);
  LP_RETURN_IF_ERROR(removePins(dir));
  LP_ASSIGN_OR_RETURN(pins.maps, FastpathMaps::create(limits));
  if (Status st = pins.maps->pin(dir); !st.ok()) {
    (void)removePins(dir);
    return st;
  }
  return pins;
}

Status teardown(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 && errno == ENOENT) return Status::Ok();
  if (!isBpffs(dir)) return bpfError(BpfError::kPin, dir + " is not on a bpffs: not removing it");
  return removePins(dir);
}

}  // namespace lp::net::bpf
