package dev.fastpath.bench;

import dev.fastpath.ingest.capture.AfPacketPort;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.ingest.capture.PortStats;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Records one interface into a nanosecond pcap with the kernel's receive timestamps, through the
 * same AF_PACKET ring as the node (a 128 MiB ring of 64 KiB blocks, so that the recorder is not
 * what drops), until SIGTERM; then prints {@code RECORDED <frames> drops <n>}. {@link
 * LiveForwardBench} runs it inside the benchmark's network namespace on both sides of the node.
 *
 * <pre>java -cp ... dev.fastpath.bench.LiveRecorder IFACE OUT.pcap</pre>
 */
public final class LiveRecorder {
  private LiveRecorder() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: LiveRecorder IFACE OUT.pcap");
      System.exit(2);
    }
    AfPacketPort port =
        AfPacketPort.open(args[0], AfPacketPort.Options.defaults().withRing(1 << 16, 2048));
    Thread main = Thread.currentThread();
    AtomicBoolean stop = new AtomicBoolean();
    Thread hook =
        new Thread(
            () -> {
              stop.set(true);
              try {
                main.join(10_000);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    Runtime.getRuntime().addShutdownHook(hook);
    long frames = 0;
    try (PcapWriter w = new PcapWriter(Path.of(args[1]))) {
      System.out.println("RECORDING " + args[0]);
      System.out.flush();
      CaptureRecord rec = new CaptureRecord();
      while (!stop.get()) {
        if (port.receive(rec, 50)) {
          w.write(
              rec.timestampNanos(),
              rec.data(),
              rec.offset(),
              rec.capturedLength(),
              rec.originalLength());
          frames++;
        }
      }
      // Whatever is left in the ring arrived before the stop.
      while (port.receive(rec, 0)) {
        w.write(
            rec.timestampNanos(),
            rec.data(),
            rec.offset(),
            rec.capturedLength(),
            rec.originalLength());
        frames++;
      }
    }
    PortStats st = port.stats();
    port.close();
    System.out.println("RECORDED " + frames + " drops " + st.kernelDrops());
    System.out.flush();
  }
}
