// InstanceService: EC2 instances as workloads. RunInstances makes each instance's
// primary interface the way CreateNetworkInterface makes a workload interface
// (network_interface_service.h) and stores the instance `pending`; the instance
// supervisor (reconciler/instance_supervisor.h) does the host's part and moves it on
// (running, stopped, terminated). Stop, start and terminate only ask for a state
// here. Stateless over a ControlContext; any thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/block_device_mapping.h"
#include "control/common.h"
#include "control/query.h"
#include "control/vpc_service.h"
#include "model/instance.h"
#include "model/volume.h"

namespace lp::control {

// ModifyInstanceMetadataOptions (and RunInstances' MetadataOptions): what is given
// changes, the rest stays.
struct MetadataOptionsChange {
  std::string httpTokens;            // optional | required
  std::optional<int64_t> hopLimit;   // HttpPutResponseHopLimit 1..64
  std::string httpEndpoint;          // enabled | disabled
  std::string httpProtocolIpv6;      // enabled | disabled
  std::string instanceMetadataTags;  // enabled | disabled
  bool any() const {
    return !httpTokens.empty() || hopLimit || !httpEndpoint.empty() || !httpProtocolIpv6.empty() ||
           !instanceMetadataTags.empty();
  }
};
// Applies the change, or answers AWS's InvalidParameterValue for a value out of
// range (the instance unchanged then). Pure.
Status applyMetadataOptions(model::Instance& i, const MetadataOptionsChange& change);

struct RunInstancesInput {
  std::string imageId;
  std::string instanceType;
  std::string minCount, maxCount;  // as sent; validated here
  std::string subnetId;
  std::vector<std::string> groupIds;    // SecurityGroupId.N
  std::vector<std::string> groupNames;  // SecurityGroup.N (EC2-Classic and default VPCs only)
  std::string privateIpAddress;
  std::string userData;  // base64
  std::string keyName;
  std::string availabilityZone;  // Placement.AvailabilityZone, must be the subnet's
  std::string clientToken;
  std::vector<TagSpecification> tagSpecs;  // instance, network-interface, volume
  std::string creditSpecification;         // CreditSpecification.CpuCredits (t-types)
  std::optional<bool> disableApiTermination;
  std::optional<bool> disableApiStop;
  std::string shutdownBehavior;  // InstanceInitiatedShutdownBehavior: stop | terminate
  std::optional<bool> ebsOptimized;
  std::vector<BlockDeviceMappingInput> blockDeviceMappings;  // the root device's only
  MetadataOptionsChange metadataOptions;                     // MetadataOptions.*
  std::optional<bool> monitoring;                            // Monitoring.Enabled
};

// ModifyInstanceAttribute: exactly one of these per call, as AWS.
struct ModifyInstanceAttributeInput {
  std::string instanceId;
  std::optional<std::string> instanceType;  // stopped only
  std::optional<std::string> userData;      // base64; stopped only
  std::optional<bool> disableApiTermination;
  std::optional<bool> disableApiStop;
  std::optional<std::string> shutdownBehavior;
  std::optional<bool> ebsOptimized;  // stopped only
  std::optional<bool> sourceDestCheck;
  std::vector<std::string> groupIds;  // GroupId.N; empty = unchanged
};

struct CreditSpecification {
  std::string instanceId;
  std::string cpuCredits;  // standard | unlimited
};

// ModifyInstanceCreditSpecification: one InstanceCreditSpecification.N.
struct CreditSpecificationChange {
  std::string instanceId;
  std::string cpuCredits;
};
// Its answer: the instances changed, and per instance that was not, AWS's code
// (InvalidInstanceID.Malformed, InvalidInstanceID.NotFound, IncorrectInstanceState,
// InstanceCreditSpecification.NotSupported) and message.
struct CreditSpecificationFailure {
  std::string instanceId;
  std::string code;
  std::string message;
};
struct CreditSpecificationResult {
  std::vector<std::string> successful;
  std::vector<CreditSpecificationFailure> unsuccessful;
};

// One instance of Monitor/UnmonitorInstances' answer: pending or disabling, the
// state AWS answers before DescribeInstances shows enabled or disabled.
struct MonitoringChange {
  std::string instanceId;
  std::string state;
};

// An instance with what AWS renders per caller.
struct InstanceInfo {
  model::Instance instance;
  std::string zoneName;
  std::vector<std::pair<std::string, std::string>> groups;  // id, name
  std::string eniStatus;  // its primary interface's status ("" once gone)
  bool sourceDestCheck = true;  // its primary interface's
  model::Tags eniTags;
  std::optional<model::Volume> rootVolume;  // while attached to it
};

struct Reservation {
  std::string reservationId;
  std::string ownerId;
  std::vector<InstanceInfo> instances;
};

struct InstanceStateChange {
  std::string instanceId;
  model::InstanceState previous;
  model::InstanceState current;
};

struct ConsoleOutput {
  std::string instanceId;
  std::string output;  // raw text (the handler encodes it)
  std::string timestamp;
};

class InstanceService {
 public:
  explicit InstanceService(ControlContext& ctx) : ctx_(ctx) {}

