#!/usr/bin/env bash
# linkplane demo: the seed walkthrough, narrated, with the real AWS CLI.
#
# `linkplane demo` embeds this script, starts a throw-away daemon and runs it with:
#   ENDPOINT        http://127.0.0.1:PORT of that daemon
#   LINKPLANE       path of the linkplane binary (for `linkplane exec`)
#   DATAPLANE       1 when the daemon provisions namespaces (root), 0 otherwise
#   PROVIDER_ACCOUNT PROVIDER_KEY PROVIDER_SECRET   the first configured account
#   CONSUMER_ACCOUNT CONSUMER_KEY CONSUMER_SECRET   the second configured account
# The daemon is stopped and its state removed by `linkplane demo`, whatever happens
# here. Any failed step exits non-zero, so the demo doubles as a smoke test.
#
# Structure: one function per section of the walkthrough, called in order by
# main() at the bottom. Sections share what they made through the globals below
# (P_ = provider account, C_ = consumer account). Later issues add their sections
# (endpoints, traffic, DNS, notifications) where main() marks the place.
set -euo pipefail

: "${ENDPOINT:?ENDPOINT must name the daemon, e.g. http://127.0.0.1:4566}"
: "${LINKPLANE:=linkplane}"
: "${DATAPLANE:=0}"
: "${PROVIDER_ACCOUNT:?}" "${PROVIDER_KEY:?}" "${PROVIDER_SECRET:?}"
: "${CONSUMER_ACCOUNT:?}" "${CONSUMER_KEY:?}" "${CONSUMER_SECRET:?}"
AWS=${LP_DEMO_AWS:-/usr/bin/aws}  # the AWS CLI (tests point it elsewhere to make a step fail)
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER="" AWS_CONFIG_FILE=/dev/null \
  AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN

# Shared between sections.
P_VPC="" C_VPC=""            # VPC ids
P_SUBNETS=() C_SUBNETS=()    # subnet ids, one per zone (use1-az1, use1-az2)
P_SG="" C_SG=""              # security group ids
C_ENI=""                     # the consumer's workload network interface id
P_INSTANCE="" P_INSTANCE_IP="" # the provider's backend: an EC2 instance and its private address
C_ENI_IP=""                  # the consumer workload's private address
P_TG_ARN="" P_LB_ARN=""      # the provider's target group and network load balancer
P_SERVICE_ID="" P_SERVICE_NAME=""  # the provider's endpoint service
C_ENDPOINT="" C_ENDPOINT_SG="" # the consumer's interface endpoint and its security group
C_ENDPOINT_DNS=""            # the endpoint's regional DNS name

# ---------------------------------------------------------------------------
# Narration helpers.

STEP=0
BOLD="" PLAIN=""
if [[ -t 1 ]]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; fi
section() { printf '\n%s== %s ==%s\n' "$BOLD" "$*" "$PLAIN"; }
say() {
  STEP=$((STEP + 1))
  printf '\n%d. %s\n' "$STEP" "$*"
}
# quoted ARGS...: the arguments as one could paste them into a shell.
quoted() {
  local a out=()
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
  done
  printf '%s' "${out[*]}"
}
fail() {
  printf '\ndemo FAILED: %s\n' "$*" >&2
  exit 1
}

# run ACCOUNT ARGS...: shows `aws ARGS...` as ACCOUNT (provider|consumer), runs it
# against the daemon with text output, prints the output, and leaves it in $OUT.
OUT=""
run() {
  local who=$1 key secret
  shift
  case $who in
    provider) key=$PROVIDER_KEY secret=$PROVIDER_SECRET ;;
    consumer) key=$CONSUMER_KEY secret=$CONSUMER_SECRET ;;
    *) fail "unknown account $who" ;;
  esac
  printf '   [%s] $ aws %s\n' "$who" "$(quoted "$@")"
  if ! OUT=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
    "$AWS" --endpoint-url "$ENDPOINT" --output text "$@" 2>&1); then
    printf '%s\n' "$OUT" | sed 's/^/     /'
    fail "aws $*"
  fi
  if [[ -n $OUT ]]; then printf '%s\n' "$OUT" | sed 's/^/     /'; fi
}

# run_error ACCOUNT CODE ARGS...: like run, but the call must fail with AWS error CODE.
run_error() {
  local who=$1 code=$2 key secret
  shift 2
  case $who in
    provider) key=$PROVIDER_KEY secret=$PROVIDER_SECRET ;;
    consumer) key=$CONSUMER_KEY secret=$CONSUMER_SECRET ;;
  esac
  printf '   [%s] $ aws %s\n' "$who" "$(quoted "$@")"
  if OUT=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
    "$AWS" --endpoint-url "$ENDPOINT" --output text "$@" 2>&1); then
    fail "expected $code from aws $*, got success: $OUT"
  fi
  printf '%s\n' "$OUT" | grep -v '^$' | sed 's/^/     /'
  [[ $OUT == *"($code)"* ]] || fail "expected $code from aws $*"
}

# expect_id PREFIX VALUE: VALUE must be an AWS id of that kind (prefix + 17 hex digits).
expect_id() {
  [[ $2 =~ ^$1-[0-9a-f]{17}$ ]] || fail "expected a $1- id, got '$2'"
}

# shown CMD...: prints and runs a host command (not an AWS call); its output stays in $SHOWN.
SHOWN=""
shown() {
  printf '   $ %s\n' "$(quoted "$@")"
  SHOWN=$("$@" 2>&1) || {
    printf '%s\n' "$SHOWN" | sed 's/^/     /'
    fail "$*"
  }
  if [[ -n $SHOWN ]]; then printf '%s\n' "$SHOWN" | sed 's/^/     /'; fi
}

# with_dataplane WHY: true when the data plane runs (root); otherwise says the section
# is skipped, and why, and is false.
with_dataplane() {
  [[ $DATAPLANE == 1 ]] && return 0
  say "Skipped: $1"
  return 1
}

# wait_netns NAME: the reconciler creates namespaces asynchronously; wait up to 10 s.
wait_netns() {
  local i
  for i in $(seq 100); do
    if ip netns list | grep -qw "$1"; then return 0; fi
    sleep 0.1
  done
  fail "namespace $1 did not appear"
}

# ---------------------------------------------------------------------------
# Sections.

section_accounts() {
  section "Two accounts"
  say "Every request is SigV4-signed; the access key picks the account. The provider publishes services,"
  printf '   the consumer will use them. STS tells each who it is.\n'
  run provider sts get-caller-identity --query '[Account,Arn]'
  [[ $OUT == "$PROVIDER_ACCOUNT"* ]] || fail "provider identity"
  run consumer sts get-caller-identity --query '[Account,Arn]'
  [[ $OUT == "$CONSUMER_ACCOUNT"* ]] || fail "consumer identity"
}

section_zones() {
  section "Availability zones"
  say "Zone names are per account: the same zone id has a different name in each account,"
  printf '   so "us-east-1a" is not the same place for both (zone ids are what match).\n'
  run provider ec2 describe-availability-zones --query 'AvailabilityZones[].[ZoneId,ZoneName]'
  local p=$OUT
  run consumer ec2 describe-availability-zones --query 'AvailabilityZones[].[ZoneId,ZoneName]'
  local c=$OUT
  [[ $p != "$c" ]] || fail "both accounts see the same zone names"
  local pa ca
  pa=$(awk '$1 == "use1-az1" {print $2}' <<<"$p")
  ca=$(awk '$1 == "use1-az1" {print $2}' <<<"$c")
  printf '   -> zone use1-az1 is %s for the provider and %s for the consumer.\n' "$pa" "$ca"
}

