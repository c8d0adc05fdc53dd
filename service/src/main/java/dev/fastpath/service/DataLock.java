package dev.fastpath.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An OS file lock on one file of a data directory, with a few lines saying who holds it.
 *
 * <p>The lock is the kernel's ({@code fcntl}), so it goes away with its process however that ends,
 * kill -9 included: a lock file left behind by a dead process is free, and whatever it says is
 * stale. The file itself is never deleted, since a process holding a lock on a deleted file and a
 * process locking its re-created successor would both believe they own the directory.
 *
 * <p>The holder's lines end with {@code end}; a reader that does not find it is looking at a write
 * in progress and tries again.
 */
final class DataLock implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private DataLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock if no process holds it; empty when another process (or this one) does. */
  static Optional<DataLock> tryAcquire(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      FileChannel ch =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException heldInThisJvm) {
        l = null;
      }
      if (l == null) {
        ch.close();
        return Optional.empty();
      }
      return Optional.of(new DataLock(file, ch, l));
    } catch (IOException e) {
      throw new Main.UserError("cannot lock " + file + ": " + e.getMessage(), e);
    }
  }

  /** Replaces the holder's lines (pid and start time are added). */
  void describe(Map<String, String> fields) {
    StringBuilder sb = new StringBuilder();
    sb.append("pid=").append(ProcessHandle.current().pid()).append('\n');
    fields.forEach((k, v) -> sb.append(k).append('=').append(v == null ? "" : v).append('\n'));
    sb.append("since=").append(Instant.now()).append('\n');
    sb.append("end\n");
    byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
    try {
      // Write first, then cut: a reader never sees an empty file, and the end marker tells it
      // where this holder's lines stop if it reads between the two calls.
      channel.write(ByteBuffer.wrap(b), 0);
      channel.truncate(b.length);
      channel.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /**
   * What the holder of {@code file} wrote about itself; empty when the file is missing, blank or in
   * the middle of a write.
   */
  static Optional<Map<String, String>> read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return Optional.empty();
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.equals("end")) {
        return m.containsKey("pid") ? Optional.of(m) : Optional.empty();
      }
      int eq = line.indexOf('=');
      if (eq > 0) {
        m.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return Optional.empty();
  }

  Path file() {
    return file;
  }

  @Override
  public void close() {
    try {
      // Cleared rather than deleted (see the class comment): nobody holds it any more.
      channel.truncate(0);
      lock.release();
    } catch (IOException ignored) {
      // The lock goes with the channel anyway.
    } finally {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing left to release
      }
    }
  }
}
