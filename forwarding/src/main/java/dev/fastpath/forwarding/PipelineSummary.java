package dev.fastpath.forwarding;

import dev.fastpath.events.v1.Scenario;
import java.util.Map;

/**
 * What one {@link CapturePipeline#run} did.
 *
 * @param framesIn frames read from the capture
 * @param framesOut frames written (every frame except consumed redirects)
 * @param bytesIn captured bytes read
 * @param redirectsConsumed redirect packets taken out of the stream (accepted or rejected)
 * @param rewritten outbound frames of fixed-up flows that were rewritten
 * @param passedUnchanged frames written as they came
 * @param passedByReason why frames passed unchanged: a decode error's reason, {@code no-eni},
 *     {@code no-flow} (no 5-tuple), {@code not-ethernet}, {@code inbound}, {@code vip-path}, {@code
 *     untracked} (admission refused) or {@code rewrite-<error>}
 * @param fixupsByScenario flows moved to the fast path, by scenario
 * @param controlEvents control events submitted to the flow core
 * @param alreadyApplied control events whose input position was already in the log (a capture
 *     processed again): nothing appended
 * @param refusedByReason control events the core refused, by {@code FlowControl.Refusal} (the flow
 *     kept its path; nothing was recorded)
 * @param admissionRefused new connections not tracked because max-flows was reached
 * @param maxHeldFrames the most frames waiting in hold queues at once
 * @param redirectToDecisionNanos p50, p99 and max of redirect arrival → decision applied
 */
public record PipelineSummary(
    long framesIn,
    long framesOut,
    long bytesIn,
    long redirectsConsumed,
    long rewritten,
    long passedUnchanged,
    Map<String, Long> passedByReason,
    long flowsOpened,
    long flowsClosed,
    long flowsAged,
    Map<Scenario, Long> fixupsByScenario,
    long controlEvents,
    long alreadyApplied,
    Map<String, Long> refusedByReason,
    long admissionRefused,
    long maxHeldFrames,
    long[] redirectToDecisionNanos,
    long decisions,
    long elapsedNanos) {

  public PipelineSummary {
    passedByReason = Map.copyOf(passedByReason);
    fixupsByScenario = Map.copyOf(fixupsByScenario);
    refusedByReason = Map.copyOf(refusedByReason);
    redirectToDecisionNanos = redirectToDecisionNanos.clone();
  }

  public double framesPerSecond() {
    return elapsedNanos <= 0 ? 0 : framesIn * 1e9 / elapsedNanos;
  }

  public double flowsPerSecond() {
    return elapsedNanos <= 0 ? 0 : flowsOpened * 1e9 / elapsedNanos;
  }

  public long fixups(Scenario s) {
    return fixupsByScenario.getOrDefault(s, 0L);
  }

  public long fixups() {
    return fixupsByScenario.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Control events that were not acted on (refused by the core): real failures. */
  public long controlFailures() {
    return refusedByReason.values().stream().mapToLong(Long::longValue).sum();
  }

  public double latencyMillis(int which) {
    return redirectToDecisionNanos[which] / 1e6;
  }

  public static final int P50 = 0;
  public static final int P99 = 1;
  public static final int MAX = 2;
}
