package dev.fastpath.forwarding;

import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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
  record Answer(long correlation, ControlResult result, FlowControl.Refusal refusal, String detail) {}

  private final FlowControl.Client client;
  private final LinkedBlockingQueue<Answer> answers = new LinkedBlockingQueue<>();
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Histogram latency = new Histogram(3_600_000_000_000L, 3);
  private long nextCorrelation = 1;
  private long submitted;

  ControlPlaneClient(FlowControl control) {
    this.client = control.client(this);
  }

  int inFlight() {
    return pending.size();
  }

  long submitted() {
    return submitted;
  }

  /** Submits an event (pipeline thread). */
  void submit(TrackedFlow flow, ControlEvent event, boolean gating) {
    long c = nextCorrelation++;
    pending.put(c, new Pending(flow, event, gating, gating ? System.nanoTime() : 0));
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
    answers.add(new Answer(correlation, result, null, null));
  }

  @Override
  public void refused(long correlation, FlowControl.Refusal refusal, String detail) {
    answers.add(new Answer(correlation, null, refusal, detail));
  }

  /** The next answer if one is there (pipeline thread). */
  Answer poll() {
    return answers.poll();
  }

  /** Waits up to {@code millis} for an answer; null if none came. */
  Answer await(long millis) throws InterruptedException {
    return answers.poll(millis, TimeUnit.MILLISECONDS);
  }

  /** The pending event an answer is for, removed; records the latency of gating ones. */
  Pending complete(Answer a) {
    Pending p = pending.remove(a.correlation());
    if (p != null && p.gating()) {
      p.flow().gates--;
      latency.recordValue(Math.max(0, System.nanoTime() - p.submittedNanos()));
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
