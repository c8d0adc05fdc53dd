package dev.fastpath.flow.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.config.Ipv4Prefix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads the {@code fastpath { ... }} block of a HOCON file (docs/configuration.md) into a {@link
 * FastpathConfig}. Every problem is reported with the setting's path, so a user can fix the file
 * without reading code.
 */
public final class FastpathConfigLoader {
  private FastpathConfigLoader() {}

  /** Thrown for any configuration problem; the message names the file and the setting. */
  public static final class BadConfigException extends RuntimeException {
    public BadConfigException(String message) {
      super(message);
    }

    public BadConfigException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Loads {@code file} (may be null: defaults only) and adds the ENIs given as {@code --eni MAC}
   * flags, all toggles on.
   */
  public static FastpathConfig load(Path file, List<String> extraEniMacs) {
    Config root = ConfigFactory.empty();
    String origin = "defaults";
    if (file != null) {
      origin = file.toString();
      if (!Files.isRegularFile(file)) {
        throw new BadConfigException("configuration file not found: " + file);
      }
      try {
        root =
            ConfigFactory.parseFile(
                file.toFile(),
                ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false));
      } catch (ConfigException e) {
        throw new BadConfigException("cannot parse " + file + ": " + e.getMessage(), e);
      }
    }
    return fromConfig(root, extraEniMacs, origin);
  }

  public static FastpathConfig parseString(String hocon) {
    try {
      return fromConfig(ConfigFactory.parseString(hocon), List.of(), "string");
    } catch (ConfigException e) {
      throw new BadConfigException("cannot parse configuration: " + e.getMessage(), e);
    }
  }

  /** The settings of docs/configuration.md; anything else in a file is a mistake. */
  static final List<String> ROOT_KEYS = List.of("fastpath");

  static final List<String> FASTPATH_KEYS =
      List.of(
          "enis",
          "conflict-policy",
          "encap-id",
          "idle-timeout",
          "strict-icmpv6-checksum",
          "vsid-map",
          "max-flows",
          "max-flows-per-eni",
          // serve's HTTP settings (HttpOptions reads them; docs/configuration.md)
          "http");

  static final List<String> ENI_KEYS =
      List.of("mac", "name", "vip", "pe", "ilb", "trusted-vnis", "mux-prefixes");

  static final List<String> VSID_MAP_KEYS = List.of("family", "vsid", "scenario");

  static FastpathConfig fromConfig(Config root, List<String> extraEniMacs, String origin) {
    try {
      return read(root.resolve(), extraEniMacs, origin);
    } catch (ConfigException e) {
      // What the typed readers below do not catch themselves, e.g. an unresolvable ${...}.
      throw new BadConfigException(origin + ": " + e.getMessage(), e);
    }
  }

