// aws_instance and what puts it behind the endpoint: the instance whose UserData
// starts the provider's server, the consumer workload that reaches it through the
// endpoint, and the reads of a second `plan` compared with what was applied.
package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The instance's UserData (a shell script, base64 on the wire as on AWS): a TCP
// server on 8080 that answers each connection with "web <instance id>", then reads
// what the client sent (a PROXY v2 header once the target group turns it on) until
// it closes: closing with unread bytes would reset the connection instead.
const userData = `#!/bin/sh
nohup /usr/bin/python3 -c '
import os, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen(16)
while True:
    c, _ = s.accept()
    try:
        c.sendall(("web " + os.environ["INSTANCE_ID"] + "\n").encode())
        c.shutdown(socket.SHUT_WR)
        c.settimeout(2)
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
' >/dev/null 2>&1 &
echo "user-data done"
`

// A t-type: for those Terraform's read also calls DescribeInstanceCreditSpecifications.
const instanceType = ec2types.InstanceTypeT3Micro

// root_block_device's volume_size.
const rootGiB = 10

// Connects to HOST PORT from inside a workload and prints the first line.
const fetchPy = `import socket, sys, time
for i in range(50):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
        break
    except OSError:
        time.sleep(0.1)
print(s.makefile().readline().strip())
`

// data "aws_ami": the newest Debian 12 image of the Debian account.
func findImage(a account) string {
	out, err := a.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"136693071363"},
		Filters: []ec2types.Filter{filter("name", "debian-12-amd64-*"), filter("architecture", "x86_64")}})
	must("DescribeImages", err)
	check("DescribeImages", len(out.Images) > 0, "no Debian 12 image")
	sort.Slice(out.Images, func(i, j int) bool {
		return aws.ToString(out.Images[i].CreationDate) > aws.ToString(out.Images[j].CreationDate)
	})
	return aws.ToString(out.Images[0].ImageId)
}

// aws_security_group for the instance: the load balancer's nodes (addresses in the
// provider VPC) open the health checks and the forwarded connections.
func createWebGroup(a account, vpc string) string {
	sg, err := a.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("tf-web"),
		Description: aws.String("web from the NLB"), VpcId: aws.String(vpc)})
	must("CreateSecurityGroup tf-web", err)
	_, err = a.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080),
			ToPort: aws.Int32(8080), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.0.0.0/16")}}}}})
	must("AuthorizeSecurityGroupIngress", err)
	return aws.ToString(sg.GroupId)
}

type instanceRead struct {
	Instance         ec2types.Instance
	UserData         string
	DisableApiTerm   bool
	DisableApiStop   bool
	ShutdownBehavior string
	CpuCredits       string
	RootVolume       string // size/type/encrypted
}

// aws_instance's Create: RunInstances, then DescribeInstances until running.
func createInstance(a account, image, subnet, group string) string {
	out, err := a.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: instanceType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{group},
		UserData:          aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		TagSpecifications: tags(ec2types.ResourceTypeInstance, "Name", "tf-web"),
		// root_block_device and credit_specification as Terraform sends them.
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(rootGiB), VolumeType: ec2types.VolumeTypeGp3,
				DeleteOnTermination: aws.Bool(true)}}},
		CreditSpecification: &ec2types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")}})
	must("RunInstances", err)
	check("RunInstances", len(out.Instances) == 1 && out.Instances[0].State.Name == ec2types.InstanceStateNamePending,
		"want one pending instance")
	id := aws.ToString(out.Instances[0].InstanceId)
	waitInstance(a, id, ec2types.InstanceStateNameRunning)
	return id
}

func waitInstance(a account, id string, state ec2types.InstanceStateName) {
	poll("DescribeInstances until "+string(state), func() (bool, error) {
		d, err := a.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			return false, err
		}
		return d.Reservations[0].Instances[0].State.Name == state, nil
	})
}

