package dev.pagehop.track;

import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MemoryManager;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * An address space that records every user-mode store (and every zap and move, which change
 * contents) in a {@link TrueWriteLog} before performing it; every other call passes through.
 * Tests and benchmarks hand the wrapper to their workload and the plain address space to the
 * tracker, so the tracker is judged against what really happened.
 *
 * <p>A dynamic proxy rather than a hand-written decorator: the address-space interface grows
 * with the emulator, and a call this class does not know about must still reach it unchanged.
 */
public final class WriteRecordingMemory {

    private WriteRecordingMemory() {
    }

    public static MemoryManager wrap(MemoryManager mm, TrueWriteLog log) {
        if (mm == null || log == null) {
            throw new IllegalArgumentException("write recording needs an address space and a log, got " + mm + ", " + log);
        }
        if (log.pageSize() != mm.pageSize()) {
            throw new IllegalArgumentException("write log counts " + log.pageSize() + "-byte pages, address space uses "
                    + mm.pageSize());
        }
        return (MemoryManager) Proxy.newProxyInstance(MemoryManager.class.getClassLoader(),
                new Class<?>[] {MemoryManager.class}, new Recorder(mm, log));
    }

    private record Recorder(MemoryManager mm, TrueWriteLog log) implements InvocationHandler {

        private Object call(Method method, Object[] args) throws Throwable {
            try {
                return method.invoke(mm, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (args == null) {
                return name.equals("toString") ? "WriteRecordingMemory(" + mm + ")" : call(method, null);
            }
            long addr = 0;
            long len = 0;
            switch (name) {
                case "store8" -> len = 1;
                case "store16" -> len = 2;
                case "store32" -> len = 4;
                case "store64" -> len = 8;
                case "write" -> len = ((byte[]) args[1]).length;
                case "madvise" -> {
                    int advice = (int) args[2];
                    if (advice == Madvise.DONTNEED || advice == Madvise.REMOVE || advice == Madvise.FREE) {
                        len = (long) args[1];
                    }
                }
                default -> { }
            }
            if (len > 0) {
                addr = (long) args[0];
                log.beforeWrite(addr, len);
            }
            Object result;
            try {
                result = call(method, args);
            } finally {
                if (len > 0) {
                    log.afterWrite(addr, len);
                }
            }
            if (name.equals("mremap") && result instanceof Long to && to != (long) args[0]) {
                // The contents now live at new addresses.
                log.record(to, Math.min((long) args[1], (long) args[2]));
            }
            return result;
        }
    }
}
