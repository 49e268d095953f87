package dev.pagehop.bench.report;

import dev.pagehop.mm.Madvise;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ground truth of the comparison: every page whose contents a migration must carry again,
 * recorded by the workload's own calls before they reach the address space: stores, zaps
 * (MADV_DONTNEED/REMOVE/FREE), mremap destinations, and {@code mmap(MAP_FIXED)} over a range, which
 * replaces whatever was there with zeros (the range stays mapped, so no tracker may report it as
 * unmapped instead). The comparison collects only with the process frozen, so a plain set drained
 * at each collect is exact: no write can straddle a collect.
 */
final class ContentChangeLog {
    private final long pageSize;
    private volatile Set<Long> pages = ConcurrentHashMap.newKeySet();

    ContentChangeLog(long pageSize) {
        this.pageSize = pageSize;
    }

    void record(long addr, long lengthBytes) {
        if (lengthBytes <= 0) {
            return;
        }
        Set<Long> target = pages;
        for (long p = addr & -pageSize; p < addr + lengthBytes; p += pageSize) {
            target.add(p);
        }
    }

    /** The pages changed since the previous drain. Call only while the writers are frozen. */
    Set<Long> drain() {
        Set<Long> taken = pages;
        pages = ConcurrentHashMap.newKeySet();
        return taken;
    }

    /** {@code mm} with every content-changing call recorded here first. */
    MemoryManager wrap(MemoryManager mm) {
        if (mm.pageSize() != pageSize) {
            throw new IllegalArgumentException("change log counts " + pageSize + "-byte pages, address space uses "
                    + mm.pageSize());
        }
        return (MemoryManager) Proxy.newProxyInstance(MemoryManager.class.getClassLoader(),
                new Class<?>[] {MemoryManager.class}, new Recorder(mm, this));
    }

    private record Recorder(MemoryManager mm, ContentChangeLog log) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (args != null) {
                switch (name) {
                    case "store8" -> log.record((long) args[0], 1);
                    case "store16" -> log.record((long) args[0], 2);
                    case "store32" -> log.record((long) args[0], 4);
                    case "store64" -> log.record((long) args[0], 8);
                    case "write" -> log.record((long) args[0], ((byte[]) args[1]).length);
                    case "madvise" -> {
                        int advice = (int) args[2];
                        if (advice == Madvise.DONTNEED || advice == Madvise.REMOVE || advice == Madvise.FREE) {
                            log.record((long) args[0], (long) args[1]);
                        }
                    }
                    default -> { }
                }
            }
            Object result;
            try {
                result = method.invoke(mm, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (name.equals("mremap") && result instanceof Long to && to != (long) args[0]) {
                log.record(to, Math.min((long) args[1], (long) args[2]));
            } else if (name.equals("mmap") && args != null && args.length >= 4 && ((int) args[3] & MapFlags.FIXED) != 0
                    && result instanceof Long at) {
                log.record(at, (long) args[1]);
            }
            return result;
        }
    }
}
