package dev.pagehop.cli.options;

import dev.pagehop.proto.types.v1.AutoConverge;
import dev.pagehop.proto.types.v1.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.NoConvergenceAction;
import dev.pagehop.proto.types.v1.Tracker;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The enumerated values of the command line, spelled as users type them ({@code uffd-wp-async},
 * {@code 16k}), each mapping to its wire enum. {@code toString} gives the spelling, so picocli's
 * help lists the candidates as they are typed.
 */
public final class Choices {
    private Choices() {
    }

    /** Case-insensitive lookup by spelling, failing with the list of valid values. */
    public static <E extends Enum<E>> E parse(Class<E> type, String what, String text) {
        for (E e : type.getEnumConstants()) {
            if (e.toString().equalsIgnoreCase(text.trim())) {
                return e;
            }
        }
        throw new IllegalArgumentException(what + " '" + text + "' is not one of "
                + Arrays.stream(type.getEnumConstants()).map(Object::toString).collect(Collectors.joining(", ")));
    }

    static String spell(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public enum TrackerChoice {
        UFFD_WP_ASYNC(Tracker.TRACKER_UFFD_WP_ASYNC),
        SOFT_DIRTY(Tracker.TRACKER_SOFT_DIRTY),
        UFFD_WP_SYNC(Tracker.TRACKER_UFFD_WP_SYNC);

        private final Tracker wire;

        TrackerChoice(Tracker wire) {
            this.wire = wire;
        }

        public Tracker wire() {
            return wire;
        }

        @Override
        public String toString() {
            return spell(this);
        }
    }

    public enum ModeChoice {
        PRECOPY(MigrationMode.MIGRATION_MODE_PRECOPY),
        POSTCOPY(MigrationMode.MIGRATION_MODE_POSTCOPY),
        HYBRID(MigrationMode.MIGRATION_MODE_HYBRID);

        private final MigrationMode wire;

        ModeChoice(MigrationMode wire) {
            this.wire = wire;
        }

        public MigrationMode wire() {
            return wire;
        }

        @Override
        public String toString() {
            return spell(this);
        }
    }

    public enum GranuleChoice {
        G4K("4k", Granule.GRANULE_4K),
        G16K("16k", Granule.GRANULE_16K),
        G64K("64k", Granule.GRANULE_64K);

        private final String spelling;
        private final Granule wire;

        GranuleChoice(String spelling, Granule wire) {
            this.spelling = spelling;
            this.wire = wire;
        }

        public Granule wire() {
            return wire;
        }

        @Override
        public String toString() {
            return spelling;
        }
    }

    public enum AutoConvergeChoice {
        OFF(AutoConverge.AUTO_CONVERGE_OFF),
        THROTTLE(AutoConverge.AUTO_CONVERGE_THROTTLE),
        ABORT(AutoConverge.AUTO_CONVERGE_ABORT);

        private final AutoConverge wire;

        AutoConvergeChoice(AutoConverge wire) {
            this.wire = wire;
        }

        public AutoConverge wire() {
            return wire;
        }

        @Override
        public String toString() {
            return spell(this);
        }
    }

    public enum NoConvergenceChoice {
        ABORT(NoConvergenceAction.NO_CONVERGENCE_ACTION_ABORT),
        SWITCHOVER(NoConvergenceAction.NO_CONVERGENCE_ACTION_SWITCHOVER),
        POSTCOPY(NoConvergenceAction.NO_CONVERGENCE_ACTION_POSTCOPY);

        private final NoConvergenceAction wire;

        NoConvergenceChoice(NoConvergenceAction wire) {
            this.wire = wire;
        }

        public NoConvergenceAction wire() {
            return wire;
        }

        @Override
        public String toString() {
            return spell(this);
        }
    }

    /** How {@code migrate} and {@code watch} show progress. */
    public enum ProgressChoice {
        /** Live on a terminal, plain lines otherwise. */
        AUTO,
        LIVE,
        PLAIN,
        NONE;

        @Override
        public String toString() {
            return spell(this);
        }
    }

    public enum OutputChoice {
        TEXT,
        JSON;

        @Override
        public String toString() {
            return spell(this);
        }
    }
}