  private static FastpathConfig read(Config root, List<String> extraEniMacs, String origin) {
    Settings top = new Settings(root, "", origin);
    top.onlyKnown(ROOT_KEYS);
    Settings c = top.object("fastpath");
    c.onlyKnown(FASTPATH_KEYS);
    List<EniConfig> enis = new ArrayList<>();
    Set<Long> seen = new HashSet<>();
    List<Settings> eniList = c.objects("enis");
    for (int i = 0; i < eniList.size(); i++) {
      EniConfig eni = eni(eniList.get(i));
      if (!seen.add(eni.mac())) {
        throw eniList.get(i).problem("ENI " + Macs.format(eni.mac()) + " is configured twice");
      }
      enis.add(eni);
    }
    for (String mac : extraEniMacs) {
      long m = parseMac(mac, "--eni", origin);
      if (seen.add(m)) {
        enis.add(EniConfig.allEnabled(m, "eni-" + Macs.format(m).replace(":", "")));
      }
    }
    Map<Long, Scenario> vsidMap = FastpathConfig.defaultVsidMap();
    if (c.has("vsid-map")) {
      vsidMap = new LinkedHashMap<>();
      for (Settings e : c.objects("vsid-map")) {
        e.onlyKnown(VSID_MAP_KEYS);
        int family = e.integer("family", null);
        if (family != 4 && family != 6) {
          throw e.problem("family", "must be 4 or 6, not " + family);
        }
        int vsid = e.integer("vsid", null);
        if (vsid < 0 || vsid > 0xFFFFFF) {
          throw e.problem("vsid", "must be a 24-bit VSID, not " + vsid);
        }
        String text = e.string("scenario", null);
        Scenario scenario =
            switch (text.toUpperCase(Locale.ROOT)) {
              case "VIP" -> Scenario.VIP;
              case "PE" -> Scenario.PE;
              case "ILB" -> Scenario.ILB;
              default -> throw e.problem("scenario", "must be VIP, PE or ILB, not '" + text + "'");
            };
        vsidMap.put(FastpathConfig.vsidKey(family, vsid), scenario);
      }
    }
    boolean strict = c.bool("strict-icmpv6-checksum", false);
    String policy = c.string("conflict-policy", "pin");
    if (!policy.equals("pin") && !policy.equals("latest")) {
      throw c.problem("conflict-policy", "must be 'pin' or 'latest', not '" + policy + "'");
    }
    String encapId = c.string("encap-id", "vsid");
    if (!encapId.equals("vsid") && !encapId.equals("raw")) {
      throw c.problem("encap-id", "must be 'vsid' or 'raw', not '" + encapId + "'");
    }
    long idle = c.millis("idle-timeout", 300_000L);
    if (idle <= 0) {
      throw c.problem("idle-timeout", "must be positive");
    }
    int maxFlows = c.integer("max-flows", 0);
    int maxFlowsPerEni = c.integer("max-flows-per-eni", 0);
    if (maxFlows < 0) {
      throw c.problem("max-flows", "must be 0 (no bound) or positive, not " + maxFlows);
    }
    if (maxFlowsPerEni < 0) {
      throw c.problem(
          "max-flows-per-eni", "must be 0 (no bound) or positive, not " + maxFlowsPerEni);
    }
    return new FastpathConfig(
        enis,
        vsidMap,
        strict,
        dev.fastpath.ingest.config.ConflictPolicy.parse(policy),
        dev.fastpath.ingest.config.EncapIdMode.parse(encapId),
        idle,
        maxFlows,
        maxFlowsPerEni);
  }

  private static EniConfig eni(Settings e) {
    e.onlyKnown(ENI_KEYS);
    if (!e.has("mac")) {
      throw e.problem("mac", "is missing (every ENI needs its MAC)");
    }
    long mac = parseMac(e.string("mac", null), e.path("mac"), e.origin);
    if (Macs.isMulticast(mac) || Macs.isZero(mac)) {
      throw e.problem("mac", Macs.format(mac) + " is not a unicast MAC");
    }
    String name = e.string("name", "eni-" + Macs.format(mac).replace(":", ""));
    boolean vip = e.bool("vip", true);
    boolean pe = e.bool("pe", true);
    boolean ilb = e.bool("ilb", true);
    List<EniConfig.VniRange> vnis = new ArrayList<>();
    for (String s : e.strings("trusted-vnis")) {
      try {
        vnis.add(EniConfig.VniRange.parse(s));
      } catch (IllegalArgumentException ex) {
        throw e.problem("trusted-vnis", ex.getMessage());
      }
    }
    List<Ipv4Prefix> muxes = new ArrayList<>();
    for (String s : e.strings("mux-prefixes")) {
      try {
        muxes.add(Ipv4Prefix.parse(s));
      } catch (IllegalArgumentException ex) {
        throw e.problem("mux-prefixes", ex.getMessage());
      }
    }
    return new EniConfig(mac, name, vip, pe, ilb, vnis, muxes);
  }

  /**
   * One object of the file with its full path ({@code fastpath.enis[0]}): every read names the
   * setting and says what was expected when the value has the wrong type, so a user fixes the file
   * from the message alone.
   */
  static final class Settings {
    final Config config;
    final String where;
    final String origin;

    Settings(Config config, String where, String origin) {
      this.config = config;
      this.where = where;
      this.origin = origin;
    }

    String path(String key) {
      return where.isEmpty() ? key : where + "." + key;
    }

    BadConfigException problem(String message) {
      return new BadConfigException(origin + ": " + where + ": " + message);
    }

    BadConfigException problem(String key, String message) {
      return new BadConfigException(origin + ": " + path(key) + ": " + message);
    }

    boolean has(String key) {
      return config.root().containsKey(key)
          && config.root().get(key).valueType() != ConfigValueType.NULL;
    }

    /** Refuses keys that are not settings, with the closest known one as a suggestion. */
    void onlyKnown(List<String> known) {
      for (String key : config.root().keySet()) {
        if (!known.contains(key)) {
          throw problem(key, DidYouMean.unknownSetting(where, key, known));
        }
      }
    }