section_vpcs() {
  section "VPCs"
  say "Each account creates a VPC. Same API as AWS: an id, a CIDR, a default security group."
  run provider ec2 create-vpc --cidr-block 10.0.0.0/16 \
    --tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=provider-vpc}]' --query 'Vpc.VpcId'
  P_VPC=$OUT
  expect_id vpc "$P_VPC"
  run consumer ec2 create-vpc --cidr-block 10.1.0.0/16 \
    --tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=consumer-vpc}]' --query 'Vpc.VpcId'
  C_VPC=$OUT
  expect_id vpc "$C_VPC"

  say "Accounts are isolated: the consumer cannot see the provider's VPC."
  run_error consumer InvalidVpcID.NotFound ec2 describe-vpcs --vpc-ids "$P_VPC"

  if [[ $DATAPLANE == 1 ]]; then
    say "VPCs are real: each is a Linux network namespace named lp-<vpc-id>, isolated from the host."
    wait_netns "lp-$P_VPC"
    wait_netns "lp-$C_VPC"
    printf '   $ ip netns list\n'
    ip netns list | grep -E "^lp-($P_VPC|$C_VPC)" | cut -d' ' -f1 | sed 's/^/     /'
  fi
}

section_subnets() {
  section "Subnets in two zones"
  say "Each account makes a subnet in two zones, naming the zones by id (use1-az1, use1-az2)."
  local zone i=0
  for zone in use1-az1 use1-az2; do
    i=$((i + 1))
    run provider ec2 create-subnet --vpc-id "$P_VPC" --cidr-block "10.0.$i.0/24" \
      --availability-zone-id "$zone" --query 'Subnet.SubnetId'
    expect_id subnet "$OUT"
    P_SUBNETS+=("$OUT")
    run consumer ec2 create-subnet --vpc-id "$C_VPC" --cidr-block "10.1.$i.0/24" \
      --availability-zone-id "$zone" --query 'Subnet.SubnetId'
    expect_id subnet "$OUT"
    C_SUBNETS+=("$OUT")
  done

  say "The same zone ids carry different zone names in the two accounts; a /24 has 251 usable addresses"
  printf '   (AWS reserves the first four and the last).\n'
  run provider ec2 describe-subnets --filters "Name=vpc-id,Values=$P_VPC" \
    --query 'Subnets[].[SubnetId,CidrBlock,AvailabilityZoneId,AvailabilityZone,AvailableIpAddressCount]'
  run consumer ec2 describe-subnets --filters "Name=vpc-id,Values=$C_VPC" \
    --query 'Subnets[].[SubnetId,CidrBlock,AvailabilityZoneId,AvailabilityZone,AvailableIpAddressCount]'

  say "Bad input gets the AWS error and changes nothing: a subnet outside the VPC's CIDR."
  run_error provider InvalidSubnet.Range ec2 create-subnet --vpc-id "$P_VPC" --cidr-block 10.9.0.0/24
}

section_security_groups() {
  section "Security groups"
  say "The provider creates a security group that admits HTTPS from the consumer's network."
  run provider ec2 create-security-group --vpc-id "$P_VPC" --group-name service-sg \
    --description "HTTPS from the consumer" --query GroupId
  P_SG=$OUT
  expect_id sg "$P_SG"
  run provider ec2 authorize-security-group-ingress --group-id "$P_SG" --protocol tcp --port 443 \
    --cidr 10.1.0.0/16 --query 'SecurityGroupRules[].[SecurityGroupRuleId,IpProtocol,FromPort,ToPort,CidrIpv4]'

  say "The consumer's workloads get a group that may open connections anywhere (the default egress rule)."
  run consumer ec2 create-security-group --vpc-id "$C_VPC" --group-name workload-sg \
    --description "consumer workloads" --query GroupId
  C_SG=$OUT
  expect_id sg "$C_SG"

  say "Describing the provider's groups: the VPC's default group and the new one with its rule."
  run provider ec2 describe-security-groups --filters "Name=vpc-id,Values=$P_VPC" \
    --query 'SecurityGroups[].[GroupId,GroupName,length(IpPermissions)]'
  run_error provider InvalidPermission.Duplicate ec2 authorize-security-group-ingress --group-id "$P_SG" \
    --protocol tcp --port 443 --cidr 10.1.0.0/16
}

section_network_interfaces() {
  section "Network interfaces"
  say "A network interface is a workload: the consumer creates one in its first subnet."
  printf '   Its address is allocated inside the subnet, skipping the reserved ones.\n'
  run consumer ec2 create-network-interface --subnet-id "${C_SUBNETS[0]}" --groups "$C_SG" \
    --description "consumer workload" \
    --query 'NetworkInterface.[NetworkInterfaceId,PrivateIpAddress,AvailabilityZone]'
  C_ENI=$(awk '{print $1}' <<<"$OUT")
  C_ENI_IP=$(awk '{print $2}' <<<"$OUT")
  expect_id eni "$C_ENI"

  say "Describing the consumer's interfaces, and tagging one (tags are filters too)."
  run consumer ec2 create-tags --resources "$C_ENI" --tags Key=role,Value=client
  run consumer ec2 describe-network-interfaces --filters Name=tag:role,Values=client \
    --query 'NetworkInterfaces[].[NetworkInterfaceId,SubnetId,PrivateIpAddress,Status,Groups[0].GroupId]'
  [[ $OUT == "$C_ENI"* ]] || fail "tag filter did not find $C_ENI"

  if [[ $DATAPLANE == 1 ]]; then
    say "The workload is real: a namespace with a veth into its subnet's bridge. \`linkplane exec\` runs a"
    printf '   command there.\n'
    wait_netns "lp-$C_ENI"
    shown "$LINKPLANE" exec --eni "$C_ENI" -- ip -4 -brief addr show eth0
    shown "$LINKPLANE" exec --eni "$C_ENI" -- ip route
  fi
}

