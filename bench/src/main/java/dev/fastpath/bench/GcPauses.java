package dev.fastpath.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The collector's stop-the-world pauses of this JVM, as its own GC notifications report them, so a
 * latency pass can say which pauses fell inside it: at a few thousand requests per second a young
 * pause holds every request in flight, and the HTTP p99 of a pass follows its longest pause more
 * than anything the queries do (docs/benchmarks.md, "Projection"). Reading them here, rather than
 * from a GC log next to the output, keeps the explanation on the same line as the number.
 */
final class GcPauses implements AutoCloseable {
  /** One pause: its start and length in milliseconds of JVM uptime. */
  record Pause(long startMillis, long millis) {}

  /** The pauses of a window: how many and the longest (0 when none). */
  record Window(int count, long longestMillis, long totalMillis) {}

  private final List<Pause> pauses = new ArrayList<>();
  private final List<Runnable> unregister = new ArrayList<>();

  GcPauses() {
    NotificationListener listener =
        (n, handback) -> {
          if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
              n.getType())) {
            return;
          }
          GarbageCollectionNotificationInfo info =
              GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
          // G1's concurrent cycle (JDK 20+ reports it as a collector) runs beside the application.
          if (info.getGcName().contains("Concurrent")) {
            return;
          }
          synchronized (pauses) {
            pauses.add(new Pause(info.getGcInfo().getStartTime(), info.getGcInfo().getDuration()));
          }
        };
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(listener, null, null);
        unregister.add(
            () -> {
              try {
                emitter.removeNotificationListener(listener);
              } catch (javax.management.ListenerNotFoundException e) {
                // already gone
              }
            });
      }
    }
  }

  /** Milliseconds of JVM uptime, the clock the pauses are stamped with. */
  static long now() {
    return ManagementFactory.getRuntimeMXBean().getUptime();
  }

  /** The pauses that started in {@code [fromMillis, toMillis)} of uptime. */
  Window between(long fromMillis, long toMillis) {
    int count = 0;
    long longest = 0;
    long total = 0;
    synchronized (pauses) {
      for (Pause p : pauses) {
        if (p.startMillis() >= fromMillis && p.startMillis() < toMillis) {
          count++;
          longest = Math.max(longest, p.millis());
          total += p.millis();
        }
      }
    }
    return new Window(count, longest, total);
  }

  @Override
  public void close() {
    unregister.forEach(Runnable::run);
  }
}
