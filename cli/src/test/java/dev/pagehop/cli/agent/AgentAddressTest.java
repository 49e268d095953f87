package dev.pagehop.cli.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AgentAddressTest {

    @Test
    void parsesHostPortAndBracketedIpv6() {
        assertThat(AgentAddress.parse("127.0.0.1:7070")).isEqualTo(new AgentAddress("127.0.0.1", 7070));
        assertThat(AgentAddress.parse("[::1]:7071")).isEqualTo(new AgentAddress("::1", 7071));
        assertThat(AgentAddress.parse("[::1]:7071").toString()).isEqualTo("[::1]:7071");
        assertThat(AgentAddress.parse(" node-a:1 ").toString()).isEqualTo("node-a:1");
    }

    @Test
    void rejectsWithTheTextAndWhatIsWrong() {
        assertThatThrownBy(() -> AgentAddress.parse("127.0.0.1")).hasMessage(
                "agent address '127.0.0.1' is not host:port, e.g. 127.0.0.1:7070");
        assertThatThrownBy(() -> AgentAddress.parse("h:http")).hasMessage("agent address 'h:http': port 'http' is not a number");
        assertThatThrownBy(() -> AgentAddress.parse("h:70000")).hasMessage("agent address 'h:70000': port 70000 is outside 1..65535");
        assertThatThrownBy(() -> AgentAddress.parse("::1:7070")).hasMessageContaining("IPv6 hosts in brackets");
        assertThatThrownBy(() -> AgentAddress.parse("")).hasMessageContaining("empty");
    }
}
