// Instances: the state machine, RunInstances' parameters, filters and ClientToken,
// and the supervisor moving instances through their states over a real SQLite
// store with a fake host (no namespaces, no processes).
#include <gtest/gtest.h>

#include <signal.h>

#include "common/strings.h"
#include "control/account_service.h"
#include "control/elb_service.h"
#include "control/instance_service.h"
#include "control/network_interface_service.h"
#include "control/subnet_service.h"
#include "control/tag_service.h"
#include "control/volume_service.h"
#include "reconciler/instance_supervisor.h"
#include "security_group_test_fixture.h"

namespace lp::control::testing {
namespace {

using model::InstanceAction;
using model::InstanceState;

TEST(InstanceStates, CodesAreAwsOnes) {
  EXPECT_EQ(model::instanceStateCode(InstanceState::kPending), 0);
  EXPECT_EQ(model::instanceStateCode(InstanceState::kRunning), 16);
  EXPECT_EQ(model::instanceStateCode(InstanceState::kShuttingDown), 32);
  EXPECT_EQ(model::instanceStateCode(InstanceState::kTerminated), 48);
  EXPECT_EQ(model::instanceStateCode(InstanceState::kStopping), 64);
  EXPECT_EQ(model::instanceStateCode(InstanceState::kStopped), 80);
  EXPECT_EQ(model::parseInstanceState("shutting-down"), InstanceState::kShuttingDown);
  EXPECT_FALSE(model::parseInstanceState("Running"));
}

TEST(InstanceStates, ActionsAllowedAsAwsAllowsThem) {
  using S = InstanceState;
  auto next = [](S s, InstanceAction a) { return model::nextState(s, a); };
  EXPECT_EQ(next(S::kRunning, InstanceAction::kStop), S::kStopping);
  EXPECT_EQ(next(S::kStopped, InstanceAction::kStop), S::kStopped);  // already: unchanged
  EXPECT_FALSE(next(S::kPending, InstanceAction::kStop));
  EXPECT_FALSE(next(S::kTerminated, InstanceAction::kStop));
  EXPECT_EQ(next(S::kStopped, InstanceAction::kStart), S::kPending);
  EXPECT_EQ(next(S::kRunning, InstanceAction::kStart), S::kRunning);
  EXPECT_FALSE(next(S::kStopping, InstanceAction::kStart));
  EXPECT_FALSE(next(S::kTerminated, InstanceAction::kStart));
  for (S s : {S::kPending, S::kRunning, S::kStopping, S::kStopped})
    EXPECT_EQ(next(s, InstanceAction::kTerminate), S::kShuttingDown);
  EXPECT_EQ(next(S::kTerminated, InstanceAction::kTerminate), S::kTerminated);
}

TEST(InstanceSteps, SupervisorDecisions) {
  using reconciler::InstanceObservation;
  using reconciler::InstanceStep;
  model::Instance i;
  i.state = "pending";
  EXPECT_EQ(reconciler::nextStep(i, {}), InstanceStep::kWait);
  EXPECT_EQ(reconciler::nextStep(i, InstanceObservation{true, 0, false, false, false}), InstanceStep::kBoot);
  i.state = "stopping";
  EXPECT_EQ(reconciler::nextStep(i, InstanceObservation{false, 2, false, false, false}), InstanceStep::kSignalTerm);
  EXPECT_EQ(reconciler::nextStep(i, InstanceObservation{false, 2, true, false, false}), InstanceStep::kWait);
  EXPECT_EQ(reconciler::nextStep(i, InstanceObservation{false, 2, true, true, false}), InstanceStep::kSignalKill);
  EXPECT_EQ(reconciler::nextStep(i, InstanceObservation{false, 0, true, true, false}), InstanceStep::kFinishStop);
  i.state = "shutting-down";
  EXPECT_EQ(reconciler::nextStep(i, {}), InstanceStep::kFinishTerminate);
  i.state = "terminated";
  EXPECT_EQ(reconciler::nextStep(i, {}), InstanceStep::kWait);
  EXPECT_EQ(reconciler::nextStep(i, InstanceObservation{false, 0, false, false, true}), InstanceStep::kPurge);
}

// A host where namespaces are ready at once and processes are what the test says.
class FakeHost final : public reconciler::InstanceHost {
 public:
  bool interfaceReady(const model::Instance&) override { return ready; }
  Result<int> launch(const model::Instance& i, const std::string& script) override {
    launched.emplace_back(i.id.str(), script);
    procs[i.id.str()] = {1000 + static_cast<int>(launched.size())};
    return procs[i.id.str()].front();
  }
  std::vector<int> processes(const model::Instance& i) override { return procs[i.id.str()]; }
  void signal(const std::vector<int>& pids, int sig) override {
    for (int p : pids) signals.emplace_back(p, sig);
    if (sig == SIGTERM && obeyTerm) {
      for (auto& [id, ps] : procs) ps.clear();
    }
  }
  std::optional<int> reaped(int) override { return std::nullopt; }
  void appendConsole(const model::Instance& i, const std::string& line) override {
    console[i.id.str()] += line + "\n";
  }
  std::optional<std::string> consoleIfChanged(const model::Instance& i) override { return console[i.id.str()]; }
  void markRunning(const model::Instance& i, bool r) override { running[i.id.str()] = r; }

