package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Factory and option checks that need no kernel. */
class DirtyTrackersTest {

    @Test
    void unknownNameListsTheKnownOnes() {
        assertThatThrownBy(() -> DirtyTrackers.create("dirty-ring", null, TrackerOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dirty-ring")
                .hasMessageContaining("uffd-wp-async, soft-dirty, uffd-wp-sync");
        assertThatThrownBy(() -> DirtyTrackers.create(null, null, TrackerOptions.defaults()))
                .hasMessageContaining("null");
    }

    @Test
    void trackerWithoutAddressSpaceIsRefused() {
        assertThatThrownBy(() -> new UffdWpAsyncTracker(null, TrackerOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("address space");
    }

    @Test
    void scanChunkMustHoldARegion() {
        assertThatThrownBy(() -> TrackerOptions.defaults().withScanChunkRegions(0))
                .hasMessageContaining("scanChunkRegions").hasMessageContaining("0");
    }

    @Test
    void pageRangeRejectsEndBelowStart() {
        assertThatThrownBy(() -> new PageRange(0x2000, 0x1000)).hasMessageContaining("0x1000").hasMessageContaining("0x2000");
    }
}
