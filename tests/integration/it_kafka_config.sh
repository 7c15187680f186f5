#!/usr/bin/env bash
# The broker configuration does not drift: the KAFKA_* settings of
# docker-compose.yml's brokers and deploy/kafka/broker.properties (which
# scripts/kafka runs) are the same settings, listeners and node identity aside;
# the Kafka release is one pin (deploy/kafka/pom.xml, scripts/lib.sh,
# docker-compose.yml's image); and a three-node cluster that scripts/kafka
# starts really runs with those settings (read back from the brokers with
# kafka-configs --describe --all).
source "$(dirname "$0")/common.sh"
python3 - "$TTHC_REPO" "$TTHC_KAFKA_VERSION" <<'PY' || it_fail "the broker settings or the version pins drifted apart"
import re, sys, xml.etree.ElementTree as ET
import yaml

repo, lib_version = sys.argv[1], sys.argv[2]
bad = []
# Keys that differ by place, by design (docs: deploy/kafka/broker.properties).
PLACE = {"node.id", "listeners", "advertised.listeners", "controller.quorum.voters", "log.dirs",
         "heap.opts", "cluster.id"}

def props(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out

compose = yaml.safe_load(open(f"{repo}/docker-compose.yml", encoding="utf-8"))
brokers = {n: s for n, s in compose["services"].items() if re.fullmatch(r"kafka-\d+", n)}
if len(brokers) != 3:
    bad.append(f"docker-compose.yml has {len(brokers)} kafka-N services, not 3")
shared = props(f"{repo}/deploy/kafka/broker.properties")
for name, svc in sorted(brokers.items()):
    env = {}
    for k, v in (svc.get("environment") or {}).items():
        if k == "CLUSTER_ID":
            k = "KAFKA_CLUSTER_ID"
        if k.startswith("KAFKA_"):
            env[k[len("KAFKA_"):].lower().replace("_", ".")] = str(v)
    mine = {k: v for k, v in env.items() if k not in PLACE}
    for k in sorted(set(mine) | set(shared)):
        if mine.get(k) != shared.get(k):
            bad.append(f"{name}: {k} = {mine.get(k)!r} in docker-compose.yml, {shared.get(k)!r} in broker.properties")
    image = svc.get("image", "")
    m = re.search(r"apache/kafka:([0-9.]+)", image)
    if not m or m.group(1) != lib_version:
        bad.append(f"{name}: image {image!r}, scripts/lib.sh pins {lib_version}")

ns = {"m": "http://maven.apache.org/POM/4.0.0"}
pom = ET.parse(f"{repo}/deploy/kafka/pom.xml").getroot()
pom_version = pom.find("m:properties/m:kafka.version", ns).text
if pom_version != lib_version:
    bad.append(f"deploy/kafka/pom.xml pins {pom_version}, scripts/lib.sh {lib_version}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(shared)} shared broker settings, Kafka {lib_version} pinned in 3 places")
PY

[[ ${TTHC_BROKER:-kafka} == kafka ]] || { echo "it_kafka_config: the running check needs Apache Kafka; skipped with TTHC_BROKER=mock"; exit 0; }
IT_DIR=$(tthc_mktemp "$(basename "$0" .sh)")
trap it_cleanup EXIT
broker_start "$IT_DIR" --nodes 3 >/dev/null
TTHC_KAFKA_BROKERS=$(cat "$IT_DIR/kafka.bootstrap")
for node in 1 2 3; do
    kafka_tool configs --bootstrap-server "$TTHC_KAFKA_BROKERS" --entity-type brokers --entity-name "$node" \
        --describe --all >"$IT_DIR/node-$node.configs" 2>>"$IT_DIR/kafka-tools.log" || it_fail "kafka-configs failed for node $node"
    python3 - "$TTHC_REPO/deploy/kafka/broker.properties" "$IT_DIR/node-$node.configs" "$node" <<'PY' || it_fail "node $node does not run deploy/kafka/broker.properties"
import re, sys
want = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line and not line.startswith("#"):
        k, _, v = line.partition("=")
        want[k] = v
have = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s+([a-z0-9.]+)=(\S*) sensitive=", line)
    if m:
        have[m.group(1)] = m.group(2)
bad = [(k, v, have.get(k)) for k, v in want.items() if have.get(k) != v]
if bad:
    print("node", sys.argv[3], "setting, wanted, running:", bad, file=sys.stderr)
    sys.exit(1)
print(f"ok: node {sys.argv[3]} runs the {len(want)} shared settings")
PY
done

# The compose file's topics job (deploy/docker/create-topics.sh) against this
# cluster, with Kafka's own kafka-topics.sh and kafka-broker-api-versions.sh
# (the release's classes, as scripts/kafka's wrappers run them).
KAFKA_BIN=$(_kafka_cache)/bin BOOTSTRAP=$TTHC_KAFKA_BROKERS TTHC_DOSSIER_TOPIC=ct.dossier TTHC_DLQ_TOPIC=ct.dlq \
    TOPICS_WAIT_SECONDS=60 sh "$TTHC_REPO/deploy/docker/create-topics.sh" >"$IT_DIR/create-topics.log" 2>&1 ||
    it_fail "create-topics.sh failed: $(tail -n 5 "$IT_DIR/create-topics.log")"
grep -q "create-topics: WARNING" "$IT_DIR/create-topics.log" && it_fail "create-topics.sh warned: $(grep "create-topics: WARNING" "$IT_DIR/create-topics.log")"
for t in ct.dossier:12:-1 ct.dlq:3:2592000000; do
    IFS=: read -r name parts retention <<<"$t"
    desc=$(kafka_tool topics --bootstrap-server "$TTHC_KAFKA_BROKERS" --describe --topic "$name" 2>>"$IT_DIR/kafka-tools.log" | head -n1)
    grep -q "PartitionCount: $parts" <<<"$desc" && grep -q 'ReplicationFactor: 3' <<<"$desc" &&
        grep -q 'min.insync.replicas=2' <<<"$desc" && grep -q "retention.ms=$retention" <<<"$desc" ||
        it_fail "topic $name as created by create-topics.sh: $desc"
done
# A second run leaves the topics as they are and still succeeds.
KAFKA_BIN=$(_kafka_cache)/bin BOOTSTRAP=$TTHC_KAFKA_BROKERS TTHC_DOSSIER_TOPIC=ct.dossier TTHC_DLQ_TOPIC=ct.dlq \
    sh "$TTHC_REPO/deploy/docker/create-topics.sh" >>"$IT_DIR/create-topics.log" 2>&1 || it_fail "create-topics.sh failed the second time"
echo "ok: deploy/docker/create-topics.sh creates the topics on Apache Kafka (RF 3, min ISR 2, retention)"
echo "it_kafka_config: ok"
