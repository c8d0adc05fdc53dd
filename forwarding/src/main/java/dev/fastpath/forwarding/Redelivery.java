package dev.fastpath.forwarding;

import dev.fastpath.flow.ControlEvent;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Sends control events again that no node answered. Pekko delivers at most once: an event sent to a
 * node that dies (or to a flow caught in a hand-off) is never answered. Sending it again is safe,
 * because the flow core appends a step once per input position (a step already durable is answered
 * {@code ALREADY_APPLIED}, with the decision as of that position), provided a flow never applies a
 * later event before the lost one: the input marks are a high-water mark, so the lost event, sent
 * again after a later one, would be taken for applied. So every event names its flow's previous
 * unanswered event ({@code after}, see {@code FlowControl.Client#submitAfter}); a flow that has not
 * handled it refuses with {@code OUT_OF_ORDER}, and the flow's unanswered events are sent again in
 * their order.
 *
 * <p>An event unanswered for {@link Settings#after} is sent again, with its flow's later unanswered
 * events behind it; the interval doubles up to {@link Settings#maxInterval}. After {@link
 * Settings#attempts} sends it is given up: the pipeline gets an {@code UNANSWERED} refusal.
 *
 * <p>Pipeline thread only, like {@link ControlPlaneClient}.
 */
public final class Redelivery {

  /**
   * @param after first resend of an unanswered event after this long
   * @param maxInterval the doubling interval between sends stops growing here
   * @param attempts sends of one event (the first included) before it is given up
   */
  public record Settings(Duration after, Duration maxInterval, int attempts) {
    public Settings {
      if (after.isNegative() || after.isZero() || maxInterval.compareTo(after) < 0) {
        throw new IllegalArgumentException(
            "resend after must be positive and at most the maximum interval");
      }
      if (attempts < 1) {
        throw new IllegalArgumentException("resend attempts must be at least 1");
      }
    }

    /** Defaults (fastpath.flow.resend in fastpath-flow.conf says the same). */
    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(3), Duration.ofSeconds(10), 40);
    }

    /** {@code fastpath.flow.resend} of a configuration (fastpath-flow.conf). */
    public static Settings fromConfig(com.typesafe.config.Config root) {
      com.typesafe.config.Config c = root.getConfig("fastpath.flow.resend");
      return new Settings(
          c.getDuration("after"), c.getDuration("max-interval"), c.getInt("attempts"));
    }

    /** How long an event is tried in all: what an operator waits at most for a give-up. */
    public Duration total() {
      long t = 0;
      long i = after.toMillis();
      for (int a = 1; a < attempts; a++) {
        t += i;
        i = Math.min(i * 2, maxInterval.toMillis());
      }
      return Duration.ofMillis(t);
    }
  }

  /** Sends (again) one event. */
  interface Sender {
    void send(ControlEvent event, long correlation, long after);
  }

  /** Tells the pipeline an event was given up. */
  interface GiveUp {
    void gaveUp(long correlation, String detail);
  }

  private static final class Sent {
    final long correlation;
    final ControlEvent event;
    final Object entity;
    final long firstSent;
    Sent prev;
    Sent next;
    long deadline;
    long interval;
    int attempts = 1;

    Sent(long correlation, ControlEvent event, Object entity, long now, long interval) {
      this.correlation = correlation;
      this.firstSent = now;
      this.event = event;
      this.entity = entity;
      this.deadline = now + interval;
      this.interval = interval;
    }
  }

  private final Settings settings;
  private final Sender sender;
  private final GiveUp giveUp;
  private final Map<Long, Sent> byCorrelation = new HashMap<>();
  // The newest unanswered event of each flow; the chain runs back through prev.
  private final Map<Object, Sent> newest = new HashMap<>();
  private final long scanEveryNanos;
  private long nextScan;
  private long resent;
  private long givenUp;
  // Smoothed answer time of events answered at their first send (as TCP's RTO, Karn's rule): a
  // loaded node answers in seconds, and sending its events again would only add to its load.
  private long smoothedNanos;

  Redelivery(Settings settings, Sender sender, GiveUp giveUp) {
    this.settings = settings;
    this.sender = sender;
    this.giveUp = giveUp;
    this.scanEveryNanos = Math.max(10_000_000L, settings.after().toNanos() / 4);
    this.nextScan = System.nanoTime() + scanEveryNanos;
  }

  /** Events sent again (each resend of each event counts). */
  long resent() {
    return resent;
  }

  /** Events given up. */
  long givenUp() {
    return givenUp;
  }

  /** Tracks and sends a new event; it names its flow's newest unanswered event as predecessor. */
  void send(ControlEvent event, long correlation, long now) {
    Object entity = entityOf(event);
    long first =
        Math.min(
            settings.maxInterval().toNanos(),
            Math.max(settings.after().toNanos(), 4 * smoothedNanos));
    Sent s = new Sent(correlation, event, entity, now, first);
    Sent before = newest.put(entity, s);
    if (before != null) {
      before.next = s;
      s.prev = before;
    }
    byCorrelation.put(correlation, s);
    sender.send(event, correlation, before == null ? 0 : before.correlation);
  }

  /** The event was answered (by a result or a refusal other than OUT_OF_ORDER). */
  void answered(long correlation, long now) {
    Sent s = byCorrelation.remove(correlation);
    if (s != null) {
      unlink(s);
      if (s.attempts == 1) {
        long took = now - s.firstSent;
        smoothedNanos = smoothedNanos == 0 ? took : smoothedNanos + (took - smoothedNanos) / 8;
      }
    }
  }

  /**
   * The flow refused the event because an earlier one had not reached it: send its flow's
   * unanswered events again, oldest first. False when the event is no longer tracked (a late
   * refusal of an event answered meanwhile): nothing to do.
   */
  boolean outOfOrder(long correlation, long now) {
    Sent s = byCorrelation.get(correlation);
    if (s == null) {
      return false;
    }
    resendChain(s, now);
    return true;
  }

  /** Whether a scan for overdue events is due (cheap: callers ask often). */
  boolean scanDue(long now) {
    return now - nextScan >= 0;
  }

  /** Nanoseconds until the next scan should run (for a waiting caller's park). */
  long nanosToScan(long now) {
    return Math.max(0, nextScan - now);
  }

  /** Sends again every flow's chain whose oldest unanswered event is overdue. */
  void scan(long now) {
    nextScan = now + scanEveryNanos;
    if (byCorrelation.isEmpty()) {
      return;
    }
    java.util.Set<Sent> heads = null;
    for (Sent s : byCorrelation.values()) {
      if (now - s.deadline >= 0) {
        Sent head = s;
        while (head.prev != null) {
          head = head.prev;
        }
        if (heads == null) {
          heads = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        }
        heads.add(head);
      }
    }
    if (heads != null) {
      for (Sent head : heads) {
        resendChain(head, now);
      }
    }
  }

  private void resendChain(Sent any, long now) {
    Sent s = any;
    while (s.prev != null) {
      s = s.prev;
    }
    while (s != null) {
      Sent next = s.next;
      if (s.attempts >= settings.attempts()) {
        byCorrelation.remove(s.correlation);
        unlink(s);
        givenUp++;
        giveUp.gaveUp(
            s.correlation,
            "no node answered "
                + s.event.getClass().getSimpleName()
                + " for "
                + s.entity
                + " after "
                + s.attempts
                + " sends over "
                + settings.total().toSeconds()
                + " s (fastpath.flow.resend)");
      } else {
        s.attempts++;
        s.interval = Math.min(s.interval * 2, settings.maxInterval().toNanos());
        s.deadline = now + s.interval;
        resent++;
        sender.send(s.event, s.correlation, s.prev == null ? 0 : s.prev.correlation);
      }
      s = next;
    }
  }

  private void unlink(Sent s) {
    if (s.prev != null) {
      s.prev.next = s.next;
    }
    if (s.next != null) {
      s.next.prev = s.prev;
    } else if (newest.get(s.entity) == s) {
      if (s.prev != null) {
        newest.put(s.entity, s.prev);
      } else {
        newest.remove(s.entity);
      }
    }
    s.prev = null;
    s.next = null;
  }

  // A flow's key; refusals that name no flow share their source's entity.
  private static Object entityOf(ControlEvent e) {
    if (e.flow() != null) {
      return e.flow();
    }
    return e.entityId();
  }
}