  bool ready = true;
  bool obeyTerm = true;
  std::vector<std::pair<std::string, std::string>> launched;
  std::map<std::string, std::vector<int>> procs;
  std::vector<std::pair<int, int>> signals;
  std::map<std::string, std::string> console;
  std::map<std::string, bool> running;
};

class InstanceFixture : public SecurityGroupFixture {
 protected:
  void SetUp() override {
    SecurityGroupFixture::SetUp();
    if (HasFatalFailure()) return;
    vpc_ = makeVpc();
    auto s = SubnetService(*ctx_).createSubnet(as(kProvider), {vpc_.id.str(), "10.0.1.0/24", "", "use1-az1", {}});
    ASSERT_TRUE(s.ok()) << s.status().toString();
    subnet_ = s->subnet.id.str();
  }
  RunInstancesInput base() {
    RunInstancesInput in;
    in.imageId = model::imageCatalog().front().id;
    in.instanceType = "t3.micro";
    in.minCount = in.maxCount = "1";
    in.subnetId = subnet_;
    return in;
  }
  Result<Reservation> run(RunInstancesInput in, const std::string& account = kProvider) {
    return InstanceService(*ctx_).runInstances(as(account), in);
  }
  std::string stateOf(const std::string& id) {
    auto page = InstanceService(*ctx_).describeInstances(as(kProvider), {{id}, {}, {}});
    EXPECT_TRUE(page.ok());
    return page.ok() && !page->items.empty() ? page->items[0].instance.state : "";
  }
  model::Vpc vpc_;
  std::string subnet_;
};

TEST_F(InstanceFixture, RunInstancesMakesAWorkloadInterfacePerInstance) {
  auto in = base();
  in.minCount = "2";
  in.maxCount = "3";
  in.userData = base64Encode("#!/bin/sh\necho hi\n");
  in.tagSpecs = {{"instance", {{"Name", "web"}}}, {"network-interface", {{"role", "primary"}}}};
  auto r = run(in);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_EQ(r->instances.size(), 3u);
  std::set<std::string> ips;
  for (size_t n = 0; n < 3; ++n) {
    const auto& i = r->instances[n].instance;
    EXPECT_EQ(i.state, "pending");
    EXPECT_EQ(i.amiLaunchIndex, static_cast<int>(n));
    EXPECT_EQ(i.reservationId.str(), r->reservationId);
    EXPECT_EQ(i.tags, (model::Tags{{"Name", "web"}}));
    ips.insert(i.privateIp);
    auto enis = NetworkInterfaceService(*ctx_).describeNetworkInterfaces(
        as(kProvider), {{i.networkInterfaceId.str()}, {}, {}});
    ASSERT_TRUE(enis.ok());
    const auto& e = enis->items.at(0).eni;
    EXPECT_EQ(e.interfaceType, "interface");  // a workload: the reconciler gives it its namespace
    EXPECT_EQ(e.managedBy, i.id.str());
    EXPECT_EQ(e.status, "in-use");
    EXPECT_EQ(e.privateIp, i.privateIp);
    EXPECT_EQ(e.groupIds, std::vector<model::SecurityGroupId>{vpc_.defaultSecurityGroupId});
    EXPECT_EQ(e.tags, (model::Tags{{"role", "primary"}}));
    // Its primary interface goes only with it.
    EXPECT_EQ(NetworkInterfaceService(*ctx_).deleteNetworkInterface(as(kProvider), e.id.str()).code(),
              "InvalidNetworkInterface.InUse");
  }
  EXPECT_EQ(ips, (std::set<std::string>{"10.0.1.4", "10.0.1.5", "10.0.1.6"}));
}

TEST_F(InstanceFixture, BadParametersChangeNothing) {
  auto code = [&](RunInstancesInput in) { return run(in).status().code(); };
  auto in = base();
  in.imageId = "ami-0123456789abcdef0";
  EXPECT_EQ(code(in), "InvalidAMIID.NotFound");
  in = base();
  in.imageId = "debian";
  EXPECT_EQ(code(in), "InvalidAMIID.Malformed");
  in = base();
  in.userData = "!!not base64!!";
  EXPECT_EQ(code(in), "InvalidParameterValue");
  in = base();
  in.minCount = "3";
  in.maxCount = "2";
  EXPECT_EQ(code(in), "InvalidParameterValue");
  in = base();
  in.maxCount = "";
  EXPECT_EQ(code(in), "MissingParameter");
  in = base();
  in.subnetId = "subnet-0123456789abcdef0";
  EXPECT_EQ(code(in), "InvalidSubnetID.NotFound");
  in = base();
  in.privateIpAddress = "10.0.1.50";
  in.maxCount = "2";
  EXPECT_EQ(code(in), "InvalidParameterCombination");
  in = base();
  in.tagSpecs = {{"vpc", {{"a", "b"}}}};
  EXPECT_EQ(code(in), "InvalidParameterValue");
  in = base();
  in.instanceType = "not a type";
  EXPECT_EQ(code(in), "InvalidParameterValue");
  EXPECT_EQ(run(base(), kConsumer).status().code(), "InvalidSubnetID.NotFound");
  EXPECT_EQ(InstanceService(*ctx_).runInstances(as(kProvider, true), base()).status().code(), "DryRunOperation");
  EXPECT_TRUE(all<model::Instance>().empty());
  EXPECT_TRUE(all<model::NetworkInterface>().empty());
}

TEST_F(InstanceFixture, ClientTokenReturnsTheSameReservation) {
  auto in = base();
  in.clientToken = "tok-1";
  in.maxCount = "2";
  auto a = run(in);
  auto b = run(in);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->reservationId, b->reservationId);
  ASSERT_EQ(b->instances.size(), 2u);
  EXPECT_EQ(a->instances[1].instance.id, b->instances[1].instance.id);
  in.instanceType = "t3.large";
  EXPECT_EQ(run(in).status().code(), "IdempotentParameterMismatch");
  EXPECT_EQ(all<model::Instance>().size(), 2u);
}

TEST_F(InstanceFixture, FiltersAndPages) {
  auto in = base();
  in.maxCount = "6";
  in.tagSpecs = {{"instance", {{"team", "a"}}}};
  auto r = run(in);
  ASSERT_TRUE(r.ok());
  InstanceService svc(*ctx_);
  auto count = [&](Filters f) {
    auto p = svc.describeInstances(as(kProvider), {{}, f, {}});
    EXPECT_TRUE(p.ok()) << p.status().toString();
    return p.ok() ? p->items.size() : 0;
  };
  const auto& first = r->instances[0].instance;
  EXPECT_EQ(count({{"tag:team", {"a"}}}), 6u);
  EXPECT_EQ(count({{"tag-key", {"team"}}}), 6u);
  EXPECT_EQ(count({{"instance-state-name", {"pending"}}}), 6u);
  EXPECT_EQ(count({{"instance-state-name", {"running"}}}), 0u);
  EXPECT_EQ(count({{"private-ip-address", {first.privateIp}}}), 1u);
  EXPECT_EQ(count({{"network-interface.network-interface-id", {first.networkInterfaceId.str()}}}), 1u);
  EXPECT_EQ(count({{"image-id", {first.imageId}}, {"vpc-id", {vpc_.id.str()}}, {"subnet-id", {subnet_}}}), 6u);
  EXPECT_EQ(count({{"instance-id", {first.id.str()}}}), 1u);
  EXPECT_EQ(svc.describeInstances(as(kProvider), {{}, {{"no-such", {"x"}}}, {}}).status().code(),
            "InvalidParameterValue");  // as AWS answers an unknown filter name
  EXPECT_EQ(svc.describeInstances(as(kConsumer), {{}, {}, {}})->items.size(), 0u);
  EXPECT_EQ(svc.describeInstances(as(kConsumer), {{first.id.str()}, {}, {}}).status().code(),
            "InvalidInstanceID.NotFound");
  PageRequest page{5, ""};
  auto p1 = svc.describeInstances(as(kProvider), {{}, {}, page});
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->items.size(), 5u);
  ASSERT_FALSE(p1->nextToken.empty());
  auto p2 = svc.describeInstances(as(kProvider), {{}, {}, {5, p1->nextToken}});
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->items.size(), 1u);
  EXPECT_TRUE(p2->nextToken.empty());
  EXPECT_EQ(svc.describeInstances(as(kProvider), {{}, {}, {4, ""}}).status().code(), "InvalidParameterValue");
}