# The provider's backend, an HTTP server: ADDRESS PORT NAME. Answers GET with one line
# naming itself and logs each request with the address it came from to stderr (the
# instance's console). It exits when the process LP_BACKEND_WATCH (the demo) goes, or
# after 10 minutes: it cannot outlive the demo even if the instance were not terminated.
BACKEND_PY='
import http.server, os, sys, threading, time
ip, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
demo = int(os.environ.get("LP_BACKEND_WATCH", "0"))
def watchdog():
    end = time.monotonic() + 600
    while time.monotonic() < end:
        try:
            os.kill(demo, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    os._exit(0)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello from the provider backend {ip}:{port} ({name})\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        print("backend: %s from %s:%d" % (fmt % args, *self.client_address), file=sys.stderr, flush=True)
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
s = S((ip, port), H)
if demo:
    threading.Thread(target=watchdog, daemon=True).start()
print("backend listening on %s:%d" % (ip, port), flush=True)
s.serve_forever()
'

# user_data: the backend instance's UserData, a shell script as on AWS. It runs once,
# as root, inside the instance at its first start: writes the backend and starts it
# on the instance's address, port 8080.
user_data() {
  printf '#!/bin/sh\n'
  printf '# The provider backend: an HTTP server on this instance'"'"'s address, port 8080.\n'
  printf 'addr=$(ip -4 -o addr show eth0 | awk '"'"'{split($4, a, "/"); print a[1]}'"'"')\n'
  printf 'cat >/tmp/lp-demo-backend-$INSTANCE_ID.py <<'"'"'PY'"'"'%s\nPY\n' "$BACKEND_PY"
  printf 'LP_BACKEND_WATCH=%s nohup /usr/bin/python3 /tmp/lp-demo-backend-$INSTANCE_ID.py "$addr" 8080 "$INSTANCE_ID" &\n' "$$"
  printf 'echo "user-data: backend started on $addr:8080"\n'
}

# wait_instance ID STATE: polls describe-instances until STATE (30 s).
wait_instance() {
  local i state=""
  for i in $(seq 150); do
    state=$(AWS_ACCESS_KEY_ID=$PROVIDER_KEY AWS_SECRET_ACCESS_KEY=$PROVIDER_SECRET "$AWS" --endpoint-url "$ENDPOINT" \
      --output text ec2 describe-instances --instance-ids "$1" --query 'Reservations[0].Instances[0].State.Name' 2>&1) ||
      true
    [[ $state == "$2" ]] && return 0
    sleep 0.2
  done
  fail "instance $1 is '$state', expected '$2'"
}

section_instance() {
  section "The provider's backend: an EC2 instance"
  say "The provider runs its backend on an EC2 instance. It picks the newest Debian 12 image."
  run provider ec2 describe-images --owners 136693071363 --filters 'Name=name,Values=debian-12-amd64-*' \
    --query 'sort_by(Images,&CreationDate)[-1].[ImageId,Name]'
  local ami
  ami=$(awk '{print $1}' <<<"$OUT")
  expect_id ami "$ami"

  say "Its UserData is a shell script that runs once, as root, inside the instance at its first start: it"
  printf '   writes the backend (an HTTP server that answers with a line naming itself) and starts it.\n'
  B_USER_DATA_DIR=$(mktemp -d /tmp/lp-demo-userdata-XXXXXX)
  user_data >"$B_USER_DATA_DIR/user-data.sh"
  awk '/<<.PY.$/ {print; skip = 1; n = 0; next} skip && /^PY$/ {printf "   ... %d lines of Python ...\n", n; skip = 0}
       skip {n++; next} {print}' "$B_USER_DATA_DIR/user-data.sh" | sed 's/^/     | /'
  run provider ec2 run-instances --image-id "$ami" --instance-type t3.micro --subnet-id "${P_SUBNETS[0]}" \
    --security-group-ids "$P_SG" --private-ip-address 10.0.1.10 --user-data "file://$B_USER_DATA_DIR/user-data.sh" \
    --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=backend}]' \
    --query 'Instances[0].[InstanceId,State.Name,PrivateIpAddress,NetworkInterfaces[0].NetworkInterfaceId]'
  P_INSTANCE=$(awk '{print $1}' <<<"$OUT")
  P_INSTANCE_IP=$(awk '{print $3}' <<<"$OUT")
  expect_id i "$P_INSTANCE"
  rm -rf "$B_USER_DATA_DIR"
  B_USER_DATA_DIR=""

  say "It is pending until its network interface is up in the subnet, then running (AWS's states and codes)."
  wait_instance "$P_INSTANCE" running
  run provider ec2 describe-instances --instance-ids "$P_INSTANCE" \
    --query 'Reservations[0].Instances[0].[InstanceId,State.Name,State.Code,PrivateIpAddress,Placement.AvailabilityZone]'
  with_dataplane "the instance's UserData runs in its namespace, which needs root." || return 0
  say "What the UserData printed is the instance's console output; the backend listens inside the instance."
  local i
  for i in $(seq 60); do
    OUT=$(AWS_ACCESS_KEY_ID=$PROVIDER_KEY AWS_SECRET_ACCESS_KEY=$PROVIDER_SECRET "$AWS" --endpoint-url "$ENDPOINT" \
      --output text ec2 get-console-output --instance-id "$P_INSTANCE" --query Output 2>&1) || true
    [[ $OUT == *"backend listening"* ]] && break
    sleep 0.5
  done
  run provider ec2 get-console-output --instance-id "$P_INSTANCE" --query Output
  [[ $OUT == *"backend listening on $P_INSTANCE_IP:8080"* ]] || fail "the instance's backend did not start"
  shown "$LINKPLANE" exec --instance "$P_INSTANCE" -- ss -Htln sport = :8080
}

# terminate_instance: terminates the backend instance and waits until it is terminated
# (its processes stopped, its network interface gone). Quiet: the EXIT trap's.
terminate_instance() {
  [[ -n $P_INSTANCE ]] || return 0
  AWS_ACCESS_KEY_ID=$PROVIDER_KEY AWS_SECRET_ACCESS_KEY=$PROVIDER_SECRET "$AWS" --endpoint-url "$ENDPOINT" \
    ec2 terminate-instances --instance-ids "$P_INSTANCE" >/dev/null 2>&1 || true
  local i state=""
  for i in $(seq 100); do
    state=$(AWS_ACCESS_KEY_ID=$PROVIDER_KEY AWS_SECRET_ACCESS_KEY=$PROVIDER_SECRET "$AWS" --endpoint-url "$ENDPOINT" \
      --output text ec2 describe-instances --instance-ids "$P_INSTANCE" \
      --query 'Reservations[0].Instances[0].State.Name' 2>/dev/null) || true
    [[ $state == terminated || -z $state ]] && break
    sleep 0.2
  done
  rm -f "/tmp/lp-demo-backend-$P_INSTANCE.py"
  P_INSTANCE=""
}

section_terminate() {
  section "Terminating the instance"
  say "The provider terminates its backend instance: shutting-down, then terminated; its processes are stopped"
  printf '   and its network interface goes with it. The target group no longer has it.\n'
  run provider ec2 terminate-instances --instance-ids "$P_INSTANCE" \
    --query 'TerminatingInstances[0].[InstanceId,PreviousState.Name,CurrentState.Name]'
  local iid=$P_INSTANCE
  wait_instance "$iid" terminated
  run provider ec2 describe-instances --instance-ids "$iid" \
    --query 'Reservations[0].Instances[0].[InstanceId,State.Name,State.Code]'
  run provider elbv2 describe-target-health --target-group-arn "$P_TG_ARN" --query 'length(TargetHealthDescriptions)'
  [[ $OUT == 0 ]] || fail "the terminated instance is still a target"
  rm -f "/tmp/lp-demo-backend-$iid.py"
  P_INSTANCE=""
}

section_summary() {
  section "Everything each account has"
  say "One describe per kind, per account."
  local who vpc
  for who in provider consumer; do
    if [[ $who == provider ]]; then vpc=$P_VPC; else vpc=$C_VPC; fi
    run "$who" ec2 describe-vpcs --query 'Vpcs[].[VpcId,CidrBlock,State,Tags[?Key==`Name`]|[0].Value]'
    [[ $OUT == *"$vpc"* ]] || fail "$who's VPC $vpc missing from describe-vpcs"
    run "$who" ec2 describe-subnets --query 'Subnets[].[SubnetId,VpcId,CidrBlock,AvailabilityZoneId]'
    run "$who" ec2 describe-network-interfaces \
      --query 'NetworkInterfaces[].[NetworkInterfaceId,PrivateIpAddress,InterfaceType]'
  done
}

