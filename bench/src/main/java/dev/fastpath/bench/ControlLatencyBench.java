package dev.fastpath.bench;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.kafka.EmbeddedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * How long a control event takes to become durable (submit to answer) through {@code
 * ShardedFlowControl} and an embedded broker, one at a time and at offered rates: the part of the
 * redirect → first rewritten packet latency that is not the forwarding path (which LiveForwardBench
 * measures around it). With {@code --no-fsync} the broker does not fsync every append, to show how
 * much of it that is.
 *
 * <pre>
 * java -cp "$CP" dev.fastpath.bench.ControlLatencyBench [--rates 100,400] [--seconds 5] [--no-fsync]
 * </pre>
 */
public final class ControlLatencyBench {
  private ControlLatencyBench() {}

  public static void main(String[] args) throws Exception {
    int[] rates = {100, 400};
    int seconds = 5;
    boolean noFsync = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rates" ->
            rates = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--no-fsync" -> noFsync = true;
        default -> {
          System.err.println("unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    long eni = Macs.parse("60:45:bd:25:fe:3b");
    FastpathConfig cfg = FastpathConfig.defaults(List.of(EniConfig.allEnabled(eni, "eni0")));
    Path dir = Files.createTempDirectory("control-latency");
    String bench = noFsync ? "control-latency-nofsync" : "control-latency";
    try (EmbeddedKafka kafka =
            noFsync
                ? EmbeddedKafka.start(
                    dir, Map.of("log.flush.interval.messages", Long.toString(Long.MAX_VALUE)))
                : EmbeddedKafka.start(dir);
        ShardedFlowControl control =
            ShardedFlowControl.start(
                cfg,
                KafkaLogSettings.defaults(kafka.bootstrapServers(), "bench"),
                ConfigFactory.empty(),
                true)) {
      int next = 0;
      long[] one = new long[300];
      for (int i = 0; i < one.length; i++) {
        long t0 = System.nanoTime();
        control.ask(started(eni, next++)).toCompletableFuture().get(60, TimeUnit.SECONDS);
        one[i] = System.nanoTime() - t0;
      }
      report(bench, "one_at_a_time", Arrays.copyOfRange(one, 50, one.length));
      for (int rate : rates) {
        int n = rate * seconds;
        long[] lat = new long[n];
        CountDownLatch done = new CountDownLatch(n);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
          long due = start + i * 1_000_000_000L / rate;
          while (System.nanoTime() < due) {
            Thread.onSpinWait();
          }
          int idx = i;
          long t0 = System.nanoTime();
          control
              .ask(started(eni, next++))
              .whenComplete(
                  (r, e) -> {
                    lat[idx] = System.nanoTime() - t0;
                    done.countDown();
                  });
        }
        if (!done.await(5, TimeUnit.MINUTES)) {
          throw new IllegalStateException("events unanswered after 5 minutes");
        }
        report(bench, "at_" + rate + "_per_s", lat);
      }
    }
  }

  private static ControlEvent started(long eni, int n) {
    FlowKey f = FlowKey.ofV4(eni, 6, 0x0a000000 + n, 1024 + (n % 60000), 0x14451d3e, 443);
    return new ControlEvent.FlowStarted(
        f,
        System.currentTimeMillis() * 1_000_000L,
        Cause.newBuilder().setSource("control-latency").build(),
        FlowOpened.newBuilder().setDirection(Direction.OUTBOUND).build());
  }

  private static void report(String bench, String name, long[] lat) {
    long[] s = lat.clone();
    Arrays.sort(s);
    BenchSupport.result(bench, name + "_p50", s[s.length / 2] / 1e6, "ms");
    BenchSupport.result(
        bench, name + "_p99", s[(int) Math.min(s.length - 1, s.length * 0.99)] / 1e6, "ms");
  }
}
