package dev.pagehop.cli.demo;

import java.io.IOException;

/** Starts an agent for the demo: a separate OS process in real use, something lighter in tests. */
public interface AgentLauncher {

    enum Role {
        SOURCE("source agent", "dev.pagehop.source.SourceAgent"),
        TARGET("target agent", "dev.pagehop.target.TargetAgent");

        private final String label;
        private final String mainClass;

        Role(String label, String mainClass) {
            this.label = label;
            this.mainClass = mainClass;
        }

        public String label() {
            return label;
        }

        public String mainClass() {
            return mainClass;
        }
    }

    /** Starts the agent and returns once it listens (its address known), or fails naming why. */
    LaunchedAgent start(Role role, String name) throws IOException;
}
