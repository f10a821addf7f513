// Terraform's call sequences against linkplane with the AWS SDK for Go v2 (the SDK
// terraform-provider-aws is built on), from Debian's golang-github-aws-aws-sdk-go-v2-dev.
// Built offline (GO111MODULE=off GOPATH=/usr/share/gocode) and run by
// tests/integration/test_sdk_go.py. Exits non-zero, naming the failed step, when a
// call fails or an answer is not what Terraform needs.
//
// Environment: LP_URL, LP_REGION, LP_PROVIDER_KEY/SECRET, LP_CONSUMER_KEY/SECRET,
// LP_CONSUMER_ACCOUNT.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

var ctx = context.Background()

func fail(step string, err error) {
	fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", step, err)
	os.Exit(1)
}

func must(step string, err error) {
	if err != nil {
		fail(step, err)
	}
}

func check(step string, ok bool, format string, args ...interface{}) {
	if !ok {
		fail(step, fmt.Errorf(format, args...))
	}
}

func step(name string) { fmt.Println("ok", name) }

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// A config whose endpoint is linkplane's: the resolver must set SigningRegion,
// or the SDK signs for the region it cannot derive from a custom URL.
func cfg(key, secret string) aws.Config {
	url, region := os.Getenv("LP_URL"), os.Getenv("LP_REGION")
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		EndpointResolverWithOptions: aws.EndpointResolverWithOptionsFunc(
			func(service, r string, _ ...interface{}) (aws.Endpoint, error) {
				return aws.Endpoint{URL: url, SigningRegion: region, HostnameImmutable: true}, nil
			}),
		RetryMaxAttempts: 1,
	}
}

type account struct {
	ec2 *ec2.Client
	elb *elb.Client
	sts *sts.Client
}

func newAccount(prefix string) account {
	c := cfg(os.Getenv(prefix+"_KEY"), os.Getenv(prefix+"_SECRET"))
	return account{ec2.NewFromConfig(c), elb.NewFromConfig(c), sts.NewFromConfig(c)}
}

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

func tags(rt ec2types.ResourceType, kv ...string) []ec2types.TagSpecification {
	var t []ec2types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		t = append(t, ec2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: t}}
}

// poll calls f every 200 ms until it reports done, for at most 30 s.
func poll(name string, f func() (bool, error)) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := f()
		must(name, err)
		if done {
			return
		}
		check(name, time.Now().Before(deadline), "timed out")
		time.Sleep(200 * time.Millisecond)
	}
}

// retryDependency is Terraform's DeleteVpc/DeleteSubnet loop: DependencyViolation
// is retried (things being deleted are still inside), anything else fails.
func retryDependency(name string, f func() error) {
	poll(name, func() (bool, error) {
		err := f()
		if err != nil && errCode(err) == "DependencyViolation" {
			return false, nil
		}
		return true, err
	})
}

// ---- aws_vpc ----

type vpcState struct {
	Vpc            ec2types.Vpc
	DnsSupport     bool
	DnsHostnames   bool
	AddressMetrics bool
	MainRouteTable string
	DefaultAcl     string
	DefaultSg      string
	AclEntries     int
	MainRouteCount int
}

func createVpc(a account, cidr, name string) string {
	out, err := a.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr),
		TagSpecifications: tags(ec2types.ResourceTypeVpc, "Name", name)})
	must("CreateVpc", err)
	id := aws.ToString(out.Vpc.VpcId)
	poll("DescribeVpcs until available", func() (bool, error) {
		d, err := a.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
		if err != nil {
			return false, err
		}
		return len(d.Vpcs) == 1 && d.Vpcs[0].State == ec2types.VpcStateAvailable, nil
	})
	for _, attr := range []string{"EnableDnsSupport", "EnableDnsHostnames"} {
		in := &ec2.ModifyVpcAttributeInput{VpcId: aws.String(id)}
		v := &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}
		if attr == "EnableDnsSupport" {
			in.EnableDnsSupport = v
		} else {
			in.EnableDnsHostnames = v
		}
		_, err := a.ec2.ModifyVpcAttribute(ctx, in)
		must("ModifyVpcAttribute "+attr, err)
	}
	return id
}

