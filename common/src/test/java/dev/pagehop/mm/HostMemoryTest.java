package dev.pagehop.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HostMemoryTest {
    private static final long MIB = 1L << 20;

    @ParameterizedTest
    @ValueSource(longs = {4096, 16384, 65536})
    void memoryIsZeroAlignedToTheFrameSizeAndWritable(long alignment) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = HostMemory.allocate(arena, 4 * MIB, alignment);
            assertThat(s.byteSize()).isEqualTo(4 * MIB);
            assertThat(s.address() % alignment).as("address 0x%x aligned to %d", s.address(), alignment).isZero();
            assertThat(s.asSlice(0, 2 * MIB).mismatch(MemorySegment.ofArray(new byte[(int) (2 * MIB)]))).isEqualTo(-1);
            HostMemory.populate(s.asSlice(0, 2 * MIB));
            assertThat(s.asSlice(0, 2 * MIB).mismatch(MemorySegment.ofArray(new byte[(int) (2 * MIB)])))
                    .as("populating must not change contents").isEqualTo(-1);
            s.set(ValueLayout.JAVA_LONG, 4 * MIB - 8, 0x1122334455667788L);
            s.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
            assertThat(s.get(ValueLayout.JAVA_LONG, 4 * MIB - 8)).isEqualTo(0x1122334455667788L);
            assertThat(s.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 7);
        }
    }

    @Test
    void populatingWrittenMemoryKeepsItsBytes() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = HostMemory.allocate(arena, 2 * MIB, 4096);
            for (long off = 0; off < 2 * MIB; off += 4096) {
                s.set(ValueLayout.JAVA_LONG, off, off * 31 + 1);
            }
            HostMemory.populate(s);
            for (long off = 0; off < 2 * MIB; off += 4096) {
                assertThat(s.get(ValueLayout.JAVA_LONG, off)).as("offset %d", off).isEqualTo(off * 31 + 1);
            }
        }
    }

    @Test
    void closingTheArenaGivesTheMappingBackToTheHost() throws IOException {
        assumeTrue(HostMemory.mapped(), "frames come from Arena.allocate here (no mmap downcall)");
        long before = HostMemory.mappedBytes();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = HostMemory.allocate(arena, 8 * MIB, 65536);
            long start = s.address();
            assertThat(mappingContains(start)).as("0x%x mapped while the arena is open", start).isTrue();
            assertThat(mappingContains(start + 8 * MIB - 1)).isTrue();
            assertThat(HostMemory.mappedBytes()).isEqualTo(before + 8 * MIB);
        }
        // munmap succeeded (it throws otherwise) for exactly what was mapped. The address range
        // itself is not checked: another thread of this JVM may map something there at once.
        assertThat(HostMemory.mappedBytes()).isEqualTo(before);
    }

    /** Whether an address lies in a mapping of this process (/proc/self/maps). */
    private static boolean mappingContains(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            long lo = Long.parseUnsignedLong(range[0], 16);
            long hi = Long.parseUnsignedLong(range[1], 16);
            if (Long.compareUnsigned(address, lo) >= 0 && Long.compareUnsigned(address, hi) < 0) {
                return true;
            }
        }
        return false;
    }
}
