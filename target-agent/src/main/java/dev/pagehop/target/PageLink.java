package dev.pagehop.target;

import java.util.concurrent.CompletableFuture;

/**
 * The target's connection to the frozen image on the source during post-copy: an urgent path for
 * pages a thread is blocked on and a bulk path for the background pull (separate streams, so a
 * fault never queues behind a 4 MiB background chunk). Replies carry the pages' contents back to
 * back, {@code pages × page size} bytes.
 */
interface PageLink {

    /** Why a request failed: the link is down but may come back, or the source is gone for good. */
    enum Failure {
        UNREACHABLE,
        SOURCE_LOST
    }

    /** A failed request, classified. */
    final class LinkException extends RuntimeException {
        private final Failure failure;

        LinkException(Failure failure, String message) {
            super(message);
            this.failure = failure;
        }

        Failure failure() {
            return failure;
        }
    }

    /** Urgent priority: a thread is blocked on {@code address}. */
    CompletableFuture<byte[]> demand(long address, int pages);

    /** Background priority. */
    CompletableFuture<byte[]> pull(long address, int pages);

    /** Every page is installed: the source may release its frozen image. */
    void release();
}
