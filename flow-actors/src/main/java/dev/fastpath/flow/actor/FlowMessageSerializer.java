package dev.fastpath.flow.actor;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.redirect.Redirect;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.UncheckedIOException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.JSerializer;

/**
 * Binary form of the messages that cross nodes: {@link FlowActor.Handle}, {@link FlowActor.Reply}
 * and {@link ControlResult}. Protobuf parts (flow key, cause, FlowOpened, the redirect as
 * RedirectInfo, ...) are written as length-prefixed protobuf, the rest as fixed fields.
 *
 * <pre>
 * Handle:        tag=1 | replyTo (UTF) | correlation (8) | kind (1) | flow (pb) | timestamp (8)
 *                | cause (pb) | body
 *                (tag=4: the same with after (8) following the correlation)
 *   body: FlowStarted opened (pb) | RedirectArrived redirect (pb) | RedirectRefused rejected (pb)
 *         FlowEnding reason (4) counts (pb) | FlowTraffic counts (pb)
 *         Unattributed sourceId (8) rejected (pb)   (flow written as null)
 * Reply:         tag=3 | correlation (8) | hasResult (1) | result | or refusal (UTF) detail (UTF)
 * ControlResult: tag=2 | outcome (UTF) | state (4) | reject (4) | lastSeq (8) | hasDecision (1)
 *   decision: flow (pb) | scenario (4) | encap (4) | key (8) | dipV6 (1) | dipHi (8) | dipLo (8)
 *             | vmMac (8) | eniMac (8) | seq (8)
 * (pb) = length (4, -1 for null) then protobuf bytes
 * </pre>
 */
public final class FlowMessageSerializer extends JSerializer {
  public static final int IDENTIFIER = 7301;

  private static final byte TAG_HANDLE = 1;
  private static final byte TAG_RESULT = 2;
  private static final byte TAG_REPLY = 3;
  // A Handle with a predecessor (FlowActor.Handle#after): the same plus 8 bytes after the
  // correlation. A Handle without one keeps tag 1, so older nodes read what they can.
  private static final byte TAG_HANDLE_AFTER = 4;

  private static final byte KIND_STARTED = 1;
  private static final byte KIND_REDIRECT = 2;
  private static final byte KIND_REFUSED = 3;
  private static final byte KIND_ENDING = 4;
  private static final byte KIND_TRAFFIC = 5;
  private static final byte KIND_UNATTRIBUTED = 6;

  private final ExtendedActorSystem system;
  private volatile ActorRefResolver resolver;

  public FlowMessageSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  private ActorRefResolver resolver() {
    if (resolver == null) {
      resolver = ActorRefResolver.get(Adapter.toTyped(system));
    }
    return resolver;
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(buf)) {
      if (o instanceof FlowActor.Handle h) {
        out.writeByte(h.after() == 0 ? TAG_HANDLE : TAG_HANDLE_AFTER);
        out.writeUTF(resolver().toSerializationFormat(h.replyTo()));
        out.writeLong(h.correlation());
        if (h.after() != 0) {
          out.writeLong(h.after());
        }
        writeEvent(out, h.event());
      } else if (o instanceof FlowActor.Reply r) {
        out.writeByte(TAG_REPLY);
        out.writeLong(r.correlation());
        out.writeBoolean(r.result() != null);
        if (r.result() != null) {
          writeResult(out, r.result());
        } else {
          out.writeUTF(r.refusal().name());
          out.writeUTF(r.detail() == null ? "" : r.detail());
        }
      } else if (o instanceof ControlResult r) {
        out.writeByte(TAG_RESULT);
        writeResult(out, r);
      } else {
        throw new IllegalArgumentException("cannot serialize " + o.getClass().getName());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buf.toByteArray();
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte tag = in.readByte();
      if (tag == TAG_HANDLE || tag == TAG_HANDLE_AFTER) {
        ActorRef<FlowActor.Reply> replyTo = resolver().resolveActorRef(in.readUTF());
        long correlation = in.readLong();
        long after = tag == TAG_HANDLE_AFTER ? in.readLong() : 0;
        return new FlowActor.Handle(readEvent(in), correlation, replyTo, after);
      } else if (tag == TAG_REPLY) {
        long correlation = in.readLong();
        if (in.readBoolean()) {
          return new FlowActor.Reply(correlation, readResult(in), null, null);
        }
        return new FlowActor.Reply(
            correlation,
            null,
            dev.fastpath.flow.FlowControl.Refusal.valueOf(in.readUTF()),
            in.readUTF());
      } else if (tag == TAG_RESULT) {
        return readResult(in);
      }
      throw new NotSerializableException("unknown flow message tag " + tag);
    } catch (IOException e) {
      throw new UncheckedIOException("bad flow message", e);
    }
  }