  Result<Reservation> runInstances(const CallContext& call, const RunInstancesInput& in);
  // Instances in id order, MaxResults 5..1000 (AWS groups them by reservation; the
  // handler does).
  Result<Page<InstanceInfo>> describeInstances(const CallContext& call, const DescribeInput& in);
  // Running instances only, unless includeAll.
  Result<Page<InstanceInfo>> describeInstanceStatus(const CallContext& call, const DescribeInput& in,
                                                    bool includeAll);
  Result<std::vector<InstanceStateChange>> changeState(const CallContext& call, const std::vector<std::string>& ids,
                                                       model::InstanceAction action);
  Result<ConsoleOutput> getConsoleOutput(const CallContext& call, const std::string& id);
  Result<Page<model::Image>> describeImages(const CallContext& call, const DescribeInput& in,
                                            const std::vector<std::string>& owners);
  // DescribeInstanceAttribute for the attributes that have a value here.
  Result<std::pair<InstanceInfo, std::string>> describeInstanceAttribute(const CallContext& call,
                                                                         const std::string& id,
                                                                         const std::string& attribute);

  // instance_detail_service.cc
  Status modifyInstanceAttribute(const CallContext& call, const ModifyInstanceAttributeInput& in);
  // Running instances only (IncorrectInstanceState otherwise); the instance supervisor
  // restarts their processes. UserData does not run again.
  Status rebootInstances(const CallContext& call, const std::vector<std::string>& ids);
  Result<Page<model::InstanceTypeInfo>> describeInstanceTypes(const CallContext& call, const DescribeInput& in);
  // Burstable (t-type) instances that are not terminated.
  Result<Page<CreditSpecification>> describeInstanceCreditSpecifications(const CallContext& call,
                                                                        const DescribeInput& in);
  // Per instance: burstable instances that are not shutting down or terminated change;
  // the others are listed unsuccessful. Errors of the whole call: none given, a bad
  // CpuCredits value, an instance named twice.
  Result<CreditSpecificationResult> modifyInstanceCreditSpecification(
      const CallContext& call, const std::vector<CreditSpecificationChange>& changes);

  // instance_settings_service.cc
  // Not while shutting down or terminated (IncorrectInstanceState). Returns the
  // instance as changed.
  Result<model::Instance> modifyInstanceMetadataOptions(const CallContext& call, const std::string& id,
                                                        const MetadataOptionsChange& change);
  // Monitor/UnmonitorInstances: all named instances or none (NotFound, or
  // IncorrectInstanceState for one shutting down or terminated).
  Result<std::vector<MonitoringChange>> setMonitoring(const CallContext& call, const std::vector<std::string>& ids,
                                                      bool enabled);

 private:
  ControlContext& ctx_;
};

// The rendering DescribeInstances uses (zone name, group names, interface status).
InstanceInfo renderInstance(const View& v, const ControlContext& ctx, const CallContext& call, model::Instance i);
// InvalidInstanceID.Malformed for an id that is not one.
Status checkInstanceIds(const std::vector<std::string>& ids);
// InvalidInstanceID.NotFound for a named instance that is not the caller's (or not there).
Status checkInstancesOwned(const View& v, const CallContext& call, const std::vector<std::string>& ids);

// How long a terminated instance stays described (AWS: about an hour).
inline constexpr int kTerminatedRetentionMinutes = 60;

}  // namespace lp::control
