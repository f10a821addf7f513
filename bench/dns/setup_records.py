"""Creates interface endpoints in a running linkplane (control plane only) with
boto3, waits until they are available, then writes what the DNS benchmark needs:
  queries.txt  dnsperf input: regional and zonal names (A), the same names (AAAA:
               no data), and names under the zone that do not exist (NXDOMAIN);
  hosts.txt    the same A records, as linkplane's own resolver answers them, for
               the comparison server.
Usage: setup_records.py API_URL DNS_PORT OUT_DIR [ENDPOINTS]"""

import subprocess
import sys
import time

import boto3

url, dns_port, out = sys.argv[1], sys.argv[2], sys.argv[3]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 8
ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="AKIALINKPLANECONSUMR",
                   aws_secret_access_key="consumer/secret/key/0000000000000000000000")

names = []
for i in range(count):
    vpc = ec2.create_vpc(CidrBlock=f"10.{100 + i}.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{100 + i}.{z + 1}.0/24",
                                 AvailabilityZone=f"us-east-1{'abc'[z]}")["Subnet"]["SubnetId"] for z in range(3)]
    e = ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vpc, ServiceName="com.amazonaws.us-east-1.ec2",
                                SubnetIds=subnets, PrivateDnsEnabled=False)["VpcEndpoint"]
    names += [d["DnsName"] for d in e["DnsEntries"]]
    eid = e["VpcEndpointId"]
    for _ in range(100):
        if ec2.describe_vpc_endpoints(VpcEndpointIds=[eid])["VpcEndpoints"][0]["State"] == "available":
            break
        time.sleep(0.1)

hosts = []
for n in names:
    ips = subprocess.run(["dig", "@127.0.0.1", "-p", dns_port, "+short", n], capture_output=True,
                         text=True).stdout.split()
    if not ips:
        sys.exit(f"setup_records: linkplane does not answer {n}")
    hosts += [f"{ip} {n}" for ip in ips]

with open(f"{out}/hosts.txt", "w") as f:
    f.write("\n".join(hosts) + "\n")
with open(f"{out}/queries.txt", "w") as f:
    for i, n in enumerate(names):
        f.write(f"{n} A\n")
        if i % 4 == 0:
            f.write(f"{n} AAAA\n")
            f.write(f"vpce-{i:017x}-nothing.ec2.us-east-1.vpce.amazonaws.com A\n")
print(f"setup_records: {len(names)} names, {len(hosts)} A records")
