package dev.pagehop.mm;

/** The implementation of {@link MemoryManager}. */
final class AddressSpace {
    private AddressSpace() {
    }

    static MemoryManager create(MmConfig config) {
        throw new UnsupportedOperationException("memory manager not implemented yet");
    }
}
