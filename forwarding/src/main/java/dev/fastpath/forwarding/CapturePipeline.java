package dev.fastpath.forwarding;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapLayer;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.codec.DecodeError;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.codec.RedirectDecoder;
import dev.fastpath.ingest.codec.RedirectResult;
import dev.fastpath.ingest.config.FastpathConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The forwarding stage's loop: frames in order through the decoders, each frame to its tracked
 * connection ({@link FlowTracker}), control packets to the flow core ({@link ControlPlaneClient}),
 * every packet through the rewrite decision it has ({@link PacketRewriter}), and out through the
 * {@link ReleaseBuffer}.
 *
 * <p><b>Determinism.</b> Every frame is forwarded with the decisions of all earlier frames of its
 * flow applied. Only an answer that can change how a flow is forwarded — a redirect's — is waited
 * for: while one is in flight (its records being made durable), the flow's later frames wait in its
 * hold queue, as in a virtual router's flow hold queue; other flows go on. A flow's other control
 * events (first packet, counts, FIN/RST, idle expiry) are sent in order without holding anything:
 * the flow core applies them in the order sent. Each flow's events therefore reach the core in
 * capture order and idle ageing runs on capture time, so a capture yields the same records every
 * run, and its output (in input order) the same bytes.
 *
 * <p><b>Input positions.</b> Every control event carries (source identity, frame, step): the flow
 * core appends a step once, so a capture processed again after a crash, or twice, leaves the log as
 * one run does. Flows whose log already holds steps of this input are replayed with their first
 * packet waiting for its answer, which gives the decision as of that position.
 *
 * <p><b>Threading.</b> {@link #run} runs on one thread and owns all mutable state. Answers arrive
 * on other threads and are handed over through a queue; the per-packet path takes no locks and, for
 * a tracked flow without control traffic, allocates nothing.
 */
public final class CapturePipeline {

  /** Where forwarded frames go (e.g. {@code PcapWriter::write}). */
  @FunctionalInterface
  public interface FrameSink {
    void write(long timestampNanos, ByteBuffer buf, int offset, int length, int originalLength)
        throws IOException;
  }

  /**
   * A sink that is also told which input each frame arrived on ({@code CaptureRecord.interfaceId}),
   * so that a bridge can send it out of the other side.
   */
  @FunctionalInterface
  public interface PortSink extends FrameSink {
    void write(
        int inputId,
        long timestampNanos,
        ByteBuffer buf,
        int offset,
        int length,
        int originalLength)
        throws IOException;

    @Override
    default void write(
        long timestampNanos, ByteBuffer buf, int offset, int length, int originalLength)
        throws IOException {
      write(0, timestampNanos, buf, offset, length, originalLength);
    }
  }

  /** Called every {@link Options#progressEveryFrames} frames and once at the end. */
  @FunctionalInterface
  public interface ProgressListener {
    void progress(long framesDone, long bytesDone, long bytesTotal);
  }

  /**
   * @param sourceName the {@code Cause.source} of records (the capture path, or live interface)
   * @param sourceId the input's identity ({@code Cause.source_id}; 0 = none, never deduplicated)
   * @param maxInFlightFrames frames read but not yet written before reading pauses
   * @param maxInFlightControl control events awaiting their answer before reading pauses
   * @param trafficReportPackets report a flow's counts after this many packets since the last
   * @param trafficReportNanos ... or after this much capture time since the last report
   * @param lingerNanos how long a FIN/RST-closed flow keeps forwarding stragglers with its last
   *     decision before a non-SYN packet would open a new flow
   * @param stallMillis give up when the flow core answers nothing at all for this long while events
   *     are in flight (it answers every event, refusals included; this catches a wedged node, not a
   *     slow one)
   * @param maxFlows connections tracked at once; beyond, new ones stay untracked on the VIP path
   * @param maxFlowsPerEni the same bound per ENI
   * @param inputOrder write frames in input order (files); false: only each flow's order is kept
   */
  public record Options(
      String sourceName,
      long sourceId,
      int maxInFlightFrames,
      int maxInFlightControl,
      long trafficReportPackets,
      long trafficReportNanos,
      long lingerNanos,
      long progressEveryFrames,
      long stallMillis,
      long maxFlows,
      long maxFlowsPerEni,
      boolean inputOrder) {

    public Options {
      if (maxInFlightFrames < 1 || maxInFlightControl < 1) {
        throw new IllegalArgumentException("in-flight bounds must be positive");
      }
      if (trafficReportPackets < 1 || trafficReportNanos < 1 || lingerNanos < 0) {
        throw new IllegalArgumentException("report intervals must be positive, linger >= 0");
      }
      if (maxFlows < 1 || maxFlowsPerEni < 1) {
        throw new IllegalArgumentException("max-flows must be positive");
      }
    }

    public static Options defaults(String sourceName) {
      return new Options(
          sourceName,
          0,
          1 << 16,
          2_048,
          1_000,
          10_000_000_000L,
          30_000_000_000L,
          65_536,
          600_000,
          Long.MAX_VALUE,
          Long.MAX_VALUE,
          true);
    }

    public Options withSourceId(long id) {
      return new Options(
          sourceName,
          id,
          maxInFlightFrames,
          maxInFlightControl,
          trafficReportPackets,
          trafficReportNanos,
          lingerNanos,
          progressEveryFrames,
          stallMillis,
          maxFlows,
          maxFlowsPerEni,
          inputOrder);
    }

    public Options withInFlight(int frames, int control) {
      return new Options(
          sourceName,
          sourceId,
          frames,
          control,
          trafficReportPackets,
          trafficReportNanos,
          lingerNanos,
          progressEveryFrames,
          stallMillis,
          maxFlows,
          maxFlowsPerEni,
          inputOrder);
    }

    public Options withMaxInFlightFrames(int n) {
      return new Options(
          sourceName,
          sourceId,
          n,
          maxInFlightControl,
          trafficReportPackets,
          trafficReportNanos,
          lingerNanos,
          progressEveryFrames,
          stallMillis,
          maxFlows,
          maxFlowsPerEni,
          inputOrder);
    }

    public Options withTrafficReport(long packets, long nanos) {
      return new Options(
          sourceName,
          sourceId,
          maxInFlightFrames,
          maxInFlightControl,
          packets,
          nanos,
          lingerNanos,
          progressEveryFrames,
          stallMillis,
          maxFlows,
          maxFlowsPerEni,
          inputOrder);
    }

    public Options withMaxFlows(long total, long perEni) {
      return new Options(
          sourceName,
          sourceId,
          maxInFlightFrames,
          maxInFlightControl,
          trafficReportPackets,
          trafficReportNanos,
          lingerNanos,
          progressEveryFrames,
          stallMillis,
          total,
          perEni,
          inputOrder);
    }

    /** Live forwarding: frames leave as soon as their own flow allows. */
    public Options perFlowOrder() {
      return new Options(
          sourceName,
          sourceId,
          maxInFlightFrames,
          maxInFlightControl,
          trafficReportPackets,
          trafficReportNanos,
          lingerNanos,
          progressEveryFrames,
          stallMillis,
          maxFlows,
          maxFlowsPerEni,
          false);
    }
  }

  private static final int LINKTYPE_ETHERNET = 1;

  private enum Pass {
    NO_ENI("no-eni"),
    NO_FLOW("no-flow"),
    NOT_ETHERNET("not-ethernet"),
    INBOUND("inbound"),
    VIP_PATH("vip-path"),
    UNTRACKED("untracked");

    final String reason;

    Pass(String reason) {
      this.reason = reason;
    }
  }

  private final FlowControl control;
  private final ForwardingTable table;
  private final FastpathCounters counters;
  private final Options options;
  private final FrameDecoder decoder;
  private final RedirectDecoder redirectDecoder;
  private final PacketRewriter rewriter = new PacketRewriter();
  private final Set<Long> configuredEnis = new HashSet<>();
  private final long idleNanos;
  private final long tickNanos;
  private final FlowTracker tracker;

  private final DecodedFrame decoded = new DecodedFrame();
  private final CaptureRecord record = new CaptureRecord();
  private ByteBuffer scratch = PacketRewriter.outputBuffer(65_536);
  private long nextTickNanos = Long.MIN_VALUE;

  private ProgressListener progress;
  private Predicate<FlowKey> replayed = k -> false;
  // Live forwarding (forwardLive): off for files.
  private boolean live;
  private long holdLimitNanos = Long.MAX_VALUE;
  private long heldSent;
  private ReleaseBuffer out;
  private ControlPlaneClient cp;
  private Redelivery.Settings resend;

  // Statistics: pipeline thread only.
  private long framesIn;
  private long bytesIn;
  private long redirectsConsumed;
  private long rewritten;
  private long passed;
  private final long[] decodeErrors = new long[DecodeError.values().length];
  private final long[] rewriteErrors = new long[RewriteError.values().length];
  private final long[] passReasons = new long[Pass.values().length];
  private long flowsOpened;
  private long flowsClosed;
  private long flowsAged;
  private long alreadyApplied;
  private long admissionRefused;
  private long decisions;
  private final EnumMap<Scenario, Long> fixups = new EnumMap<>(Scenario.class);
  private final Map<String, Long> refusals = new TreeMap<>();
  private String firstRefusal;
  private String journalFailure;

  public CapturePipeline(
      FastpathConfig config,
      FlowControl control,
      ForwardingTable table,
      FastpathCounters counters,
      Options options) {
    this.control = control;
    this.table = table;
    this.counters = counters;
    this.options = options;
    this.decoder = new FrameDecoder(config);
    this.redirectDecoder = new RedirectDecoder(config);
    config.enis().forEach(e -> configuredEnis.add(e.mac()));
    this.idleNanos = config.idleTimeoutMillis() * 1_000_000L;
    this.tickNanos = Math.max(1_000_000L, idleNanos / 8);
    this.tracker = new FlowTracker(1 << 16, options.maxFlows(), options.maxFlowsPerEni());
  }

  public CapturePipeline onProgress(ProgressListener listener) {
    this.progress = listener;
    return this;
  }

  /**
   * Flows whose log already holds steps of this input (found at start from the durable states):
   * their first packet waits for its answer, which carries the decision as of that position.
   */
  public CapturePipeline replaying(Predicate<FlowKey> flowsSeenFromThisInput) {
    this.replayed = flowsSeenFromThisInput;
    return this;
  }

  /** A connection open in the log when the node started, to be tracked on from where it was. */
  public record RestoredFlow(
      FlowKey key,
      long lastEventNanos,
      dev.fastpath.events.v1.FlowCounted counts,
      RewriteDecision decision) {}

  /**
   * Tracks the flows the log holds open (a restart, or a later capture on the same log): their
   * packets continue these connections (counts, idle ageing on capture time, their decision)
   * instead of opening new ones. Call before {@link #run}; {@code flows} in any order.
   */
  public CapturePipeline restoring(java.util.List<RestoredFlow> flows) {
    java.util.List<RestoredFlow> sorted = new java.util.ArrayList<>(flows);
    // The activity list is ordered by last activity: insert oldest first.
    sorted.sort(java.util.Comparator.comparingLong(RestoredFlow::lastEventNanos));
    for (RestoredFlow r : sorted) {
      if (tracker.find(r.key()) != null) {
        continue;
      }
      TrackedFlow t = tracker.insert(r.key(), TrackedFlow.Phase.OPEN);
      t.decision = r.decision();
      t.lastSeenNanos = r.lastEventNanos();
      t.lastReportNanos = r.lastEventNanos();
      t.packetsOut = r.counts().getPacketsOutbound();
      t.bytesOut = r.counts().getBytesOutbound();
      t.packetsIn = r.counts().getPacketsInbound();
      t.bytesIn = r.counts().getBytesInbound();
      t.packetsAtLastReport = t.packetsOut + t.packetsIn;
      tracker.link(tracker.openList, t);
    }
    return this;
  }

  /**
   * Forwards a live source instead of converting a file. Three things change, nothing else:
   *
   * <ul>
   *   <li>The reader is polled with a short timeout, so answers are applied and held frames
   *       released while the wire is quiet.
   *   <li>Frames leave as soon as they are decided, in order per flow but not across flows: a flow
   *       waiting for its redirect's decision delays only its own frames.
   *   <li>A frame held longer than {@code holdLimitNanos} behind its flow's redirect is sent at
   *       once with the flow's current durable decision (the VIP path while a first redirect is in
   *       flight); it is still processed, in order, when released, but not sent again. 0 sends
   *       every held frame at once; {@link Long#MAX_VALUE} holds until the decision is durable.
   * </ul>
   */
  public CapturePipeline forwardLive(long holdLimitNanos) {
    if (holdLimitNanos < 0) {
      throw new IllegalArgumentException("hold limit must be >= 0");
    }
    this.live = true;
    this.holdLimitNanos = holdLimitNanos;
    return this;
  }

  /**
   * Sends control events again that the flow core did not answer within {@code resend} (a node that
   * died, a flow caught in a hand-off), keeping each flow's events in order ({@link Redelivery}).
   * Off by default: a flow core in this process loses nothing.
   */
  public CapturePipeline resending(Redelivery.Settings resend) {
    this.resend = resend;
    return this;
  }

  /** Control events sent again because no node answered them in time. */
  public long resentEvents() {
    return cp == null ? 0 : cp.resent();
  }

  /** Frames sent on their flow's current path because they were held past the hold limit. */
  public long framesSentWhileHeld() {
    return heldSent;
  }

  /** The first refusal's detail (what failed), or null. */
  public String firstRefusal() {
    return firstRefusal;
  }

  /**
   * Runs the whole capture through and waits until every control event is answered and every frame
   * written. The sink may be null (counting only).
   *
   * @throws CaptureException when the capture cannot be read
   * @throws IOException when the sink fails
   */
  public PipelineSummary run(CaptureReader reader, FrameSink sink)
      throws CaptureException, IOException {
    out = new ReleaseBuffer(options.maxInFlightFrames(), sink, options.inputOrder() && !live);
    long start = System.nanoTime();
    try (ControlPlaneClient client = new ControlPlaneClient(control, counters, resend)) {
      cp = client;
      while (journalFailure == null) {
        // Live: wait briefly while anything is pending, so a quiet wire delays no release.
        int wait = !live ? 0 : cp.inFlight() > 0 || out.pending() ? 1 : 100;
        int got = reader.poll(record, wait);
        if (got == CaptureReader.END) {
          break;
        }
        drainAnswers();
        if (got == CaptureReader.FRAME) {
          while (out.full() || cp.inFlight() >= options.maxInFlightControl()) {
            awaitAnswer();
          }
          readFrame(record);
          if (progress != null && framesIn % options.progressEveryFrames() == 0) {
            progress.progress(framesIn, reader.bytesRead(), reader.sizeBytes());
          }
        }
        if (live && holdLimitNanos != Long.MAX_VALUE && out.pending()) {
          out.forEachOverdue(System.nanoTime(), holdLimitNanos, this::sendHeld);
        }
      }
      while (cp.inFlight() > 0 || out.pending()) {
        if (cp.inFlight() == 0 && journalFailure != null) {
          break; // frames held behind decisions that will never come: not written
        }
        if (cp.inFlight() == 0) {
          throw new IllegalStateException(
              "frames held with no control event in flight at seq " + out.head());
        }
        awaitAnswer();
      }
      if (progress != null) {
        progress.progress(framesIn, reader.bytesRead(), reader.sizeBytes());
      }
      PipelineSummary summary = summary(System.nanoTime() - start, cp);
      if (journalFailure != null) {
        throw new ControlPlaneFailure(journalFailure, summary);
      }
      return summary;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  // ---------------------------------------------------------------- per frame

  private void readFrame(CaptureRecord rec) {
    long ts = rec.timestampNanos();
    long seq =
        out.claim(
            ts,
            rec.frameNumber(),
            rec.originalLength(),
            rec.interfaceId(),
            holdLimitNanos != Long.MAX_VALUE ? System.nanoTime() : 0);
    framesIn++;
    bytesIn += rec.capturedLength();
    if (ts >= nextTickNanos) {
      if (nextTickNanos != Long.MIN_VALUE) {
        age(ts, rec.frameNumber());
      }
      nextTickNanos = ts + tickNanos;
    }
    if (rec.linkType() != LINKTYPE_ETHERNET) {
      passReasons[Pass.NOT_ETHERNET.ordinal()]++;
      pass(seq, rec.data(), rec.offset(), rec.capturedLength());
      return;
    }
    process(seq, rec.data(), rec.offset(), rec.capturedLength(), false);
  }

  /**
   * Decodes and handles one frame. {@code released}: the frame comes from the head of its flow's
   * hold queue (its bytes live in the slot), so it is not held again behind its own queue.
   */
  private void process(long seq, ByteBuffer buf, int off, int len, boolean released) {
    DecodedFrame f = decoder.decode(buf, off, len, decoded);
    if (f.redirectCandidate()) {
      processRedirect(seq, buf, off, len, released);
      return;
    }
    if (f.error() != DecodeError.NONE) {
      decodeErrors[f.error().ordinal()]++;
      pass(seq, buf, off, len);
      return;
    }
    if (f.eniMac() == 0) {
      passReasons[Pass.NO_ENI.ordinal()]++;
      pass(seq, buf, off, len);
      return;
    }
    int proto = f.protocol();
    boolean hasTuple =
        proto == FlowKey.TCP
            || proto == FlowKey.UDP
            || (proto == 1 && !f.ipv6())
            || (proto == 58 && f.ipv6());
    if (!hasTuple) {
      passReasons[Pass.NO_FLOW.ordinal()]++;
      pass(seq, buf, off, len);
      return;
    }
    long ts = out.ts(seq);
    TrackedFlow t = tracker.find(f);
    if (t != null && !released) {
      if (t.phase == TrackedFlow.Phase.LINGERING
          && !t.holding()
          && ts - t.lastSeenNanos >= options.lingerNanos()) {
        forget(t);
        t = null;
      } else {
        if (t.phase == TrackedFlow.Phase.OPEN
            && !t.holding()
            && ts - t.lastSeenNanos >= idleNanos) {
          // It idled out before this frame: end it first, exactly where ageing would have.
          TrackedFlow ended = t;
          expire(t, t.lastSeenNanos + idleNanos, out.frameNumber(seq));
          t = null;
          flowFrame(null, ended, f, seq, buf, off, len);
          return;
        }
        tracker.touch(t, ts);
        if (t.holding()) {
          out.hold(t, seq, buf, off, len);
          return;
        }
      }
    }
    flowFrame(t, null, f, seq, buf, off, len);
  }

  /** A frame of a flow with a 5-tuple; {@code previous}: the incarnation it just ended, if any. */
  private void flowFrame(
      TrackedFlow t,
      TrackedFlow previous,
      DecodedFrame f,
      long seq,
      ByteBuffer buf,
      int off,
      int len) {
    boolean outbound = f.direction() == Direction.OUTBOUND;
    boolean newConnection = f.isSyn() && (f.tcpFlags() & DecodedFrame.TCP_ACK) == 0;
    long ts = out.ts(seq);
    int bytes = out.originalLength(seq);
    long frame = out.frameNumber(seq);
    if (t == null
        || t.phase == TrackedFlow.Phase.GATE_ONLY
        || (t.phase == TrackedFlow.Phase.LINGERING && newConnection)) {
      t = open(t, previous, f, ts);
      if (t == null) {
        passReasons[Pass.UNTRACKED.ordinal()]++;
        pass(seq, buf, off, len);
        return;
      }
      t.count(outbound, bytes);
      forward(seq, buf, off, len, f, t.decision);
      FlowKey key = t.key;
      boolean gate = replayed.test(key);
      submit(
          t,
          new ControlEvent.FlowStarted(key, ts, cause(frame, t.nextStep(frame)), opened(f)),
          gate);
      if (f.isRst()) {
        close(t, CloseReason.RST, ts, frame);
      } else if (f.isFin()) {
        t.fin(outbound);
        if (t.finOut && t.finIn) {
          close(t, CloseReason.FIN, ts, frame);
        }
      }
      return;
    }
    if (t.phase == TrackedFlow.Phase.LINGERING) {
      forward(seq, buf, off, len, f, t.decision);
      return;
    }
    t.count(outbound, bytes);
    forward(seq, buf, off, len, f, t.decision);
    if (f.isRst()) {
      close(t, CloseReason.RST, ts, frame);
    } else if (f.isFin()) {
      t.fin(outbound);
      if (t.finOut && t.finIn) {
        close(t, CloseReason.FIN, ts, frame);
      }
    } else if (t.packetsOut + t.packetsIn - t.packetsAtLastReport >= options.trafficReportPackets()
        || ts - t.lastReportNanos >= options.trafficReportNanos()) {
      t.packetsAtLastReport = t.packetsOut + t.packetsIn;
      t.lastReportNanos = ts;
      submit(
          t,
          new ControlEvent.FlowTraffic(t.key, ts, cause(frame, t.nextStep(frame)), t.counts()),
          false);
    }
  }

  /** Starts tracking a connection; null when max-flows refuses it. */
  private TrackedFlow open(TrackedFlow t, TrackedFlow previous, DecodedFrame f, long ts) {
    FlowKey key = t != null ? t.key : previous != null ? previous.key : f.flowKey();
    // A redirect's placeholder (GATE_ONLY: the core did not know the flow as open) is no tracked
    // connection: it is admitted like any new one, or a refused flow would be tracked after all
    // from the frame after its redirect.
    if (!tracker.admits(key.eniMac())) {
      // Once per connection: at a TCP connection's SYN (its later frames pass untracked without
      // counting again); a frame of another protocol has no opening frame to tell, each counts.
      if (f.protocol() != FlowKey.TCP
          || (f.isSyn() && (f.tcpFlags() & DecodedFrame.TCP_ACK) == 0)) {
        admissionRefused++;
        counters.admissionRefused(key.eniMac());
      }
      return null;
    }
    TrackedFlow n;
    if (t != null && t.phase == TrackedFlow.Phase.GATE_ONLY) {
      n = t;
      tracker.adopt(n);
    } else {
      if (t != null) {
        forget(t); // the lingering incarnation a new SYN replaces
        previous = t;
      }
      n = tracker.insert(key, TrackedFlow.Phase.OPEN);
      // A durable decision (a flow fixed up before a restart) applies from the first packet,
      // unless this input is being replayed: then its answer gives the decision as of here.
      n.decision = replayed.test(key) ? null : table.decision(key);
    }
    if (previous != null) {
      n.continueStepsOf(previous);
    }
    n.lastSeenNanos = ts;
    n.lastReportNanos = ts;
    n.packetsAtLastReport = 0;
    tracker.link(tracker.openList, n);
    return n;
  }

  /** FIN (both ways) or RST: the flow ends; stragglers keep its last decision while it lingers. */
  private void close(TrackedFlow t, CloseReason reason, long ts, long frame) {
    submit(
        t,
        new ControlEvent.FlowEnding(t.key, ts, cause(frame, t.nextStep(frame)), reason, t.counts()),
        false);
    tracker.closed(t);
    t.phase = TrackedFlow.Phase.LINGERING;
    // No longer on the fast path (table, gauge); stragglers still get the last decision.
    RewriteDecision last = t.decision;
    setDecision(t, null);
    t.decision = last;
    tracker.link(tracker.lingerList, t);
  }

  private void processRedirect(long seq, ByteBuffer buf, int off, int len, boolean released) {
    RedirectResult rr = redirectDecoder.decode(buf, off, len);
    FlowKey flow =
        rr instanceof RedirectResult.Accepted a
            ? a.redirect().flow()
            : ((RedirectResult.Rejected) rr).flow();
    TrackedFlow t = flow == null ? null : tracker.find(flow);
    if (!released && t != null && t.holding()) {
      out.hold(t, seq, buf, off, len);
      return;
    }
    int bytes = out.originalLength(seq);
    long ts = out.ts(seq);
    long frame = out.frameNumber(seq);
    counters.redirectReceived(bytes);
    redirectsConsumed++;
    out.consume(seq);
    if (rr instanceof RedirectResult.Accepted a) {
      long eni = a.redirect().eniMac();
      counters.redirectReceived(eni, bytes);
      if (a.redirect().checksum() == ChecksumStatus.ICMPV6_MISMATCH) {
        counters.icmpv6ChecksumMismatch(eni);
      }
      if (t == null) {
        // No connection here: a placeholder holds the flow's later frames behind the answer.
        t = tracker.insert(flow, TrackedFlow.Phase.GATE_ONLY);
        t.lastSeenNanos = ts;
      }
      cp.submit(
          t,
          new ControlEvent.RedirectArrived(a.redirect(), ts, cause(frame, t.nextStep(frame))),
          true,
          out.heldSince(seq));
      return;
    }
    RedirectResult.Rejected r = (RedirectResult.Rejected) rr;
    if (r.reason() == RejectReason.ENI_MISS) {
      counters.eniMiss(bytes);
    } else {
      boolean eniKnown = configuredEnis.contains(r.eniMac());
      if (eniKnown) {
        counters.redirectReceived(r.eniMac(), bytes);
      }
      counters.rejected(eniKnown ? r.eniMac() : 0, r.reason());
    }
    RedirectRejected.Builder rej =
        RedirectRejected.newBuilder().setReason(r.reason()).setDetail(nullToEmpty(r.detail()));
    if (r.partial() != null) {
      rej.setRedirect(r.partial());
    }
    if (flow != null) {
      // Recorded against the flow it names (or outside its sequence if there is none).
      int step = t != null ? t.nextStep(frame) : 0;
      submit(t, new ControlEvent.RedirectRefused(flow, ts, cause(frame, step), rej.build()), false);
    } else {
      submit(
          null,
          new ControlEvent.Unattributed(options.sourceId(), ts, cause(frame, 0), rej.build()),
          false);
    }
  }

  private void forward(
      long seq, ByteBuffer buf, int off, int len, DecodedFrame f, RewriteDecision d) {
    if (out.sentEarly(seq)) {
      // Sent when it was held too long; now only its place in the flow's order is processed.
      out.emit(seq, buf, off, len, 0);
      return;
    }
    if (f.direction() != Direction.OUTBOUND) {
      passReasons[Pass.INBOUND.ordinal()]++;
    } else if (d == null) {
      passReasons[Pass.VIP_PATH.ordinal()]++;
    } else {
      if (scratch.capacity() < len + PacketRewriter.MAX_GROWTH) {
        scratch = PacketRewriter.outputBuffer(len);
      }
      int n = rewriter.rewrite(buf, f, d, scratch, 0);
      if (n >= 0) {
        rewritten++;
        out.emit(seq, scratch, 0, n, out.originalLength(seq) + (n - len));
        return;
      }
      rewriteErrors[RewriteError.fromCode(n).ordinal()]++;
    }
    pass(seq, buf, off, len);
  }

  private void pass(long seq, ByteBuffer buf, int off, int len) {
    if (!out.sentEarly(seq)) {
      passed++;
    }
    out.emit(seq, buf, off, len, out.originalLength(seq));
  }

  // ---------------------------------------------------------------- control events

  private void submit(TrackedFlow t, ControlEvent event, boolean gating) {
    cp.submit(t != null ? t : NO_FLOW, event, gating && t != null, 0);
  }

  // Answers for events without a tracked flow point here: nothing to apply them to.
  private static final TrackedFlow NO_FLOW =
      new TrackedFlow(FlowKey.ofV4(0, 0, 0, 0, 0, 0), 0, TrackedFlow.Phase.GONE);

  private void drainAnswers() {
    ControlPlaneClient.Answer a;
    while ((a = cp.poll()) != null) {
      complete(a);
    }
  }

  private void awaitAnswer() {
    try {
      ControlPlaneClient.Answer a = cp.await(options.stallMillis());
      if (a == null) {
        throw new IllegalStateException(
            "the flow core answered none of "
                + cp.inFlight()
                + " control events within "
                + options.stallMillis()
                + " ms");
      }
      complete(a);
      drainAnswers();
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the flow core", ie);
    }
  }

  private void complete(ControlPlaneClient.Answer a) {
    ControlPlaneClient.Pending p = cp.complete(a);
    if (p == null) {
      return;
    }
    TrackedFlow t = p.flow();
    if (a.refusal() != null) {
      // Nothing was recorded: the flow keeps the path it has; the refusal is counted and reported.
      refusals.merge(a.refusal().name().toLowerCase(java.util.Locale.ROOT), 1L, Long::sum);
      if (firstRefusal == null) {
        firstRefusal = a.refusal() + ": " + a.detail();
      }
      if (a.refusal() == FlowControl.Refusal.JOURNAL_FAILED && journalFailure == null) {
        // The log takes nothing more: stop reading instead of failing every later event too.
        journalFailure = a.detail();
      }
    } else {
      ControlResult r = a.result();
      countOutcome(p.event(), r);
      if (p.gating()) {
        decisions++;
        applyDecision(t, r);
      }
    }
    if (p.gating()) {
      release(t);
      if (t.phase == TrackedFlow.Phase.GATE_ONLY && !t.holding()) {
        tracker.remove(t);
        t.phase = TrackedFlow.Phase.GONE;
      }
    }
  }

  private void applyDecision(TrackedFlow t, ControlResult r) {
    FlowStateKind state = r.state();
    boolean open = state == FlowStateKind.VIP_PATH || state == FlowStateKind.FAST_PATH;
    if (!open) {
      return;
    }
    if (t.phase == TrackedFlow.Phase.GATE_ONLY) {
      // The log knows an open flow this run has not seen (e.g. opened before a restart).
      tracker.adopt(t);
      t.lastReportNanos = t.lastSeenNanos;
      tracker.link(tracker.openList, t);
    }
    if (t.phase == TrackedFlow.Phase.OPEN) {
      RewriteDecision d = state == FlowStateKind.FAST_PATH ? r.decision() : null;
      setDecision(t, d);
    }
  }

  private void setDecision(TrackedFlow t, RewriteDecision d) {
    RewriteDecision old = t.decision;
    t.decision = d;
    table.set(t.key, d);
    if (old == null && d != null) {
      counters.activeFlows(t.key.eniMac(), 1);
    } else if (old != null && d == null) {
      counters.activeFlows(t.key.eniMac(), -1);
    }
  }

  private void countOutcome(ControlEvent event, ControlResult r) {
    FlowKey flow = event.flow();
    long eni = flow != null ? flow.eniMac() : 0;
    switch (r.outcome()) {
      case OPENED -> {
        flowsOpened++;
        counters.flowOpened(eni);
      }
      case FIXED_UP -> {
        counters.flowRedirected(eni);
        Scenario s = r.decision() != null ? r.decision().scenario() : scenarioOf(event);
        fixups.merge(s, 1L, Long::sum);
      }
      case DUPLICATE -> counters.duplicate(eni);
      case CONFLICT_PINNED, CONFLICT_REPLACED -> counters.conflict(eni);
      case REJECTED -> {
        // Decoder refusals were counted when decoded; only the core's own refusals count here.
        if (event instanceof ControlEvent.RedirectArrived && r.rejectReason() != null) {
          counters.rejected(eni, r.rejectReason());
        }
      }
      case FLOW_MISS -> {
        if (event instanceof ControlEvent.RedirectArrived) {
          counters.flowMiss(eni);
        }
      }
      case CLOSED -> {
        boolean aged =
            event instanceof ControlEvent.FlowEnding fe && fe.reason() == CloseReason.IDLE_TIMEOUT;
        flowsClosed++;
        if (aged) {
          flowsAged++;
        }
        counters.flowClosed(eni, aged);
      }
      case ALREADY_APPLIED -> alreadyApplied++;
      default -> {}
    }
  }

  /** Releases held frames in order until the queue is empty or one of them gates again. */
  private void release(TrackedFlow t) {
    while (t.gates == 0) {
      long seq = out.popHeld(t);
      if (seq < 0) {
        return;
      }
      process(seq, out.view(seq), 0, out.length(seq), true);
    }
  }

  /**
   * Live, past the hold limit: sends a held frame now with the decision its release would apply as
   * far as it is known now. A SYN on a lingering tuple, or a frame of a placeholder, opens a new
   * flow (VIP path). Redirects are never sent.
   */
  private void sendHeld(long seq) {
    ByteBuffer buf = out.view(seq);
    int len = out.length(seq);
    DecodedFrame f = decoder.decode(buf, 0, len, decoded);
    if (f.redirectCandidate()) {
      return; // consumed when released
    }
    heldSent++;
    boolean outbound =
        f.error() == DecodeError.NONE && f.eniMac() != 0 && f.direction() == Direction.OUTBOUND;
    RewriteDecision d = null;
    if (outbound) {
      TrackedFlow t = tracker.find(f);
      boolean newConnection = f.isSyn() && (f.tcpFlags() & DecodedFrame.TCP_ACK) == 0;
      if (t != null && t.phase == TrackedFlow.Phase.OPEN) {
        d = t.decision;
      } else if (t != null && t.phase == TrackedFlow.Phase.LINGERING && !newConnection) {
        d = t.decision;
      }
    }
    if (d != null) {
      if (scratch.capacity() < len + PacketRewriter.MAX_GROWTH) {
        scratch = PacketRewriter.outputBuffer(len);
      }
      int n = rewriter.rewrite(buf, f, d, scratch, 0);
      if (n >= 0) {
        rewritten++;
        out.sendEarly(seq, scratch, 0, n, out.originalLength(seq) + (n - len));
        return;
      }
      rewriteErrors[RewriteError.fromCode(n).ordinal()]++;
    }
    passReasons[outbound ? Pass.VIP_PATH.ordinal() : Pass.INBOUND.ordinal()]++;
    passed++;
    out.sendEarly(seq, buf, 0, len, out.originalLength(seq));
  }

  // ---------------------------------------------------------------- idle ageing

  /** Ends every open flow idle for the timeout; forgets lingering flows past their linger. */
  private void age(long now, long frame) {
    TrackedFlow e = tracker.openList.head;
    while (e != null && now - e.lastSeenNanos >= idleNanos) {
      TrackedFlow next = e.next;
      if (!e.holding()) {
        expire(e, e.lastSeenNanos + idleNanos, frame);
      }
      e = next;
    }
    e = tracker.lingerList.head;
    while (e != null && now - e.lastSeenNanos >= options.lingerNanos()) {
      TrackedFlow next = e.next;
      if (!e.holding()) {
        forget(e);
      }
      e = next;
    }
  }

  private void expire(TrackedFlow t, long at, long frame) {
    submit(
        t,
        new ControlEvent.FlowEnding(
            t.key, at, cause(frame, t.nextStep(frame)), CloseReason.IDLE_TIMEOUT, t.counts()),
        false);
    tracker.closed(t);
    setDecision(t, null);
    tracker.remove(t);
    t.phase = TrackedFlow.Phase.GONE;
  }

  private void forget(TrackedFlow t) {
    tracker.remove(t);
    t.phase = TrackedFlow.Phase.GONE;
  }

  // ---------------------------------------------------------------- helpers

  private Cause cause(long frame, int step) {
    return Cause.newBuilder()
        .setSource(nullToEmpty(options.sourceName()))
        .setSourceId(options.sourceId())
        .setFrame(frame)
        .setStep(step)
        .build();
  }

  private static Scenario scenarioOf(ControlEvent ev) {
    return ev instanceof ControlEvent.RedirectArrived ra
        ? ra.redirect().scenario()
        : Scenario.SCENARIO_UNSPECIFIED;
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  /** The FlowOpened record of a flow's first packet: its encapsulation and its pre-fixup path. */
  static FlowOpened opened(DecodedFrame f) {
    boolean outbound = f.direction() == Direction.OUTBOUND;
    FlowOpened.Builder b =
        FlowOpened.newBuilder()
            .setDirection(f.direction())
            .setEniMac(ByteString.copyFrom(Macs.toBytes(f.eniMac())))
            .setTcpFlags(f.tcpFlags());
    int n = f.layerCount();
    for (int i = 0; i < n; i++) {
      boolean v6 = f.layerIpVersion(i) == 6;
      b.addEncap(
          EncapLayer.newBuilder()
              .setType(f.layerType(i))
              .setKey((int) f.layerKey(i))
              .setOuterSrcIp(ip(v6, f.layerSrcHi(i), f.layerSrcLo(i)))
              .setOuterDstIp(ip(v6, f.layerDstHi(i), f.layerDstLo(i))));
    }
    // For an inbound first packet the outbound path is mirrored from what came in.
    ByteString underlay;
    if (n > 0) {
      boolean v6 = f.layerIpVersion(0) == 6;
      underlay =
          outbound
              ? ip(v6, f.layerDstHi(0), f.layerDstLo(0))
              : ip(v6, f.layerSrcHi(0), f.layerSrcLo(0));
    } else {
      underlay = outbound ? ip(f.ipv6(), f.dstHi(), f.dstLo()) : ip(f.ipv6(), f.srcHi(), f.srcLo());
    }
    b.setVipPath(
        ForwardingPath.newBuilder()
            .setOuterDstIp(underlay)
            .setEncap(n > 0 ? f.layerType(n - 1) : EncapType.NONE)
            .setKey(n > 0 ? (int) f.layerKey(n - 1) : 0)
            .setInnerDstMac(ByteString.copyFrom(Macs.toBytes(outbound ? f.ethDst() : f.ethSrc()))));
    return b.build();
  }

  private static ByteString ip(boolean v6, long hi, long lo) {
    return ByteString.copyFrom(IpAddrs.toBytes(v6, hi, lo));
  }

  private PipelineSummary summary(long elapsed, ControlPlaneClient client) {
    Map<String, Long> reasons = new LinkedHashMap<>();
    for (Pass p : Pass.values()) {
      if (passReasons[p.ordinal()] > 0) {
        reasons.put(p.reason, passReasons[p.ordinal()]);
      }
    }
    for (DecodeError d : DecodeError.values()) {
      if (decodeErrors[d.ordinal()] > 0) {
        reasons.put(d.reason(), decodeErrors[d.ordinal()]);
      }
    }
    for (RewriteError r : RewriteError.values()) {
      if (rewriteErrors[r.ordinal()] > 0) {
        reasons.put("rewrite-" + r.reason(), rewriteErrors[r.ordinal()]);
      }
    }
    var h = client.latency();
    long[] latency =
        h.getTotalCount() == 0
            ? new long[3]
            : new long[] {h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getMaxValue()};
    return new PipelineSummary(
        framesIn,
        out.framesOut(),
        bytesIn,
        redirectsConsumed,
        rewritten,
        passed,
        reasons,
        flowsOpened,
        flowsClosed,
        flowsAged,
        fixups,
        client.submitted(),
        alreadyApplied,
        refusals,
        admissionRefused,
        out.maxHeld(),
        latency,
        decisions,
        elapsed);
  }
}
