package dev.fastpath.projections.log;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * A loopback TCP proxy in front of a Kafka broker that loses the acknowledgement of the first
 * produce request: the request reaches the broker (which appends the batch), but the proxy swallows
 * the broker's response and cuts the connection, as a network failure between the append and the
 * ack would. The producer must then retry the very same batch.
 *
 * <p>It reads Kafka's framing only: every request and response is a 4-byte big-endian size and then
 * the message; a request starts with api key (2 bytes), api version (2), correlation id (4); a
 * response with the correlation id. Api key 0 is Produce.
 */
final class AckDroppingProxy implements AutoCloseable {
  private static final short PRODUCE = 0;

  private final ServerSocket server;
  private final IntSupplier upstreamPort;
  private final AtomicInteger dropsLeft = new AtomicInteger();
  private final AtomicInteger dropped = new AtomicInteger();
  private final AtomicInteger produceRequests = new AtomicInteger();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /**
   * @param upstreamPort asked at every new connection: the broker's port may be known only once the
   *     broker runs, and the broker already needs the proxy while it starts
   */
  AckDroppingProxy(int listenPort, IntSupplier upstreamPort) throws IOException {
    this.server = new ServerSocket(listenPort, 50, InetAddress.getLoopbackAddress());
    this.upstreamPort = upstreamPort;
    Thread t = new Thread(this::acceptLoop, "ack-dropping-proxy");
    t.setDaemon(true);
    t.start();
  }

  /** Swallows the responses of the next {@code n} produce requests. */
  void dropNextAcks(int n) {
    dropped.set(0);
    dropsLeft.set(n);
  }

  int port() {
    return server.getLocalPort();
  }

  /** Produce responses swallowed so far. */
  int dropped() {
    return dropped.get();
  }

  int produceRequests() {
    return produceRequests.get();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket broker;
        try {
          broker = new Socket(InetAddress.getLoopbackAddress(), upstreamPort.getAsInt());
        } catch (IOException | RuntimeException brokerNotUpYet) {
          closeQuietly(client);
          continue;
        }
        client.setTcpNoDelay(true);
        broker.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(broker);
        Set<Integer> produceIds = ConcurrentHashMap.newKeySet();
        start(() -> requests(client, broker, produceIds));
        start(() -> responses(broker, client, produceIds));
      } catch (IOException e) {
        if (!closed) {
          throw new IllegalStateException("proxy accept failed", e);
        }
      }
    }
  }

  private static void start(Runnable r) {
    Thread t = new Thread(r, "ack-dropping-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void requests(Socket client, Socket broker, Set<Integer> produceIds) {
    try (DataInputStream in = new DataInputStream(client.getInputStream());
        OutputStream out = broker.getOutputStream()) {
      while (true) {
        byte[] frame = readFrame(in);
        short apiKey = (short) (((frame[4] & 0xFF) << 8) | (frame[5] & 0xFF));
        if (apiKey == PRODUCE) {
          produceRequests.incrementAndGet();
          produceIds.add(readInt(frame, 8));
        }
        out.write(frame);
        out.flush();
      }
    } catch (IOException endOfConnection) {
      closeBoth(client, broker);
    }
  }

  private void responses(Socket broker, Socket client, Set<Integer> produceIds) {
    try (DataInputStream in = new DataInputStream(broker.getInputStream());
        OutputStream out = client.getOutputStream()) {
      while (true) {
        byte[] frame = readFrame(in);
        int correlationId = readInt(frame, 4);
        if (produceIds.remove(correlationId) && dropsLeft.getAndDecrement() > 0) {
          // The broker has appended the batch; the producer never hears so.
          dropped.incrementAndGet();
          closeBoth(client, broker);
          return;
        }
        out.write(frame);
        out.flush();
      }
    } catch (IOException endOfConnection) {
      closeBoth(client, broker);
    }
  }

  private static byte[] readFrame(DataInputStream in) throws IOException {
    int size = in.readInt();
    if (size < 8 || size > 64 * 1024 * 1024) {
      throw new IOException("not a Kafka frame of " + size + " bytes");
    }
    byte[] frame = new byte[4 + size];
    frame[0] = (byte) (size >>> 24);
    frame[1] = (byte) (size >>> 16);
    frame[2] = (byte) (size >>> 8);
    frame[3] = (byte) size;
    in.readFully(frame, 4, size);
    return frame;
  }

  private static int readInt(byte[] b, int off) {
    return ((b[off] & 0xFF) << 24)
        | ((b[off + 1] & 0xFF) << 16)
        | ((b[off + 2] & 0xFF) << 8)
        | (b[off + 3] & 0xFF);
  }

  private static void closeBoth(Socket a, Socket b) {
    closeQuietly(a);
    closeQuietly(b);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already gone
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // already closed
    }
    sockets.forEach(AckDroppingProxy::closeQuietly);
  }
}
