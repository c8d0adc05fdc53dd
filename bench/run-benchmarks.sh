#!/usr/bin/env bash
# Builds the bench module and runs every benchmark in order, then prints a summary of the
# RESULT lines. Run from anywhere; paths are relative to the repository root.
#
#   bench/run-benchmarks.sh                 # everything at the documented sizes
#   bench/run-benchmarks.sh --smoke         # everything at small sizes (a few minutes)
#   bench/run-benchmarks.sh jmh capture     # only some parts: e2e jmh capture pipeline memory projection live scaling
#   bench/run-benchmarks.sh --no-build ...  # reuse bench/target from a previous build
#
# Output of each part goes to bench/target/results/<part>.txt as well as the terminal.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SMOKE=0
BUILD=1
PARTS=()
for a in "$@"; do
  case "$a" in
    --smoke) SMOKE=1 ;;
    --no-build) BUILD=0 ;;
    e2e|jmh|capture|pipeline|memory|projection|live|scaling) PARTS+=("$a") ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $a (want --smoke, --no-build, e2e, jmh, capture, pipeline, memory, projection, live, scaling)" >&2; exit 2 ;;
  esac
done
if [ ${#PARTS[@]} -eq 0 ]; then
  # live needs root, iproute2 and tcpreplay; it says so and is skipped without them.
  PARTS=(e2e jmh capture pipeline memory projection live scaling)
fi

if [ "$SMOKE" = 1 ]; then
  JMH_ARGS=(-wi 1 -i 2 -w 1 -r 1 -f 1 -p flows=100000)
  CAPTURE_FRAMES=200000
  PIPELINE_FLOWS=2000
  TABLE_FLOWS=200000
  ACTOR_FLOWS=10000
  PROJECTION_EVENTS=50000
  PROJECTION_QUERIES=300
  PROJECTION_HTTP=1100
  LIVE_FLOWS=500
  E2E_FLOWS=10000
  E2E_OPEN_FLOWS=50000
  SCALING_FLOWS=600
else
  JMH_ARGS=()  # the @Warmup/@Measurement/@Fork defaults of the benchmark classes
  CAPTURE_FRAMES=2000000
  PIPELINE_FLOWS=20000
  TABLE_FLOWS=1000000
  ACTOR_FLOWS=100000
  PROJECTION_EVENTS=1000000
  PROJECTION_QUERIES=300
  PROJECTION_HTTP=22000
  LIVE_FLOWS=2000
  E2E_FLOWS=100000
  E2E_OPEN_FLOWS=1000000
  SCALING_FLOWS=6000
fi

JAR=bench/target/bench-0.1.0-SNAPSHOT.jar
CP="$JAR:bench/target/lib/*"
OUT=bench/target/results
JAVA=${JAVA:-java}

if [ "$BUILD" = 1 ]; then
  echo "== building (mvn -q -B -DskipTests -pl bench -am package)"
  mvn -q -B -DskipTests -pl bench -am package
fi
if ! unzip -l "$JAR" 2>/dev/null | grep -q META-INF/BenchmarkList; then
  echo "$JAR has no META-INF/BenchmarkList: the JMH annotation processor did not run" >&2
  exit 1
fi
mkdir -p "$OUT"

run_part() {
  local part=$1; shift
  echo "== $part: $*"
  "$@" 2>&1 | tee "$OUT/$part.txt"
}

for part in "${PARTS[@]}"; do
  case "$part" in
    e2e)
      # The issue's measurement: ./fastpath run with the durable log on a VIP capture, the same
      # flows' data frames on the fixed-up log, tcpdump and ProducerPerformance in the same run,
      # then N open flows in a 1 GiB heap.
      if [ "$BUILD" = 1 ]; then (mvn -q -B -DskipTests -pl service -am install); fi
      run_part e2e "$JAVA" -Xmx2g -cp "$CP" dev.fastpath.bench.EndToEndBench \
        --flows "$E2E_FLOWS" --data-frames 10 --window 2000 --enis 8 \
        --open-flows "$E2E_OPEN_FLOWS" --dir bench/target/e2e
      # The ceiling under it: bare Pekko sharding, one entity per flow, nothing else.
      "$JAVA" -Xmx2g -XX:+UseParallelGC -XX:TieredStopAtLevel=1 -cp "$CP" \
        dev.fastpath.bench.ShardingCeilingBench --flows "$E2E_FLOWS" 2>&1 | tee -a "$OUT/e2e.txt" ;;
    jmh)
      run_part jmh "$JAVA" -cp "$CP" org.openjdk.jmh.Main -prof gc "${JMH_ARGS[@]}" \
        -rf json -rff "$OUT/jmh.json" 'dev.fastpath.bench.*Benchmark' ;;
    capture)
      run_part capture "$JAVA" -Xmx1g -cp "$CP" dev.fastpath.bench.CaptureReadBench \
        --frames "$CAPTURE_FRAMES" --dir bench/target ;;
    pipeline)
      run_part pipeline "$JAVA" -Xmx2g -cp "$CP" dev.fastpath.bench.PipelineBench \
        --flows "$PIPELINE_FLOWS" ;;
    memory)
      run_part memory "$JAVA" -Xmx3g -cp "$CP" dev.fastpath.bench.FlowMemoryBench \
        --table-flows "$TABLE_FLOWS" --actor-flows "$ACTOR_FLOWS" ;;
    projection)
      # The bench's HistoryServer stands in for serve's: the same JVM options as ./fastpath serve.
      run_part projection "$JAVA" -Xmx4g -XX:+UseG1GC -XX:MaxTenuringThreshold=2 -cp "$CP" dev.fastpath.bench.ProjectionBench \
        --events "$PROJECTION_EVENTS" --queries "$PROJECTION_QUERIES" \
        --clients 100 --http-requests "$PROJECTION_HTTP" --http-warmup "$((PROJECTION_HTTP * 3 / 2))" ;;
    live)
      # A node in a network namespace forwarding tcpreplay's traffic (docs/benchmarks.md).
      run_part live "$JAVA" -Xmx1g -cp "$CP" dev.fastpath.bench.LiveForwardBench \
        --flows "$LIVE_FLOWS" --dir bench/target
      # The log's share of redirect -> rewrite: control events made durable, with and without fsync.
      "$JAVA" -Xmx1g -cp "$CP" dev.fastpath.bench.ControlLatencyBench 2>&1 | tee -a "$OUT/live.txt"
      "$JAVA" -Xmx1g -cp "$CP" dev.fastpath.bench.ControlLatencyBench --no-fsync 2>&1 \
        | tee -a "$OUT/live.txt" ;;
    scaling)
      # 1, 2, 3 node JVMs on loopback with a broker: ingest at node 1, and at every node.
      run_part scaling "$JAVA" -Xmx1g -cp "$CP" dev.fastpath.bench.ScalingBench \
        --flows "$SCALING_FLOWS" --nodes 1,2,3 --modes node1,every ;;
  esac
done

echo
echo "== summary (machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB; load $(cut -d' ' -f1-3 /proc/loadavg))"
for part in "${PARTS[@]}"; do
  if [ "$part" = jmh ]; then
    # The JMH table: throughput and bytes allocated per operation.
    grep -E '^(Benchmark|[A-Za-z]+Benchmark\.[A-Za-z]+(:gc\.alloc\.rate\.norm)? )' "$OUT/jmh.txt" || true
  else
    grep '^RESULT ' "$OUT/$part.txt" | cut -d' ' -f2- | column -t || true
  fi
done