// readInstance is aws_instance's Read: DescribeInstances (every field it reads must
// be present), the attributes, the root volume, the type and, for a t-type, its
// credit option.
func readInstance(a account, id string) instanceRead {
	d, err := a.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	must("DescribeInstances", err)
	check("DescribeInstances", len(d.Reservations) == 1 && len(d.Reservations[0].Instances) == 1, "want 1 instance")
	i := d.Reservations[0].Instances[0]
	check("instance fields", i.Placement != nil && i.Placement.AvailabilityZone != nil && i.Placement.Tenancy != "" &&
		i.Monitoring != nil && i.Monitoring.State != "" && i.CpuOptions != nil && i.CpuOptions.CoreCount != nil &&
		i.CpuOptions.ThreadsPerCore != nil && i.MetadataOptions != nil && i.MetadataOptions.HttpEndpoint != "" &&
		i.MetadataOptions.HttpTokens != "" && i.MetadataOptions.HttpPutResponseHopLimit != nil &&
		i.MetadataOptions.InstanceMetadataTags != "" && i.EnclaveOptions != nil && i.EnclaveOptions.Enabled != nil &&
		i.HibernationOptions != nil && i.HibernationOptions.Configured != nil && i.MaintenanceOptions != nil &&
		i.MaintenanceOptions.AutoRecovery != "" && i.PrivateDnsNameOptions != nil &&
		i.PrivateDnsNameOptions.HostnameType != "" && i.CapacityReservationSpecification != nil &&
		i.SourceDestCheck != nil && i.EbsOptimized != nil && i.RootDeviceName != nil && i.PrivateDnsName != nil &&
		i.PrivateIpAddress != nil && i.LaunchTime != nil && i.Architecture != "", "missing in %+v", i)
	check("instance interface", len(i.NetworkInterfaces) == 1 && i.NetworkInterfaces[0].Attachment != nil &&
		aws.ToInt32(i.NetworkInterfaces[0].Attachment.DeviceIndex) == 0 &&
		i.NetworkInterfaces[0].Attachment.DeleteOnTermination != nil, "primary interface %+v", i.NetworkInterfaces)
	r := instanceRead{Instance: i}
	attr := func(name ec2types.InstanceAttributeName) *ec2.DescribeInstanceAttributeOutput {
		o, err := a.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id),
			Attribute: name})
		must("DescribeInstanceAttribute "+string(name), err)
		return o
	}
	o := attr(ec2types.InstanceAttributeNameDisableApiTermination)
	check("disableApiTermination", o.DisableApiTermination != nil && o.DisableApiTermination.Value != nil, "missing")
	r.DisableApiTerm = aws.ToBool(o.DisableApiTermination.Value)
	o = attr(ec2types.InstanceAttributeNameDisableApiStop)
	check("disableApiStop", o.DisableApiStop != nil && o.DisableApiStop.Value != nil, "missing")
	r.DisableApiStop = aws.ToBool(o.DisableApiStop.Value)
	o = attr(ec2types.InstanceAttributeNameInstanceInitiatedShutdownBehavior)
	check("instanceInitiatedShutdownBehavior", o.InstanceInitiatedShutdownBehavior != nil, "missing")
	r.ShutdownBehavior = aws.ToString(o.InstanceInitiatedShutdownBehavior.Value)
	o = attr(ec2types.InstanceAttributeNameUserData)
	check("userData", o.UserData != nil, "missing")
	r.UserData = aws.ToString(o.UserData.Value)
	check("root device", len(i.BlockDeviceMappings) == 1 && i.BlockDeviceMappings[0].Ebs != nil &&
		aws.ToString(i.BlockDeviceMappings[0].DeviceName) == aws.ToString(i.RootDeviceName), "%+v", i.BlockDeviceMappings)
	v, err := a.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{
		VolumeIds: []string{aws.ToString(i.BlockDeviceMappings[0].Ebs.VolumeId)}})
	must("DescribeVolumes", err)
	check("root volume", len(v.Volumes) == 1 && len(v.Volumes[0].Attachments) == 1 && v.Volumes[0].Size != nil &&
		v.Volumes[0].Encrypted != nil, "%+v", v.Volumes)
	r.RootVolume = fmt.Sprintf("%d/%s/%t", aws.ToInt32(v.Volumes[0].Size), v.Volumes[0].VolumeType,
		aws.ToBool(v.Volumes[0].Encrypted))
	t, err := a.ec2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{
		InstanceTypes: []ec2types.InstanceType{i.InstanceType}})
	must("DescribeInstanceTypes", err)
	check("DescribeInstanceTypes", len(t.InstanceTypes) == 1, "%+v", t.InstanceTypes)
	if aws.ToBool(t.InstanceTypes[0].BurstablePerformanceSupported) {
		c, err := a.ec2.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{
			InstanceIds: []string{id}})
		must("DescribeInstanceCreditSpecifications", err)
		check("credit specification", len(c.InstanceCreditSpecifications) == 1 &&
			aws.ToString(c.InstanceCreditSpecifications[0].InstanceId) == id, "%+v", c.InstanceCreditSpecifications)
		r.CpuCredits = aws.ToString(c.InstanceCreditSpecifications[0].CpuCredits)
	}
	return r
}

// A consumer workload (aws_network_interface): what `linkplane exec` runs in.
func createWorkload(c account, subnet string) string {
	n, err := c.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet),
		Description: aws.String("consumer workload")})
	must("CreateNetworkInterface", err)
	return aws.ToString(n.NetworkInterface.NetworkInterfaceId)
}