# wait_endpoint ID STATE: polls the consumer's describe-vpc-endpoints until STATE (10 s).
wait_endpoint() {
  local i state=""
  for i in $(seq 100); do
    state=$(AWS_ACCESS_KEY_ID=$CONSUMER_KEY AWS_SECRET_ACCESS_KEY=$CONSUMER_SECRET "$AWS" --endpoint-url "$ENDPOINT" \
      --output text ec2 describe-vpc-endpoints --vpc-endpoint-ids "$1" --query 'VpcEndpoints[0].State' 2>&1) || true
    [[ $state == "$2" ]] && return 0
    sleep 0.1
  done
  fail "endpoint $1 is '$state', expected '$2'"
}

section_endpoints() {
  section "Publishing a service and connecting to it (the seed walkthrough)"
  say "The consumer lists the services it can reach through interface endpoints (seed: describe-vpc-endpoint-services)."
  run consumer ec2 describe-vpc-endpoint-services --query 'ServiceNames'
  run consumer ec2 describe-vpc-endpoint-services --service-names com.amazonaws.us-east-1.elasticloadbalancing \
    --query 'ServiceDetails[].[ServiceName,Owner,PrivateDnsName,AcceptanceRequired,join(`,`,AvailabilityZones)]'

  say "The provider puts its backend behind a network load balancer: a TCP target group of the default type"
  printf '   (instance) with the backend instance as its target, a load balancer with a node in each of its\n'
  printf '   subnets, a listener on 443.\n'
  run provider elbv2 create-target-group --name backend --protocol TCP --port 8080 --vpc-id "$P_VPC" \
    --health-check-interval-seconds 5 --health-check-timeout-seconds 2 --healthy-threshold-count 2 \
    --query 'TargetGroups[0].[TargetGroupArn,TargetType]'
  P_TG_ARN=$(awk '{print $1}' <<<"$OUT")
  [[ $OUT == *instance ]] || fail "a target group without --target-type must be of type instance"
  run provider elbv2 register-targets --target-group-arn "$P_TG_ARN" --targets "Id=$P_INSTANCE"
  run provider elbv2 create-load-balancer --name backend-nlb --type network --scheme internal \
    --subnets "${P_SUBNETS[@]}" --query 'LoadBalancers[0].[LoadBalancerArn,State.Code]'
  P_LB_ARN=$(awk '{print $1}' <<<"$OUT")
  run provider elbv2 create-listener --load-balancer-arn "$P_LB_ARN" --protocol TCP --port 443 \
    --default-actions "Type=forward,TargetGroupArn=$P_TG_ARN" --query 'Listeners[0].[Protocol,Port]'

  say "The provider publishes it as an endpoint service that requires acceptance, and allows the consumer."
  run provider ec2 create-vpc-endpoint-service-configuration --network-load-balancer-arns "$P_LB_ARN" \
    --acceptance-required --query 'ServiceConfiguration.[ServiceId,ServiceName,ServiceState]'
  P_SERVICE_ID=$(awk '{print $1}' <<<"$OUT")
  P_SERVICE_NAME=$(awk '{print $2}' <<<"$OUT")
  expect_id vpce-svc "$P_SERVICE_ID"
  run_error consumer InvalidServiceName ec2 describe-vpc-endpoint-services --service-names "$P_SERVICE_NAME"
  run provider ec2 modify-vpc-endpoint-service-permissions --service-id "$P_SERVICE_ID" \
    --add-allowed-principals "arn:aws:iam::$CONSUMER_ACCOUNT:root" --query 'AddedPrincipals[].[PrincipalType,Principal]'
  say "Now the consumer finds it by name, in its own zone names."
  run consumer ec2 describe-vpc-endpoint-services --service-names "$P_SERVICE_NAME" \
    --query 'ServiceDetails[].[ServiceName,Owner,AcceptanceRequired,join(`,`,AvailabilityZones)]'

  say "The consumer's endpoint gets a security group admitting HTTPS from its VPC."
  run consumer ec2 create-security-group --vpc-id "$C_VPC" --group-name endpoint-sg \
    --description "HTTPS to the endpoint" --query GroupId
  C_ENDPOINT_SG=$OUT
  run consumer ec2 authorize-security-group-ingress --group-id "$C_ENDPOINT_SG" --protocol tcp --port 443 \
    --cidr 10.1.0.0/16 --query 'SecurityGroupRules[].[IpProtocol,FromPort,CidrIpv4]'

  say "The consumer creates an interface endpoint to the service in its first subnet (seed: create-vpc-endpoint)."
  run consumer ec2 create-vpc-endpoint --vpc-id "$C_VPC" --vpc-endpoint-type Interface \
    --service-name "$P_SERVICE_NAME" --subnet-id "${C_SUBNETS[0]}" --security-group-id "$C_ENDPOINT_SG" \
    --query 'VpcEndpoint.[VpcEndpointId,State]'
  C_ENDPOINT=$(awk '{print $1}' <<<"$OUT")
  expect_id vpce "$C_ENDPOINT"
  [[ $OUT == *pendingAcceptance* ]] || fail "a service that requires acceptance must leave the endpoint pendingAcceptance"

  say "The provider sees the request, cannot delete it, and accepts it."
  run provider ec2 describe-vpc-endpoint-connections \
    --query 'VpcEndpointConnections[].[VpcEndpointId,VpcEndpointOwner,VpcEndpointState]'
  run provider ec2 delete-vpc-endpoints --vpc-endpoint-ids "$C_ENDPOINT" --query 'Unsuccessful[].Error.Code'
  [[ $OUT == *InvalidVpcEndpoint.NotFound* ]] || fail "the provider must not be able to delete the endpoint"
  run provider ec2 accept-vpc-endpoint-connections --service-id "$P_SERVICE_ID" --vpc-endpoint-ids "$C_ENDPOINT"
  wait_endpoint "$C_ENDPOINT" available
  printf '   Accepted, the endpoint is provisioned (pending) and then available:\n'
  run consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$C_ENDPOINT" --query 'VpcEndpoints[0].[VpcEndpointId,State]'

  say "Seed: modify-vpc-endpoint --add-subnet-id puts an endpoint network interface in the second zone too."
  run consumer ec2 modify-vpc-endpoint --vpc-endpoint-id "$C_ENDPOINT" --add-subnet-id "${C_SUBNETS[1]}"
  wait_endpoint "$C_ENDPOINT" available
  say "The endpoint (seed: describe-vpc-endpoints): available, one requester-managed interface per subnet,"
  printf '   a regional DNS name and one per zone.\n'
  run consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$C_ENDPOINT" \
    --query 'VpcEndpoints[0].[State,join(`,`,SubnetIds),join(`,`,NetworkInterfaceIds)]'
  run consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$C_ENDPOINT" --query 'VpcEndpoints[0].DnsEntries[].DnsName'
  C_ENDPOINT_DNS=$(head -n1 <<<"$OUT" | awk '{print $1}')
  run consumer ec2 describe-network-interfaces --filters "Name=vpc-id,Values=$C_VPC" Name=interface-type,Values=vpc_endpoint \
    --query 'NetworkInterfaces[].[NetworkInterfaceId,PrivateIpAddress,RequesterManaged,Description]'
  run_error consumer OperationNotPermitted ec2 delete-network-interface \
    --network-interface-id "$(awk 'NR==1{print $1}' <<<"$OUT")"

  say "An endpoint to an AWS service with private DNS needs the VPC's DNS attributes (seed: the ELB example)."
  run_error consumer InvalidParameter ec2 create-vpc-endpoint --vpc-id "$C_VPC" --vpc-endpoint-type Interface \
    --service-name com.amazonaws.us-east-1.elasticloadbalancing --subnet-id "${C_SUBNETS[0]}"
  run consumer ec2 modify-vpc-attribute --vpc-id "$C_VPC" --enable-dns-hostnames
  run consumer ec2 create-vpc-endpoint --vpc-id "$C_VPC" --vpc-endpoint-type Interface \
    --service-name com.amazonaws.us-east-1.elasticloadbalancing --subnet-id "${C_SUBNETS[0]}" \
    --security-group-id "$C_ENDPOINT_SG" --query 'VpcEndpoint.[VpcEndpointId,State,PrivateDnsEnabled]'
  local aws_ep
  aws_ep=$(awk '{print $1}' <<<"$OUT")
  run consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$aws_ep" --query 'VpcEndpoints[0].DnsEntries[].DnsName'
  say "Only the consumer deletes endpoints; this one goes (deleting, then deleted)."
  run consumer ec2 delete-vpc-endpoints --vpc-endpoint-ids "$aws_ep" --query 'Unsuccessful'
  wait_endpoint "$aws_ep" deleted
}

