// CreateVolume's pure plan (AWS's volume type, size, IOPS and throughput rules)
// and the device names AttachVolume takes.
#include <gtest/gtest.h>

#include "control/data_volume_service.h"
#include "model/volume.h"

namespace lp::control {
namespace {

std::string refusal(CreateVolumeInput in) {
  auto r = planDataVolume(in);
  return r.ok() ? "" : r.status().code();
}

CreateVolumeInput sized(int64_t gib, std::string type = "") {
  CreateVolumeInput in;
  in.availabilityZone = "us-east-1a";
  in.size = gib;
  in.volumeType = std::move(type);
  return in;
}

TEST(DataVolumePlan, DefaultsAndReportedFigures) {
  auto gp2 = planDataVolume(sized(10));
  ASSERT_TRUE(gp2.ok());
  EXPECT_EQ(gp2->volumeType, "gp2");
  EXPECT_EQ(gp2->sizeGiB, 10);
  EXPECT_EQ(gp2->iops, 100);  // 3 per GiB, at least 100
  EXPECT_EQ(gp2->throughput, 0);
  EXPECT_FALSE(gp2->encrypted);

  auto gp3 = planDataVolume(sized(10, "gp3"));
  ASSERT_TRUE(gp3.ok());
  EXPECT_EQ(gp3->iops, 3000);
  EXPECT_EQ(gp3->throughput, 125);

  auto in = sized(100, "io2");
  in.iops = 5000;
  in.encrypted = true;
  auto io2 = planDataVolume(in);
  ASSERT_TRUE(io2.ok());
  EXPECT_EQ(io2->iops, 5000);
  EXPECT_TRUE(io2->encrypted);

  // Data volumes may be of the types a root volume cannot (st1, sc1: 125 GiB and up).
  EXPECT_EQ(refusal(sized(125, "st1")), "");
  auto off = sized(10);
  off.multiAttachEnabled = false;  // what an SDK sends for multi_attach_enabled = false
  EXPECT_EQ(refusal(off), "");
}

TEST(DataVolumePlan, RefusalsAsAwsGivesThem) {
  CreateVolumeInput noSize;
  EXPECT_EQ(refusal(noSize), "MissingParameter");
  EXPECT_EQ(refusal(sized(10, "gp9")), "InvalidParameterValue");
  EXPECT_EQ(refusal(sized(0)), "InvalidParameterValue");
  EXPECT_EQ(refusal(sized(16385)), "InvalidParameterValue");
  EXPECT_EQ(refusal(sized(124, "sc1")), "InvalidParameterValue");
  EXPECT_EQ(refusal(sized(10, "io1")), "MissingParameter");
  auto iops = sized(10, "gp2");
  iops.iops = 300;
  EXPECT_EQ(refusal(iops), "InvalidParameterCombination");
  auto tooMany = sized(10, "io1");
  tooMany.iops = 70000;
  EXPECT_EQ(refusal(tooMany), "InvalidParameterValue");
  auto tp = sized(10, "gp2");
  tp.throughput = 200;
  EXPECT_EQ(refusal(tp), "InvalidParameterCombination");
  auto tpRange = sized(10, "gp3");
  tpRange.throughput = 1001;
  EXPECT_EQ(refusal(tpRange), "InvalidParameterValue");
  auto kms = sized(10);
  kms.kmsKeyId = "alias/mine";
  EXPECT_EQ(refusal(kms), "InvalidParameterValue");
  auto multi = sized(10, "io2");
  multi.iops = 1000;
  multi.multiAttachEnabled = true;
  EXPECT_EQ(refusal(multi), "UnsupportedOperation");
  auto snap = sized(10);
  snap.snapshotId = "snap-0123456789abcdef0";
  EXPECT_EQ(refusal(snap), "InvalidSnapshot.NotFound");
}

TEST(DataVolumePlan, DeviceNames) {
  for (const char* ok : {"/dev/sdb", "/dev/sdf", "/dev/sdz", "/dev/xvdb", "/dev/xvdp"})
    EXPECT_TRUE(model::isDataDeviceName(ok)) << ok;
  for (const char* bad : {"/dev/xvda", "/dev/sda", "/dev/sda1", "/dev/sdf1", "sdf", "/dev/nvme1n1", "/dev/xvd", ""})
    EXPECT_FALSE(model::isDataDeviceName(bad)) << bad;
}

}  // namespace
}  // namespace lp::control
