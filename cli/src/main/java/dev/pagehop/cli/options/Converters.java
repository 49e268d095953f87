package dev.pagehop.cli.options;

import dev.pagehop.cli.agent.AgentAddress;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** picocli converters for the quantities and addresses of the command line; messages name the bad text. */
public final class Converters {
    private Converters() {
    }

    public static final class Size implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return Quantities.bytes(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    public static final class Rate implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return Quantities.bytesPerSecond(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    public static final class Millis implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return Quantities.millis(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    public static final class Address implements ITypeConverter<AgentAddress> {
        @Override
        public AgentAddress convert(String value) {
            try {
                return AgentAddress.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Base of the per-enum converters annotations name (an annotation needs a class, not a lambda). */
    abstract static class Choice<E extends Enum<E>> implements ITypeConverter<E> {
        private final Class<E> type;
        private final String what;

        Choice(Class<E> type, String what) {
            this.type = type;
            this.what = what;
        }

        @Override
        public E convert(String value) {
            try {
                return Choices.parse(type, what, value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    public static final class Tracker extends Choice<Choices.TrackerChoice> {
        public Tracker() {
            super(Choices.TrackerChoice.class, "tracker");
        }
    }

    public static final class Mode extends Choice<Choices.ModeChoice> {
        public Mode() {
            super(Choices.ModeChoice.class, "mode");
        }
    }

    public static final class Granule extends Choice<Choices.GranuleChoice> {
        public Granule() {
            super(Choices.GranuleChoice.class, "granule");
        }
    }

    public static final class AutoConverge extends Choice<Choices.AutoConvergeChoice> {
        public AutoConverge() {
            super(Choices.AutoConvergeChoice.class, "auto-converge");
        }
    }

    public static final class NoConvergence extends Choice<Choices.NoConvergenceChoice> {
        public NoConvergence() {
            super(Choices.NoConvergenceChoice.class, "no-convergence action");
        }
    }

    public static final class Progress extends Choice<Choices.ProgressChoice> {
        public Progress() {
            super(Choices.ProgressChoice.class, "progress");
        }
    }

    public static final class Output extends Choice<Choices.OutputChoice> {
        public Output() {
            super(Choices.OutputChoice.class, "output");
        }
    }

    /** An enum by its command-line spelling ({@code uffd-wp-async}, {@code 16k}). */
    public static <E extends Enum<E>> ITypeConverter<E> choice(Class<E> type, String what) {
        return value -> {
            try {
                return Choices.parse(type, what, value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        };
    }
}
