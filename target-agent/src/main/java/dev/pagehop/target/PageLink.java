package dev.pagehop.target;

import java.util.concurrent.CompletableFuture;

/**
 * The target's connection to the frozen image on the source during post-copy: an urgent path for
 * pages a thread is blocked on and a bulk path for the background pull (separate streams, so a
 * fault never queues behind a multi-MiB background chunk). Replies carry the pages' contents back
 * to back, {@code pages × page size} bytes. Futures may complete on any thread.
 */
interface PageLink {

    /**
     * Why a request failed: the link is down but may come back; the source is gone for good; or
     * the source answered explicitly that its frozen image has no page there.
     */
    enum Failure {
        UNREACHABLE,
        SOURCE_LOST,
        NOT_ON_SOURCE
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

    /**
     * Gives up on this link (an answer is overdue): its open requests fail
     * {@link Failure#UNREACHABLE} and the source is made to reconnect.
     */
    default void abandon(String why) {
    }

    /** The migration cannot complete (the reason): the source may stop serving and report it. */
    default void cannotComplete(String why) {
    }
}