TEST_F(InstanceFixture, SupervisorRunsUserDataOnceAndFollowsStopStartTerminate) {
  auto in = base();
  in.userData = base64Encode("#!/bin/sh\necho hello\n");
  auto r = run(in);
  ASSERT_TRUE(r.ok());
  std::string id = r->instances[0].instance.id.str();
  FakeHost host;
  host.ready = false;
  reconciler::InstanceSupervisor sup(*store_, host, clock_);
  sup.passOnce();
  EXPECT_EQ(stateOf(id), "pending");  // namespace not there yet
  host.ready = true;
  sup.passOnce();
  EXPECT_EQ(stateOf(id), "running");
  ASSERT_EQ(host.launched.size(), 1u);
  EXPECT_EQ(host.launched[0].second, "#!/bin/sh\necho hello\n");
  EXPECT_TRUE(host.running[id]);
  auto out = InstanceService(*ctx_).getConsoleOutput(as(kProvider), id);
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->output.find("running user-data"), std::string::npos) << out->output;
  EXPECT_TRUE(sup.namespacesToKeep().count("lp-" + r->instances[0].instance.networkInterfaceId.str()));

  InstanceService svc(*ctx_);
  auto stop = svc.changeState(as(kProvider), {id}, InstanceAction::kStop);
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(stop->at(0).previous, InstanceState::kRunning);
  EXPECT_EQ(stop->at(0).current, InstanceState::kStopping);
  host.obeyTerm = false;
  sup.passOnce();
  EXPECT_EQ(stateOf(id), "stopping");
  ASSERT_EQ(host.signals.size(), 1u);
  EXPECT_EQ(host.signals[0].second, SIGTERM);
  host.procs[id].clear();  // the program exits
  sup.passOnce();
  EXPECT_EQ(stateOf(id), "stopped");
  EXPECT_FALSE(host.running[id]);
  EXPECT_TRUE(sup.namespacesToKeep().empty());

  EXPECT_EQ(svc.changeState(as(kProvider), {id}, InstanceAction::kStart)->at(0).current, InstanceState::kPending);
  sup.passOnce();
  EXPECT_EQ(stateOf(id), "running");
  EXPECT_EQ(host.launched.size(), 1u);  // UserData does not run again

  EXPECT_EQ(svc.changeState(as(kProvider), {id}, InstanceAction::kTerminate)->at(0).current,
            InstanceState::kShuttingDown);
  sup.passOnce();
  EXPECT_EQ(stateOf(id), "terminated");
  EXPECT_TRUE(all<model::NetworkInterface>().empty());  // the interface went with it
  EXPECT_EQ(svc.changeState(as(kProvider), {id}, InstanceAction::kStart).status().code(), "IncorrectInstanceState");
  // Described for an hour, then gone.
  clock_.advance(std::chrono::minutes(61));
  sup.passOnce();
  EXPECT_EQ(svc.describeInstances(as(kProvider), {{id}, {}, {}}).status().code(), "InvalidInstanceID.NotFound");
}

