package dev.fastpath.ingest.capture;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls an AF_PACKET port needs, bound with JNA direct mapping (JNA comes with pcap4j,
 * which already needs it). Direct mapping costs a JNI transition per call, no reflection; the hot
 * path makes one {@code poll} per ring block and one {@code send} per transmitted frame. Pointers
 * the hot path passes are plain {@code long} addresses so that no {@link Pointer} is allocated per
 * call.
 */
final class LinuxSockets {
  static final int AF_PACKET = 17;
  static final int SOCK_RAW = 3;
  static final int ETH_P_ALL = 0x0003;
  static final int SOL_PACKET = 263;
  static final int PACKET_ADD_MEMBERSHIP = 1;
  static final int PACKET_RX_RING = 5;
  static final int PACKET_STATISTICS = 6;
  static final int PACKET_VERSION = 10;
  static final int PACKET_RESERVE = 12;
  static final int PACKET_IGNORE_OUTGOING = 23;
  static final int PACKET_MR_PROMISC = 1;
  static final int TPACKET_V3 = 2;
  static final int PROT_READ = 1;
  static final int PROT_WRITE = 2;
  static final int MAP_SHARED = 1;
  static final short POLLIN = 0x001;
  static final short POLLERR = 0x008;
  static final int MSG_DONTWAIT = 0x40;

  static final int EINTR = 4;
  static final int EAGAIN = 11;
  static final int EPERM = 1;
  static final int EACCES = 13;
  static final int ENOPROTOOPT = 92;

  private static final Throwable LOAD_ERROR;

  static {
    Throwable err = null;
    try {
      if (!Platform.isLinux()) {
        throw new UnsatisfiedLinkError("AF_PACKET ports exist only on Linux");
      }
      Native.register(LinuxSockets.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      err = e;
    }
    LOAD_ERROR = err;
  }

  private LinuxSockets() {}

  /** Null when the natives are bound, else why not. */
  static Throwable loadError() {
    return LOAD_ERROR;
  }

  static native int socket(int domain, int type, int protocol) throws LastErrorException;

  static native int setsockopt(int fd, int level, int name, Pointer value, int length)
      throws LastErrorException;

  static native int getsockopt(int fd, int level, int name, Pointer value, Pointer length)
      throws LastErrorException;

  static native int bind(int fd, Pointer address, int length) throws LastErrorException;

  static native Pointer mmap(Pointer address, long length, int prot, int flags, int fd, long offset)
      throws LastErrorException;

  static native int munmap(Pointer address, long length);

  /** {@code fds} is the address of {@code nfds} {@code struct pollfd}s (8 bytes each). */
  static native int poll(long fds, long nfds, int timeoutMillis) throws LastErrorException;

  static native long send(int fd, long buffer, long length, int flags) throws LastErrorException;

  static native int close(int fd);

  static native int if_nametoindex(String name);

  static native String strerror(int errno);

  /** libc's message for an errno, e.g. "Operation not permitted". */
  static String message(LastErrorException e) {
    try {
      String s = strerror(e.getErrorCode());
      return s == null ? "errno " + e.getErrorCode() : s;
    } catch (RuntimeException | UnsatisfiedLinkError x) {
      return "errno " + e.getErrorCode();
    }
  }
}
