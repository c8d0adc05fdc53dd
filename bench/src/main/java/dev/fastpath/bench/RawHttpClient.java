package dev.fastpath.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One keep-alive HTTP/1.1 connection that sends GETs and reads whole responses (Content-Length
 * bodies, as the history server sends them). The load generator runs on the same two cores as the
 * server it measures, so its own cost per request matters: this costs a fraction of {@code
 * java.net.http.HttpClient}'s, leaving the CPU to the server under test.
 */
final class RawHttpClient implements AutoCloseable {
  private final String host;
  private final int port;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private final byte[] discard = new byte[64 * 1024];
  private static final byte[] EMPTY = new byte[0];

  /** A response: status code and body (empty for a 200, whose body is read and dropped). */
  record Response(int status, byte[] body) {}

  RawHttpClient(String host, int port) {
    this.host = host;
    this.port = port;
  }

  Response get(String pathAndQuery) throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        if (socket == null) {
          connect();
        }
        out.write(
            ("GET " + pathAndQuery + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return read();
      } catch (IOException e) {
        // A server may close an idle keep-alive connection: reconnect once, then give up.
        close();
        if (attempt > 0) {
          throw e;
        }
      }
    }
  }

  private void connect() throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress(host, port), 10_000);
    socket.setSoTimeout(120_000);
    in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    out = socket.getOutputStream();
  }

  private Response read() throws IOException {
    String status = line();
    if (status == null) {
      throw new IOException("connection closed");
    }
    int code = Integer.parseInt(status.substring(9, 12));
    long length = -1;
    boolean close = false;
    String h;
    while ((h = line()) != null && !h.isEmpty()) {
      int colon = h.indexOf(':');
      if (colon > 0) {
        String name = h.substring(0, colon).trim();
        String value = h.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Content-Length")) {
          length = Long.parseLong(value);
        } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
          close = true;
        } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
          throw new IOException("chunked responses are not expected from the history server");
        }
      }
    }
    if (length < 0) {
      throw new IOException("response without Content-Length: " + status);
    }
    byte[] body;
    if (code == 200) {
      // A 200's body is only counted, not kept: read into one reused buffer, so the clients'
      // garbage (pages of ~60 KB) does not add collector pauses to the server's latencies.
      long left = length;
      while (left > 0) {
        int n = in.read(discard, 0, (int) Math.min(discard.length, left));
        if (n < 0) {
          throw new IOException("short body");
        }
        left -= n;
      }
      body = EMPTY;
    } else {
      body = in.readNBytes((int) length);
      if (body.length != length) {
        throw new IOException("short body");
      }
    }
    if (close) {
      close();
    }
    return new Response(code, body);
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(64);
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        byte[] l = b.toByteArray();
        int n = l.length > 0 && l[l.length - 1] == '\r' ? l.length - 1 : l.length;
        return new String(l, 0, n, StandardCharsets.US_ASCII);
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing after an error or at the end: nothing left to do with it
      }
      socket = null;
    }
  }
}
