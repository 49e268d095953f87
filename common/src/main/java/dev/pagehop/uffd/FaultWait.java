package dev.pagehop.uffd;

/**
 * Lets a thread's owner see when that thread sleeps in a userfault (handle_userfault) and when
 * it wakes: the process model counts a thread parked here as frozen. The emulated kernel calls
 * {@link #enter} before sleeping and {@link #exit} after waking, on the faulting thread.
 */
public final class FaultWait {

    /** Receives the faulting thread's sleep and wake-up; must not block. */
    public interface Listener {
        void sleeping(long address, boolean write);

        void woken(long address);
    }

    private static final ThreadLocal<Listener> LISTENER = new ThreadLocal<>();

    private FaultWait() {
    }

    public static void install(Listener listener) {
        LISTENER.set(listener);
    }

    public static void uninstall() {
        LISTENER.remove();
    }

    public static void enter(long address, boolean write) {
        Listener l = LISTENER.get();
        if (l != null) {
            l.sleeping(address, write);
        }
    }

    public static void exit(long address) {
        Listener l = LISTENER.get();
        if (l != null) {
            l.woken(address);
        }
    }
}
