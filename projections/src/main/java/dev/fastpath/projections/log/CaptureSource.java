package dev.fastpath.projections.log;

import dev.fastpath.events.v1.Cause;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * "The records caused by capture F" ({@code --source F}, API {@code source=}): the one place that
 * decides whether a record's {@code Cause.source} names the capture a user gave. Every reader (log
 * export, replay, replay --verify, the flow history) asks this class, so they agree.
 *
 * <p>A run records the capture path as it was given ({@code run --pcap demo.pcap} writes {@code
 * demo.pcap}). A record matches when its source, normalised ({@code ./a/../demo.pcap} is {@code
 * demo.pcap}), is one of the spellings of F: F normalised, F as an absolute path, and F relative to
 * the current directory. So {@code demo.pcap}, {@code ./demo.pcap} and {@code $PWD/demo.pcap} all
 * find a run given any of them from the same directory, while {@code data/demo/demo.pcap} (a
 * different file of the same name) never matches {@code demo.pcap}.
 *
 * <p>Extension point: once records carry a content identity of their capture ({@code
 * Cause.source_id}), {@link #matches(Cause)} should also accept a record whose identity equals that
 * of F when F exists, so a capture moved or renamed since the run is still found.
 */
public final class CaptureSource {
  private final String given;
  private final Set<String> spellings;

  private CaptureSource(String given, Set<String> spellings) {
    this.given = given;
    this.spellings = spellings;
  }

  /** The capture the user named, or {@code null} for a blank value (no restriction). */
  public static CaptureSource of(String given) {
    if (given == null || given.isBlank()) {
      return null;
    }
    String g = given.trim();
    Set<String> s = new LinkedHashSet<>();
    s.add(normalise(g));
    try {
      Path cwd = Path.of("").toAbsolutePath();
      Path abs = cwd.resolve(g).normalize();
      s.add(abs.toString());
      if (abs.startsWith(cwd) && !abs.equals(cwd)) {
        s.add(cwd.relativize(abs).toString());
      }
    } catch (InvalidPathException notAPath) {
      // a live source name ("live:eth0") or other text: only its own spelling matches
    }
    return new CaptureSource(g, Set.copyOf(s));
  }

  /** A source as stored: normalised as a path when it is one, else unchanged. */
  public static String normalise(String source) {
    if (source == null || source.isEmpty()) {
      return "";
    }
    try {
      String n = Path.of(source).normalize().toString();
      return n.isEmpty() ? source : n;
    } catch (InvalidPathException notAPath) {
      return source;
    }
  }

  public boolean matches(Cause cause) {
    return matches(cause.getSource());
  }

  public boolean matches(String recordSource) {
    return recordSource != null && spellings.contains(normalise(recordSource));
  }

  /** The normalised stored sources that match (for a SQL {@code IN} over stored sources). */
  public Set<String> spellings() {
    return spellings;
  }

  /** The capture as the user gave it. */
  public String given() {
    return given;
  }

  @Override
  public String toString() {
    return given;
  }
}