TEST_F(InstanceFixture, InstanceTargetsResolveToThePrimaryAddressAndLeaveOnTerminate) {
  auto r = run(base());
  ASSERT_TRUE(r.ok());
  const auto& inst = r->instances[0].instance;
  ElbService elb(*ctx_);
  CreateTargetGroupInput tgIn;
  tgIn.name = "web";
  tgIn.protocol = "TCP";
  tgIn.port = 8080;
  tgIn.vpcId = vpc_.id.str();
  auto tg = elb.createTargetGroup(as(kProvider), tgIn);
  ASSERT_TRUE(tg.ok()) << tg.status().toString();
  EXPECT_EQ(tg->targetType, "instance");  // AWS's default
  ASSERT_TRUE(elb.registerTargets(as(kProvider), tg->id.str(), {TargetInput{inst.id.str(), std::nullopt, ""}}).ok());
  EXPECT_EQ(elb.registerTargets(as(kProvider), tg->id.str(), {TargetInput{"10.0.1.9", std::nullopt, ""}}).code(),
            "InvalidTarget");
  EXPECT_EQ(elb.registerTargets(as(kProvider), tg->id.str(), {TargetInput{"i-0123456789abcdef0", std::nullopt, ""}}).code(),
            "InvalidTarget");
  auto health = elb.describeTargetHealth(as(kProvider), tg->id.str(), {});
  ASSERT_TRUE(health.ok());
  ASSERT_EQ(health->size(), 1u);
  EXPECT_EQ((*health)[0].instanceId, inst.id.str());
  EXPECT_EQ((*health)[0].target.ip, inst.privateIp);
  EXPECT_EQ((*health)[0].target.port, 8080);
  ASSERT_TRUE(InstanceService(*ctx_).changeState(as(kProvider), {inst.id.str()}, InstanceAction::kTerminate).ok());
  EXPECT_TRUE(elb.describeTargetHealth(as(kProvider), tg->id.str(), {})->empty());
}

// ---- What Terraform's aws_instance reads and changes (instance_detail_service.cc) ----

TEST_F(InstanceFixture, InstanceTypesAreTheOnesRunInstancesAccepts) {
  InstanceService svc(*ctx_);
  auto types = svc.describeInstanceTypes(as(kProvider), {});
  ASSERT_TRUE(types.ok());
  EXPECT_EQ(types->items.size(), model::instanceTypeCatalog().size());
  auto one = svc.describeInstanceTypes(as(kProvider), {{"t3.micro"}, {}, {}});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->items.size(), 1u);
  EXPECT_EQ(one->items[0].vcpus, 2);
  EXPECT_EQ(one->items[0].memoryMiB, 1024);
  EXPECT_EQ(one->items[0].networkPerformance, "Up to 5 Gigabit");
  EXPECT_EQ(svc.describeInstanceTypes(as(kProvider), {{"t3.micro", "x9.huge"}, {}, {}}).status().code(),
            "InvalidInstanceType");
  auto burst = svc.describeInstanceTypes(as(kProvider), {{}, {{"burstable-performance-supported", {"true"}}}, {}});
  ASSERT_TRUE(burst.ok());
  for (const auto& t : burst->items) EXPECT_EQ(t.name[0], 't') << t.name;
  PageRequest page{5, ""};
  auto first = svc.describeInstanceTypes(as(kProvider), {{}, {}, page});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->items.size(), 5u);
  EXPECT_FALSE(first->nextToken.empty());
  // Every type described is accepted; a well-formed unknown one is not.
  for (const auto& t : types->items) {
    auto in = base();
    in.instanceType = t.name;
    for (const auto& image : model::imageCatalog())
      if (image.architecture == t.architecture) in.imageId = image.id;
    EXPECT_TRUE(InstanceService(*ctx_).runInstances(as(kProvider, true), in).status().code() == "DryRunOperation")
        << t.name;
  }
  auto in = base();
  in.instanceType = "x9.huge";
  EXPECT_EQ(run(in).status().code(), "InvalidParameterValue");
  in.instanceType = "t4g.micro";  // arm64, and the image is x86_64
  EXPECT_EQ(run(in).status().code(), "InvalidParameterValue");
  EXPECT_TRUE(all<model::Instance>().empty());
}

TEST_F(InstanceFixture, RootVolumesLiveAndDieWithTheirInstances) {
  auto in = base();
  in.minCount = in.maxCount = "2";
  in.tagSpecs = {{"volume", {{"Name", "root"}}}};
  auto r = run(in);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  InstanceService svc(*ctx_);
  VolumeService volumes(*ctx_);
  auto vols = volumes.describeVolumes(as(kProvider), {});
  ASSERT_TRUE(vols.ok());
  ASSERT_EQ(vols->items.size(), 2u);
  std::set<std::string> owners;
  for (const auto& v : vols->items) {
    EXPECT_EQ(v.volume.id.str().rfind("vol-", 0), 0u);
    EXPECT_EQ(v.volume.state, "in-use");
    EXPECT_EQ(v.attachmentStatus, "attached");
    EXPECT_EQ(v.tags, (model::Tags{{"Name", "root"}}));
    owners.insert(v.volume.instanceId.str());
  }
  const auto& first = r->instances[0].instance;
  EXPECT_TRUE(owners.count(first.id.str()));
  auto byInstance =
      volumes.describeVolumes(as(kProvider), {{}, {{"attachment.instance-id", {first.id.str()}}}, {}});
  ASSERT_TRUE(byInstance.ok());
  ASSERT_EQ(byInstance->items.size(), 1u);
  EXPECT_EQ(byInstance->items[0].volume.id.str(), first.rootVolumeId.str());
  EXPECT_EQ(volumes.describeVolumes(as(kConsumer), {{first.rootVolumeId.str()}, {}, {}}).status().code(),
            "InvalidVolume.NotFound");
  EXPECT_EQ(volumes.describeVolumes(as(kProvider), {{"volume-1"}, {}, {}}).status().code(), "InvalidVolumeID.Malformed");

  ASSERT_TRUE(svc.changeState(as(kProvider), {first.id.str()}, InstanceAction::kTerminate).ok());
  FakeHost host;
  reconciler::InstanceSupervisor sup(*store_, host, clock_);
  sup.passOnce();
  ASSERT_EQ(stateOf(first.id.str()), "terminated");
  vols = volumes.describeVolumes(as(kProvider), {});
  ASSERT_TRUE(vols.ok());
  ASSERT_EQ(vols->items.size(), 1u);  // deleted on termination
  EXPECT_NE(vols->items[0].volume.id.str(), first.rootVolumeId.str());
}

