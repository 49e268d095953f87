package dev.pagehop.cli.output;

import com.google.protobuf.ProtocolMessageEnum;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.TargetPhase;
import java.util.Locale;

/**
 * Wire enum values as the command line spells them: {@code SOURCE_PHASE_STOP_AND_COPY} is
 * "stop-and-copy", {@code TRACKER_UFFD_WP_ASYNC} "uffd-wp-async", {@code GRANULE_16K} "16k".
 */
public final class Names {
    private Names() {
    }

    public static String of(ProtocolMessageEnum value) {
        Enum<?> e = (Enum<?>) value;
        String name = e.name();
        if (name.endsWith("_UNSPECIFIED")) {
            return "-";
        }
        if (name.equals("UNRECOGNIZED")) {
            return "unknown(" + value.getNumber() + ")";
        }
        String prefix = e.getDeclaringClass().getSimpleName()
                .replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT) + "_";
        String rest = name.startsWith(prefix) ? name.substring(prefix.length()) : name;
        return rest.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The phase of whichever side the record comes from. */
    public static String phase(MigrationInfo m) {
        if (m.getSourcePhase() != SourcePhase.SOURCE_PHASE_UNSPECIFIED) {
            return of(m.getSourcePhase());
        }
        return of(m.getTargetPhase());
    }

    /** Ended, one way or the other, on either side. */
    public static boolean ended(MigrationInfo m) {
        return switch (m.getSourcePhase()) {
            case SOURCE_PHASE_COMPLETED, SOURCE_PHASE_FAILED, SOURCE_PHASE_CANCELLED -> true;
            case SOURCE_PHASE_UNSPECIFIED -> m.getTargetPhase() == TargetPhase.TARGET_PHASE_RUNNING
                    || m.getTargetPhase() == TargetPhase.TARGET_PHASE_ABORTED
                    || m.getTargetPhase() == TargetPhase.TARGET_PHASE_FAILED;
            default -> false;
        };
    }
}
