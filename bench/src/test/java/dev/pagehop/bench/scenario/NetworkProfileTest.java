package dev.pagehop.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NetworkProfileTest {

    @Test
    void loopbackNeedsNothingAndStaysOnLoopback() throws Exception {
        assertThat(NetworkProfile.unavailableReason("loopback")).isNull();
        try (NetworkProfile p = NetworkProfile.open("loopback")) {
            assertThat(p.sourcePrefix()).isEmpty();
            assertThat(p.migrationHost()).isEqualTo("127.0.0.1");
            assertThat(p.sourceControlHost()).isEqualTo("127.0.0.1");
            assertThat(p.targetControlHost()).isEqualTo("127.0.0.1");
        }
    }

    @Test
    void unknownProfileIsNamed() {
        assertThat(NetworkProfile.unavailableReason("100mbit")).contains("unknown bandwidth profile '100mbit'");
        assertThatThrownBy(() -> NetworkProfile.open("100mbit")).hasMessageContaining("100mbit");
    }

    @Test
    void cappedProfilesNeedRoot() {
        String why = NetworkProfile.unavailableReason("1gbit");
        if (NetworkProfile.isRoot()) {
            assertThat(why == null || why.contains("iproute2")).isTrue();
        } else {
            assertThat(why).contains("needs root").contains("skipped");
        }
    }

    @Test
    void agentCpuTimeIsReadFromProcStat() {
        long self = ProcessHandle.current().pid();
        assertThat(AgentProcess.cpuMillis(self)).isGreaterThanOrEqualTo(0);
        assertThat(AgentProcess.cpuMillis(Long.MAX_VALUE)).isEqualTo(-1);
    }
}
