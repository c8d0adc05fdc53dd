package dev.fastpath.projections.history;

import dev.fastpath.ingest.json.Json;
import java.time.LocalDate;

/**
 * Epoch nanoseconds as ISO-8601 UTC text, exactly as {@link Json#time} ({@code
 * DateTimeFormatter.ISO_INSTANT}) writes them, without the formatter's cost: a page of 100 flows
 * formats 400 times, and the general formatter was a third of the page's CPU.
 */
final class IsoTime {
  private IsoTime() {}

  static String format(long epochNanos) {
    char[] b = new char[MAX_LENGTH];
    int n = format(epochNanos, b);
    return n < 0 ? Json.time(epochNanos) : new String(b, 0, n);
  }

  /** Longest text {@link #format(long, char[])} writes. */
  static final int MAX_LENGTH = 30;

  /**
   * Writes the text into {@code b} (at least {@link #MAX_LENGTH} long) and returns its length, or
   * -1 for a year outside 0..9999 (the general formatter's sign and width rules): a page writes its
   * times through one buffer instead of a String each.
   */
  static int format(long epochNanos, char[] b) {
    long seconds = Math.floorDiv(epochNanos, 1_000_000_000L);
    int nanos = (int) Math.floorMod(epochNanos, 1_000_000_000L);
    long days = Math.floorDiv(seconds, 86_400L);
    int secOfDay = (int) Math.floorMod(seconds, 86_400L);
    LocalDate date = LocalDate.ofEpochDay(days);
    int year = date.getYear();
    if (year < 0 || year > 9999) {
      return -1;
    }
    int i = 0;
    i = digits(b, i, year, 4);
    b[i++] = '-';
    i = digits(b, i, date.getMonthValue(), 2);
    b[i++] = '-';
    i = digits(b, i, date.getDayOfMonth(), 2);
    b[i++] = 'T';
    i = digits(b, i, secOfDay / 3600, 2);
    b[i++] = ':';
    i = digits(b, i, secOfDay / 60 % 60, 2);
    b[i++] = ':';
    i = digits(b, i, secOfDay % 60, 2);
    if (nanos > 0) {
      // ISO_INSTANT prints the fraction in groups of three digits, as few as needed.
      b[i++] = '.';
      if (nanos % 1_000_000 == 0) {
        i = digits(b, i, nanos / 1_000_000, 3);
      } else if (nanos % 1000 == 0) {
        i = digits(b, i, nanos / 1000, 6);
      } else {
        i = digits(b, i, nanos, 9);
      }
    }
    b[i++] = 'Z';
    return i;
  }

  private static int digits(char[] b, int at, int value, int width) {
    for (int k = width - 1; k >= 0; k--) {
      b[at + k] = (char) ('0' + value % 10);
      value /= 10;
    }
    return at + width;
  }
}
