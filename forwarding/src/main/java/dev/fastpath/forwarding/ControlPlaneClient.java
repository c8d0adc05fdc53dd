package dev.fastpath.forwarding;

import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The forwarding stage's side of the control plane: submits control events with a correlation
 * number, hands their answers back to the pipeline thread through a queue (the per-packet path
 * takes no locks), bounds how many are in flight (the reader waits: back-pressure, never a
 * timeout), and measures the redirect → decision latency.
 */
final class ControlPlaneClient implements FlowControl.Replies, AutoCloseable {

  /** What an answered event was for. */
  record Pending(TrackedFlow flow, ControlEvent event, boolean gating, long submittedNanos) {}

  /** An answer, on its way to the pipeline thread. */
  record Answer(
      long correlation, ControlResult result, FlowControl.Refusal refusal, String detail) {}

  private final FlowControl.Client client;
  private final FastpathCounters counters;
  // Many producers (the control plane's threads), one consumer (the pipeline thread), which is
  // woken only when it actually waits: a blocking queue would lock and signal on every answer.
  private final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
  private volatile Thread waiting;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Histogram latency = new Histogram(3_600_000_000_000L, 3);
  private long nextCorrelation = 1;
  private long submitted;

  ControlPlaneClient(FlowControl control, FastpathCounters counters) {
    this.client = control.client(this);
    this.counters = counters;
  }

  int inFlight() {
    return pending.size();
  }

  long submitted() {
    return submitted;
  }

  /**
   * Submits an event (pipeline thread). A gating event's latency is timed from {@code sinceNanos}
   * (when its frame arrived; 0: now).
   */
  void submit(TrackedFlow flow, ControlEvent event, boolean gating, long sinceNanos) {
    long c = nextCorrelation++;
    long since = !gating ? 0 : sinceNanos != 0 ? sinceNanos : System.nanoTime();
    pending.put(c, new Pending(flow, event, gating, since));
    submitted++;
    if (gating) {
      flow.gates++;
    }
    try {
      client.submit(event, c);
    } catch (RuntimeException e) {
      answers.add(new Answer(c, null, FlowControl.Refusal.STOPPED, e.toString()));
    }
  }

  @Override
  public void answered(long correlation, ControlResult result) {
    offer(new Answer(correlation, result, null, null));
  }

  @Override
  public void refused(long correlation, FlowControl.Refusal refusal, String detail) {
    offer(new Answer(correlation, null, refusal, detail));
  }

  private void offer(Answer a) {
    answers.add(a);
    Thread t = waiting;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /** The next answer if one is there (pipeline thread). */
  Answer poll() {
    return answers.poll();
  }

  /** Waits up to {@code millis} for an answer; null if none came. */
  Answer await(long millis) throws InterruptedException {
    Answer a = answers.poll();
    if (a != null) {
      return a;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    waiting = Thread.currentThread();
    try {
      while ((a = answers.poll()) == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        LockSupport.parkNanos(this, left);
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
      }
      return a;
    } finally {
      waiting = null;
    }
  }

  /** The pending event an answer is for, removed; records the latency of gating ones. */
  Pending complete(Answer a) {
    Pending p = pending.remove(a.correlation());
    if (p != null && p.gating()) {
      p.flow().gates--;
      if (p.event() instanceof ControlEvent.RedirectArrived) {
        long nanos = Math.max(0, System.nanoTime() - p.submittedNanos());
        latency.recordValue(nanos);
        counters.recordRedirectToDecision(nanos);
      }
    }
    return p;
  }

  /** Redirect (and other gating event) → decision applied, in nanoseconds. */
  Histogram latency() {
    return latency;
  }

  @Override
  public void close() {
    client.close();
  }
}