TEST_F(InstanceFixture, CreditSpecificationsForBurstableTypes) {
  InstanceService svc(*ctx_);
  auto in = base();  // t3.micro: unlimited by default
  auto t3 = run(in);
  in.instanceType = "t2.micro";
  auto t2 = run(in);
  in.creditSpecification = "unlimited";
  auto t2u = run(in);
  in.instanceType = "m5.large";
  EXPECT_EQ(run(in).status().code(), "InvalidParameterCombination");
  in.creditSpecification.clear();
  auto m5 = run(in);
  ASSERT_TRUE(t3.ok() && t2.ok() && t2u.ok() && m5.ok());
  auto specs = svc.describeInstanceCreditSpecifications(as(kProvider), {});
  ASSERT_TRUE(specs.ok());
  std::map<std::string, std::string> got;
  for (const auto& c : specs->items) got[c.instanceId] = c.cpuCredits;
  EXPECT_EQ(got, (std::map<std::string, std::string>{{t3->instances[0].instance.id.str(), "unlimited"},
                                                      {t2->instances[0].instance.id.str(), "standard"},
                                                      {t2u->instances[0].instance.id.str(), "unlimited"}}));
}

TEST_F(InstanceFixture, ModifyInstanceAttributeAsAwsAllowsIt) {
  auto r = run(base());
  ASSERT_TRUE(r.ok());
  std::string id = r->instances[0].instance.id.str();
  InstanceService svc(*ctx_);
  FakeHost host;
  reconciler::InstanceSupervisor sup(*store_, host, clock_);
  sup.passOnce();
  ASSERT_EQ(stateOf(id), "running");
  ModifyInstanceAttributeInput m;
  m.instanceId = id;
  m.instanceType = "t3.small";
  EXPECT_EQ(svc.modifyInstanceAttribute(as(kProvider), m).code(), "IncorrectInstanceState");  // running
  m.disableApiTermination = true;
  EXPECT_EQ(svc.modifyInstanceAttribute(as(kProvider), m).code(), "InvalidParameterCombination");

  // Termination protection: TerminateInstances refuses and changes nothing.
  ModifyInstanceAttributeInput protect;
  protect.instanceId = id;
  protect.disableApiTermination = true;
  ASSERT_TRUE(svc.modifyInstanceAttribute(as(kProvider), protect).ok());
  auto attr = svc.describeInstanceAttribute(as(kProvider), id, "disableApiTermination");
  ASSERT_TRUE(attr.ok());
  EXPECT_TRUE(attr->first.instance.disableApiTermination);
  EXPECT_EQ(svc.changeState(as(kProvider), {id}, InstanceAction::kTerminate).status().code(), "OperationNotPermitted");
  EXPECT_EQ(stateOf(id), "running");

  // Groups: the instance's and its primary interface's, at most the limit.
  auto g1 = makeGroup(vpc_, "one");
  ModifyInstanceAttributeInput groups;
  groups.instanceId = id;
  groups.groupIds = {g1.id.str()};
  ASSERT_TRUE(svc.modifyInstanceAttribute(as(kProvider), groups).ok());
  auto eni = NetworkInterfaceService(*ctx_).describeNetworkInterfaces(
      as(kProvider), {{r->instances[0].instance.networkInterfaceId.str()}, {}, {}});
  ASSERT_TRUE(eni.ok());
  EXPECT_EQ(eni->items[0].eni.groupIds, std::vector<model::SecurityGroupId>{g1.id});
  auto described = svc.describeInstances(as(kProvider), {{id}, {}, {}});
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->items[0].instance.groupIds, std::vector<model::SecurityGroupId>{g1.id});
  groups.groupIds.clear();
  for (int n = 0; n < 6; ++n) groups.groupIds.push_back(makeGroup(vpc_, std::string("g").append(std::to_string(n))).id.str());
  EXPECT_EQ(svc.modifyInstanceAttribute(as(kProvider), groups).code(), "SecurityGroupsPerInterfaceLimitExceeded");
  EXPECT_EQ(svc.describeInstances(as(kProvider), {{id}, {}, {}})->items[0].instance.groupIds,
            std::vector<model::SecurityGroupId>{g1.id});

  // Stopped: the type and UserData may change; the UserData does not run again.
  protect.disableApiTermination = false;
  ASSERT_TRUE(svc.modifyInstanceAttribute(as(kProvider), protect).ok());
  ASSERT_TRUE(svc.changeState(as(kProvider), {id}, InstanceAction::kStop).ok());
  sup.passOnce();
  ASSERT_EQ(stateOf(id), "stopped");
  ModifyInstanceAttributeInput type;
  type.instanceId = id;
  type.instanceType = "t4g.micro";  // arm64: not for this image's architecture
  EXPECT_EQ(svc.modifyInstanceAttribute(as(kProvider), type).code(), "InvalidInstanceAttributeValue");
  type.instanceType = "t2.micro";
  ASSERT_TRUE(svc.modifyInstanceAttribute(as(kProvider), type).ok());
  ModifyInstanceAttributeInput ud;
  ud.instanceId = id;
  ud.userData = base64Encode("#!/bin/sh\necho again\n");
  ASSERT_TRUE(svc.modifyInstanceAttribute(as(kProvider), ud).ok());
  auto after = svc.describeInstances(as(kProvider), {{id}, {}, {}});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->items[0].instance.instanceType, "t2.micro");
  // The instance's credit option stays across a type change, as on AWS.
  EXPECT_EQ(after->items[0].instance.creditSpecification, "unlimited");
  EXPECT_EQ(after->items[0].instance.userData, *ud.userData);
  ASSERT_TRUE(svc.changeState(as(kProvider), {id}, InstanceAction::kTerminate).ok());
}

