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
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The main job's engine: frames in capture order through the decoders, control packets to the flow
 * actors, every packet through the {@link ForwardingTable} and {@link PacketRewriter}, and the
 * result out in input order.
 *
 * <p><b>Determinism.</b> Every frame is forwarded with the decisions of all earlier frames of its
 * flow already applied. While a flow has a control event in flight (its records are being appended
 * to Kafka), its later frames wait in that flow's hold queue, as in a virtual router's flow hold
 * queue; other flows go on. When the result arrives the pipeline applies it to the table and
 * releases the held frames in order; a released frame that is itself a control packet is submitted
 * and holding resumes. Because each flow's control events are therefore submitted one at a time, in
 * capture order, and idle ageing runs on capture time, a capture yields the same records every run.
 * Output leaves through a reorder buffer, so it is in input order although frames complete out of
 * order.
 *
 * <p><b>Threading.</b> {@link #run} runs on one thread and owns all mutable state. Flow-actor
 * results arrive on other threads and are handed back through a queue; the per-packet path takes no
 * locks and, for a known flow without control traffic, allocates nothing.
 */
public final class CapturePipeline {

  /** Where forwarded frames go (e.g. {@code PcapWriter::write}). */
  @FunctionalInterface
  public interface FrameSink {
    void write(long timestampNanos, ByteBuffer buf, int offset, int length, int originalLength)
        throws IOException;
  }

  /**
   * A sink that is also told which input each frame arrived on ({@link
   * CaptureRecord#interfaceId()}), so that a bridge can send it out of the other side.
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
   * Told about the redirects the decoder refused that no flow actor records (no open flow to record
   * them against), so the caller can record them itself.
   */
  @FunctionalInterface
  public interface RejectionListener {
    void rejected(long frameNumber, long timestampNanos, RedirectResult.Rejected rejected);
  }

  /**
   * @param sourceName the {@code Cause.source} of records (the capture path)
   * @param maxInFlightFrames frames read but not yet written before reading pauses
   * @param maxInFlightControl control events awaiting Kafka before reading pauses
   * @param trafficReportPackets report a flow's counts after this many packets since the last
   *     report
   * @param trafficReportNanos ... or after this much capture time since the last report
   * @param lingerNanos how long a FIN/RST-closed flow keeps forwarding stragglers with its last
   *     decision before a non-SYN packet would open a new flow
   * @param controlTimeoutMillis give up when the flow actors answer nothing for this long
   */
  public record Options(
      String sourceName,
      int maxInFlightFrames,
      int maxInFlightControl,
      long trafficReportPackets,
      long trafficReportNanos,
      long lingerNanos,
      long progressEveryFrames,
      long controlTimeoutMillis) {

    public Options {
      if (maxInFlightFrames < 1 || maxInFlightControl < 1) {
        throw new IllegalArgumentException("in-flight bounds must be positive");
      }
      if (trafficReportPackets < 1 || trafficReportNanos < 1 || lingerNanos < 0) {
        throw new IllegalArgumentException("report intervals must be positive, linger >= 0");
      }
    }

    public static Options defaults(String sourceName) {
      return new Options(
          sourceName, 100_000, 10_000, 1_000, 10_000_000_000L, 30_000_000_000L, 65_536, 300_000);
    }

    public Options withMaxInFlightFrames(int n) {
      return new Options(
          sourceName,
          n,
          maxInFlightControl,
          trafficReportPackets,
          trafficReportNanos,
          lingerNanos,
          progressEveryFrames,
          controlTimeoutMillis);
    }

    public Options withTrafficReport(long packets, long nanos) {
      return new Options(
          sourceName,
          maxInFlightFrames,
          maxInFlightControl,
          packets,
          nanos,
          lingerNanos,
          progressEveryFrames,
          controlTimeoutMillis);
    }
  }

  private static final int LINKTYPE_ETHERNET = 1;
  private static final byte FREE = 0;
  private static final byte PENDING = 1;
  private static final byte HELD = 2;
  private static final byte DONE = 3;
  private static final byte CONSUMED = 4;

  private static final byte LIST_NONE = 0;
  private static final byte LIST_OPEN = 1;
  private static final byte LIST_LINGER = 2;

  /** What the in-flight event of a flow was, for counting its outcome. */
  private enum Kind {
    STARTED,
    REDIRECT,
    REFUSED,
    ENDING,
    TRAFFIC
  }

  private enum Pass {
    NO_ENI("no-eni"),
    NO_FLOW("no-flow"),
    NOT_ETHERNET("not-ethernet"),
    INBOUND("inbound"),
    VIP_PATH("vip-path");

    final String reason;

    Pass(String reason) {
      this.reason = reason;
    }
  }

  private record Completion(
      FlowEntry entry, ControlEvent event, Kind kind, ControlResult result, Throwable error) {}

  private final FastpathConfig config;
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

  private final LinkedBlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
  private final DecodedFrame decoded = new DecodedFrame();
  private final CaptureRecord record = new CaptureRecord();
  private ByteBuffer scratch = PacketRewriter.outputBuffer(65_536);

  private Slot[] slots;
  private int slotMask;
  private long head;
  private long tail;

  private final IdleList openList = new IdleList(LIST_OPEN);
  private final IdleList lingerList = new IdleList(LIST_LINGER);
  private long nextTickNanos = Long.MIN_VALUE;

  private ProgressListener progress;
  private RejectionListener rejections;
  private FrameSink sink;
  private PortSink portSink;

  // Live forwarding (see forwardLive): off for files.
  private boolean live;
  private long holdLimitNanos = Long.MAX_VALUE;
  private long overdueCursor;
  private long heldSent;

  // Statistics: pipeline thread only.
  private long framesIn;
  private long framesOut;
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
  private final EnumMap<Scenario, Long> fixups = new EnumMap<>(Scenario.class);
  private long controlEvents;
  private long controlFailures;
  private int controlInFlight;
  private long heldFrames;
  private long maxHeldFrames;

  public CapturePipeline(
      FastpathConfig config,
      FlowControl control,
      ForwardingTable table,
      FastpathCounters counters,
      Options options) {
    this.config = config;
    this.control = control;
    this.table = table;
    this.counters = counters;
    this.options = options;
    this.decoder = new FrameDecoder(config);
    this.redirectDecoder = new RedirectDecoder(config);
    for (EniConfig e : config.enis()) {
      configuredEnis.add(e.mac());
    }
    this.idleNanos = config.idleTimeoutMillis() * 1_000_000L;
    this.tickNanos = Math.max(1_000_000L, idleNanos / 8);
    int capacity = Integer.highestOneBit(Math.max(2, options.maxInFlightFrames()) - 1) << 1;
    slots = new Slot[capacity];
    slotMask = capacity - 1;
  }

  public CapturePipeline onProgress(ProgressListener listener) {
    this.progress = listener;
    return this;
  }

  public CapturePipeline onRejection(RejectionListener listener) {
    this.rejections = listener;
    return this;
  }

  /**
   * Forwards a live source instead of converting a file. Three things change, nothing else:
   *
   * <ul>
   *   <li>The reader is polled with a short timeout ({@link CaptureReader#poll}), so results from
   *       the flow actors are applied and held frames released while the wire is quiet.
   *   <li>Frames leave as soon as they are decided, in order per flow but not across flows: a flow
   *       waiting for Kafka delays only its own frames (a file's output keeps capture order).
   *   <li>A frame held longer than {@code holdLimitNanos} behind its flow's control event is sent
   *       at once with the flow's current durable decision (the VIP path while a first redirect is
   *       in flight); it is still processed, in order, when released, but not sent again. 0 sends
   *       every held frame at once; {@link Long#MAX_VALUE} holds until the event is durable.
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

  /** Frames sent on their flow's current path because they were held past the hold limit. */
  public long framesSentWhileHeld() {
    return heldSent;
  }

  /**
   * Runs the whole capture through and waits until every control event is durable and every frame
   * written. The sink may be null (counting only).
   *
   * @throws CaptureException when the capture cannot be read
   * @throws IOException when the sink fails
   */
  public PipelineSummary run(CaptureReader reader, FrameSink out)
      throws CaptureException, IOException {
    this.sink = out;
    this.portSink = out instanceof PortSink p ? p : null;
    long start = System.nanoTime();
    try {
      while (true) {
        // Live: wait briefly while anything is pending, so releases are not delayed by a quiet
        // wire.
        int wait = !live ? 0 : controlInFlight > 0 || heldFrames > 0 ? 1 : 100;
        int got = reader.poll(record, wait);
        if (got == CaptureReader.END) {
          break;
        }
        drainCompletions();
        if (got == CaptureReader.FRAME) {
          while (tail - head >= slots.length || controlInFlight >= options.maxInFlightControl()) {
            awaitCompletion();
          }
          readFrame(record);
          if (progress != null && framesIn % options.progressEveryFrames() == 0) {
            progress.progress(framesIn, reader.bytesRead(), reader.sizeBytes());
          }
        }
        if (heldFrames > 0 && holdLimitNanos != Long.MAX_VALUE) {
          sendOverdue();
        }
      }
      while (controlInFlight > 0 || head < tail) {
        if (controlInFlight == 0) {
          throw new IllegalStateException(
              "frames held with no control event in flight at seq " + head);
        }
        awaitCompletion();
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    if (progress != null) {
      progress.progress(framesIn, reader.bytesRead(), reader.sizeBytes());
    }
    return summary(System.nanoTime() - start);
  }

  // ---------------------------------------------------------------- per frame

  private void readFrame(CaptureRecord rec) {
    long seq = tail++;
    Slot slot = slot(seq);
    slot.state = PENDING;
    slot.ts = rec.timestampNanos();
    slot.frameNumber = rec.frameNumber();
    slot.originalLength = rec.originalLength();
    slot.nextHeld = -1;
    slot.port = rec.interfaceId();
    slot.sent = false;
    if (holdLimitNanos != Long.MAX_VALUE) {
      slot.readNanos = System.nanoTime();
    }
    framesIn++;
    bytesIn += rec.capturedLength();
    if (slot.ts >= nextTickNanos) {
      if (nextTickNanos != Long.MIN_VALUE) {
        age(slot.ts, seq);
      }
      nextTickNanos = slot.ts + tickNanos;
    }
    if (rec.linkType() != LINKTYPE_ETHERNET) {
      passReasons[Pass.NOT_ETHERNET.ordinal()]++;
      emit(seq, slot, rec.data(), rec.offset(), rec.capturedLength(), slot.originalLength);
      return;
    }
    process(seq, slot, rec.data(), rec.offset(), rec.capturedLength(), false);
  }

  /**
   * Decodes and handles one frame. {@code released}: the frame comes from the head of its flow's
   * hold queue (its bytes live in the slot), so it must not be held again behind its own queue.
   */
  private void process(long seq, Slot slot, ByteBuffer buf, int off, int len, boolean released) {
    DecodedFrame f = decoder.decode(buf, off, len, decoded);
    if (f.redirectCandidate()) {
      processRedirect(seq, slot, buf, off, len, released);
      return;
    }
    if (f.error() != DecodeError.NONE) {
      decodeErrors[f.error().ordinal()]++;
      emit(seq, slot, buf, off, len, slot.originalLength);
      return;
    }
    if (f.eniMac() == 0) {
      passReasons[Pass.NO_ENI.ordinal()]++;
      emit(seq, slot, buf, off, len, slot.originalLength);
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
      emit(seq, slot, buf, off, len, slot.originalLength);
      return;
    }
    FlowEntry e = table.lookup(f);
    if (!released && e != null) {
      if (e.phase == FlowEntry.Phase.LINGERING
          && !e.holding()
          && slot.ts - e.lastSeenNanos >= options.lingerNanos()) {
        forget(e);
        e = null;
      } else {
        if (e.phase == FlowEntry.Phase.OPEN
            && !e.expiryPending
            && e.list == LIST_OPEN
            && slot.ts - e.lastSeenNanos >= idleNanos) {
          // It idled out before this frame: end it first, exactly where ageing would have.
          expire(e, e.lastSeenNanos + idleNanos, seq);
        }
        touch(e, slot.ts);
        if (e.holding()) {
          hold(e, seq, slot, buf, off, len);
          return;
        }
      }
    }
    applyFlowFrame(e, f, seq, slot, buf, off, len);
  }

  private void applyFlowFrame(
      FlowEntry e, DecodedFrame f, long seq, Slot slot, ByteBuffer buf, int off, int len) {
    boolean outbound = f.direction() == Direction.OUTBOUND;
    boolean newConnection = f.isSyn() && (f.tcpFlags() & DecodedFrame.TCP_ACK) == 0;
    if (e == null
        || e.phase == FlowEntry.Phase.PHANTOM
        || (e.phase == FlowEntry.Phase.LINGERING && newConnection)) {
      FlowKey key = e != null ? e.flow : f.flowKey();
      if (e == null) {
        e = table.getOrCreate(key);
      } else {
        e.resetForNewFlow();
        e.lingerDecision = null;
      }
      e.phase = FlowEntry.Phase.OPEN;
      e.lastSeenNanos = slot.ts;
      e.lastReportNanos = slot.ts;
      e.packetsAtLastReport = 0;
      link(openList, e);
      count(e, outbound, slot.originalLength);
      if (slot.sent) {
        consume(seq, slot);
      } else {
        passReasons[outbound ? Pass.VIP_PATH.ordinal() : Pass.INBOUND.ordinal()]++;
        emit(seq, slot, buf, off, len, slot.originalLength);
      }
      if (f.isRst()) {
        e.pendingEnding = CloseReason.RST;
      } else if (f.isFin()) {
        markFin(e, outbound);
        if (e.finOutbound && e.finInbound) {
          e.pendingEnding = CloseReason.FIN;
        }
      }
      submit(
          e,
          new ControlEvent.FlowStarted(key, slot.ts, cause(slot), opened(f)),
          Kind.STARTED,
          slot);
      return;
    }
    if (e.phase == FlowEntry.Phase.LINGERING) {
      forward(seq, slot, buf, off, len, f, e.lingerDecision);
      return;
    }
    count(e, outbound, slot.originalLength);
    forward(seq, slot, buf, off, len, f, e.decision());
    if (f.isRst()) {
      submitEnding(e, CloseReason.RST, slot.ts, slot);
    } else if (f.isFin()) {
      markFin(e, outbound);
      if (e.finOutbound && e.finInbound) {
        submitEnding(e, CloseReason.FIN, slot.ts, slot);
      }
    } else if (e.packetsOutbound + e.packetsInbound - e.packetsAtLastReport
            >= options.trafficReportPackets()
        || slot.ts - e.lastReportNanos >= options.trafficReportNanos()) {
      e.packetsAtLastReport = e.packetsOutbound + e.packetsInbound;
      e.lastReportNanos = slot.ts;
      submit(
          e,
          new ControlEvent.FlowTraffic(e.flow, slot.ts, cause(slot), e.counts()),
          Kind.TRAFFIC,
          slot);
    }
  }

  private void processRedirect(
      long seq, Slot slot, ByteBuffer buf, int off, int len, boolean released) {
    RedirectResult rr = redirectDecoder.decode(buf, off, len);
    FlowKey flow =
        rr instanceof RedirectResult.Accepted a
            ? a.redirect().flow()
            : ((RedirectResult.Rejected) rr).flow();
    FlowEntry e = flow == null ? null : table.get(flow);
    if (!released && e != null && e.holding()) {
      hold(e, seq, slot, buf, off, len);
      return;
    }
    int bytes = slot.originalLength;
    counters.redirectReceived(bytes);
    redirectsConsumed++;
    consume(seq, slot);
    if (rr instanceof RedirectResult.Accepted a) {
      long eni = a.redirect().eniMac();
      counters.redirectReceived(eni, bytes);
      if (a.redirect().checksum() == ChecksumStatus.ICMPV6_MISMATCH) {
        counters.icmpv6ChecksumMismatch(eni);
      }
      if (e == null) {
        e = table.getOrCreate(flow);
      }
      submit(
          e,
          new ControlEvent.RedirectArrived(a.redirect(), slot.ts, cause(slot)),
          Kind.REDIRECT,
          slot);
      return;
    }
    RedirectResult.Rejected r = (RedirectResult.Rejected) rr;
    if (r.reason() == dev.fastpath.events.v1.RejectReason.ENI_MISS) {
      counters.eniMiss(bytes);
    } else {
      boolean eniKnown = configuredEnis.contains(r.eniMac());
      if (eniKnown) {
        counters.redirectReceived(r.eniMac(), bytes);
      }
      counters.rejected(eniKnown ? r.eniMac() : 0, r.reason());
    }
    if (e == null || e.phase != FlowEntry.Phase.OPEN) {
      // Nothing records this refusal against a flow; the listener records it on its own.
      if (rejections != null) {
        rejections.rejected(slot.frameNumber, slot.ts, r);
      }
    } else {
      RedirectRejected.Builder rej =
          RedirectRejected.newBuilder().setReason(r.reason()).setDetail(nullToEmpty(r.detail()));
      if (r.partial() != null) {
        rej.setRedirect(r.partial());
      }
      submit(
          e,
          new ControlEvent.RedirectRefused(flow, slot.ts, cause(slot), rej.build()),
          Kind.REFUSED,
          slot);
    }
  }

  private void forward(
      long seq, Slot slot, ByteBuffer buf, int off, int len, DecodedFrame f, RewriteDecision d) {
    if (slot.sent) {
      // Sent when it was held too long; now only its place in the flow's order is processed.
      consume(seq, slot);
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
        emitRewritten(seq, slot, n, slot.originalLength + (n - len));
        return;
      }
      rewriteErrors[RewriteError.fromCode(n).ordinal()]++;
    }
    emit(seq, slot, buf, off, len, slot.originalLength);
  }

  // ---------------------------------------------------------------- control events

  private void submitEnding(FlowEntry e, CloseReason reason, long at, Slot slot) {
    submit(
        e,
        new ControlEvent.FlowEnding(e.flow, at, cause(slot), reason, e.counts()),
        Kind.ENDING,
        slot);
  }

  private void submit(FlowEntry e, ControlEvent event, Kind kind, Slot slot) {
    e.inFlight = true;
    controlInFlight++;
    controlEvents++;
    CompletionStage<ControlResult> stage;
    try {
      stage = control.submit(event);
    } catch (RuntimeException ex) {
      stage = CompletableFuture.failedFuture(ex);
    }
    stage.whenComplete((r, ex) -> completions.add(new Completion(e, event, kind, r, ex)));
  }

  private void drainCompletions() {
    Completion c;
    while ((c = completions.poll()) != null) {
      complete(c);
    }
  }

  private void awaitCompletion() {
    try {
      Completion c = completions.poll(options.controlTimeoutMillis(), TimeUnit.MILLISECONDS);
      if (c == null) {
        throw new IllegalStateException(
            "the flow actors answered none of "
                + controlInFlight
                + " control events within "
                + options.controlTimeoutMillis()
                + " ms");
      }
      complete(c);
      drainCompletions();
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the flow actors", ie);
    }
  }

  private void complete(Completion c) {
    FlowEntry e = c.entry();
    e.inFlight = false;
    controlInFlight--;
    long eni = e.flow.eniMac();
    if (c.error() != null) {
      // Nothing is applied that is not in the log: the flow keeps its current path, and ages
      // again later if an ending was what failed.
      controlFailures++;
      if (e.phase == FlowEntry.Phase.OPEN && e.list == LIST_NONE && !e.expiryPending) {
        link(openList, e);
      }
    } else {
      ControlResult r = c.result();
      countOutcome(c, r, eni);
      applyState(e, c, r);
    }
    if (e.pendingEnding != null && e.phase == FlowEntry.Phase.OPEN && !e.inFlight) {
      CloseReason reason = e.pendingEnding;
      e.pendingEnding = null;
      submit(
          e,
          new ControlEvent.FlowEnding(
              e.flow, c.event().timestampNanos(), c.event().cause(), reason, e.counts()),
          Kind.ENDING,
          null);
    } else {
      e.pendingEnding = null;
    }
    release(e);
    if (!e.holding() && e.phase == FlowEntry.Phase.PHANTOM) {
      forget(e);
    }
  }

  private void countOutcome(Completion c, ControlResult r, long eni) {
    switch (r.outcome()) {
      case OPENED -> {
        flowsOpened++;
        counters.flowOpened(eni);
      }
      case FIXED_UP -> {
        counters.flowRedirected(eni);
        Scenario s = r.decision() != null ? r.decision().scenario() : scenarioOf(c.event());
        fixups.merge(s, 1L, Long::sum);
      }
      case DUPLICATE -> counters.duplicate(eni);
      case CONFLICT_PINNED, CONFLICT_REPLACED -> counters.conflict(eni);
      case REJECTED -> {
        // Decoder refusals were counted when decoded; only the actor's own refusals count here.
        if (c.kind() == Kind.REDIRECT && r.rejectReason() != null) {
          counters.rejected(eni, r.rejectReason());
        }
      }
      case FLOW_MISS -> counters.flowMiss(eni);
      case CLOSED -> {
        boolean aged =
            c.event() instanceof ControlEvent.FlowEnding fe
                && fe.reason() == CloseReason.IDLE_TIMEOUT;
        flowsClosed++;
        if (aged) {
          flowsAged++;
        }
        counters.flowClosed(eni, aged);
      }
      default -> {}
    }
  }

  private void applyState(FlowEntry e, Completion c, ControlResult r) {
    FlowStateKind state = r.state();
    if (state == FlowStateKind.CLOSED) {
      RewriteDecision last = e.decision();
      setDecision(e, null);
      boolean byPacket =
          c.event() instanceof ControlEvent.FlowEnding fe
              && fe.reason() != CloseReason.IDLE_TIMEOUT;
      unlink(e);
      e.expiryPending = false;
      if (byPacket) {
        e.phase = FlowEntry.Phase.LINGERING;
        e.lingerDecision = last;
        link(lingerList, e);
      } else {
        e.phase = FlowEntry.Phase.PHANTOM;
      }
    } else if (state == FlowStateKind.VIP_PATH || state == FlowStateKind.FAST_PATH) {
      if (e.phase != FlowEntry.Phase.OPEN) {
        // The log knows a flow this run has not seen open (e.g. from an earlier run).
        e.resetForNewFlow();
        e.phase = FlowEntry.Phase.OPEN;
        e.lastSeenNanos = c.event().timestampNanos();
        e.lastReportNanos = e.lastSeenNanos;
        link(openList, e);
      } else if (e.list == LIST_NONE && !e.expiryPending) {
        link(openList, e);
      }
      setDecision(e, state == FlowStateKind.FAST_PATH ? r.decision() : null);
    } else if (c.kind() == Kind.ENDING && e.phase == FlowEntry.Phase.OPEN) {
      // The actors know no such flow: forget it here too.
      setDecision(e, null);
      unlink(e);
      e.phase = FlowEntry.Phase.PHANTOM;
    }
  }

  private void setDecision(FlowEntry e, RewriteDecision d) {
    RewriteDecision old = e.decision();
    table.setDecision(e, d);
    if (old == null && d != null) {
      counters.activeFlows(e.flow.eniMac(), 1);
    } else if (old != null && d == null) {
      counters.activeFlows(e.flow.eniMac(), -1);
    }
  }

  /** Releases held frames in order until the queue is empty or one of them submits again. */
  private void release(FlowEntry e) {
    while (!e.inFlight) {
      if (e.expiryPending && (e.holdHead < 0 || e.holdHead >= e.expirySeq)) {
        e.expiryPending = false;
        if (e.phase == FlowEntry.Phase.OPEN) {
          submitEnding(e, CloseReason.IDLE_TIMEOUT, e.expiryNanos, null);
        }
        continue;
      }
      if (e.holdHead < 0) {
        return;
      }
      long seq = e.holdHead;
      Slot s = slot(seq);
      e.holdHead = s.nextHeld;
      if (e.holdHead < 0) {
        e.holdTail = -1;
      }
      s.nextHeld = -1;
      s.state = PENDING;
      heldFrames--;
      process(seq, s, s.view, 0, s.length, true);
    }
  }

  // ---------------------------------------------------------------- idle ageing

  /** Ends every open flow idle for the timeout; removes lingering flows past their linger. */
  private void age(long now, long seq) {
    FlowEntry e = openList.head;
    while (e != null && now - e.lastSeenNanos >= idleNanos) {
      FlowEntry next = e.next;
      expire(e, e.lastSeenNanos + idleNanos, seq);
      e = next;
    }
    e = lingerList.head;
    while (e != null && now - e.lastSeenNanos >= options.lingerNanos()) {
      FlowEntry next = e.next;
      if (!e.holding()) {
        forget(e);
      } else {
        unlink(e);
      }
      e = next;
    }
  }

  private void expire(FlowEntry e, long at, long seq) {
    unlink(e);
    if (e.holding()) {
      e.expiryPending = true;
      e.expirySeq = seq;
      e.expiryNanos = at;
    } else {
      submitEnding(e, CloseReason.IDLE_TIMEOUT, at, null);
    }
  }

  private void touch(FlowEntry e, long ts) {
    if (ts > e.lastSeenNanos) {
      e.lastSeenNanos = ts;
    }
    if (e.list == LIST_OPEN) {
      openList.moveToTail(e);
    } else if (e.list == LIST_LINGER) {
      lingerList.moveToTail(e);
    }
  }

  private void forget(FlowEntry e) {
    unlink(e);
    table.remove(e);
  }

  private void link(IdleList list, FlowEntry e) {
    unlink(e);
    list.append(e);
  }

  private void unlink(FlowEntry e) {
    if (e.list == LIST_OPEN) {
      openList.remove(e);
    } else if (e.list == LIST_LINGER) {
      lingerList.remove(e);
    }
  }

  // ---------------------------------------------------------------- reorder buffer

  private Slot slot(long seq) {
    int i = (int) (seq & slotMask);
    Slot s = slots[i];
    if (s == null) {
      s = new Slot();
      slots[i] = s;
    }
    return s;
  }

  private void hold(FlowEntry e, long seq, Slot slot, ByteBuffer buf, int off, int len) {
    if (buf != slot.view) {
      slot.copyFrom(buf, off, len);
    }
    slot.state = HELD;
    slot.nextHeld = -1;
    if (e.holdTail < 0) {
      e.holdHead = seq;
    } else {
      slot(e.holdTail).nextHeld = seq;
    }
    e.holdTail = seq;
    heldFrames++;
    if (heldFrames > maxHeldFrames) {
      maxHeldFrames = heldFrames;
    }
  }

  private void emit(long seq, Slot slot, ByteBuffer buf, int off, int len, int originalLength) {
    passed++;
    if (seq == head) {
      write(slot, buf, off, len, originalLength);
      slot.state = FREE;
      head++;
      flushReady();
      return;
    }
    if (live) {
      write(slot, buf, off, len, originalLength);
      slot.state = CONSUMED;
      return;
    }
    if (buf != slot.view || off != 0) {
      slot.copyFrom(buf, off, len);
    }
    slot.length = len;
    slot.originalLength = originalLength;
    slot.state = DONE;
  }

  private void emitRewritten(long seq, Slot slot, int len, int originalLength) {
    if (seq == head) {
      write(slot, scratch, 0, len, originalLength);
      slot.state = FREE;
      head++;
      flushReady();
      return;
    }
    if (live) {
      write(slot, scratch, 0, len, originalLength);
      slot.state = CONSUMED;
      return;
    }
    slot.copyFrom(scratch, 0, len);
    slot.originalLength = originalLength;
    slot.state = DONE;
  }

  private void consume(long seq, Slot slot) {
    if (seq == head) {
      slot.state = FREE;
      head++;
      flushReady();
    } else {
      slot.state = CONSUMED;
    }
  }

  private void flushReady() {
    while (head < tail) {
      Slot s = slot(head);
      if (s.state == DONE) {
        write(s, s.view, 0, s.length, s.originalLength);
      } else if (s.state != CONSUMED) {
        return;
      }
      s.state = FREE;
      head++;
    }
  }

  private void write(Slot s, ByteBuffer buf, int off, int len, int originalLength) {
    framesOut++;
    if (sink == null) {
      return;
    }
    try {
      if (portSink != null) {
        portSink.write(s.port, s.ts, buf, off, len, Math.max(len, originalLength));
      } else {
        sink.write(s.ts, buf, off, len, Math.max(len, originalLength));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Live, with a hold limit: sends the frames held longer than the limit with their flow's current
   * decision. Frames are held only when read, so hold times grow with the sequence number and one
   * cursor over the window finds them all.
   */
  private void sendOverdue() {
    long now = System.nanoTime();
    if (overdueCursor < head) {
      overdueCursor = head;
    }
    while (overdueCursor < tail) {
      Slot s = slot(overdueCursor);
      if (now - s.readNanos < holdLimitNanos) {
        return;
      }
      if (s.state == HELD && !s.sent) {
        sendHeld(s);
      }
      overdueCursor++;
    }
  }

  private void sendHeld(Slot s) {
    DecodedFrame f = decoder.decode(s.view, 0, s.length, decoded);
    if (f.redirectCandidate()) {
      return; // consumed when released
    }
    s.sent = true;
    heldSent++;
    boolean outbound =
        f.error() == DecodeError.NONE && f.eniMac() != 0 && f.direction() == Direction.OUTBOUND;
    RewriteDecision d = null;
    if (outbound) {
      FlowEntry e = table.lookup(f);
      // The decision process() will apply on release, as far as it is known now: a SYN on a
      // lingering tuple, or any packet of a placeholder, opens a new flow (VIP path).
      boolean newConnection = f.isSyn() && (f.tcpFlags() & DecodedFrame.TCP_ACK) == 0;
      if (e != null && e.phase == FlowEntry.Phase.OPEN) {
        d = e.decision();
      } else if (e != null && e.phase == FlowEntry.Phase.LINGERING && !newConnection) {
        d = e.lingerDecision;
      }
    }
    if (d != null) {
      if (scratch.capacity() < s.length + PacketRewriter.MAX_GROWTH) {
        scratch = PacketRewriter.outputBuffer(s.length);
      }
      int n = rewriter.rewrite(s.view, f, d, scratch, 0);
      if (n >= 0) {
        rewritten++;
        write(s, scratch, 0, n, s.originalLength + (n - s.length));
        return;
      }
      rewriteErrors[RewriteError.fromCode(n).ordinal()]++;
    }
    passReasons[outbound ? Pass.VIP_PATH.ordinal() : Pass.INBOUND.ordinal()]++;
    passed++;
    write(s, s.view, 0, s.length, s.originalLength);
  }

  // ---------------------------------------------------------------- helpers

  private static void count(FlowEntry e, boolean outbound, int bytes) {
    if (outbound) {
      e.packetsOutbound++;
      e.bytesOutbound += bytes;
    } else {
      e.packetsInbound++;
      e.bytesInbound += bytes;
    }
  }

  private static void markFin(FlowEntry e, boolean outbound) {
    if (outbound) {
      e.finOutbound = true;
    } else {
      e.finInbound = true;
    }
  }

  private Cause cause(Slot slot) {
    Cause.Builder b = Cause.newBuilder().setSource(nullToEmpty(options.sourceName()));
    if (slot != null) {
      b.setFrame(slot.frameNumber);
    }
    return b.build();
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

  private PipelineSummary summary(long elapsed) {
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
    return new PipelineSummary(
        framesIn,
        framesOut,
        bytesIn,
        redirectsConsumed,
        rewritten,
        passed,
        reasons,
        flowsOpened,
        flowsClosed,
        flowsAged,
        fixups,
        controlEvents,
        controlFailures,
        maxHeldFrames,
        elapsed);
  }

  /** One frame between reading and writing. Its buffer is reused for the run. */
  private static final class Slot {
    byte state;
    byte[] data = new byte[0];
    ByteBuffer view = ByteBuffer.wrap(data);
    int length;
    int originalLength;
    long ts;
    long frameNumber;
    long nextHeld = -1;
    int port;
    boolean sent;
    long readNanos;

    void copyFrom(ByteBuffer src, int off, int len) {
      if (data.length < len) {
        data = new byte[Math.max(len, 2048)];
        view = ByteBuffer.wrap(data);
      }
      src.get(off, data, 0, len);
      length = len;
    }
  }

  /** Flows ordered by last activity, least recent first; O(1) touch and removal. */
  private static final class IdleList {
    final byte id;
    FlowEntry head;
    FlowEntry tail;

    IdleList(byte id) {
      this.id = id;
    }

    void append(FlowEntry e) {
      e.list = id;
      e.prev = tail;
      e.next = null;
      if (tail == null) {
        head = e;
      } else {
        tail.next = e;
      }
      tail = e;
    }

    void remove(FlowEntry e) {
      if (e.prev == null) {
        head = e.next;
      } else {
        e.prev.next = e.next;
      }
      if (e.next == null) {
        tail = e.prev;
      } else {
        e.next.prev = e.prev;
      }
      e.prev = null;
      e.next = null;
      e.list = LIST_NONE;
    }

    void moveToTail(FlowEntry e) {
      if (tail != e) {
        remove(e);
        append(e);
      }
    }
  }
}
