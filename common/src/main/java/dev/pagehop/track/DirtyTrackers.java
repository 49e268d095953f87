package dev.pagehop.track;

import dev.pagehop.mm.MemoryManager;
import java.util.List;

/** Creates a tracker by the name the CLI, the configuration and the reports use. */
public final class DirtyTrackers {

    /** Every tracker name, the default first. */
    public static final List<String> NAMES = List.of(UffdWpAsyncTracker.NAME, SoftDirtyTracker.NAME,
            UffdWpSyncTracker.NAME);

    public static final String DEFAULT = UffdWpAsyncTracker.NAME;

    private DirtyTrackers() {
    }

    /**
     * A new, not yet started tracker of the named kind on {@code mm}.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the known ones)
     * @throws IllegalStateException    for soft-dirty on a kernel without it
     */
    public static DirtyTracker create(String name, MemoryManager mm, TrackerOptions options) {
        if (name == null) {
            throw new IllegalArgumentException("tracker name is null; known trackers: " + NAMES);
        }
        return switch (name) {
            case UffdWpAsyncTracker.NAME -> new UffdWpAsyncTracker(mm, options);
            case SoftDirtyTracker.NAME -> new SoftDirtyTracker(mm, options);
            case UffdWpSyncTracker.NAME -> new UffdWpSyncTracker(mm, options);
            default -> throw new IllegalArgumentException("unknown tracker '" + name + "'; known trackers: " + NAMES);
        };
    }
}
