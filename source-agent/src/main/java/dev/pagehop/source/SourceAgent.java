package dev.pagehop.source;

/** Entry point of the source agent. */
public final class SourceAgent {
    private SourceAgent() {
    }

    public static void main(String[] args) {
        System.err.println("pagehop source-agent: not implemented yet");
        System.exit(2);
    }
}
