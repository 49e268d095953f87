package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.cli.demo.AgentLauncher;
import dev.pagehop.cli.demo.ProcessAgentLauncher;

/**
 * What the commands need from the world outside the command line: how to reach agents, whether
 * output goes to a terminal, and how the demo starts agents. The real one talks TCP and starts
 * OS processes; tests pass in-process channels and launchers.
 */
public record CliContext(AgentChannels channels, Terminal terminal, AgentLauncher launcher) {

    public static CliContext system() {
        return new CliContext(AgentChannels.tcp(), Terminal.detect(), ProcessAgentLauncher.fromRunningJvm());
    }
}