// fetchThrough connects from the workload to ADDRESS:443 until the instance's server
// answers (at most 30 s) and returns its line.
func fetchThrough(workload, address string) string {
	var got string
	poll("bytes from "+workload+" to "+address+":443", func() (bool, error) {
		cmd := exec.Command(os.Getenv("LP_LINKPLANE"), "exec", "--eni", workload, "--", "/usr/bin/python3", "-c",
			fetchPy, address, "443")
		out, _ := cmd.Output()
		got = strings.TrimSpace(string(out))
		return strings.HasPrefix(got, "web "), nil
	})
	return got
}

// waitHealthy polls DescribeTargetHealth until the instance target is healthy (60 s).
func waitHealthy(p account, tg, instance string) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		h, err := p.elb.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		must("DescribeTargetHealth", err)
		check("DescribeTargetHealth", len(h.TargetHealthDescriptions) == 1 &&
			aws.ToString(h.TargetHealthDescriptions[0].Target.Id) == instance, "target %+v", h.TargetHealthDescriptions)
		if h.TargetHealthDescriptions[0].TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			return
		}
		check("target healthy", time.Now().Before(deadline), "still %s", h.TargetHealthDescriptions[0].TargetHealth.State)
		time.Sleep(500 * time.Millisecond)
	}
}

// What was applied, to compare a plan's reads with.
type applied struct {
	Image, Subnet, WebGroup, Instance    string
	Lb, Tg, Listener, Service, Endpoint  string
	ProviderSubnets, ConsumerSubnets     []string
	EndpointGroup, ConsumerArn, Workload string
}

// The reads of a `plan` (each resource's Read), for the resources the VPC reads
// (readVpc) do not cover.
type planReads struct {
	Instance   instanceRead
	Lb         elbtypes.LoadBalancer
	LbAttrs    []elbtypes.LoadBalancerAttribute
	Tags       []elbtypes.TagDescription
	Tg         elbtypes.TargetGroup
	TgAttrs    []elbtypes.TargetGroupAttribute
	Listener   elbtypes.Listener
	Attachment []elbtypes.TargetHealthDescription
	Service    ec2types.ServiceConfiguration
	Principals []string
	Endpoint   ec2types.VpcEndpoint
	EniIps     []string
	Workload   ec2types.NetworkInterface
}

func readPlan(p, c account, w applied) planReads {
	var r planReads
	r.Instance = readInstance(p, w.Instance)
	lbs, err := p.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{w.Lb}})
	must("DescribeLoadBalancers", err)
	r.Lb = lbs.LoadBalancers[0]
	la, err := p.elb.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(w.Lb)})
	must("DescribeLoadBalancerAttributes", err)
	r.LbAttrs = la.Attributes
	tg, err := p.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{w.Tg}})
	must("DescribeTargetGroups", err)
	r.Tg = tg.TargetGroups[0]
	ta, err := p.elb.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(w.Tg)})
	must("DescribeTargetGroupAttributes", err)
	r.TgAttrs = ta.Attributes
	l, err := p.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{w.Listener}})
	must("DescribeListeners", err)
	r.Listener = l.Listeners[0]
	t, err := p.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{w.Lb, w.Tg, w.Listener}})
	must("DescribeTags", err)
	r.Tags = t.TagDescriptions
	// aws_lb_target_group_attachment's Read: the one target, by instance id and port.
	h, err := p.elb.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.Tg),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(w.Instance), Port: aws.Int32(8080)}}})
	must("DescribeTargetHealth attachment", err)
	r.Attachment = h.TargetHealthDescriptions
	s, err := p.ec2.DescribeVpcEndpointServiceConfigurations(ctx, &ec2.DescribeVpcEndpointServiceConfigurationsInput{
		ServiceIds: []string{w.Service}})
	must("DescribeVpcEndpointServiceConfigurations", err)
	r.Service = s.ServiceConfigurations[0]
	r.Principals = readPermissions(p, w.Service)
	r.Endpoint, r.EniIps = readEndpoint(c, w.Endpoint)
	n, err := c.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{w.Workload}})
	must("DescribeNetworkInterfaces workload", err)
	r.Workload = n.NetworkInterfaces[0]
	return r
}

func sortedCopy(v []string) []string {
	out := append([]string(nil), v...)
	sort.Strings(out)
	return out
}

