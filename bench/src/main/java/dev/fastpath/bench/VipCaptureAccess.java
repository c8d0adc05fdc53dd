package dev.fastpath.bench;

import java.io.IOException;
import java.nio.file.Path;

/** Writes {@link VipCapture}'s files from outside the package (profiling by hand). */
public final class VipCaptureAccess {
  private final VipCapture c;

  public VipCaptureAccess(int flows, int data, int window, int enis) {
    c = new VipCapture(flows, data, window, enis);
  }

  public long write(Path pcap) throws IOException {
    return c.write(pcap);
  }

  public long writeData(Path pcap) throws IOException {
    return c.writeDataOnly(pcap);
  }

  public static void main(String[] args) throws IOException {
    VipCaptureAccess a =
        new VipCaptureAccess(
            Integer.parseInt(args[0]),
            Integer.parseInt(args[1]),
            Integer.parseInt(args[2]),
            Integer.parseInt(args[3]));
    a.write(Path.of(args[4]));
    if (args.length > 5) {
      a.writeData(Path.of(args[5]));
    }
  }
}
