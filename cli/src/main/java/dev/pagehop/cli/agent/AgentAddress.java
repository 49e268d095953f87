package dev.pagehop.cli.agent;

/**
 * Where an agent's gRPC port is: {@code host:port}, as users type it and as error messages show
 * it. IPv6 literals take brackets ({@code [::1]:7001}), as in URLs.
 */
public record AgentAddress(String host, int port) {

    public AgentAddress {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("agent address needs a host");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("agent port " + port + " is outside 1..65535");
        }
    }

    /** Parses {@code host:port}; the message names what is wrong with the text. */
    public static AgentAddress parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("agent address is empty; expected host:port, e.g. 127.0.0.1:7070");
        }
        String t = text.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("agent address '" + text + "' is not host:port, e.g. 127.0.0.1:7070");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("agent address '" + text + "': write IPv6 hosts in brackets, e.g. [::1]:7001");
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("agent address '" + text + "': port '" + t.substring(colon + 1)
                    + "' is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("agent address '" + text + "': port " + port + " is outside 1..65535");
        }
        return new AgentAddress(host, port);
    }

    @Override
    public String toString() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}
