package dev.fastpath.ingest.codec;

import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.ingest.Macs;
import java.util.Arrays;

/** One frame per rejection reason the redirect decoder gives. */
final class ReasonSamples {
  private ReasonSamples() {}

  static byte[] sample(RejectReason reason) {
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    switch (reason) {
      case NOT_GRE -> {
        byte[] f = b.build();
        return Arrays.copyOfRange(f, 14 + 20 + 8, f.length);
      }
      case UNKNOWN_VSID -> b.vsid = 999;
      case MUX_NOT_TRUSTED -> {
        b.eni = TestFrames.ENI_STRICT;
        b.mux = "192.0.2.1";
      }
      case BAD_VERSION -> b.version = 0;
      case BAD_PA_FAMILY -> b.family = 7;
      case BAD_ENCAP_TYPE -> b.encap = 9;
      case BAD_DIP_PA -> b.dip = "0.0.0.0";
      case BAD_VM_MAC -> b.vmMac = Macs.parse("ff:ff:ff:ff:ff:ff");
      case NOT_TCP -> b.embProto = 17;
      case TRUNCATED -> {
        byte[] f = b.build();
        return Arrays.copyOf(f, f.length - 1);
      }
      case ENCAP_ID_NOT_TRUSTED -> {
        b.eni = TestFrames.ENI_STRICT;
        b.encapId = 5;
      }
      case ENI_MISS -> b.eni = Macs.parse("02:00:00:00:00:01");
      case BAD_CHECKSUM -> b.corruptIcmpChecksum = true;
      case ICMPV6_CHECKSUM_STRICT -> {
        TestFrames.V6Redirect v6 = new TestFrames.V6Redirect();
        v6.goodChecksum = false;
        return v6.build();
      }
      case MALFORMED -> b.icmpType = 4;
      default -> {
        return null;
      }
    }
    return b.build();
  }
}
