package dev.fastpath.flow.actor;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free loopback ports for test nodes. */
final class TestPorts {
  private TestPorts() {}

  /**
   * {@code n} distinct free ports. Every socket stays bound until all are chosen: ports asked for
   * one at a time can repeat, and the second node then cannot bind.
   */
  static int[] distinct(int n) throws IOException {
    ServerSocket[] held = new ServerSocket[n];
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        held[i] = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ports[i] = held[i].getLocalPort();
      }
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