TEST_F(InstanceFixture, RebootStopsTheProcessesAndKeepsTheInstanceRunning) {
  auto in = base();
  in.userData = base64Encode("#!/bin/sh\nsleep 1000\n");
  auto r = run(in);
  ASSERT_TRUE(r.ok());
  std::string id = r->instances[0].instance.id.str();
  InstanceService svc(*ctx_);
  EXPECT_EQ(svc.rebootInstances(as(kProvider), {id}).code(), "IncorrectInstanceState");  // pending
  FakeHost host;
  host.obeyTerm = false;
  reconciler::InstanceSupervisor sup(*store_, host, clock_);
  sup.passOnce();
  ASSERT_EQ(stateOf(id), "running");
  ASSERT_EQ(host.launched.size(), 1u);
  EXPECT_EQ(svc.rebootInstances(as(kProvider), {id, "i-0123456789abcdef0"}).code(), "InvalidInstanceID.NotFound");
  ASSERT_TRUE(svc.rebootInstances(as(kProvider), {id}).ok());
  sup.passOnce();
  ASSERT_EQ(host.signals.size(), 1u);
  EXPECT_EQ(host.signals[0].second, SIGTERM);
  EXPECT_EQ(stateOf(id), "running");
  host.procs[id].clear();
  sup.passOnce();
  EXPECT_EQ(stateOf(id), "running");
  auto i = svc.describeInstances(as(kProvider), {{id}, {}, {}})->items[0].instance;
  EXPECT_EQ(i.rebootsDone, i.rebootsRequested);
  EXPECT_EQ(host.launched.size(), 1u);  // UserData does not run again
  sup.passOnce();
  EXPECT_EQ(host.signals.size(), 1u);  // nothing more to do
  EXPECT_NE(host.console[id].find("rebooted"), std::string::npos) << host.console[id];
}

TEST_F(InstanceFixture, SecurityGroupsPerInterfaceLimitEverywhere) {
  std::vector<std::string> six;
  for (int n = 0; n < 6; ++n) six.push_back(makeGroup(vpc_, std::string("g").append(std::to_string(n))).id.str());
  auto in = base();
  in.groupIds = six;
  EXPECT_EQ(run(in).status().code(), "SecurityGroupsPerInterfaceLimitExceeded");
  NetworkInterfaceService enis(*ctx_);
  EXPECT_EQ(enis.createNetworkInterface(as(kProvider), {subnet_, "", "", six, "", {}}).status().code(),
            "SecurityGroupsPerInterfaceLimitExceeded");
  EXPECT_TRUE(all<model::Instance>().empty());
  EXPECT_TRUE(all<model::NetworkInterface>().empty());
  auto five = std::vector<std::string>(six.begin(), six.begin() + 5);
  auto eni = enis.createNetworkInterface(as(kProvider), {subnet_, "", "", five, "", {}});
  ASSERT_TRUE(eni.ok()) << eni.status().toString();
  ModifyNetworkInterfaceInput m{eni->eni.id.str(), std::nullopt, std::nullopt, six};
  EXPECT_EQ(enis.modifyNetworkInterfaceAttribute(as(kProvider), m).code(), "SecurityGroupsPerInterfaceLimitExceeded");
  m.groupIds = {six[5]};
  ASSERT_TRUE(enis.modifyNetworkInterfaceAttribute(as(kProvider), m).ok());
  m = {eni->eni.id.str(), std::string("web"), true, {}};
  EXPECT_EQ(enis.modifyNetworkInterfaceAttribute(as(kProvider), m).code(), "InvalidParameterCombination");
  auto got = enis.describeNetworkInterfaces(as(kProvider), {{eni->eni.id.str()}, {}, {}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->items[0].eni.groupIds, std::vector<model::SecurityGroupId>{model::SecurityGroupId(six[5])});
  // The limit is the configured one, and DescribeAccountAttributes says so.
  {
    auto next = *ctx_->settings();
    next.limits.securityGroupsPerInterface = 6;
    ctx_->replaceSettings(next);
  }
  EXPECT_TRUE(run(base()).ok());
  in = base();
  in.groupIds = six;
  EXPECT_TRUE(run(in).ok());
  auto attrs = AccountService(*ctx_).describeAccountAttributes(
      as(kProvider), {"vpc-max-security-groups-per-interface", "max-instances"});
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->at(0).values, std::vector<std::string>{"6"});
  EXPECT_EQ(attrs->at(1).values, std::vector<std::string>{"100"});
}