    private ConfigValue value(String key) {
      return config.root().get(key);
    }

    private BadConfigException wrongType(String key, String expected) {
      ConfigValue v = value(key);
      return problem(
          key,
          "expected "
              + expected
              + ", not "
              + v.valueType().name().toLowerCase(Locale.ROOT)
              + " "
              + v.render(ConfigRenderOptions.concise()));
    }

    Settings object(String key) {
      if (!has(key)) {
        return new Settings(ConfigFactory.empty(), path(key), origin);
      }
      if (value(key).valueType() != ConfigValueType.OBJECT) {
        throw wrongType(key, "an object { ... }");
      }
      return new Settings(((ConfigObject) value(key)).toConfig(), path(key), origin);
    }

    /** A list of objects; empty when absent. */
    List<Settings> objects(String key) {
      List<Settings> out = new ArrayList<>();
      if (!has(key)) {
        return out;
      }
      if (value(key).valueType() != ConfigValueType.LIST) {
        throw wrongType(key, "a list [ { ... }, ... ]");
      }
      ConfigList list = (ConfigList) value(key);
      for (int i = 0; i < list.size(); i++) {
        ConfigValue v = list.get(i);
        String at = path(key) + "[" + i + "]";
        if (v.valueType() != ConfigValueType.OBJECT) {
          throw new BadConfigException(
              origin
                  + ": "
                  + at
                  + ": expected an object { ... }, not "
                  + v.valueType().name().toLowerCase(Locale.ROOT)
                  + " "
                  + v.render(ConfigRenderOptions.concise()));
        }
        out.add(new Settings(((ConfigObject) v).toConfig(), at, origin));
      }
      return out;
    }

    String string(String key, String fallback) {
      if (!has(key)) {
        if (fallback == null) {
          throw problem(key, "is missing");
        }
        return fallback;
      }
      ConfigValueType t = value(key).valueType();
      if (t == ConfigValueType.OBJECT || t == ConfigValueType.LIST) {
        throw wrongType(key, "a string");
      }
      return String.valueOf(value(key).unwrapped());
    }

    boolean bool(String key, boolean fallback) {
      if (!has(key)) {
        return fallback;
      }
      try {
        return config.getBoolean(quoted(key));
      } catch (ConfigException.WrongType e) {
        throw wrongType(key, "true or false");
      }
    }

    int integer(String key, Integer fallback) {
      if (!has(key)) {
        if (fallback == null) {
          throw problem(key, "is missing");
        }
        return fallback;
      }
      try {
        return config.getInt(quoted(key));
      } catch (ConfigException.WrongType e) {
        throw wrongType(key, "a whole number");
      }
    }

    long millis(String key, long fallback) {
      if (!has(key)) {
        return fallback;
      }
      try {
        return config.getDuration(quoted(key)).toMillis();
      } catch (ConfigException.WrongType | ConfigException.BadValue e) {
        throw wrongType(key, "a duration with a unit, e.g. 5m, 30s or 500ms");
      }
    }

    /** A list of strings (numbers are taken as their text); empty when absent. */
    List<String> strings(String key) {
      List<String> out = new ArrayList<>();
      if (!has(key)) {
        return out;
      }
      if (value(key).valueType() != ConfigValueType.LIST) {
        throw wrongType(key, "a list [ \"...\", ... ]");
      }
      ConfigList list = (ConfigList) value(key);
      for (int i = 0; i < list.size(); i++) {
        ConfigValue v = list.get(i);
        if (v.valueType() != ConfigValueType.STRING && v.valueType() != ConfigValueType.NUMBER) {
          throw problem(
              key + "[" + i + "]",
              "expected a string, not "
                  + v.valueType().name().toLowerCase(Locale.ROOT)
                  + " "
                  + v.render(ConfigRenderOptions.concise()));
        }
        out.add(String.valueOf(v.unwrapped()));
      }
      return out;
    }

    /** Keys with dots or quotes must not be read as paths. */
    private static String quoted(String key) {
      return ConfigUtil.joinPath(key);
    }
  }

  private static long parseMac(String text, String where, String origin) {
    try {
      return Macs.parse(text);
    } catch (IllegalArgumentException e) {
      throw new BadConfigException(origin + ": " + where + ": " + e.getMessage(), e);
    }
  }
}
