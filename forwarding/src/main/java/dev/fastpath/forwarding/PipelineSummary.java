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
 *     {@code no-flow} (no 5-tuple), {@code not-ethernet}, {@code inbound}, {@code vip-path}, or
 *     {@code rewrite-<error>}
 * @param fixupsByScenario flows moved to the fast path, by scenario
 * @param controlEvents control events submitted to the flow actors
 * @param controlFailures control events whose append failed (the flow kept its previous path)
 * @param maxHeldFrames the most frames waiting in hold queues at once
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
    long controlFailures,
    long maxHeldFrames,
    long elapsedNanos) {

  public PipelineSummary {
    passedByReason = Map.copyOf(passedByReason);
    fixupsByScenario = Map.copyOf(fixupsByScenario);
  }

  public double framesPerSecond() {
    return elapsedNanos <= 0 ? 0 : framesIn * 1e9 / elapsedNanos;
  }

  public long fixups(Scenario s) {
    return fixupsByScenario.getOrDefault(s, 0L);
  }

  public long fixups() {
    return fixupsByScenario.values().stream().mapToLong(Long::longValue).sum();
  }
}
