package dev.pagehop.cli.demo;

import dev.pagehop.cli.agent.AgentAddress;

/** An agent the demo started; stopping it shuts it down gracefully (and forcibly if it hangs). */
public interface LaunchedAgent {

    AgentAddress address();

    /** Where its output went, or how it runs ("in-process"), for the user. */
    String where();

    /** Stops the agent; returns a short description of how it ended ("exited 0"). */
    String stop();
}