// readVpc is what aws_vpc's Read does on every refresh.
func readVpc(a account, id string) vpcState {
	var s vpcState
	d, err := a.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	must("DescribeVpcs", err)
	check("DescribeVpcs", len(d.Vpcs) == 1, "want 1 vpc, got %d", len(d.Vpcs))
	s.Vpc = d.Vpcs[0]
	attr := func(name ec2types.VpcAttributeName) *ec2.DescribeVpcAttributeOutput {
		o, err := a.ec2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(id), Attribute: name})
		must("DescribeVpcAttribute "+string(name), err)
		return o
	}
	s.DnsSupport = aws.ToBool(attr(ec2types.VpcAttributeNameEnableDnsSupport).EnableDnsSupport.Value)
	s.DnsHostnames = aws.ToBool(attr(ec2types.VpcAttributeNameEnableDnsHostnames).EnableDnsHostnames.Value)
	m := attr(ec2types.VpcAttributeNameEnableNetworkAddressUsageMetrics)
	check("DescribeVpcAttribute enableNetworkAddressUsageMetrics", m.EnableNetworkAddressUsageMetrics != nil, "missing")
	s.AddressMetrics = aws.ToBool(m.EnableNetworkAddressUsageMetrics.Value)

	acls, err := a.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{filter("default", "true"), filter("vpc-id", id)}})
	must("DescribeNetworkAcls default", err)
	check("DescribeNetworkAcls default", len(acls.NetworkAcls) == 1, "want the default ACL, got %d", len(acls.NetworkAcls))
	s.DefaultAcl = aws.ToString(acls.NetworkAcls[0].NetworkAclId)
	s.AclEntries = len(acls.NetworkAcls[0].Entries)
	check("default ACL", aws.ToBool(acls.NetworkAcls[0].IsDefault), "IsDefault not true")

	rts, err := a.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{filter("association.main", "true"), filter("vpc-id", id)}})
	must("DescribeRouteTables main", err)
	check("DescribeRouteTables main", len(rts.RouteTables) == 1, "want the main table, got %d", len(rts.RouteTables))
	rt := rts.RouteTables[0]
	s.MainRouteTable = aws.ToString(rt.RouteTableId)
	s.MainRouteCount = len(rt.Routes)
	check("main route table", len(rt.Associations) >= 1 && aws.ToBool(rt.Associations[0].Main), "no main association")
	check("main route", len(rt.Routes) == 1 && aws.ToString(rt.Routes[0].GatewayId) == "local" &&
		aws.ToString(rt.Routes[0].DestinationCidrBlock) == aws.ToString(s.Vpc.CidrBlock), "local route %+v", rt.Routes)

	sgs, err := a.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{filter("group-name", "default"), filter("vpc-id", id)}})
	must("DescribeSecurityGroups default", err)
	check("DescribeSecurityGroups default", len(sgs.SecurityGroups) == 1, "got %d", len(sgs.SecurityGroups))
	s.DefaultSg = aws.ToString(sgs.SecurityGroups[0].GroupId)
	return s
}

func zones(a account) []ec2types.AvailabilityZone {
	z, err := a.ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	must("DescribeAvailabilityZones", err)
	check("DescribeAvailabilityZones", len(z.AvailabilityZones) >= 2, "want 2 zones")
	return z.AvailabilityZones
}

// createSubnet places the subnet by zone id: zone names differ between accounts,
// and the consumer's endpoint subnets must share zones with the provider's NLB.
func createSubnet(a account, vpc, cidr, zoneId string) string {
	out, err := a.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr),
		AvailabilityZoneId: aws.String(zoneId), TagSpecifications: tags(ec2types.ResourceTypeSubnet, "Name", cidr)})
	must("CreateSubnet", err)
	id := aws.ToString(out.Subnet.SubnetId)
	poll("DescribeSubnets until available", func() (bool, error) {
		d, err := a.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
		return err == nil && len(d.Subnets) == 1 && d.Subnets[0].State == ec2types.SubnetStateAvailable, err
	})
	return id
}