  private static void writeEvent(DataOutputStream out, ControlEvent e) throws IOException {
    byte kind;
    if (e instanceof ControlEvent.FlowStarted) {
      kind = KIND_STARTED;
    } else if (e instanceof ControlEvent.RedirectArrived) {
      kind = KIND_REDIRECT;
    } else if (e instanceof ControlEvent.RedirectRefused) {
      kind = KIND_REFUSED;
    } else if (e instanceof ControlEvent.FlowEnding) {
      kind = KIND_ENDING;
    } else if (e instanceof ControlEvent.Unattributed) {
      kind = KIND_UNATTRIBUTED;
    } else {
      kind = KIND_TRAFFIC;
    }
    out.writeByte(kind);
    writePb(out, e.flow() == null ? null : e.flow().toProto());
    out.writeLong(e.timestampNanos());
    writePb(out, e.cause());
    if (e instanceof ControlEvent.FlowStarted s) {
      writePb(out, s.opened());
    } else if (e instanceof ControlEvent.RedirectArrived r) {
      writePb(out, r.redirect().toProto());
    } else if (e instanceof ControlEvent.RedirectRefused r) {
      writePb(out, r.rejected());
    } else if (e instanceof ControlEvent.FlowEnding f) {
      out.writeInt(f.reason().getNumber());
      writePb(out, f.counts());
    } else if (e instanceof ControlEvent.FlowTraffic t) {
      writePb(out, t.counts());
    } else if (e instanceof ControlEvent.Unattributed u) {
      out.writeLong(u.sourceId());
      writePb(out, u.rejected());
    }
  }

  private static ControlEvent readEvent(DataInputStream in) throws IOException {
    byte kind = in.readByte();
    dev.fastpath.events.v1.FlowKey pk = readPb(in, dev.fastpath.events.v1.FlowKey.parser());
    FlowKey flow = pk == null ? null : FlowKey.fromProto(pk);
    long ts = in.readLong();
    Cause cause = readPb(in, Cause.parser());
    return switch (kind) {
      case KIND_STARTED ->
          new ControlEvent.FlowStarted(flow, ts, cause, readPb(in, FlowOpened.parser()));
      case KIND_REDIRECT ->
          new ControlEvent.RedirectArrived(
              Redirect.fromProto(readPb(in, RedirectInfo.parser())), ts, cause);
      case KIND_REFUSED ->
          new ControlEvent.RedirectRefused(flow, ts, cause, readPb(in, RedirectRejected.parser()));
      case KIND_ENDING -> {
        CloseReason reason = CloseReason.forNumber(in.readInt());
        yield new ControlEvent.FlowEnding(
            flow, ts, cause, reason, readPb(in, FlowCounted.parser()));
      }
      case KIND_TRAFFIC ->
          new ControlEvent.FlowTraffic(flow, ts, cause, readPb(in, FlowCounted.parser()));
      case KIND_UNATTRIBUTED -> {
        long sourceId = in.readLong();
        yield new ControlEvent.Unattributed(
            sourceId, ts, cause, readPb(in, RedirectRejected.parser()));
      }
      default -> throw new NotSerializableException("unknown control event kind " + kind);
    };
  }

  private static void writeResult(DataOutputStream out, ControlResult r) throws IOException {
    out.writeUTF(r.outcome().name());
    out.writeInt(r.state().getNumber());
    out.writeInt(r.rejectReason() == null ? 0 : r.rejectReason().getNumber());
    out.writeLong(r.lastSeq());
    RewriteDecision d = r.decision();
    out.writeBoolean(d != null);
    if (d != null) {
      writePb(out, d.flow().toProto());
      out.writeInt(d.scenario().getNumber());
      out.writeInt(d.encapType().getNumber());
      out.writeLong(d.keyField());
      out.writeBoolean(d.dipV6());
      out.writeLong(d.dipHi());
      out.writeLong(d.dipLo());
      out.writeLong(d.vmMac());
      out.writeLong(d.eniMac());
      out.writeLong(d.seq());
    }
  }

  private static ControlResult readResult(DataInputStream in) throws IOException {
    ControlResult.Outcome outcome = ControlResult.Outcome.valueOf(in.readUTF());
    FlowStateKind state = FlowStateKind.forNumber(in.readInt());
    RejectReason reject = RejectReason.forNumber(in.readInt());
    long lastSeq = in.readLong();
    RewriteDecision d = null;
    if (in.readBoolean()) {
      d =
          new RewriteDecision(
              FlowKey.fromProto(readPb(in, dev.fastpath.events.v1.FlowKey.parser())),
              Scenario.forNumber(in.readInt()),
              EncapType.forNumber(in.readInt()),
              in.readLong(),
              in.readBoolean(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readLong(),
              in.readLong());
    }
    return new ControlResult(outcome, state, d, reject, lastSeq);
  }

  private static void writePb(DataOutputStream out, MessageLite m) throws IOException {
    if (m == null) {
      out.writeInt(-1);
      return;
    }
    byte[] b = m.toByteArray();
    out.writeInt(b.length);
    out.write(b);
  }

  private static <T> T readPb(DataInputStream in, Parser<T> parser) throws IOException {
    int len = in.readInt();
    if (len < 0) {
      return null;
    }
    byte[] b = new byte[len];
    in.readFully(b);
    return parser.parseFrom(b);
  }
}
