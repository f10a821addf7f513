// Private address allocation inside a subnet, shared by everything that makes a
// network interface (workloads, endpoint interfaces, load-balancer nodes). Runs
// inside the caller's write transaction, so two allocations never collide.
#pragma once

#include <string>

#include "control/typed_store.h"
#include "model/resources.h"

namespace lp::control {

// The requested address when it is assignable and free, else the lowest free
// assignable address (skipping AWS's four first and last addresses).
// InvalidParameterValue / InvalidIPAddress.InUse / InsufficientFreeAddressesInSubnet.
Result<std::string> allocatePrivateIp(const View& v, const model::Subnet& subnet, const std::string& requested = "");
// Assignable addresses not held by an interface: Subnet.AvailableIpAddressCount.
uint64_t availableIpCount(const View& v, const model::Subnet& subnet);
// A locally administered unicast MAC address, stable for the interface id.
std::string macForInterface(const std::string& interfaceId);

}  // namespace lp::control
