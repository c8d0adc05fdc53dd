package dev.fastpath.flow.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.ConflictPolicy;
import dev.fastpath.ingest.config.EncapIdMode;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.config.Ipv4Prefix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FastpathConfigLoaderTest {
  @TempDir Path dir;

  @Test
  void readsEnisTogglesRangesAndPolicies() throws Exception {
    Path f = dir.resolve("f.conf");
    Files.writeString(
        f,
        """
        fastpath {
          enis = [
            { mac = "60:45:BD:25:FE:3B", name = web, pe = false,
              trusted-vnis = ["0x100-0x1ff", "4096"], mux-prefixes = ["10.1.0.0/16"] }
          ]
          conflict-policy = latest
          encap-id = raw
          idle-timeout = 5s
          strict-icmpv6-checksum = true
          vsid-map = [ { family = 6, vsid = 252, scenario = pe } ]
        }
        """);
    FastpathConfig c = FastpathConfigLoader.load(f, List.of("00:22:48:c2:a4:bf"));

    assertThat(c.enis()).hasSize(2);
    var web = c.enis().get(0);
    assertThat(web.mac()).isEqualTo(Macs.parse("60:45:bd:25:fe:3b"));
    assertThat(web.name()).isEqualTo("web");
    assertThat(web.enabled(Scenario.PE)).isFalse();
    assertThat(web.enabled(Scenario.VIP)).isTrue();
    assertThat(web.encapIdTrusted(0x180)).isTrue();
    assertThat(web.encapIdTrusted(4096)).isTrue();
    assertThat(web.encapIdTrusted(0x200)).isFalse();
    assertThat(web.muxTrusted((int) dev.fastpath.ingest.IpAddrs.lo(new byte[] {10, 1, 2, 3})))
        .isTrue();
    assertThat(web.muxTrusted((int) dev.fastpath.ingest.IpAddrs.lo(new byte[] {10, 2, 2, 3})))
        .isFalse();
    assertThat(c.enis().get(1).mac()).isEqualTo(Macs.parse("00:22:48:c2:a4:bf"));
    assertThat(c.conflictPolicy()).isEqualTo(ConflictPolicy.LATEST);
    assertThat(c.encapIdMode()).isEqualTo(EncapIdMode.RAW);
    assertThat(c.idleTimeoutMillis()).isEqualTo(5000);
    assertThat(c.strictIcmpv6Checksum()).isTrue();
    assertThat(c.scenarioFor(6, 252)).isEqualTo(Scenario.PE);
    assertThat(c.scenarioFor(4, 253)).isNull();
  }

  @Test
  void defaultsFollowTheSpec() {
    FastpathConfig c = FastpathConfigLoader.load(null, List.of());
    assertThat(c.conflictPolicy()).isEqualTo(ConflictPolicy.PIN);
    assertThat(c.encapIdMode()).isEqualTo(EncapIdMode.VSID);
    assertThat(c.idleTimeoutMillis()).isEqualTo(300_000);
    assertThat(c.scenarioFor(4, 253)).isEqualTo(Scenario.VIP);
    assertThat(c.scenarioFor(6, 254)).isEqualTo(Scenario.PE);
    assertThat(c.scenarioFor(4, 254)).isEqualTo(Scenario.ILB);
  }

  @Test
  void badSettingsAreNamed() {
    assertThatThrownBy(() -> FastpathConfigLoader.parseString("fastpath.conflict-policy = first"))
        .hasMessageContaining("fastpath.conflict-policy")
        .hasMessageContaining("first");
    assertThatThrownBy(
            () -> FastpathConfigLoader.parseString("fastpath.enis = [ { mac = \"zz:00\" } ]"))
        .hasMessageContaining("fastpath.enis[0].mac");
    assertThatThrownBy(
            () ->
                FastpathConfigLoader.parseString(
                    "fastpath.enis = [ { mac = \"02:00:00:00:00:01\", mux-prefixes = [\"10.0.0.0/40\"] } ]"))
        .hasMessageContaining("mux-prefixes");
    assertThatThrownBy(
            () ->
                FastpathConfigLoader.parseString(
                    "fastpath.enis = [ { mac = \"02:00:00:00:00:01\" }, { mac = \"02:00:00:00:00:01\" } ]"))
        .hasMessageContaining("twice");
    assertThatThrownBy(() -> FastpathConfigLoader.parseString("fastpath { enis = [ "))
        .isInstanceOf(FastpathConfigLoader.BadConfigException.class);
    assertThatThrownBy(() -> FastpathConfigLoader.load(dir.resolve("missing.conf"), List.of()))
        .hasMessageContaining("not found");
    assertThat(Ipv4Prefix.parse("10.1.0.0/16").toString()).isEqualTo("10.1.0.0/16");
  }

  @Test
  void misspeltSettingsAreRefusedWithTheirPathAndTheClosestName() throws Exception {
    Path f = dir.resolve("typo.conf");
    Files.writeString(f, "fastpath {\n  idle-timout = 5s\n}\n");
    assertThatThrownBy(() -> FastpathConfigLoader.load(f, List.of()))
        .isInstanceOf(FastpathConfigLoader.BadConfigException.class)
        .hasMessageStartingWith(f + ": fastpath.idle-timout: unknown setting")
        .hasMessageContaining("did you mean 'fastpath.idle-timeout'?");
    assertThatThrownBy(
            () ->
                FastpathConfigLoader.parseString(
                    "fastpath.enis = [ { mac = \"02:00:00:00:00:01\", muxprefixes = [] } ]"))
        .hasMessageContaining("fastpath.enis[0].muxprefixes: unknown setting")
        .hasMessageContaining("did you mean 'fastpath.enis[0].mux-prefixes'?");
    assertThatThrownBy(
            () ->
                FastpathConfigLoader.parseString(
                    "fastpath.vsid-map = [ { family = 6, vsid = 252, senario = PE } ]"))
        .hasMessageContaining("fastpath.vsid-map[0].senario: unknown setting")
        .hasMessageContaining("did you mean 'fastpath.vsid-map[0].scenario'?");
    assertThatThrownBy(() -> FastpathConfigLoader.parseString("fastpth { enis = [] }"))
        .hasMessageContaining("fastpth: unknown setting")
        .hasMessageContaining("did you mean 'fastpath'?");
    // No near name: no guess, but the list of what is allowed.
    assertThatThrownBy(() -> FastpathConfigLoader.parseString("fastpath.colour = red"))
        .hasMessageContaining("fastpath.colour: unknown setting;")
        .hasMessageNotContaining("did you mean")
        .hasMessageContaining("idle-timeout");
  }

  @Test
  void wrongTypesNameTheSettingAndWhatWasExpected() {
    assertThatThrownBy(
            () ->
                FastpathConfigLoader.parseString(
                    "fastpath.enis = [ { mac = \"02:00:00:00:00:01\", vip = maybe } ]"))
        .isInstanceOf(FastpathConfigLoader.BadConfigException.class)
        .hasMessageContaining("fastpath.enis[0].vip: expected true or false, not string");
    assertThatThrownBy(
            () ->
                FastpathConfigLoader.parseString(
                    "fastpath.enis = [ { mac = \"02:00:00:00:00:01\" }, { mac = [1] } ]"))
        .hasMessageContaining("fastpath.enis[1].mac: expected a string, not list [1]");
    assertThatThrownBy(() -> FastpathConfigLoader.parseString("fastpath.idle-timeout = soon"))
        .hasMessageContaining("fastpath.idle-timeout: expected a duration with a unit");
    assertThatThrownBy(() -> FastpathConfigLoader.parseString("fastpath.enis = { mac = x }"))
        .hasMessageContaining("fastpath.enis: expected a list");
    assertThatThrownBy(
            () -> FastpathConfigLoader.parseString("fastpath.enis = [ \"02:00:00:00:00:01\" ]"))
        .hasMessageContaining("fastpath.enis[0]: expected an object");
    assertThatThrownBy(
            () ->
                FastpathConfigLoader.parseString(
                    "fastpath.vsid-map = [ { family = six, vsid = 1, scenario = PE } ]"))
        .hasMessageContaining("fastpath.vsid-map[0].family: expected a whole number");
    assertThatThrownBy(
            () ->
                FastpathConfigLoader.parseString(
                    "fastpath.enis = [ { mac = \"02:00:00:00:00:01\", trusted-vnis = [ {a = 1} ] } ]"))
        .hasMessageContaining("fastpath.enis[0].trusted-vnis[0]: expected a string");
    assertThatThrownBy(() -> FastpathConfigLoader.parseString("fastpath = 3"))
        .hasMessageContaining("fastpath: expected an object");
    assertThatThrownBy(() -> FastpathConfigLoader.parseString("fastpath.enis = [ { name = x } ]"))
        .hasMessageContaining("fastpath.enis[0].mac: is missing");
  }

  @Test
  void theShippedExampleHasOnlyKnownSettings() throws Exception {
    Path example = null;
    for (Path d = Path.of("").toAbsolutePath(); d != null && example == null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("config/fastpath.conf"))) {
        example = d.resolve("config/fastpath.conf");
      }
    }
    assertThat(example).isNotNull();
    assertThat(FastpathConfigLoader.load(example, List.of()).enis()).hasSize(1);
  }
}
