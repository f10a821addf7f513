// EC2 instances as workloads: the Instance resource, its state machine with AWS's
// state codes, and the catalog of images RunInstances accepts. Values only.
//
// An instance is a workload namespace (its primary network interface is an ordinary
// workload ENI, made as CreateNetworkInterface makes one) in which its UserData ran
// once at first start. See docs/instances.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/ids.h"
#include "model/resources.h"

namespace lp::model {

// AWS's instance states; the wire carries the name and its code.
enum class InstanceState { kPending, kRunning, kShuttingDown, kTerminated, kStopping, kStopped };

std::string_view instanceStateName(InstanceState s);
int instanceStateCode(InstanceState s);  // 0, 16, 32, 48, 64, 80
std::optional<InstanceState> parseInstanceState(std::string_view name);

// What a user asks of an instance.
enum class InstanceAction { kStop, kStart, kTerminate };

// The state an action moves an instance to: nullopt when the action is not allowed in
// that state (IncorrectInstanceState). Asking for what is already under way (stopping
// a stopped instance, terminating a terminated one) answers the state unchanged, as AWS.
std::optional<InstanceState> nextState(InstanceState now, InstanceAction action);

// Whether the host still has work to do for an instance in this state (the instance
// supervisor watches these).
bool isTransitional(InstanceState s);

// Whether a route to an instance carries traffic in this state (pending or running);
// otherwise the route is a blackhole, as AWS describes and drops it.
bool canTakeTraffic(InstanceState s);

struct Instance {
  static constexpr std::string_view kKind = "instance";
  InstanceId id;
  AccountId ownerId;
  ReservationId reservationId;
  std::string imageId;
  std::string instanceType;
  std::string keyName;
  int amiLaunchIndex = 0;
  VpcId vpcId;
  SubnetId subnetId;
  std::string zoneId;
  // The primary interface (device index 0), made and deleted with the instance.
  NetworkInterfaceId networkInterfaceId;
  AttachmentId attachmentId;
  std::string privateIp;
  std::string macAddress;
  std::vector<SecurityGroupId> groupIds;
  std::string state = "pending";  // instanceStateName()
  std::string stateTransitionReason;
  std::string stateReasonCode;  // e.g. "Client.UserInitiatedShutdown"
  std::string stateReasonMessage;
  std::string userData;  // base64, as given
  bool userDataRan = false;  // set once it was started: it never runs again
  std::string clientToken;
  std::string launchTime;
  std::string terminatedAt;  // when it reached terminated (purged a while later)
  Tags tags;
  // Instance attributes (DescribeInstanceAttribute / ModifyInstanceAttribute).
  bool disableApiTermination = false;  // TerminateInstances refuses while true
  bool disableApiStop = false;         // StopInstances refuses while true
  std::string shutdownBehavior = "stop";  // instanceInitiatedShutdownBehavior
  bool ebsOptimized = false;
  std::string creditSpecification;  // t-types: standard | unlimited; "" otherwise
  // The root EBS volume, a stored model::Volume (model/volume.h) made with the
  // instance; the supervisor deletes or detaches it at termination.
  VolumeId rootVolumeId;
  int rootVolumeSizeGiB = 8;
  Tags volumeTags;  // unused since the volume holds its tags; store migration 3 copied them there
  // RebootInstances asks (requested++); the supervisor restarts the instance's
  // processes and catches up (done = requested).
  int rebootsRequested = 0;
  int rebootsDone = 0;
  // Instance metadata options (ModifyInstanceMetadataOptions, RunInstances'
  // MetadataOptions). Recorded and described: no metadata service runs here.
  std::string metadataHttpTokens = "optional";        // optional | required
  int metadataHopLimit = 1;                           // 1..64
  std::string metadataHttpEndpoint = "enabled";       // enabled | disabled
  std::string metadataHttpProtocolIpv6 = "disabled";  // enabled | disabled
  std::string metadataTags = "disabled";              // instanceMetadataTags: enabled | disabled
  // Detailed monitoring (Monitor/UnmonitorInstances, RunInstances' Monitoring.Enabled).
  bool monitoringEnabled = false;
  // The subnet's PrivateDnsNameOptionsOnLaunch when it was launched.
  std::string hostnameType = "ip-name";
  bool enableResourceNameDnsARecord = false;

  InstanceState stateValue() const { return parseInstanceState(state).value_or(InstanceState::kPending); }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    Instance, id, ownerId, reservationId, imageId, instanceType, keyName, amiLaunchIndex, vpcId, subnetId, zoneId,
    networkInterfaceId, attachmentId, privateIp, macAddress, groupIds, state, stateTransitionReason, stateReasonCode,
    stateReasonMessage, userData, userDataRan, clientToken, launchTime, terminatedAt, tags, disableApiTermination,
    disableApiStop, shutdownBehavior, ebsOptimized, creditSpecification, rootVolumeId, rootVolumeSizeGiB, volumeTags,
    rebootsRequested, rebootsDone, metadataHttpTokens, metadataHopLimit, metadataHttpEndpoint, metadataHttpProtocolIpv6,
    metadataTags, monitoringEnabled, hostnameType, enableResourceNameDnsARecord)

// What GetConsoleOutput serves: the tail of the instance's console (its UserData's
// output and what the programs it started print), posted by the instance supervisor
// after each state change and while it grows, as AWS posts it in snapshots.
// Store kind "instance-console", id = the instance id.
struct InstanceConsole {
  static constexpr std::string_view kKind = "instance-console";
  std::string output;
  std::string timestamp;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(InstanceConsole, output, timestamp)

// AWS serves the last 64 KiB of console output.
inline constexpr size_t kMaxConsoleBytes = 65536;

// An image RunInstances accepts. These are names, not disks: an instance runs the
// host's own Debian userland in its namespace, whatever image it names.
struct Image {
  std::string id;
  std::string name;
  std::string description;
  std::string architecture;  // x86_64 | arm64
  std::string creationDate;
  std::string ownerId;  // Debian's AWS account
};

// Debian's cloud images, as its account publishes them (names debian-12-amd64-*).
const std::vector<Image>& imageCatalog();
const Image* findImage(std::string_view id);

// An instance type RunInstances accepts, with what DescribeInstanceTypes reports.
// Nothing limits an instance to these figures here: they are what AWS's type offers.
struct InstanceTypeInfo {
  std::string name;  // t3.micro
  int vcpus;
  int cores;
  int threadsPerCore;
  int memoryMiB;
  std::string networkPerformance;  // "Up to 5 Gigabit"
  int maxNetworkInterfaces;
  int ipv4AddressesPerInterface;
  std::string architecture;       // x86_64 | arm64
  double sustainedClockGhz;
  bool burstable;                 // t-types: CPU credits
  std::string defaultCredits;     // t2: standard; t3, t3a, t4g: unlimited
};
const std::vector<InstanceTypeInfo>& instanceTypeCatalog();
const InstanceTypeInfo* findInstanceType(std::string_view name);

// AWS's limit on UserData: 16 KiB of raw data, before base64.
inline constexpr size_t kMaxUserDataBytes = 16384;

}  // namespace lp::model
