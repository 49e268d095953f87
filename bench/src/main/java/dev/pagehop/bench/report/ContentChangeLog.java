package dev.pagehop.bench.report;

import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.track.TrueWriteLog;
import dev.pagehop.track.WriteRecordingMemory;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * The ground truth of the comparison: every page whose contents a migration must carry again.
 * {@link WriteRecordingMemory} already records stores, zaps and mremap destinations; this adds
 * {@code mmap(MAP_FIXED)} over a range, which replaces whatever was there with zeros and so must
 * be re-sent too (the range stays mapped, so no tracker reports it as unmapped). A tracker that
 * reports such a page is right, not a false positive.
 */
final class ContentChangeLog {

    private ContentChangeLog() {
    }

    static MemoryManager wrap(MemoryManager mm, TrueWriteLog log) {
        MemoryManager recording = WriteRecordingMemory.wrap(mm, log);
        return (MemoryManager) Proxy.newProxyInstance(MemoryManager.class.getClassLoader(),
                new Class<?>[] {MemoryManager.class}, new FixedMapRecorder(recording, log));
    }

    private record FixedMapRecorder(MemoryManager mm, TrueWriteLog log) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            Object result;
            try {
                result = method.invoke(mm, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (method.getName().equals("mmap") && args != null && args.length >= 4
                    && ((int) args[3] & MapFlags.FIXED) != 0 && result instanceof Long at) {
                log.record(at, (long) args[1]);
            }
            return result;
        }
    }
}