TEST_F(InstanceFixture, InstanceLimitIsConfigured) {
  {
    auto next = *ctx_->settings();
    next.limits.instancesPerAccount = 2;
    ctx_->replaceSettings(next);
  }
  auto in = base();
  in.minCount = in.maxCount = "3";
  EXPECT_EQ(run(in).status().code(), "InstanceLimitExceeded");
  in.minCount = "1";
  auto r = run(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->instances.size(), 2u);  // as AWS: up to the room left
}

TEST_F(InstanceFixture, ModifyCreditSpecificationPerInstance) {
  InstanceService svc(*ctx_);
  auto t3 = run(base());
  auto in = base();
  in.instanceType = "m5.large";
  auto m5 = run(in);
  auto gone = run(base());
  ASSERT_TRUE(t3.ok() && m5.ok() && gone.ok());
  std::string t3Id = t3->instances[0].instance.id.str(), m5Id = m5->instances[0].instance.id.str();
  std::string goneId = gone->instances[0].instance.id.str();
  ASSERT_TRUE(svc.changeState(as(kProvider), {goneId}, InstanceAction::kTerminate).ok());

  auto res = svc.modifyInstanceCreditSpecification(
      as(kProvider), {{t3Id, "standard"}, {m5Id, "standard"}, {goneId, "standard"},
                      {"i-nothex", "standard"}, {"i-0123456789abcdef0", "standard"}});
  ASSERT_TRUE(res.ok()) << res.status().toString();
  EXPECT_EQ(res->successful, std::vector<std::string>{t3Id});
  std::map<std::string, std::string> codes;
  for (const auto& f : res->unsuccessful) codes[f.instanceId] = f.code;
  EXPECT_EQ(codes, (std::map<std::string, std::string>{{m5Id, "InstanceCreditSpecification.NotSupported"},
                                                        {goneId, "IncorrectInstanceState"},
                                                        {"i-nothex", "InvalidInstanceID.Malformed"},
                                                        {"i-0123456789abcdef0", "InvalidInstanceID.NotFound"}}));
  auto specs = svc.describeInstanceCreditSpecifications(as(kProvider), {{t3Id}, {}, {}});
  ASSERT_TRUE(specs.ok());
  ASSERT_EQ(specs->items.size(), 1u);
  EXPECT_EQ(specs->items[0].cpuCredits, "standard");
  // Another account's instance is not found, for that account.
  auto theirs = svc.modifyInstanceCreditSpecification(as(kConsumer), {{t3Id, "unlimited"}});
  ASSERT_TRUE(theirs.ok());
  EXPECT_TRUE(theirs->successful.empty());
  ASSERT_EQ(theirs->unsuccessful.size(), 1u);
  EXPECT_EQ(theirs->unsuccessful[0].code, "InvalidInstanceID.NotFound");

  // Errors of the whole call change nothing.
  EXPECT_EQ(svc.modifyInstanceCreditSpecification(as(kProvider), {}).status().code(), "MissingParameter");
  EXPECT_EQ(svc.modifyInstanceCreditSpecification(as(kProvider), {{t3Id, "unlimited"}, {m5Id, "fast"}})
                .status()
                .code(),
            "InvalidCpuCredits");
  EXPECT_EQ(svc.modifyInstanceCreditSpecification(as(kProvider), {{t3Id, "unlimited"}, {t3Id, "unlimited"}})
                .status()
                .code(),
            "InvalidInstanceCreditSpecification.DuplicateInstanceId");
  auto dry = as(kProvider);
  dry.dryRun = true;
  EXPECT_EQ(svc.modifyInstanceCreditSpecification(dry, {{t3Id, "unlimited"}}).status().code(), "DryRunOperation");
  specs = svc.describeInstanceCreditSpecifications(as(kProvider), {{t3Id}, {}, {}});
  ASSERT_TRUE(specs.ok());
  EXPECT_EQ(specs->items[0].cpuCredits, "standard");
}

