package dev.fastpath.ingest.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * An input's identity for exactly-once processing: the first 64 bits of the SHA-256 of a capture
 * file's bytes (two different files named {@code demo.pcap} are two inputs; a renamed copy is the
 * same input), or of a live source's name and start time. Never 0 (0 means "no identity").
 */
public final class CaptureIdentity {
  private static final int CHUNK = 8 << 20;

  private CaptureIdentity() {}

  /** Reads the whole file once (memory-mapped, in chunks). */
  public static long of(Path file) throws IOException {
    MessageDigest sha = sha256();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      for (long pos = 0; pos < size; pos += CHUNK) {
        long n = Math.min(CHUNK, size - pos);
        ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, pos, n);
        sha.update(b);
      }
    }
    return fold(sha.digest());
  }

  /** The identity of a live session, e.g. {@code live:eth1@2026-12-01T10:00:00Z}. */
  public static long ofName(String name) {
    return fold(sha256().digest(name.getBytes(StandardCharsets.UTF_8)));
  }

  public static String hex(long id) {
    return String.format("%016x", id);
  }

  private static long fold(byte[] d) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (d[i] & 0xFF);
    }
    return v == 0 ? 1 : v;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
  }
}
