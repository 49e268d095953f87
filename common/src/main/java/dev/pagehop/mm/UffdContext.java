package dev.pagehop.mm;

import java.util.concurrent.locks.Condition;

/** Placeholder until the userfaultfd lands. */
final class UffdContext {
    static final class Waiter {
        Condition cond;
        volatile boolean woken;
    }

    boolean async() {
        return false;
    }

    boolean sigbus() {
        return false;
    }

    boolean userModeOnly() {
        return false;
    }

    boolean exactAddress() {
        return false;
    }

    void countAsyncTrap() {
    }

    Waiter enqueueFault(long flags, long addr, long pageAddr) {
        throw new UnsupportedOperationException();
    }

    void dropWaiter(Waiter w) {
    }

    void unmapEvent(long start, long end) {
    }

    void removeEvent(long start, long end) {
    }

    void close() {
    }
}