TEST_F(InstanceFixture, RootBlockDeviceMappingMakesTheVolumeAsAsked) {
  auto in = base();
  BlockDeviceMappingInput root;
  root.deviceName = "/dev/xvda";
  root.hasEbs = true;
  root.volumeSize = 20;
  root.volumeType = "gp3";
  root.encrypted = true;
  root.deleteOnTermination = false;
  in.blockDeviceMappings = {root};
  in.tagSpecs = {{"volume", {{"Name", "data"}}}};
  auto r = run(in);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  const auto& inst = r->instances[0];
  ASSERT_TRUE(inst.rootVolume);
  EXPECT_FALSE(inst.rootVolume->deleteOnTermination);
  VolumeService volumes(*ctx_);
  auto vols = volumes.describeVolumes(as(kProvider), {{inst.instance.rootVolumeId.str()}, {}, {}});
  ASSERT_TRUE(vols.ok());
  ASSERT_EQ(vols->items.size(), 1u);
  const model::Volume v = vols->items[0].volume;  // a copy: vols is read again below
  EXPECT_EQ(v.sizeGiB, 20);
  EXPECT_EQ(v.volumeType, "gp3");
  EXPECT_EQ(v.iops, 3000);
  EXPECT_EQ(v.throughput, 125);
  EXPECT_TRUE(v.encrypted);
  EXPECT_EQ(v.snapshotId, model::imageRootSnapshot(in.imageId));

  // Tags on the volume id, and tag filters.
  TagService tags(*ctx_);
  ASSERT_TRUE(tags.createTags(as(kProvider), {v.id.str()}, {{"Team", "db"}}).ok());
  auto byTag = volumes.describeVolumes(as(kProvider), {{}, {{"tag:Team", {"db"}}}, {}});
  ASSERT_TRUE(byTag.ok());
  ASSERT_EQ(byTag->items.size(), 1u);
  EXPECT_EQ(byTag->items[0].volume.tags, (model::Tags{{"Name", "data"}, {"Team", "db"}}));
  EXPECT_EQ(tags.createTags(as(kConsumer), {v.id.str()}, {{"Team", "x"}}).code(), "InvalidVolume.NotFound");
  ASSERT_TRUE(tags.deleteTags(as(kProvider), {v.id.str()}, {{"Team", std::nullopt}}).ok());
  DescribeTagsInput dt;
  dt.filters = {{"resource-type", {"volume"}}};
  auto described = tags.describeTags(as(kProvider), dt);
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->items.size(), 1u);
  EXPECT_EQ(described->items[0].key, "Name");

  // In use: not deletable. After termination it stays, available, and then can go.
  EXPECT_EQ(volumes.deleteVolume(as(kProvider), v.id.str()).code(), "VolumeInUse");
  ASSERT_TRUE(InstanceService(*ctx_).changeState(as(kProvider), {inst.instance.id.str()}, InstanceAction::kTerminate).ok());
  FakeHost host;
  reconciler::InstanceSupervisor sup(*store_, host, clock_);
  sup.passOnce();
  ASSERT_EQ(stateOf(inst.instance.id.str()), "terminated");
  vols = volumes.describeVolumes(as(kProvider), {{v.id.str()}, {}, {}});
  ASSERT_TRUE(vols.ok());
  ASSERT_EQ(vols->items.size(), 1u);
  EXPECT_EQ(vols->items[0].volume.state, "available");
  EXPECT_EQ(vols->items[0].attachmentStatus, "");
  EXPECT_EQ(volumes.deleteVolume(as(kConsumer), v.id.str()).code(), "InvalidVolume.NotFound");
  ASSERT_TRUE(volumes.deleteVolume(as(kProvider), v.id.str()).ok());
  EXPECT_EQ(volumes.describeVolumes(as(kProvider), {{v.id.str()}, {}, {}}).status().code(), "InvalidVolume.NotFound");
}

TEST_F(InstanceFixture, BadBlockDeviceMappingsCreateNothing) {
  auto with = [&](auto edit) {
    auto in = base();
    BlockDeviceMappingInput m;
    m.deviceName = "/dev/xvda";
    m.hasEbs = true;
    edit(m);
    in.blockDeviceMappings = {m};
    return run(in).status().code();
  };
  EXPECT_EQ(with([](auto& m) { m.volumeSize = 4; }), "InvalidBlockDeviceMapping");
  EXPECT_EQ(with([](auto& m) { m.volumeType = "gp9"; }), "InvalidParameterValue");
  EXPECT_EQ(with([](auto& m) { m.volumeType = "st1"; m.volumeSize = 500; }), "InvalidBlockDeviceMapping");
  EXPECT_EQ(with([](auto& m) { m.volumeSize = 20000; }), "InvalidParameterValue");
  EXPECT_EQ(with([](auto& m) { m.volumeType = "io1"; }), "MissingParameter");
  EXPECT_EQ(with([](auto& m) { m.iops = 3000; }), "InvalidParameterCombination");
  EXPECT_EQ(with([](auto& m) { m.throughput = 200; }), "InvalidParameterCombination");
  EXPECT_EQ(with([](auto& m) { m.deviceName = "/dev/sdf"; m.volumeSize = 10; }), "InvalidBlockDeviceMapping");
  EXPECT_EQ(with([](auto& m) { m.snapshotId = "snap-0123456789abcdef0"; }), "InvalidSnapshot.NotFound");
  EXPECT_EQ(with([](auto& m) { m.hasEbs = false; }), "MissingParameter");
  auto none = InstanceService(*ctx_).describeInstances(as(kProvider), {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());
  auto vols = VolumeService(*ctx_).describeVolumes(as(kProvider), {});
  ASSERT_TRUE(vols.ok());
  EXPECT_TRUE(vols->items.empty());
}

TEST(Volumes, TypesAndTermination) {
  EXPECT_EQ(model::reportedIops("gp2", 8, std::nullopt), 100);
  EXPECT_EQ(model::reportedIops("gp2", 100, std::nullopt), 300);
  EXPECT_EQ(model::reportedIops("gp2", 10000, std::nullopt), 16000);
  EXPECT_EQ(model::reportedIops("io1", 100, 5000), 5000);
  EXPECT_EQ(model::reportedIops("st1", 500, std::nullopt), 0);
  EXPECT_FALSE(model::findVolumeType("sc1")->bootable);
  EXPECT_EQ(model::imageRootSnapshot("ami-0d3b1e2c4a5f60712"), "snap-0d3b1e2c4a5f60712");
  model::Volume v;
  v.instanceId = model::InstanceId("i-0123456789abcdef0");
  v.device = "/dev/xvda";
  EXPECT_FALSE(model::keepAtTermination(v));
  v.deleteOnTermination = false;
  EXPECT_TRUE(model::keepAtTermination(v));
  EXPECT_EQ(v.state, "available");
  EXPECT_TRUE(v.instanceId.empty());
  EXPECT_TRUE(v.device.empty());
}

}  // namespace
}  // namespace lp::control::testing
