#!/bin/sh
# Turns a fresh Amazon Linux 2023 instance into a Lambernetes worker. Run once, as root, by the launch
# template's user data from the unpacked agent bundle (/opt/lambernetes), with these variables set:
#
#   LAMBERNETES_API_SERVER          the API server's URL (the function URL)
#   LAMBERNETES_CLUSTER_NAME        the cluster's name: the agent authenticates with the instance's IAM
#                                   role, minting tokens for this name as `aws eks get-token` does
#   LAMBERNETES_WORKER_TOKEN_SECRET the secret holding the token the API server presents to agents
#   LAMBERNETES_QUEUE_PREFIX        node queues are <prefix>node-<node>
#   LAMBERNETES_CLUSTER_CIDR        the pod network of the whole cluster, a /10 (e.g. 100.64.0.0/10)
#   LAMBERNETES_WORKER_CIDR         where workers' addresses are, a /18 (the VPC's first /18)
#
# Each worker's pod CIDR is a /24 derived from its private address, so no allocator is needed: the
# address's offset in the worker /18 (at most 16383) picks one of the 16384 /24s of the cluster /10.
#
# Steps: packages (Docker, Node.js 22) → instance metadata (IMDSv2) → the kubelet token from Secrets Manager
# → /etc/lambernetes/agent.yaml → the pod bridge (no Docker masquerade) → the agent under systemd.
# Commands are looked up on PATH, so a test can stand in for dnf, curl, aws, docker and systemctl.
set -eu

bundle=$(cd "$(dirname "$0")" && pwd)
etc=${LAMBERNETES_ETC:-/etc/lambernetes}
units=${LAMBERNETES_UNITS:-/etc/systemd/system}
imds=${LAMBERNETES_IMDS:-http://169.254.169.254}
network=lambernetes

log() { echo "lambernetes-bootstrap: $*"; }
fail() {
  echo "lambernetes-bootstrap: $*" >&2
  exit 1
}

for name in LAMBERNETES_API_SERVER LAMBERNETES_CLUSTER_NAME LAMBERNETES_WORKER_TOKEN_SECRET LAMBERNETES_QUEUE_PREFIX \
  LAMBERNETES_CLUSTER_CIDR LAMBERNETES_WORKER_CIDR; do
  eval "value=\${$name:-}"
  [ -n "$value" ] || fail "$name is not set"
done

# An IPv4 address as a number, and back.
ip_to_int() {
  echo "$1" | {
    IFS=. read -r a b c d
    echo $(((a << 24) | (b << 16) | (c << 8) | d))
  }
}
int_to_ip() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }

