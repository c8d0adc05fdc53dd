package dev.fastpath.service;

import dev.fastpath.events.v1.Direction;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.config.FastpathConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares what a live node sent with what {@code run --out} wrote for the same capture: byte for
 * byte, in order per flow (and per output side of a bridge), allowing only frames that left on the
 * VIP path in place of their rewritten form when the in-flight policy sends frames before their
 * redirect is durable.
 *
 * <p>{@code run --out} writes the capture's frames in input order without its redirects, so its
 * j-th frame comes from the j-th input frame that is not a redirect; that input frame names the
 * frame's flow and the side it arrived on.
 */
final class ForwardedFrames {
  /** A frame a node sent: its bytes and the side it left on (0 or 1; one-armed: 0). */
  record Sent(byte[] bytes, int side) {}

  /** Outcome of a comparison. */
  record Result(
      List<String> problems, int compared, int sentOnVipPathInsteadOfRewritten, int rewritten) {}

  private record Expected(String group, byte[] ref, byte[] input) {}

  private final FrameDecoder decoder;
  private final List<Expected> expected = new ArrayList<>();
  private final Map<String, Integer> inputSides = new HashMap<>();

  /**
   * @param sideOf the side (0 VM, 1 underlay) each input frame was replayed into, by its index in
   *     the capture; null for one-armed (everything on one side)
   */
  ForwardedFrames(FastpathConfig cfg, Path input, Path runOut, int[] sideOf) throws Exception {
    this.decoder = new FrameDecoder(cfg);
    List<byte[]> in = read(input);
    List<byte[]> ref = read(runOut);
    int j = 0;
    for (int i = 0; i < in.size(); i++) {
      byte[] f = in.get(i);
      DecodedFrame d = decoder.decode(ByteBuffer.wrap(f), 0, f.length, null);
      if (d.redirectCandidate()) {
        continue;
      }
      if (j >= ref.size()) {
        throw new IllegalStateException(
            "run --out has fewer frames than the capture's non-redirects");
      }
      FlowKey k = d.flowKey();
      String flow = k == null ? "no-flow" : k.canonical();
      // A bridge sends each frame out of the side it did not arrive on.
      String group = sideOf == null ? flow : flow + " -> side " + (1 - sideOf[i]);
      expected.add(new Expected(group, ref.get(j), f));
      j++;
    }
    if (j != ref.size()) {
      throw new IllegalStateException(
          "run --out has " + ref.size() + " frames, the capture " + j + " non-redirects");
    }
  }

  int expectedFrames() {
    return expected.size();
  }

  /** Which side each input frame goes to in a bridge: side 0 for frames from the VMs. */
  static int[] sides(FastpathConfig cfg, List<byte[]> frames) {
    FrameDecoder decoder = new FrameDecoder(cfg);
    int[] side = new int[frames.size()];
    for (int i = 0; i < frames.size(); i++) {
      byte[] f = frames.get(i);
      DecodedFrame d = decoder.decode(ByteBuffer.wrap(f), 0, f.length, null);
      side[i] = !d.redirectCandidate() && d.direction() == Direction.OUTBOUND ? 0 : 1;
    }
    return side;
  }

  static List<byte[]> read(Path pcap) throws Exception {
    List<byte[]> out = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(pcap)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        out.add(rec.copyBytes());
      }
    }
    return out;
  }

  /**
   * @param allowVipPath whether a frame may have left unrewritten in place of its rewritten form
   */
  Result compare(List<Sent> sent, boolean allowVipPath) {
    Map<String, List<Expected>> want = new LinkedHashMap<>();
    Map<Key, String> groupOf = new HashMap<>();
    for (Expected e : expected) {
      want.computeIfAbsent(e.group(), g -> new ArrayList<>()).add(e);
      groupOf.put(new Key(e.ref()), e.group());
      groupOf.putIfAbsent(new Key(e.input()), e.group());
    }
    Map<String, List<Sent>> got = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Sent s : sent) {
      String g = groupOf.get(new Key(s.bytes()));
      if (g == null) {
        problems.add(
            "a frame run --out never wrote ("
                + s.bytes().length
                + " bytes, side "
                + s.side()
                + "): "
                + java.util.HexFormat.of().formatHex(s.bytes()));
        continue;
      }
      if (g.contains(" -> side ")) {
        // Recorded on the side it actually left: regroup so a frame on the wrong side shows up.
        g = g.substring(0, g.indexOf(" -> side ")) + " -> side " + s.side();
      }
      got.computeIfAbsent(g, x -> new ArrayList<>()).add(s);
    }
    int compared = 0;
    int substituted = 0;
    int rewritten = 0;
    for (Map.Entry<String, List<Expected>> e : want.entrySet()) {
      List<Expected> w = e.getValue();
      List<Sent> g = got.getOrDefault(e.getKey(), List.of());
      if (g.size() != w.size()) {
        problems.add(e.getKey() + ": expected " + w.size() + " frames, recorded " + g.size());
      }
      for (int i = 0; i < Math.min(g.size(), w.size()); i++) {
        byte[] actual = g.get(i).bytes();
        Expected x = w.get(i);
        boolean isRewrite = !Arrays.equals(x.ref(), x.input());
        if (isRewrite) {
          rewritten++;
        }
        compared++;
        if (Arrays.equals(actual, x.ref())) {
          continue;
        }
        if (allowVipPath && isRewrite && Arrays.equals(actual, x.input())) {
          substituted++;
          continue;
        }
        problems.add(e.getKey() + ": frame " + i + " of the flow differs from run --out");
      }
    }
    for (String g : got.keySet()) {
      if (!want.containsKey(g)) {
        problems.add(g + ": " + got.get(g).size() + " frames on a side they must not leave on");
      }
    }
    return new Result(problems, compared, substituted, rewritten);
  }

  private record Key(byte[] b) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(b, k.b);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(b);
    }
  }
}
