package dev.fastpath.service;

import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.codec.FrameDescriber;
import dev.fastpath.ingest.codec.RedirectDecoder;
import dev.fastpath.ingest.codec.RedirectResult;
import dev.fastpath.ingest.config.FastpathConfig;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the decoding of every frame of a capture. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Decode every frame of a capture: encapsulation, flow, TCP flags, and every field of Fast"
          + " Path redirects. A table for humans, or one JSON object per line with --json.",
      "Direction and ENI need the ENIs (--eni or --config); without them every frame's direction"
          + " is unknown, but redirects still decode: their whole payload is shown, with"
          + " 'error: eni-miss' beside it."
    })
public final class InspectCommand implements Callable<Integer> {
  @Option(
      names = "--pcap",
      required = true,
      paramLabel = "FILE",
      description = "Capture (pcap or pcapng)")
  Path pcap;

  @Option(names = "--json", description = "One JSON object per frame and line")
  boolean json;

  @Option(names = "--eni", paramLabel = "MAC", description = "An ENI (repeatable)")
  List<String> enis = new ArrayList<>();

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON configuration (ENIs, VSID map, MUX prefixes)")
  Path config;

  @Option(names = "--limit", paramLabel = "N", description = "Stop after N frames")
  long limit = Long.MAX_VALUE;

  @Override
  public Integer call() throws Exception {
    if (limit < 0) {
      throw new Main.UserError("--limit must be >= 0, not " + limit);
    }
    FastpathConfig cfg = FastpathConfigLoader.load(config, enis);
    FrameDecoder decoder = new FrameDecoder(cfg);
    RedirectDecoder redirects = new RedirectDecoder(cfg);
    DecodedFrame frame = new DecodedFrame();
    CaptureRecord rec = new CaptureRecord();
    PrintWriter out =
        new PrintWriter(
            new BufferedWriter(
                new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16));
    long n = 0;
    try (CaptureReader reader = RunCommand.openCapture(pcap)) {
      if (!json) {
        out.println(FrameDescriber.tableHeader());
      }
      while (n < limit && reader.next(rec)) {
        n++;
        decoder.decode(rec.data(), rec.offset(), rec.capturedLength(), frame);
        RedirectResult rr =
            frame.redirectCandidate()
                ? redirects.decode(rec.data(), rec.offset(), rec.capturedLength())
                : null;
        out.println(
            json
                ? FrameDescriber.jsonLine(rec.frameNumber(), rec.timestampNanos(), frame, rr)
                : FrameDescriber.tableRow(rec.frameNumber(), rec.timestampNanos(), frame, rr));
        if (out.checkError()) {
          return 0; // stdout closed (e.g. `| head`): stop quietly
        }
      }
    } catch (CaptureException e) {
      out.flush();
      throw new Main.UserError(
          "cannot read " + pcap + " after " + n + " frames: " + e.getMessage(), e);
    }
    out.flush();
    return 0;
  }
}
