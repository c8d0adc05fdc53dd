package dev.fastpath.flow.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.Topics;
import org.junit.jupiter.api.Test;

class KafkaLogSettingsTest {
  @Test
  void defaultsComeFromReferenceConfAndMatchTheSharedTopicNames() {
    KafkaLogSettings s = KafkaLogSettings.fromConfig(ConfigFactory.load(), "127.0.0.1:9092");
    assertThat(s.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(s.auditTopic()).isEqualTo(Topics.AUDIT);
    assertThat(s.stateTopic()).isEqualTo(Topics.STATE);
    assertThat(s.auditPartitions()).isEqualTo(Topics.DEFAULT_PARTITIONS);
    assertThat(s.node()).isNotBlank();
  }

  @Test
  void missingBootstrapIsAClearError() {
    assertThatThrownBy(() -> KafkaLogSettings.fromConfig(ConfigFactory.load(), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bootstrap");
  }
}