# ---------------------------------------------------------------------------
# section_traffic (issue 4): the provider's backend instance answers HTTP (its UserData
# started the server), the target turns healthy, and curl in the consumer's workload
# reaches it through the endpoint: bytes cross from one VPC to the other only through
# linkplane.
section_traffic() {
  section "Traffic through the endpoint"
  with_dataplane "the workloads and the forwarder live in namespaces, which need root." || return 0
  say "The provider's load balancer listens on TCP 443 and sends to its target, the backend instance, on"
  printf '   its primary address (the target'"'"'s id is the instance id). The server runs, but health checks do\n'
  printf '   not pass yet: the instance'"'"'s security group does not admit the load balancer'"'"'s nodes.\n'
  run provider elbv2 describe-listeners --load-balancer-arn "$P_LB_ARN" --query 'Listeners[].[Protocol,Port]'
  local lport
  lport=$(awk 'NR == 1 {print $2}' <<<"$OUT")
  [[ $lport =~ ^[0-9]+$ ]] || fail "no listener port in '$OUT'"
  run provider elbv2 describe-target-health --target-group-arn "$P_TG_ARN" \
    --query 'TargetHealthDescriptions[].[Target.Id,Target.Port,TargetHealth.State,TargetHealth.Reason]'
  local tid tport tip=$P_INSTANCE_IP i
  tid=$(awk 'NR == 1 {print $1}' <<<"$OUT")
  tport=$(awk 'NR == 1 {print $2}' <<<"$OUT")
  [[ $tid == "$P_INSTANCE" && $tport =~ ^[0-9]+$ ]] || fail "the instance is not the registered target in '$OUT'"

  say "Security groups. The load balancer's nodes open the connections to the target, from their own addresses"
  printf '   in the provider VPC (the consumer'"'"'s address never reaches the provider), and so do the health\n'
  printf '   checks. As on AWS the target'"'"'s group must admit them: port %s from the provider VPC'"'"'s CIDR\n' "$tport"
  printf '   (without it the health checks and the forwarded connections are dropped before they reach it).\n'
  run provider ec2 authorize-security-group-ingress --group-id "$P_SG" --protocol tcp --port "$tport" \
    --cidr 10.0.0.0/16 --query 'SecurityGroupRules[].[IpProtocol,FromPort,ToPort,CidrIpv4]'
  printf '   The consumer needs nothing new: its workload'"'"'s group may open anything (the default egress rule)\n'
  printf '   and the endpoint'"'"'s group admits %s from the consumer VPC (above).\n' "$lport"
  run consumer ec2 describe-security-groups --group-ids "$C_SG" \
    --query 'SecurityGroups[0].IpPermissionsEgress[].[IpProtocol,IpRanges[0].CidrIp]'
  [[ $OUT == *0.0.0.0/0* ]] || fail "the consumer workload's group does not allow egress"
  run consumer ec2 describe-security-groups --group-ids "$C_ENDPOINT_SG" \
    --query 'SecurityGroups[0].IpPermissions[].[IpProtocol,FromPort,ToPort,IpRanges[0].CidrIp]'
  awk -v p="$lport" '$1 == "tcp" && $2 <= p && p <= $3 && $4 == "10.1.0.0/16" {ok = 1} END {exit !ok}' <<<"$OUT" ||
    fail "the endpoint's group does not admit $lport from 10.1.0.0/16"

  say "The load balancer checks the target every 5 s; two passes in a row make it healthy (waiting up to 60 s)."
  local state="" start=$SECONDS
  while ((SECONDS - start < 60)); do
    state=$(AWS_ACCESS_KEY_ID=$PROVIDER_KEY AWS_SECRET_ACCESS_KEY=$PROVIDER_SECRET "$AWS" --endpoint-url "$ENDPOINT" \
      --output text elbv2 describe-target-health --target-group-arn "$P_TG_ARN" \
      --query 'TargetHealthDescriptions[0].TargetHealth.State' 2>&1) || true
    [[ $state == healthy ]] && break
    sleep 1
  done
  [[ $state == healthy ]] || fail "target $tid ($tip:$tport) is not healthy after 60 s (state: $state)"
  run provider elbv2 describe-target-health --target-group-arn "$P_TG_ARN" \
    --query 'TargetHealthDescriptions[].[Target.Id,Target.Port,TargetHealth.State]'
  printf '   -> healthy after %d s.\n' $((SECONDS - start))

  say "The load balancer's nodes, one per zone: their addresses are where the provider sees connections come from."
  run provider ec2 describe-network-interfaces --filters "Name=vpc-id,Values=$P_VPC" \
    Name=interface-type,Values=network_load_balancer \
    --query 'NetworkInterfaces[].[PrivateIpAddress,AvailabilityZone,Description]'
  local nodes=$OUT
  [[ -n $nodes ]] || fail "the provider's load balancer has no node interfaces"

  say "The consumer's workload asks the endpoint's regional name for / on port $lport (the listener is TCP,"
  printf '   so HTTP is just bytes to it). The VPC resolver answers with an endpoint interface address.\n'
  shown "$LINKPLANE" exec --eni "$C_ENI" -- curl -sS --max-time 10 -w 'connected to %{remote_ip}:%{remote_port}\n' \
    "http://$C_ENDPOINT_DNS:$lport/"
  [[ $SHOWN == *"hello from the provider backend $tip:$tport ($P_INSTANCE)"* ]] ||
    fail "the provider's answer did not come back through the endpoint"

  say "The backend saw the request come from a load balancer node, not from the consumer's $C_ENI_IP"
  printf '   (its log is the instance'"'"'s console output):\n'
  local line="" from console
  for i in $(seq 40); do
    console=$(AWS_ACCESS_KEY_ID=$PROVIDER_KEY AWS_SECRET_ACCESS_KEY=$PROVIDER_SECRET "$AWS" --endpoint-url "$ENDPOINT" \
      --output text ec2 get-console-output --instance-id "$P_INSTANCE" --query Output 2>&1) || true
    line=$(grep -m1 '"GET / ' <<<"$console" || true)
    [[ -n $line ]] && break
    sleep 0.5
  done
  printf '   [provider] $ aws %s\n' "$(quoted ec2 get-console-output --instance-id "$P_INSTANCE" --query Output)"
  printf '     %s\n' "$line"
  from=${line##* from }
  from=${from%:*}
  [[ -n $line ]] || fail "the backend logged no request"
  local zone
  zone=$(awk -v ip="$from" '$1 == ip {print $2}' <<<"$nodes")
  [[ -n $zone ]] || fail "the request came from $from, not from a load balancer node"
  printf '   -> %s is the load balancer'"'"'s node in %s.\n' "$from" "$zone"

  # The daemon writes its counters next to its state (docs/dataplane.md); `linkplane
  # demo` keeps the state in state/ beside this script (run otherwise, this is skipped).
  local counters
  counters="$(dirname "$0")/state/dataplane-counters.json"
  [[ -d $(dirname "$counters") ]] || return 0
  # Shown once the file counts the connection and no longer as active: it is written
  # every 2 s, and a write that fell while curl's connection was open still says
  # "1 active" (seen once in CI on a loaded host) until the next. Shown as it is after 20 s.
  for i in $(seq 200); do
    if [[ -s $counters ]] && /usr/bin/python3 -c 'import json,sys; e = json.load(open(sys.argv[1]))["endpoints"][sys.argv[2]]; sys.exit(e["connections"] < 1 or (e["active"] > 0 and sys.argv[3] != "200"))' \
      "$counters" "$C_ENDPOINT" "$i" 2>/dev/null; then
      say "The data plane counts it, per endpoint and per endpoint interface ($(basename "$counters") in the daemon's state):"
      /usr/bin/python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
for kind in ("endpoints", "interfaces"):
    for k, v in sorted(c[kind].items()):
        if k != sys.argv[2] and not (kind == "interfaces" and v["connections"]): continue
        print("     %-22s %d connection(s), %d active, %d reset, %d bytes in, %d bytes out"
              % (k, v["connections"], v["active"], v["resets"], v["bytesIn"], v["bytesOut"]))' "$counters" "$C_ENDPOINT"
      break
    fi
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------
# section_notifications (issue 6): a topic whose policy lets vpce.amazonaws.com
# publish, a small HTTP receiver on 127.0.0.1 subscribed to it, a connection
# notification on the provider's service, and the events of a second endpoint
# arriving as signed SNS messages.
N_RECEIVER_PID="" N_RECEIVER_DIR=""
stop_receiver() {
  if [[ -n $N_RECEIVER_PID ]]; then kill "$N_RECEIVER_PID" 2>/dev/null || true; wait "$N_RECEIVER_PID" 2>/dev/null || true; fi
  if [[ -n $N_RECEIVER_DIR ]]; then rm -rf "$N_RECEIVER_DIR"; fi
  N_RECEIVER_PID="" N_RECEIVER_DIR=""
}

# wait_received TYPE COUNT: waits up to 20 s until the receiver holds COUNT messages of TYPE.
wait_received() {
  local i
  for i in $(seq 200); do
    if (($(grep -l "\"Type\" *: *\"$1\"" "$N_RECEIVER_DIR"/msg-* 2>/dev/null | wc -l) >= $2)); then return 0; fi
    sleep 0.1
  done
  fail "the receiver did not get $2 $1 message(s)"
}

section_notifications() {
  section "Connection notifications over SNS"
  N_RECEIVER_DIR=$(mktemp -d /tmp/lp-demo-receiver-XXXXXX)
  # A subscriber: stores each POST body as msg-N, answers 200.
  /usr/bin/python3 - "$N_RECEIVER_DIR" <<'PY' &
import http.server, os, sys
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    n = 0
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        H.n += 1
        with open(os.path.join(d, f"tmp-{H.n}"), "wb") as f:
            f.write(body)
        os.rename(os.path.join(d, f"tmp-{H.n}"), os.path.join(d, f"msg-{H.n:03d}"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(s.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
s.serve_forever()
PY
  N_RECEIVER_PID=$!
  local i
  for i in $(seq 100); do [[ -s $N_RECEIVER_DIR/port ]] && break; sleep 0.1; done
  [[ -s $N_RECEIVER_DIR/port ]] || fail "the demo receiver did not start"
  local url
  url="http://127.0.0.1:$(cat "$N_RECEIVER_DIR/port")/events"

  say "The provider makes an SNS topic for endpoint events."
  run provider sns create-topic --name endpoint-events --query TopicArn
  local topic=$OUT
  say "A notification needs a topic whose policy lets vpce.amazonaws.com publish: without it, it is refused."
  run_error provider InvalidConnectionNotification ec2 create-vpc-endpoint-connection-notification \
    --service-id "$P_SERVICE_ID" --connection-notification-arn "$topic" --connection-events Connect Accept Reject Delete
  printf '   So the topic gets the statement from the seed.\n'
  run provider sns set-topic-attributes --topic-arn "$topic" --attribute-name Policy --attribute-value \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"vpce.amazonaws.com\"},\"Action\":\"SNS:Publish\",\"Resource\":\"$topic\"}]}"

  say "An HTTP receiver on 127.0.0.1 subscribes; SNS first sends it a SubscriptionConfirmation."
  run provider sns subscribe --topic-arn "$topic" --protocol http --notification-endpoint "$url"
  wait_received SubscriptionConfirmation 1
  local confirm subscribe_url
  confirm=$(grep -l '"SubscriptionConfirmation"' "$N_RECEIVER_DIR"/msg-* | head -n1)
  subscribe_url=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["SubscribeURL"])' "$confirm")
  printf '   The receiver opens the SubscribeURL from that message (a plain GET: the token is the credential).\n'
  shown curl -sS -o /dev/null -w '%{http_code}\n' "$subscribe_url"
  run provider sns list-subscriptions-by-topic --topic-arn "$topic" --query 'Subscriptions[].[Protocol,Endpoint,SubscriptionArn]'
  [[ $OUT != *PendingConfirmation* ]] || fail "the subscription was not confirmed"

  say "The provider asks for Connect, Accept, Reject and Delete events of its service (seed: create-vpc-endpoint-connection-notification)."
  run provider ec2 create-vpc-endpoint-connection-notification --service-id "$P_SERVICE_ID" \
    --connection-notification-arn "$topic" --connection-events Connect Accept Reject Delete \
    --query 'ConnectionNotification.[ConnectionNotificationId,ConnectionNotificationState]'
  run provider ec2 describe-vpc-endpoint-connection-notifications \
    --query 'ConnectionNotificationSet[].[ConnectionNotificationId,ServiceId,join(`,`,ConnectionEvents)]'

  say "The consumer requests a second endpoint; the provider accepts it, later rejects it (a provider may cut off"
  printf '   an endpoint it accepted), and the consumer deletes it.\n'
  run consumer ec2 create-vpc-endpoint --vpc-id "$C_VPC" --vpc-endpoint-type Interface \
    --service-name "$P_SERVICE_NAME" --subnet-id "${C_SUBNETS[1]}" --query 'VpcEndpoint.[VpcEndpointId,State]'
  local second
  second=$(awk '{print $1}' <<<"$OUT")
  wait_received Notification 1
  run provider ec2 accept-vpc-endpoint-connections --service-id "$P_SERVICE_ID" --vpc-endpoint-ids "$second" \
    --query 'Unsuccessful'
  wait_endpoint "$second" available
  wait_received Notification 2
  run provider ec2 reject-vpc-endpoint-connections --service-id "$P_SERVICE_ID" --vpc-endpoint-ids "$second" \
    --query 'Unsuccessful'
  wait_received Notification 3
  run consumer ec2 delete-vpc-endpoints --vpc-endpoint-ids "$second" --query 'Unsuccessful'
  wait_received Notification 4

  say "Each event reached the receiver as a signed SNS Notification; its Message is the event (docs/notifications.md):"
  local f
  for f in $(grep -l '"Type" *: *"Notification"' "$N_RECEIVER_DIR"/msg-*); do
    /usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
e = json.loads(m["Message"])
print("     %-8s %s  endpoint %s (%s, owner %s)  service %s  signed v%s" % (e["eventType"], e["eventTime"],
      e["vpcEndpointId"], e["vpcEndpointState"], e["vpcEndpointOwner"], e["serviceId"], m["SignatureVersion"]))' "$f"
  done
  local events
  events=$(for f in $(grep -l '"Type" *: *"Notification"' "$N_RECEIVER_DIR"/msg-*); do
    /usr/bin/python3 -c 'import json,sys; print(json.loads(json.load(open(sys.argv[1]))["Message"])["eventType"])' "$f"
  done | tr '\n' ' ')
  [[ $events == "Connect Accept Reject Delete " ]] || fail "expected Connect, Accept, Reject and Delete, got: $events"
  stop_receiver
}

# ---------------------------------------------------------------------------
# section_dns (issue 5): the workload resolves the endpoint's names through the VPC
# resolver at base+2 (its resolv.conf), with dig and getent; zonal names; the same
# names from the host listener; the provider's private DNS name inside the consumer
# VPC only.
DNS_LISTEN=${DNS_LISTEN:-127.0.0.1:5353}  # the daemon's host listener (the default config's)
P_PRIVATE_DNS=api.example.internal        # the provider's private DNS name

# sorted WORDS...: the words one per line, sorted (to compare sets of addresses).
sorted() { tr -s ' \t' '\n\n' <<<"$*" | { grep . || true; } | sort; }

# wait_dig ENI NAME WANT: polls dig +short NAME in the workload (up to 3 s) until its
# sorted answer is WANT ("" = no address), so the shown step after it is not a race.
wait_dig() {
  local i
  for i in $(seq 30); do
    [[ $(sorted "$("$LINKPLANE" exec --eni "$1" -- dig +short +time=1 +tries=1 "$2" 2>/dev/null)") == "$3" ]] && return 0
    sleep 0.1
  done
  return 1
}

section_dns() {
  section "Names inside the VPC (seed: Accessing a Service Through an Interface Endpoint)"
  with_dataplane "the VPC resolvers live in the VPC namespaces, which need root." || return 0
  say "The endpoint's names (regional first, then one per zone) and its interfaces, zone by zone."
  run consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$C_ENDPOINT" --query 'VpcEndpoints[0].DnsEntries[].[DnsName]'
  local dnsnames=$OUT
  run consumer ec2 describe-network-interfaces --filters "Name=vpc-id,Values=$C_VPC" \
    Name=interface-type,Values=vpc_endpoint --query 'NetworkInterfaces[].[AvailabilityZone,PrivateIpAddress]'
  local by_zone=$OUT all
  all=$(sorted "$(awk '{print $2}' <<<"$by_zone")")
  [[ $(wc -l <<<"$all") -eq 2 ]] || fail "expected two endpoint interfaces, got: $by_zone"

  say "The consumer workload asks its VPC resolver (base+2, from its resolv.conf) for the endpoint's regional"
  printf '   name: the addresses of the endpoint network interfaces, one per zone.\n'
  shown "$LINKPLANE" exec --eni "$C_ENI" -- cat /etc/resolv.conf
  shown "$LINKPLANE" exec --eni "$C_ENI" -- dig +noall +answer "$C_ENDPOINT_DNS"
  [[ $(sorted "$(awk '$4 == "A" {print $5}' <<<"$SHOWN")") == "$all" ]] ||
    fail "the regional name must resolve to both interfaces ($all)"

  say "Each zonal name answers with the interface in its zone only."
  local name zone want
  while read -r name; do
    [[ $name =~ -(us-east-1[a-z])\. ]] || continue
    zone=${BASH_REMATCH[1]}
    want=$(awk -v z="$zone" '$1 == z {print $2}' <<<"$by_zone")
    shown "$LINKPLANE" exec --eni "$C_ENI" -- dig +short "$name"
    [[ -n $want && $SHOWN == "$want" ]] || fail "$name must answer $want (the interface in $zone) only"
    printf '   -> %s, the interface in %s.\n' "$want" "$zone"
  done <<<"$dnsnames"

  say "Ordinary tools resolve it too (getent, through the C library):"
  shown "$LINKPLANE" exec --eni "$C_ENI" -- getent ahostsv4 "$C_ENDPOINT_DNS"
  say "A name under the endpoint zone that does not exist: NXDOMAIN, with the zone's SOA."
  shown "$LINKPLANE" exec --eni "$C_ENI" -- dig +noall +comments +authority \
    "vpce-0000000000000000f-none.${C_ENDPOINT_DNS#*.}"
  [[ $SHOWN == *NXDOMAIN* ]] || fail "expected NXDOMAIN"

  local host_addr=${DNS_LISTEN%:*} host_port=${DNS_LISTEN##*:} log host=1
  # `linkplane demo` keeps the daemon's log beside this script; a daemon whose host
  # port was taken (another daemon on this host) serves the VPC resolvers only.
  log="$(dirname "$0")/daemon.log"
  if [[ -f $log ]] && grep -q "no host listener on $DNS_LISTEN" "$log"; then host=0; fi
  if ((host)); then
    say "The endpoint-specific names are the region's: the host asks the daemon's own listener ($DNS_LISTEN)"
    printf '   and gets the same answers.\n'
    shown dig @"$host_addr" -p "$host_port" +short "$C_ENDPOINT_DNS"
    [[ $(sorted "$SHOWN") == "$all" ]] || fail "the host listener must answer the regional name with $all"
  else
    say "Skipped: the host listener ($DNS_LISTEN is taken by another process on this host)."
  fi

  say "Private DNS. The provider gives its service a private DNS name; AWS asks it to prove it owns the"
  printf '   domain with a TXT record. With no public DNS to look that up in, linkplane checks what it can: the\n'
  printf "   name is outside AWS's domains and no other account holds it.\n"
  run provider ec2 modify-vpc-endpoint-service-configuration --service-id "$P_SERVICE_ID" \
    --private-dns-name "$P_PRIVATE_DNS"
  run provider ec2 describe-vpc-endpoint-service-configurations --service-ids "$P_SERVICE_ID" \
    --query 'ServiceConfigurations[0].[PrivateDnsName,PrivateDnsNameConfiguration.[State,Type,Name]]'
  run provider ec2 start-vpc-endpoint-service-private-dns-verification --service-id "$P_SERVICE_ID"
  run provider ec2 describe-vpc-endpoint-service-configurations --service-ids "$P_SERVICE_ID" \
    --query 'ServiceConfigurations[0].[PrivateDnsName,PrivateDnsNameConfiguration.State]'
  [[ $OUT == *verified* ]] || fail "the private DNS name is not verified"

  say "The consumer turns private DNS on for its endpoint: the VPC has both DNS attributes (enableDnsHostnames"
  printf '   was set above), and the endpoint gets the name as a DNS entry.\n'
  run consumer ec2 describe-vpc-attribute --vpc-id "$C_VPC" --attribute enableDnsSupport --query 'EnableDnsSupport.Value'
  [[ $OUT == True ]] || fail "enableDnsSupport is not set"
  run consumer ec2 describe-vpc-attribute --vpc-id "$C_VPC" --attribute enableDnsHostnames --query 'EnableDnsHostnames.Value'
  [[ $OUT == True ]] || fail "enableDnsHostnames is not set"
  run consumer ec2 modify-vpc-endpoint --vpc-endpoint-id "$C_ENDPOINT" --private-dns-enabled
  run consumer ec2 describe-vpc-endpoints --vpc-endpoint-ids "$C_ENDPOINT" \
    --query 'VpcEndpoints[0].[PrivateDnsEnabled,DnsEntries[-1].DnsName]'

  say "Inside the consumer VPC, the service's own name answers with the endpoint's interfaces"
  wait_dig "$C_ENI" "$P_PRIVATE_DNS" "$all" || true
  shown "$LINKPLANE" exec --eni "$C_ENI" -- dig +short "$P_PRIVATE_DNS"
  [[ $(sorted "$SHOWN") == "$all" ]] || fail "$P_PRIVATE_DNS must resolve to $all in the consumer VPC"
  say "Only there: the provider's VPC (another VPC) and the host get REFUSED (the resolver owns no such name)."
  shown "$LINKPLANE" exec --instance "$P_INSTANCE" -- dig +noall +comments "$P_PRIVATE_DNS"
  [[ $SHOWN == *"status: REFUSED"* ]] || fail "$P_PRIVATE_DNS must not resolve in the provider VPC"
  if ((host)); then
    shown dig @"$host_addr" -p "$host_port" +short "$P_PRIVATE_DNS"
    [[ -z $SHOWN ]] || fail "$P_PRIVATE_DNS must not resolve on the host"
  fi

  say "One VPC, one owner per private name: a second endpoint to the service claiming it is refused."
  run_error consumer InvalidParameter ec2 create-vpc-endpoint --vpc-id "$C_VPC" --vpc-endpoint-type Interface \
    --service-name "$P_SERVICE_NAME" --subnet-id "${C_SUBNETS[1]}" --private-dns-enabled
  say "Private DNS off: the name goes within a second; the endpoint-specific names stay."
  run consumer ec2 modify-vpc-endpoint --vpc-endpoint-id "$C_ENDPOINT" --no-private-dns-enabled
  wait_dig "$C_ENI" "$P_PRIVATE_DNS" "" || true
  shown "$LINKPLANE" exec --eni "$C_ENI" -- dig +noall +comments "$P_PRIVATE_DNS"
  [[ $SHOWN == *"status: REFUSED"* ]] || fail "$P_PRIVATE_DNS must be gone with private DNS off"
}

# ---------------------------------------------------------------------------
# section_aws_services (issue 16): an endpoint to an AWS service (STS, which linkplane
# serves itself over HTTPS with its local CA) with private DNS; the unmodified AWS CLI
# in the consumer's workload, with no endpoint URL and no CA variable, is answered
# through it; then the endpoint's BytesProcessed from CloudWatch.
section_aws_services() {
  section "AWS services through an interface endpoint, with no configuration change"
  with_dataplane "the workload and the endpoint's interface live in namespaces, which need root." || return 0
  say "The consumer creates an endpoint to STS with private DNS: sts.us-east-1.amazonaws.com now means the endpoint."
  run consumer ec2 create-vpc-endpoint --vpc-id "$C_VPC" --vpc-endpoint-type Interface \
    --service-name com.amazonaws.us-east-1.sts --subnet-id "${C_SUBNETS[0]}" --security-group-id "$C_ENDPOINT_SG" \
    --private-dns-enabled --query 'VpcEndpoint.VpcEndpointId'
  local sts_endpoint=$OUT
  expect_id vpce "$sts_endpoint"
  wait_endpoint "$sts_endpoint" available
  say "Inside the workload: the AWS CLI as installed, only the consumer's keys and region (no --endpoint-url,
   no AWS_CA_BUNDLE): the workload's trust store holds the daemon's local CA."
  local inside=("$LINKPLANE" exec --eni "$C_ENI" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
    AWS_ACCESS_KEY_ID="$CONSUMER_KEY" AWS_SECRET_ACCESS_KEY="$CONSUMER_SECRET" AWS_DEFAULT_REGION=us-east-1
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
    "$AWS" sts get-caller-identity --query Account --output text)
  shown "${inside[@]}"
  [[ $SHOWN == "$CONSUMER_ACCOUNT" ]] || fail "expected the consumer's account through the endpoint, got $SHOWN"

  say "CloudWatch counts the bytes of that call on the endpoint (AWS/PrivateLinkEndpoints, BytesProcessed;
   the daemon samples its counters every few seconds)."
  local from to i sum=""
  from=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:00Z)
  to=$(date -u -d '+2 min' +%Y-%m-%dT%H:%M:00Z)
  local query=(cloudwatch get-metric-statistics --namespace AWS/PrivateLinkEndpoints --metric-name BytesProcessed
    --dimensions "Name=VPC Endpoint Id,Value=$sts_endpoint" "Name=Endpoint Type,Value=Interface"
    "Name=Service Name,Value=com.amazonaws.us-east-1.sts" "Name=VPC Id,Value=$C_VPC"
    --start-time "$from" --end-time "$to" --period 3600 --statistics Sum --query 'Datapoints[0].Sum')
  for i in $(seq 60); do
    sum=$(AWS_ACCESS_KEY_ID=$CONSUMER_KEY AWS_SECRET_ACCESS_KEY=$CONSUMER_SECRET "$AWS" --endpoint-url "$ENDPOINT" \
      --output text "${query[@]}" 2>&1) || true
    [[ $sum =~ ^[0-9]+(\.[0-9]+)?$ ]] && break
    sleep 0.5
  done
  run consumer "${query[@]}"
  [[ $OUT =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ ${OUT%.*} -gt 0 ]] || fail "no BytesProcessed for $sts_endpoint"
  say "Deleting the endpoint takes the name back: the same command in the workload now fails, as on AWS
   without internet access."
  run consumer ec2 delete-vpc-endpoints --vpc-endpoint-ids "$sts_endpoint" --query 'Unsuccessful'
  local gone=""
  for i in $(seq 20); do
    if ! gone=$("${inside[@]}" 2>&1); then break; fi
    gone=""
    sleep 0.25
  done
  printf '   $ %s\n' "$(quoted "${inside[@]}")"
  [[ -n $gone ]] || fail "aws sts get-caller-identity still works in the workload with the endpoint deleted"
  printf '%s\n' "$gone" | grep -v '^$' | head -3 | sed 's/^/     /'
}

# ---------------------------------------------------------------------------

# cleanup: the EXIT trap; stops whatever the sections started and have not stopped
# (a running instance would outlive the daemon's clean stop, on purpose).
B_USER_DATA_DIR=""
cleanup() {
  terminate_instance
  if [[ -n $B_USER_DATA_DIR ]]; then rm -rf "$B_USER_DATA_DIR"; fi
  stop_receiver
}

main() {
  printf 'linkplane demo against %s (data plane %s)\n' "$ENDPOINT" \
    "$([[ $DATAPLANE == 1 ]] && echo on || echo 'off: not root')"
  trap cleanup EXIT  # whatever happens: no server or receiver outlives the demo
  section_accounts
  section_zones
  section_vpcs
  section_subnets
  section_security_groups
  section_network_interfaces
  section_instance
  # ---- Later sections of the seed walkthrough go here, in this order: ----
  section_endpoints
  section_traffic
  section_dns
  section_aws_services
  section_notifications
  # ------------------------------------------------------------------------
  section_summary
  section_terminate
  printf '\ndemo OK: every step succeeded.\n'
}

main "$@"
