package dev.pagehop.cli;

/**
 * Whether standard output is a terminal a live display can redraw, and how wide it is.
 * {@code TERM=dumb} (Emacs shells, some CI consoles) counts as not a terminal.
 */
public record Terminal(boolean interactive, int columns) {

    public static Terminal detect() {
        java.io.Console c = System.console();
        boolean tty = c != null && c.isTerminal() && !"dumb".equals(System.getenv("TERM"));
        int columns = 100;
        String env = System.getenv("COLUMNS");
        if (env != null && env.matches("\\d{2,4}")) {
            columns = Integer.parseInt(env);
        }
        return new Terminal(tty, columns);
    }
}