// ---- the provider's NLB, target group, listener, endpoint service ----

type providerState struct {
	LbArn, TgArn, ListenerArn, ServiceId, ServiceName string
}

func createProvider(p account, vpc string, subnets []string, consumerArn, instance string) providerState {
	var s providerState
	lb, err := p.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("tf-nlb"),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: subnets,
		Tags: []elbtypes.Tag{{Key: aws.String("Name"), Value: aws.String("tf-nlb")}}})
	must("CreateLoadBalancer", err)
	s.LbArn = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	poll("DescribeLoadBalancers until active", func() (bool, error) {
		d, err := p.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{s.LbArn}})
		return err == nil && d.LoadBalancers[0].State.Code == elbtypes.LoadBalancerStateEnumActive, err
	})
	_, err = p.elb.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(s.LbArn)})
	must("DescribeLoadBalancerAttributes", err)

	// No TargetType: AWS's default, instance (as aws_lb_target_group's).
	tg, err := p.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("tf-tg"),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(8080), VpcId: aws.String(vpc),
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
	must("CreateTargetGroup", err)
	check("CreateTargetGroup", tg.TargetGroups[0].TargetType == elbtypes.TargetTypeEnumInstance, "target type %q",
		tg.TargetGroups[0].TargetType)
	s.TgArn = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	_, err = p.elb.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(s.TgArn)})
	must("DescribeTargetGroupAttributes", err)
	// aws_lb_target_group_attachment: the target id is the instance id.
	_, err = p.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(s.TgArn),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(instance), Port: aws.Int32(8080)}}})
	must("RegisterTargets", err)
	h, err := p.elb.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.TgArn),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(instance), Port: aws.Int32(8080)}}})
	must("DescribeTargetHealth", err)
	check("DescribeTargetHealth", len(h.TargetHealthDescriptions) == 1 &&
		aws.ToString(h.TargetHealthDescriptions[0].Target.Id) == instance, "%+v", h.TargetHealthDescriptions)

	l, err := p.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(s.LbArn),
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(443),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(s.TgArn)}}})
	must("CreateListener", err)
	s.ListenerArn = aws.ToString(l.Listeners[0].ListenerArn)
	_, err = p.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{s.LbArn, s.TgArn, s.ListenerArn}})
	must("DescribeTags", err)

	svc, err := p.ec2.CreateVpcEndpointServiceConfiguration(ctx, &ec2.CreateVpcEndpointServiceConfigurationInput{
		AcceptanceRequired: aws.Bool(true), NetworkLoadBalancerArns: []string{s.LbArn},
		ClientToken: aws.String("tf-svc-token"), TagSpecifications: tags(ec2types.ResourceTypeVpcEndpointService, "Name", "tf")})
	must("CreateVpcEndpointServiceConfiguration", err)
	s.ServiceId = aws.ToString(svc.ServiceConfiguration.ServiceId)
	s.ServiceName = aws.ToString(svc.ServiceConfiguration.ServiceName)
	again, err := p.ec2.CreateVpcEndpointServiceConfiguration(ctx, &ec2.CreateVpcEndpointServiceConfigurationInput{
		AcceptanceRequired: aws.Bool(true), NetworkLoadBalancerArns: []string{s.LbArn},
		ClientToken: aws.String("tf-svc-token"), TagSpecifications: tags(ec2types.ResourceTypeVpcEndpointService, "Name", "tf")})
	must("CreateVpcEndpointServiceConfiguration again", err)
	check("ClientToken", aws.ToString(again.ServiceConfiguration.ServiceId) == s.ServiceId, "a second service was made")
	poll("DescribeVpcEndpointServiceConfigurations until Available", func() (bool, error) {
		d, err := p.ec2.DescribeVpcEndpointServiceConfigurations(ctx, &ec2.DescribeVpcEndpointServiceConfigurationsInput{
			ServiceIds: []string{s.ServiceId}})
		return err == nil && d.ServiceConfigurations[0].ServiceState == ec2types.ServiceStateAvailable, err
	})
	_, err = p.ec2.ModifyVpcEndpointServicePermissions(ctx, &ec2.ModifyVpcEndpointServicePermissionsInput{
		ServiceId: aws.String(s.ServiceId), AddAllowedPrincipals: []string{consumerArn}})
	must("ModifyVpcEndpointServicePermissions", err)
	return s
}

