package dev.fastpath.ingest.codec;

import java.util.Locale;

/** Why {@link FrameDecoder} could not decode a frame completely. */
public enum DecodeError {
  NONE,
  /** offset/length do not fit the buffer: a caller bug, reported rather than thrown. */
  BAD_RANGE,
  TRUNCATED_ETHERNET,
  TRUNCATED_VLAN,
  TOO_MANY_VLANS,
  UNKNOWN_ETHERTYPE,
  TRUNCATED_IPV4,
  BAD_IPV4_VERSION,
  BAD_IHL,
  BAD_IPV4_TOTAL_LENGTH,
  BAD_IPV4_CHECKSUM,
  IPV4_FRAGMENT,
  TRUNCATED_IPV6,
  BAD_IPV6_VERSION,
  BAD_IPV6_PAYLOAD_LENGTH,
  TRUNCATED_IPV6_EXTENSION,
  TOO_MANY_IPV6_EXTENSIONS,
  IPV6_FRAGMENT,
  UNSUPPORTED_IPV6_EXTENSION,
  TRUNCATED_GRE,
  UNSUPPORTED_GRE,
  TRUNCATED_UDP,
  BAD_UDP_LENGTH,
  TRUNCATED_VXLAN,
  BAD_VXLAN_FLAGS,
  TRUNCATED_TCP,
  BAD_TCP_DATA_OFFSET,
  TRUNCATED_ICMP,
  TOO_MANY_LAYERS;

  private final String reason = name().toLowerCase(Locale.ROOT).replace('_', '-');

  /** The lower-case-with-dashes name used in JSON output and counter labels. */
  public String reason() {
    return reason;
  }
}
