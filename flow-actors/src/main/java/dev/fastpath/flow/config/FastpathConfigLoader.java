package dev.fastpath.flow.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
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

  static FastpathConfig fromConfig(Config root, List<String> extraEniMacs, String origin) {
    Config c = root.hasPath("fastpath") ? root.getConfig("fastpath") : ConfigFactory.empty();
    try {
      List<EniConfig> enis = new ArrayList<>();
      Set<Long> seen = new HashSet<>();
      if (c.hasPath("enis")) {
        List<? extends Config> list = c.getConfigList("enis");
        for (int i = 0; i < list.size(); i++) {
          EniConfig eni = eni(list.get(i), "fastpath.enis[" + i + "]", origin);
          if (!seen.add(eni.mac())) {
            throw new BadConfigException(
                origin
                    + ": fastpath.enis["
                    + i
                    + "]: ENI "
                    + Macs.format(eni.mac())
                    + " is configured twice");
          }
          enis.add(eni);
        }
      }
      for (String mac : extraEniMacs) {
        long m = parseMac(mac, "--eni", origin);
        if (seen.add(m)) {
          enis.add(EniConfig.allEnabled(m, "eni-" + Macs.format(m).replace(":", "")));
        }
      }
      Map<Long, Scenario> vsidMap = FastpathConfig.defaultVsidMap();
      if (c.hasPath("vsid-map")) {
        vsidMap = new LinkedHashMap<>();
        List<? extends Config> list = c.getConfigList("vsid-map");
        for (int i = 0; i < list.size(); i++) {
          Config e = list.get(i);
          String where = origin + ": fastpath.vsid-map[" + i + "]";
          int family = e.getInt("family");
          if (family != 4 && family != 6) {
            throw new BadConfigException(where + ".family must be 4 or 6, not " + family);
          }
          int vsid = e.getInt("vsid");
          if (vsid < 0 || vsid > 0xFFFFFF) {
            throw new BadConfigException(where + ".vsid must be a 24-bit VSID, not " + vsid);
          }
          String s = e.getString("scenario").toUpperCase(Locale.ROOT);
          Scenario scenario;
          switch (s) {
            case "VIP" -> scenario = Scenario.VIP;
            case "PE" -> scenario = Scenario.PE;
            case "ILB" -> scenario = Scenario.ILB;
            default ->
                throw new BadConfigException(
                    where
                        + ".scenario must be VIP, PE or ILB, not '"
                        + e.getString("scenario")
                        + "'");
          }
          vsidMap.put(FastpathConfig.vsidKey(family, vsid), scenario);
        }
      }
      boolean strict =
          c.hasPath("strict-icmpv6-checksum") && c.getBoolean("strict-icmpv6-checksum");
      String policy = c.hasPath("conflict-policy") ? c.getString("conflict-policy") : "pin";
      if (!policy.equals("pin") && !policy.equals("latest")) {
        throw new BadConfigException(
            origin + ": fastpath.conflict-policy must be 'pin' or 'latest', not '" + policy + "'");
      }
      String encapId = c.hasPath("encap-id") ? c.getString("encap-id") : "vsid";
      if (!encapId.equals("vsid") && !encapId.equals("raw")) {
        throw new BadConfigException(
            origin + ": fastpath.encap-id must be 'vsid' or 'raw', not '" + encapId + "'");
      }
      long idle = c.hasPath("idle-timeout") ? c.getDuration("idle-timeout").toMillis() : 300_000L;
      if (idle <= 0) {
        throw new BadConfigException(origin + ": fastpath.idle-timeout must be positive");
      }
      long maxFlows = c.hasPath("max-flows") ? c.getLong("max-flows") : 0;
      long maxFlowsPerEni = c.hasPath("max-flows-per-eni") ? c.getLong("max-flows-per-eni") : 0;
      if (maxFlows < 0 || maxFlowsPerEni < 0) {
        throw new BadConfigException(
            origin + ": fastpath.max-flows and max-flows-per-eni are 0 (no bound) or positive");
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
    } catch (ConfigException e) {
      throw new BadConfigException(origin + ": " + e.getMessage(), e);
    }
  }

  private static EniConfig eni(Config e, String where, String origin) {
    if (!e.hasPath("mac")) {
      throw new BadConfigException(origin + ": " + where + ".mac is missing");
    }
    long mac = parseMac(e.getString("mac"), where + ".mac", origin);
    if (Macs.isMulticast(mac) || Macs.isZero(mac)) {
      throw new BadConfigException(
          origin + ": " + where + ".mac " + Macs.format(mac) + " is not a unicast MAC");
    }
    String name =
        e.hasPath("name") ? e.getString("name") : "eni-" + Macs.format(mac).replace(":", "");
    boolean vip = !e.hasPath("vip") || e.getBoolean("vip");
    boolean pe = !e.hasPath("pe") || e.getBoolean("pe");
    boolean ilb = !e.hasPath("ilb") || e.getBoolean("ilb");
    List<EniConfig.VniRange> vnis = new ArrayList<>();
    if (e.hasPath("trusted-vnis")) {
      for (String s : e.getStringList("trusted-vnis")) {
        try {
          vnis.add(EniConfig.VniRange.parse(s));
        } catch (IllegalArgumentException ex) {
          throw new BadConfigException(
              origin + ": " + where + ".trusted-vnis: " + ex.getMessage(), ex);
        }
      }
    }
    List<Ipv4Prefix> muxes = new ArrayList<>();
    if (e.hasPath("mux-prefixes")) {
      for (String s : e.getStringList("mux-prefixes")) {
        try {
          muxes.add(Ipv4Prefix.parse(s));
        } catch (IllegalArgumentException ex) {
          throw new BadConfigException(
              origin + ": " + where + ".mux-prefixes: " + ex.getMessage(), ex);
        }
      }
    }
    return new EniConfig(mac, name, vip, pe, ilb, vnis, muxes);
  }

  private static long parseMac(String text, String where, String origin) {
    try {
      return Macs.parse(text);
    } catch (IllegalArgumentException e) {
      throw new BadConfigException(origin + ": " + where + ": " + e.getMessage(), e);
    }
  }
}