func readPermissions(p account, serviceId string) []string {
	var principals []string
	var token *string
	for i := 0; i < 20; i++ {
		d, err := p.ec2.DescribeVpcEndpointServicePermissions(ctx, &ec2.DescribeVpcEndpointServicePermissionsInput{
			ServiceId: aws.String(serviceId), MaxResults: aws.Int32(5), NextToken: token})
		must("DescribeVpcEndpointServicePermissions", err)
		for _, a := range d.AllowedPrincipals {
			principals = append(principals, aws.ToString(a.Principal))
		}
		if d.NextToken == nil {
			break
		}
		token = d.NextToken
	}
	sort.Strings(principals)
	return principals
}

// ---- the consumer's endpoint ----

func waitEndpoint(c account, id string, states ...ec2types.State) ec2types.VpcEndpoint {
	var e ec2types.VpcEndpoint
	poll("DescribeVpcEndpoints until "+fmt.Sprint(states), func() (bool, error) {
		d, err := c.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
		if err != nil {
			return false, err
		}
		e = d.VpcEndpoints[0]
		// The SDK's enum is PascalCase, the wire camelCase ("pendingAcceptance"), as
		// on AWS: terraform-provider-aws compares them lower-cased, so do we.
		check("endpoint", !strings.EqualFold(string(e.State), string(ec2types.StateFailed)), "failed: %v", e.LastError)
		for _, s := range states {
			if strings.EqualFold(string(e.State), string(s)) {
				return true, nil
			}
		}
		return false, nil
	})
	return e
}

// readEndpoint is aws_vpc_endpoint's Read.
func readEndpoint(c account, id string) (ec2types.VpcEndpoint, []string) {
	d, err := c.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
	must("DescribeVpcEndpoints", err)
	e := d.VpcEndpoints[0]
	pl, err := c.ec2.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{
		Filters: []ec2types.Filter{filter("prefix-list-name", aws.ToString(e.ServiceName))}})
	must("DescribePrefixLists", err)
	check("DescribePrefixLists", len(pl.PrefixLists) == 0, "no prefix list exists for an interface service")
	var ips []string
	for _, eni := range e.NetworkInterfaceIds {
		n, err := c.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
		must("DescribeNetworkInterfaces", err)
		ips = append(ips, aws.ToString(n.NetworkInterfaces[0].PrivateIpAddress))
	}
	sort.Strings(ips)
	return e, ips
}

// ---- route tables and ACLs (aws_route_table, aws_network_acl) ----