// diff lists where the reads differ from what was applied (a plan's changes).
func diff(r planReads, w applied) []string {
	var d []string
	want := func(what string, ok bool, got interface{}) {
		if !ok {
			d = append(d, fmt.Sprintf("%s: read %v", what, got))
		}
	}
	i := r.Instance.Instance
	var groups []string
	for _, g := range i.SecurityGroups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	var name string
	for _, t := range i.Tags {
		if aws.ToString(t.Key) == "Name" {
			name = aws.ToString(t.Value)
		}
	}
	want("instance ami", aws.ToString(i.ImageId) == w.Image, aws.ToString(i.ImageId))
	want("instance type", i.InstanceType == instanceType, i.InstanceType)
	want("instance subnet", aws.ToString(i.SubnetId) == w.Subnet, aws.ToString(i.SubnetId))
	want("instance state", i.State.Name == ec2types.InstanceStateNameRunning, i.State.Name)
	want("vpc_security_group_ids", reflect.DeepEqual(groups, []string{w.WebGroup}), groups)
	want("instance tags", name == "tf-web", i.Tags)
	ud, err := base64.StdEncoding.DecodeString(r.Instance.UserData)
	want("user_data", err == nil && string(ud) == userData, r.Instance.UserData)
	want("disable_api_termination", !r.Instance.DisableApiTerm && !r.Instance.DisableApiStop, r.Instance)
	want("instance_initiated_shutdown_behavior", r.Instance.ShutdownBehavior == "stop", r.Instance.ShutdownBehavior)
	want("credit_specification", r.Instance.CpuCredits == "standard", r.Instance.CpuCredits)
	want("root_block_device", r.Instance.RootVolume == fmt.Sprintf("%d/gp3/false", rootGiB), r.Instance.RootVolume)

	var lbSubnets []string
	for _, z := range r.Lb.AvailabilityZones {
		lbSubnets = append(lbSubnets, aws.ToString(z.SubnetId))
	}
	want("lb", r.Lb.Type == elbtypes.LoadBalancerTypeEnumNetwork && r.Lb.Scheme == elbtypes.LoadBalancerSchemeEnumInternal &&
		aws.ToString(r.Lb.LoadBalancerName) == "tf-nlb", r.Lb)
	want("lb subnets", reflect.DeepEqual(sortedCopy(lbSubnets), sortedCopy(w.ProviderSubnets)), lbSubnets)
	want("target group", r.Tg.TargetType == elbtypes.TargetTypeEnumInstance && aws.ToInt32(r.Tg.Port) == 8080 &&
		r.Tg.Protocol == elbtypes.ProtocolEnumTcp && aws.ToInt32(r.Tg.HealthCheckIntervalSeconds) == 5 &&
		aws.ToInt32(r.Tg.HealthyThresholdCount) == 2, r.Tg)
	want("listener", aws.ToInt32(r.Listener.Port) == 443 && r.Listener.Protocol == elbtypes.ProtocolEnumTcp &&
		len(r.Listener.DefaultActions) == 1 && aws.ToString(r.Listener.DefaultActions[0].TargetGroupArn) == w.Tg,
		r.Listener)
	want("attachment", len(r.Attachment) == 1 && aws.ToString(r.Attachment[0].Target.Id) == w.Instance &&
		aws.ToInt32(r.Attachment[0].Target.Port) == 8080 &&
		r.Attachment[0].TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy, r.Attachment)
	want("lb tags", len(r.Tags) == 3, r.Tags)
	want("service", !aws.ToBool(r.Service.AcceptanceRequired) &&
		reflect.DeepEqual(r.Service.NetworkLoadBalancerArns, []string{w.Lb}) &&
		r.Service.ServiceState == ec2types.ServiceStateAvailable, r.Service)
	want("allowed principals", reflect.DeepEqual(r.Principals, []string{w.ConsumerArn}), r.Principals)
	var epGroups []string
	for _, g := range r.Endpoint.Groups {
		epGroups = append(epGroups, aws.ToString(g.GroupId))
	}
	want("endpoint", strings.EqualFold(string(r.Endpoint.State), "available") && !aws.ToBool(r.Endpoint.PrivateDnsEnabled) &&
		r.Endpoint.VpcEndpointType == ec2types.VpcEndpointTypeInterface, r.Endpoint)
	want("endpoint subnet_ids", reflect.DeepEqual(sortedCopy(r.Endpoint.SubnetIds), sortedCopy(w.ConsumerSubnets)),
		r.Endpoint.SubnetIds)
	want("endpoint security_group_ids", len(epGroups) == 2 && (epGroups[0] == w.EndpointGroup || epGroups[1] == w.EndpointGroup),
		epGroups)
	want("endpoint interfaces", len(r.EniIps) == 2, r.EniIps)
	want("workload", aws.ToString(r.Workload.SubnetId) == w.ConsumerSubnets[0] &&
		aws.ToString(r.Workload.Description) == "consumer workload", r.Workload)
	return d
}
