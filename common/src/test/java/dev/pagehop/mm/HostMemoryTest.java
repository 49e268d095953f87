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
    void blocksAreZeroAlignedAndWritable(long alignment) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = HostMemory.allocate(arena, 4 * MIB, alignment);
            assertThat(s.byteSize()).isEqualTo(4 * MIB);
            assertThat(s.address() % alignment).as("address 0x%x aligned to %d", s.address(), alignment).isZero();
            assertThat(s.mismatch(MemorySegment.ofArray(new byte[(int) (4 * MIB)]))).isEqualTo(-1);
            s.set(ValueLayout.JAVA_LONG, 4 * MIB - 8, 0x1122334455667788L);
            s.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
            assertThat(s.get(ValueLayout.JAVA_LONG, 4 * MIB - 8)).isEqualTo(0x1122334455667788L);
            assertThat(s.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 7);
        }
    }

    @Test
    void chunksAreZeroAndAlignedForEveryGranule() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment c = HostMemory.chunk(arena);
            assertThat(c.byteSize()).isEqualTo(HostMemory.CHUNK_BYTES);
            assertThat(c.address() % HostMemory.CHUNK_ALIGNMENT).isZero();
            assertThat(c.mismatch(MemorySegment.ofArray(new byte[(int) HostMemory.CHUNK_BYTES]))).isEqualTo(-1);
        }
    }

    @Test
    void aChunkRecycledFromAnEndedMachineComesBackZeroed() {
        assumeTrue(HostMemory.mapped(), "frames come from Arena.allocate here (no mmap downcall)");
        long freed;
        try (Arena first = Arena.ofShared()) {
            MemorySegment c = HostMemory.chunk(first);
            freed = c.address();
            for (long off = 0; off < c.byteSize(); off += 4096) {
                c.set(ValueLayout.JAVA_LONG, off, off * 31 + 1);
            }
            c.set(ValueLayout.JAVA_BYTE, c.byteSize() - 1, (byte) 0x5a);
        }
        try (Arena second = Arena.ofShared()) {
            // The pool is last in, first out: the chunk just freed is the next one handed out
            // (the loop only guards against a chunk freed meanwhile by another thread).
            MemorySegment again = null;
            for (int i = 0; i <= HostMemory.pooledChunks() && again == null; i++) {
                MemorySegment c = HostMemory.chunk(second);
                if (c.address() == freed) {
                    again = c;
                }
            }
            assertThat(again).as("chunk 0x%x back from the pool", freed).isNotNull();
            assertThat(again.mismatch(MemorySegment.ofArray(new byte[(int) HostMemory.CHUNK_BYTES])))
                    .as("first non-zero byte of the recycled chunk").isEqualTo(-1);
        }
    }

    @Test
    void closingTheArenaGivesABlockBackToTheHost() throws IOException {
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
