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
  // Null: every event is sent once (tests of the pipeline alone).
  private final Redelivery redelivery;
  private int emptyPolls;

  ControlPlaneClient(FlowControl control, FastpathCounters counters) {
    this(control, counters, null);
  }

  /** With {@code resend} not null, events nobody answered are sent again ({@link Redelivery}). */
  ControlPlaneClient(FlowControl control, FastpathCounters counters, Redelivery.Settings resend) {
    this.client = control.client(this);
    this.counters = counters;
    this.redelivery =
        resend == null
            ? null
            : new Redelivery(
                resend,
                client::submitAfter,
                (c, detail) ->
                    answers.add(new Answer(c, null, FlowControl.Refusal.UNANSWERED, detail)));
  }

  /** Events sent again because no node answered them (0 without redelivery). */
  long resent() {
    return redelivery == null ? 0 : redelivery.resent();
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
      if (redelivery != null) {
        redelivery.send(event, c, System.nanoTime());
      } else {
        client.submit(event, c);
      }
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
    if (redelivery == null) {
      return answers.poll();
    }
    Answer a;
    while ((a = answers.poll()) != null && resentInstead(a)) {
      // taken care of: the flow's events went out again
    }
    // Overdue events are looked for now and then, not at every frame.
    if (a == null && (++emptyPolls & 1023) == 0) {
      long now = System.nanoTime();
      if (redelivery.scanDue(now)) {
        redelivery.scan(now);
      }
    }
    return a;
  }

  /** An OUT_OF_ORDER refusal is not the pipeline's business: the flow's events are sent again. */
  private boolean resentInstead(Answer a) {
    if (a.refusal() != FlowControl.Refusal.OUT_OF_ORDER) {
      return false;
    }
    if (pending.containsKey(a.correlation())) {
      redelivery.outOfOrder(a.correlation(), System.nanoTime());
    }
    return true;
  }

  /** Waits up to {@code millis} for an answer; null if none came. */
  Answer await(long millis) throws InterruptedException {
    Answer a = poll();
    if (a != null) {
      return a;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    waiting = Thread.currentThread();
    try {
      while ((a = poll()) == null) {
        long now = System.nanoTime();
        long left = deadline - now;
        if (left <= 0) {
          return null;
        }
        if (redelivery != null) {
          // Wake for the next look for overdue events, and look now if it is due.
          if (redelivery.scanDue(now)) {
            redelivery.scan(now);
            continue;
          }
          left = Math.min(left, redelivery.nanosToScan(now));
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
    if (p != null && redelivery != null) {
      redelivery.answered(a.correlation(), System.nanoTime());
    }
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
