"""Creates interface endpoints in a running linkplane (control plane only) with
boto3, waits until they are available, then writes what the DNS benchmark needs:
  queries.txt  dnsperf input: regional and zonal names (A), the same names (AAAA:
               no data), and names under the zone that do not exist (NXDOMAIN);
  hosts.txt    the same A records, as linkplane's own resolver answers them, for
               the comparison server;
  queries-case.txt  the same mix, DISTINCT lines, each name in a random mix of upper
               and lower case (as resolvers using 0x20 send them): names match
               case-insensitively and linkplane's answer cache is keyed by the
               lowercased name, so these are answered from it like the first mix;
  queries-distinct.txt  DISTINCT names under the zone that do not exist (NXDOMAIN),
               each asked once per cycle: the cache holds at most 16384 answers
               (then starts over), so none is ever answered from it and every
               answer is built with ldns.
Usage: setup_records.py API_URL DNS_PORT OUT_DIR [ENDPOINTS] [DISTINCT]"""

import random
import subprocess
import sys
import time

import boto3

url, dns_port, out = sys.argv[1], sys.argv[2], sys.argv[3]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 8
distinct = int(sys.argv[5]) if len(sys.argv) > 5 else 40000
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
queries = []
for i, n in enumerate(names):
    queries.append(f"{n} A")
    if i % 4 == 0:
        queries.append(f"{n} AAAA")
        queries.append(f"vpce-{i:017x}-nothing.ec2.us-east-1.vpce.amazonaws.com A")
with open(f"{out}/queries.txt", "w") as f:
    f.write("\n".join(queries) + "\n")

rng = random.Random(1)
seen = set()
with open(f"{out}/queries-case.txt", "w") as f:
    while len(seen) < distinct:
        name, qtype = queries[len(seen) % len(queries)].split()
        q = "".join(c.upper() if rng.random() < 0.5 else c for c in name) + " " + qtype
        if q not in seen:
            seen.add(q)
            f.write(q + "\n")
with open(f"{out}/queries-distinct.txt", "w") as f:
    for i in range(distinct):
        f.write(f"q{i:x}.{names[i % len(names)]} A\n")
print(f"setup_records: {len(names)} names, {len(hosts)} A records, {len(queries)} queries, "
      f"{distinct} distinct random-case ones, {distinct} distinct nonexistent names")