func routeTablesAndAcls(a account, vpc, subnet string) {
	rt, err := a.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc),
		TagSpecifications: tags(ec2types.ResourceTypeRouteTable, "Name", "tf-private")})
	must("CreateRouteTable", err)
	rtId := aws.ToString(rt.RouteTable.RouteTableId)
	assoc, err := a.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtId), SubnetId: aws.String(subnet)})
	must("AssociateRouteTable", err)
	check("AssociateRouteTable", assoc.AssociationState.State == ec2types.RouteTableAssociationStateCodeAssociated, "state")
	d, err := a.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{filter("association.subnet-id", subnet)}})
	must("DescribeRouteTables by subnet", err)
	check("DescribeRouteTables by subnet", len(d.RouteTables) == 1 && aws.ToString(d.RouteTables[0].RouteTableId) == rtId, "got %d", len(d.RouteTables))

	acl, err := a.ec2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(vpc),
		TagSpecifications: tags(ec2types.ResourceTypeNetworkAcl, "Name", "tf-acl")})
	must("CreateNetworkAcl", err)
	aclId := aws.ToString(acl.NetworkAcl.NetworkAclId)
	_, err = a.ec2.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(aclId),
		RuleNumber: aws.Int32(100), Protocol: aws.String("6"), RuleAction: ec2types.RuleActionAllow, Egress: aws.Bool(false),
		CidrBlock: aws.String("0.0.0.0/0"), PortRange: &ec2types.PortRange{From: aws.Int32(443), To: aws.Int32(443)}})
	must("CreateNetworkAclEntry", err)
	_, err = a.ec2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(aclId),
		RuleNumber: aws.Int32(100), Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionAllow, Egress: aws.Bool(false),
		CidrBlock: aws.String("10.0.0.0/8")})
	must("ReplaceNetworkAclEntry", err)
	cur, err := a.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{filter("association.subnet-id", subnet)}})
	must("DescribeNetworkAcls by subnet", err)
	check("DescribeNetworkAcls by subnet", len(cur.NetworkAcls) == 1, "got %d", len(cur.NetworkAcls))
	var old string
	for _, x := range cur.NetworkAcls[0].Associations {
		if aws.ToString(x.SubnetId) == subnet {
			old = aws.ToString(x.NetworkAclAssociationId)
		}
	}
	moved, err := a.ec2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{
		AssociationId: aws.String(old), NetworkAclId: aws.String(aclId)})
	must("ReplaceNetworkAclAssociation", err)
	check("ReplaceNetworkAclAssociation", strings.HasPrefix(aws.ToString(moved.NewAssociationId), "aclassoc-"), "id")
	got, err := a.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{aclId}})
	must("DescribeNetworkAcls", err)
	n := got.NetworkAcls[0]
	check("network ACL", len(n.Associations) == 1 && len(n.Entries) == 3 && aws.ToInt32(n.Entries[0].RuleNumber) == 100 &&
		aws.ToString(n.Entries[0].CidrBlock) == "10.0.0.0/8" && n.Entries[0].PortRange == nil, "%+v", n)

	// DeleteVpc refuses while they are inside; destroy them as Terraform does.
	_, err = a.ec2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtId)})
	check("DeleteRouteTable while associated", errCode(err) == "DependencyViolation", "got %v", err)
	_, err = a.ec2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: assoc.AssociationId})
	must("DisassociateRouteTable", err)
	_, err = a.ec2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtId)})
	must("DeleteRouteTable", err)
	def := cur.NetworkAcls[0].NetworkAclId
	_, err = a.ec2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{
		AssociationId: moved.NewAssociationId, NetworkAclId: def})
	must("ReplaceNetworkAclAssociation back", err)
	_, err = a.ec2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(aclId),
		RuleNumber: aws.Int32(100), Egress: aws.Bool(false)})
	must("DeleteNetworkAclEntry", err)
	_, err = a.ec2.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: aws.String(aclId)})
	must("DeleteNetworkAcl", err)
}

