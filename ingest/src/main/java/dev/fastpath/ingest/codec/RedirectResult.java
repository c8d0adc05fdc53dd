package dev.fastpath.ingest.codec;

import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.redirect.Redirect;
import java.util.Locale;

/** What {@link RedirectDecoder} made of a frame: a usable redirect, or why it was refused. */
public sealed interface RedirectResult {

  record Accepted(Redirect redirect) implements RedirectResult {}

  /**
   * @param partial as much of the redirect as was decoded before the rejection; null when too
   *     little decoded (before the GRE key)
   * @param eniMac the inner destination MAC if it was reached, else 0
   * @param flow the embedded flow if it was decoded, else null
   * @param muxIp the outer IPv4 source if it was reached, else 0
   */
  record Rejected(
      RejectReason reason,
      String detail,
      RedirectInfo partial,
      long eniMac,
      FlowKey flow,
      int muxIp)
      implements RedirectResult {

    /** The reason as lower-case-with-dashes, as JSON output prints it. */
    public String reasonName() {
      return reasonName(reason);
    }

    public static String reasonName(RejectReason reason) {
      return reason.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }
}
