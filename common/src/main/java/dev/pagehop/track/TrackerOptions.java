package dev.pagehop.track;

/**
 * How a tracker is run.
 *
 * @param trueWriteLog the real writes, to count false positives (tests, benchmarks); null in production
 * @param writerFreeze stops the writers during a soft-dirty collect; null when the tracker
 *                     never needs it (uffd-wp) — soft-dirty then refuses to start
 * @param scanChunkRegions regions per PAGEMAP_SCAN call (the vec length); 512 = the kernel's
 *                     bounce buffer (PMD_SIZE / PAGE_SIZE on 4K), so one call never restarts inside
 */
public record TrackerOptions(TrueWriteLog trueWriteLog, WriterFreeze writerFreeze, int scanChunkRegions) {

    public static final int DEFAULT_SCAN_CHUNK_REGIONS = 512;

    public TrackerOptions {
        if (scanChunkRegions < 1) {
            throw new IllegalArgumentException("scanChunkRegions must be at least 1, got " + scanChunkRegions);
        }
    }

    public static TrackerOptions defaults() {
        return new TrackerOptions(null, null, DEFAULT_SCAN_CHUNK_REGIONS);
    }

    public TrackerOptions withTrueWriteLog(TrueWriteLog log) {
        return new TrackerOptions(log, writerFreeze, scanChunkRegions);
    }

    public TrackerOptions withWriterFreeze(WriterFreeze freeze) {
        return new TrackerOptions(trueWriteLog, freeze, scanChunkRegions);
    }

    public TrackerOptions withScanChunkRegions(int regions) {
        return new TrackerOptions(trueWriteLog, writerFreeze, regions);
    }
}