# The worker's pod CIDR: its address's offset in the worker CIDR, as the index of a /24 in the cluster CIDR.
pod_cidr() {
  address=$1
  worker_base=$(ip_to_int "${LAMBERNETES_WORKER_CIDR%/*}")
  worker_bits=$((32 - ${LAMBERNETES_WORKER_CIDR#*/}))
  cluster_base=$(ip_to_int "${LAMBERNETES_CLUSTER_CIDR%/*}")
  cluster_slots=$((1 << (24 - ${LAMBERNETES_CLUSTER_CIDR#*/})))
  offset=$(($(ip_to_int "$address") - worker_base))
  if [ "$offset" -lt 0 ] || [ "$offset" -ge $((1 << worker_bits)) ]; then
    fail "address $address is outside the worker CIDR $LAMBERNETES_WORKER_CIDR"
  fi
  [ "$offset" -lt "$cluster_slots" ] || fail "the cluster CIDR has no /24 for offset $offset"
  echo "$(int_to_ip $((cluster_base + offset * 256)))/24"
}

# 1. Docker (the container runtime the agent drives) and Node.js 22 (the agent's runtime).
log "installing Docker and Node.js 22"
dnf install -y docker nodejs22
systemctl enable --now docker

# 2. Who this instance is (IMDSv2: a session token first).
imds_token=$(curl -sSf -X PUT "$imds/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
metadata() { curl -sSf -H "X-aws-ec2-metadata-token: $imds_token" "$imds/latest/meta-data/$1"; }
instance_id=$(metadata instance-id)
zone=$(metadata placement/availability-zone)
region=$(metadata placement/region)
address=$(metadata local-ipv4)
node_name=$(metadata local-hostname | tr 'A-Z' 'a-z')
instance_type=$(metadata instance-type)
pods=$(pod_cidr "$address")
gateway=$(int_to_ip $(($(ip_to_int "${pods%/*}") + 1)))
log "instance $instance_id ($instance_type, $zone), node $node_name, pods on $pods"

# 3. What the API server presents to the agent's endpoint (logs, exec). The agent's own credential is
#    the instance's IAM role, which the API server maps to system:node:<node>.
umask 077
mkdir -p "$etc"
aws secretsmanager get-secret-value --region "$region" --secret-id "$LAMBERNETES_WORKER_TOKEN_SECRET" \
  --query SecretString --output text >"$etc/kubelet-token"
[ -s "$etc/kubelet-token" ] || fail "the workers' token secret is empty"

# 4. The agent's configuration (keys: agent/config.ts).
cat >"$etc/agent.yaml" <<EOF
apiServer: $LAMBERNETES_API_SERVER
awsIamCluster: $LAMBERNETES_CLUSTER_NAME
kubeletTokenFile: $etc/kubelet-token
nodeName: $node_name
podCIDR: $pods
queuePrefix: $LAMBERNETES_QUEUE_PREFIX
region: $region
clusterCIDR: $LAMBERNETES_CLUSTER_CIDR
providerID: aws:///$zone/$instance_id
network: $network
labels:
  node.kubernetes.io/instance-type: $instance_type
  topology.kubernetes.io/region: $region
  topology.kubernetes.io/zone: $zone
EOF
umask 022

# 5. The pod bridge, made here rather than by the agent so Docker does not masquerade pod traffic:
#    pods reach other nodes' pods with their own addresses (VPC routes per pod CIDR, set by the cloud
#    controller), and only traffic leaving the cluster network is masqueraded (the rules below).
#    Docker 28 and later also drop routed traffic to containers unless the gateway is unprotected.
if ! docker network inspect "$network" >/dev/null 2>&1; then
  options="-o com.docker.network.bridge.enable_ip_masquerade=false"
  major=$(docker version --format '{{.Server.Version}}' | cut -d. -f1)
  if [ "$major" -ge 28 ]; then
    options="$options -o com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected"
  fi
  # shellcheck disable=SC2086 # the options are words
  docker network create --driver bridge --subnet "$pods" --gateway "$gateway" $options "$network"
fi
cat >"$bundle/pod-network.sh" <<EOF
#!/bin/sh
# Run before each agent start (iptables rules do not survive a reboot); each rule added once.
set -eu
ensure() { table=\$1; chain=\$2; shift 2; iptables -w -t "\$table" -C "\$chain" "\$@" 2>/dev/null || iptables -w -t "\$table" -I "\$chain" "\$@"; }
# Other nodes' pods may open connections to this node's pods (Docker's FORWARD rules would drop them).
ensure filter DOCKER-USER -d $pods -j ACCEPT
# Pods' traffic out of the cluster network leaves with the node's address.
ensure nat POSTROUTING -s $pods ! -d $LAMBERNETES_CLUSTER_CIDR -j MASQUERADE
EOF
chmod 0755 "$bundle/pod-network.sh"

# 6. The agent, under systemd, with the rules applied before each start.
cp "$bundle/lambernetes-agent.service" "$units/lambernetes-agent.service"
mkdir -p "$units/lambernetes-agent.service.d"
cat >"$units/lambernetes-agent.service.d/pod-network.conf" <<EOF
[Service]
ExecStartPre=$bundle/pod-network.sh
EOF
systemctl daemon-reload
systemctl enable --now lambernetes-agent
log "agent started"
