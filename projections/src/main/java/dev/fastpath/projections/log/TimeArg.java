package dev.fastpath.projections.log;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** Parses the time options ({@code --from}, {@code --to}, {@code --at}) into epoch nanoseconds. */
public final class TimeArg {
  private TimeArg() {}

  /**
   * Accepts ISO-8601 with an offset ({@code 2024-05-01T12:00:00.5Z}, {@code ...+02:00}), a local
   * date-time taken as UTC ({@code 2024-05-01T12:00:00}), or a date ({@code 2024-05-01}, its start
   * in UTC).
   */
  public static long parseNanos(String text) {
    String t = text.trim();
    Instant i;
    try {
      i = OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeParseException e1) {
      try {
        i = LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e2) {
        try {
          i = LocalDate.parse(t).atStartOfDay().toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e3) {
          throw new IllegalArgumentException(
              "not an ISO-8601 time: '" + text + "' (e.g. 2024-05-01T12:00:00Z)", e1);
        }
      }
    }
    return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
  }
}
