package dev.fastpath.kafka;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Free loopback ports for what a process starts beside itself: the embedded broker's listeners, the
 * nodes of a local cluster. Here because the broker needs it first; the cluster runner and the
 * cluster tests share it rather than keep copies of it.
 */
public final class FreePorts {
  private FreePorts() {}

  /**
   * {@code n} distinct free ports on loopback, in ascending order. Every socket stays bound until
   * all are chosen: ports asked for one at a time can repeat (the kernel hands out a port again as
   * soon as its socket closes), and the second listener then cannot bind; Kafka refuses such a
   * config outright ("two listeners on the same port").
   */
  public static int[] take(int n) throws IOException {
    ServerSocket[] held = new ServerSocket[n];
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        held[i] = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ports[i] = held[i].getLocalPort();
      }
      java.util.Arrays.sort(ports);
      return ports;
    } finally {
      for (ServerSocket s : held) {
        if (s != null) {
          s.close();
        }
      }
    }
  }
}
