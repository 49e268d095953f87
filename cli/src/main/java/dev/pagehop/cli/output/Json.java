package dev.pagehop.cli.output;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.io.PrintWriter;

/**
 * JSON output: the proto messages themselves in protobuf's canonical JSON mapping, so a script
 * reading {@code pagehop status -o json} sees the same field names as a gRPC client. Fields at
 * their default value are printed too: a script should find {@code "rounds": 0}, not nothing.
 */
public final class Json {
    private static final JsonFormat.Printer PRETTY = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();
    private static final JsonFormat.Printer LINE = PRETTY.omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private Json() {
    }

    /** A whole document, indented. */
    public static void print(PrintWriter out, Message m) {
        out.println(text(m, PRETTY));
        out.flush();
    }

    /** One message per line (JSON Lines), for streams such as {@code watch -o json}. */
    public static void printLine(PrintWriter out, Message m) {
        out.println(text(m, LINE));
        out.flush();
    }

    public static String text(Message m) {
        return text(m, PRETTY);
    }

    /** Reads a message printed by {@link #print} (e.g. a saved {@code status -o json}). */
    public static <B extends Message.Builder> B parse(String json, B builder) {
        try {
            PARSER.merge(json, builder);
            return builder;
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a " + builder.getDescriptorForType().getName() + " in JSON: "
                    + e.getMessage(), e);
        }
    }

    private static String text(Message m, JsonFormat.Printer p) {
        try {
            return p.print(m);
        } catch (InvalidProtocolBufferException e) {
            // Only Any fields with unknown types fail to print; our messages have none.
            throw new IllegalStateException("cannot print " + m.getDescriptorForType().getName() + " as JSON", e);
        }
    }
}
