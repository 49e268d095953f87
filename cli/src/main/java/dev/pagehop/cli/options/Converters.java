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