func main() {
	p, c := newAccount("LP_PROVIDER"), newAccount("LP_CONSUMER")

	// Provider start.
	id, err := p.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must("GetCallerIdentity", err)
	check("GetCallerIdentity", len(aws.ToString(id.Account)) == 12, "account %q", aws.ToString(id.Account))
	cid, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must("GetCallerIdentity consumer", err)
	consumerArn := "arn:aws:iam::" + aws.ToString(cid.Account) + ":root"
	regions, err := p.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	must("DescribeRegions", err)
	check("DescribeRegions", len(regions.Regions) == 1 && aws.ToString(regions.Regions[0].RegionName) == os.Getenv("LP_REGION"), "%v", regions.Regions)
	attrs, err := p.ec2.DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{
		AttributeNames: []ec2types.AccountAttributeName{ec2types.AccountAttributeNameSupportedPlatforms}})
	must("DescribeAccountAttributes", err)
	check("DescribeAccountAttributes", len(attrs.AccountAttributes) == 1 &&
		aws.ToString(attrs.AccountAttributes[0].AttributeValues[0].AttributeValue) == "VPC", "%v", attrs.AccountAttributes)
	step("provider start")

	// Provider VPC with two subnets.
	pz := zones(p)
	zoneIds := []string{aws.ToString(pz[0].ZoneId), aws.ToString(pz[1].ZoneId)}
	pvpc := createVpc(p, "10.0.0.0/16", "provider")
	pvpcState := readVpc(p, pvpc)
	check("aws_vpc read", pvpcState.DnsSupport && pvpcState.DnsHostnames && !pvpcState.AddressMetrics, "attributes %+v", pvpcState)
	psub := []string{createSubnet(p, pvpc, "10.0.1.0/24", zoneIds[0]), createSubnet(p, pvpc, "10.0.2.0/24", zoneIds[1])}
	routeTablesAndAcls(p, pvpc, psub[0])
	step("aws_vpc, aws_subnet, aws_route_table, aws_network_acl")

	// The provider's backend: an instance whose UserData starts its server.
	image := findImage(p)
	web := createWebGroup(p, pvpc)
	iid := createInstance(p, image, psub[0], web)
	readInstance(p, iid)
	step("aws_security_group, aws_instance")

	prov := createProvider(p, pvpc, psub, consumerArn, iid)
	check("permissions", reflect.DeepEqual(readPermissions(p, prov.ServiceId), []string{consumerArn}), "principals")
	step("aws_lb, aws_lb_target_group, aws_lb_target_group_attachment, aws_lb_listener, aws_vpc_endpoint_service")

	// Consumer VPC with an endpoint the provider accepts.
	cvpc := createVpc(c, "10.1.0.0/16", "consumer")
	readVpc(c, cvpc)
	csub := []string{createSubnet(c, cvpc, "10.1.1.0/24", zoneIds[0]), createSubnet(c, cvpc, "10.1.2.0/24", zoneIds[1])}
	svcs, err := c.ec2.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{
		Filters: []ec2types.Filter{filter("service-type", "Interface"), filter("service-name", prov.ServiceName)}})
	must("DescribeVpcEndpointServices", err)
	check("DescribeVpcEndpointServices", len(svcs.ServiceDetails) == 1, "consumer does not see the service")
	epIn := &ec2.CreateVpcEndpointInput{VpcId: aws.String(cvpc), ServiceName: aws.String(prov.ServiceName),
		VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{csub[0]}, PrivateDnsEnabled: aws.Bool(false),
		ClientToken: aws.String("tf-ep-token"), TagSpecifications: tags(ec2types.ResourceTypeVpcEndpoint, "Name", "tf-ep")}
	ep, err := c.ec2.CreateVpcEndpoint(ctx, epIn)
	must("CreateVpcEndpoint", err)
	epId := aws.ToString(ep.VpcEndpoint.VpcEndpointId)
	ep2, err := c.ec2.CreateVpcEndpoint(ctx, epIn)
	must("CreateVpcEndpoint again", err)
	check("ClientToken", aws.ToString(ep2.VpcEndpoint.VpcEndpointId) == epId, "a second endpoint was made")
	waitEndpoint(c, epId, ec2types.StateAvailable, ec2types.StatePendingAcceptance)
	readEndpoint(c, epId)
	acc, err := p.ec2.AcceptVpcEndpointConnections(ctx, &ec2.AcceptVpcEndpointConnectionsInput{
		ServiceId: aws.String(prov.ServiceId), VpcEndpointIds: []string{epId}})
	must("AcceptVpcEndpointConnections", err)
	check("AcceptVpcEndpointConnections", len(acc.Unsuccessful) == 0, "unsuccessful %v", acc.Unsuccessful)
	waitEndpoint(c, epId, ec2types.StateAvailable)
	_, ips := readEndpoint(c, epId)
	check("endpoint", len(ips) == 1 && strings.HasPrefix(ips[0], "10.1.1."), "ENI addresses %v", ips)
	workload := createWorkload(c, csub[0])
	step("aws_vpc_endpoint accepted by aws_vpc_endpoint_connection_accepter")

	// Bytes: consumer workload -> endpoint -> NLB -> the instance's server.
	waitHealthy(p, prov.TgArn, iid)
	got := fetchThrough(workload, ips[0])
	check("bytes through the endpoint", got == "web "+iid, "the instance's server answered %q", got)
	step("bytes flow from a consumer workload through the endpoint to the instance")

	// Modify.
	sg, err := c.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("tf-ep-sg"),
		Description: aws.String("endpoint"), VpcId: aws.String(cvpc)})
	must("CreateSecurityGroup", err)
	_, err = c.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: aws.String(epId),
		AddSecurityGroupIds: []string{aws.ToString(sg.GroupId)}, AddSubnetIds: []string{csub[1]}})
	must("ModifyVpcEndpoint", err)
	_, err = p.ec2.ModifyVpcEndpointServiceConfiguration(ctx, &ec2.ModifyVpcEndpointServiceConfigurationInput{
		ServiceId: aws.String(prov.ServiceId), AcceptanceRequired: aws.Bool(false)})
	must("ModifyVpcEndpointServiceConfiguration", err)
	_, err = p.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{pvpc, iid},
		Tags: []ec2types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}})
	must("CreateTags", err)
	// credit_specification changed in place, as Terraform updates it.
	mod, err := p.ec2.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{
		InstanceCreditSpecifications: []ec2types.InstanceCreditSpecificationRequest{{InstanceId: aws.String(iid),
			CpuCredits: aws.String("standard")}}})
	must("ModifyInstanceCreditSpecification", err)
	check("ModifyInstanceCreditSpecification", len(mod.SuccessfulInstanceCreditSpecifications) == 1 &&
		len(mod.UnsuccessfulInstanceCreditSpecifications) == 0, "%+v", mod)
	waitEndpoint(c, epId, ec2types.StateAvailable)
	_, ips = readEndpoint(c, epId)
	check("endpoint after ModifyVpcEndpoint", len(ips) == 2, "ENI addresses %v", ips)
	got = fetchThrough(workload, ips[1])
	check("bytes through the new subnet's interface", got == "web "+iid, "answered %q", got)
	step("modify")

	// A second `plan`: every resource read again as its Read does; the reads agree
	// with each other and with what was applied.
	want := applied{Image: image, Subnet: psub[0], WebGroup: web, Instance: iid, Lb: prov.LbArn, Tg: prov.TgArn,
		Listener: prov.ListenerArn, Service: prov.ServiceId, Endpoint: epId, ProviderSubnets: psub, ConsumerSubnets: csub,
		EndpointGroup: aws.ToString(sg.GroupId), ConsumerArn: consumerArn, Workload: workload}
	first := []interface{}{readVpc(p, pvpc), readVpc(c, cvpc), readPlan(p, c, want)}
	second := []interface{}{readVpc(p, pvpc), readVpc(c, cvpc), readPlan(p, c, want)}
	check("second plan", reflect.DeepEqual(first, second), "two reads differ")
	changes := diff(first[2].(planReads), want)
	check("second plan", len(changes) == 0, "would change: %s", strings.Join(changes, "; "))
	check("instance tag", len(first[2].(planReads).Instance.Instance.Tags) == 2, "the env tag is not read back")
	step("second plan finds nothing to change")

	// Destroy in reverse order.
	del, err := c.ec2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{epId}})
	must("DeleteVpcEndpoints", err)
	check("DeleteVpcEndpoints", len(del.Unsuccessful) == 0, "unsuccessful %v", del.Unsuccessful)
	poll("DescribeVpcEndpoints until deleted", func() (bool, error) {
		d, err := c.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{epId}})
		if errCode(err) == "InvalidVpcEndpointId.NotFound" {
			return true, nil
		}
		return err == nil && (len(d.VpcEndpoints) == 0 || strings.EqualFold(string(d.VpcEndpoints[0].State), "deleted")), err
	})
	_, err = c.ec2.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(workload)})
	must("DeleteNetworkInterface", err)
	retryDependency("DeleteSecurityGroup", func() error {
		_, err := c.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
		return err
	})
	for _, s := range csub {
		s := s
		retryDependency("DeleteSubnet consumer", func() error {
			_, err := c.ec2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)})
			return err
		})
	}
	retryDependency("DeleteVpc consumer", func() error {
		_, err := c.ec2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(cvpc)})
		return err
	})
	dsvc, err := p.ec2.DeleteVpcEndpointServiceConfigurations(ctx, &ec2.DeleteVpcEndpointServiceConfigurationsInput{ServiceIds: []string{prov.ServiceId}})
	must("DeleteVpcEndpointServiceConfigurations", err)
	check("DeleteVpcEndpointServiceConfigurations", len(dsvc.Unsuccessful) == 0, "unsuccessful %v", dsvc.Unsuccessful)
	// DeleteVpc refuses while subnets, the instance and the load balancer are inside (Terraform retries).
	_, err = p.ec2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(pvpc)})
	check("DeleteVpc with dependencies inside", errCode(err) == "DependencyViolation", "got %v", err)
	_, err = p.elb.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(prov.ListenerArn)})
	must("DeleteListener", err)
	_, err = p.elb.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(prov.TgArn),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(iid), Port: aws.Int32(8080)}}})
	must("DeregisterTargets", err)
	_, err = p.elb.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(prov.TgArn)})
	must("DeleteTargetGroup", err)
	_, err = p.elb.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(prov.LbArn)})
	must("DeleteLoadBalancer", err)
	// aws_instance's Delete: TerminateInstances, then DescribeInstances until terminated.
	term, err := p.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{iid}})
	must("TerminateInstances", err)
	check("TerminateInstances", len(term.TerminatingInstances) == 1 &&
		term.TerminatingInstances[0].CurrentState.Name == ec2types.InstanceStateNameShuttingDown, "%+v", term.TerminatingInstances)
	waitInstance(p, iid, ec2types.InstanceStateNameTerminated)
	retryDependency("DeleteSecurityGroup tf-web", func() error {
		_, err := p.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(web)})
		return err
	})
	for _, s := range psub {
		s := s
		retryDependency("DeleteSubnet provider", func() error {
			_, err := p.ec2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)})
			return err
		})
	}
	retryDependency("DeleteVpc provider", func() error {
		_, err := p.ec2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(pvpc)})
		return err
	})
	step("destroy")

	// Nothing is left (a terminated instance stays described for a while, as on AWS).
	for name, a := range map[string]account{"provider": p, "consumer": c} {
		v, err := a.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		must("DescribeVpcs after destroy", err)
		rt, err := a.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{})
		must("DescribeRouteTables after destroy", err)
		acl, err := a.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{})
		must("DescribeNetworkAcls after destroy", err)
		lbs, err := a.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
		must("DescribeLoadBalancers after destroy", err)
		live, err := a.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{filter(
			"instance-state-name", "pending", "running", "stopping", "stopped", "shutting-down")}})
		must("DescribeInstances after destroy", err)
		enis, err := a.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
		must("DescribeNetworkInterfaces after destroy", err)
		check("after destroy "+name, len(v.Vpcs) == 0 && len(rt.RouteTables) == 0 && len(acl.NetworkAcls) == 0 &&
			len(lbs.LoadBalancers) == 0 && len(live.Reservations) == 0 && len(enis.NetworkInterfaces) == 0,
			"left: %d vpcs, %d route tables, %d ACLs, %d LBs, %d reservations, %d ENIs", len(v.Vpcs), len(rt.RouteTables),
			len(acl.NetworkAcls), len(lbs.LoadBalancers), len(live.Reservations), len(enis.NetworkInterfaces))
	}
	step("nothing left")
	fmt.Println("ALL OK")
}
