package dev.pagehop.source;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP proxy that forwards to a target and, once armed, cuts every connection after a
 * given number of further client bytes: the cut lands in the middle of whatever message is
 * passing (mid-chunk on a bulk stream of 64 KiB chunks), like a network failure, not a clean close.
 */
final class CuttingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final AtomicLong cutAfter = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();

    CuttingProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread accept = new Thread(this::acceptLoop, "proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Cuts all connections once {@code bytes} more client bytes have gone through. */
    void cutAfter(long bytes) {
        cutAfter.set(forwarded.get() + bytes);
    }

    void heal() {
        cutAfter.set(Long.MAX_VALUE);
    }

    private void acceptLoop() {
        while (!closed.get()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                pump(client, upstream, true);
                pump(upstream, client, false);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean counted) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (counted) {
                        long room = cutAfter.get() - forwarded.get();
                        if (room <= 0) {
                            break;
                        }
                        int send = (int) Math.min(n, room);
                        out.write(buf, 0, send);
                        forwarded.addAndGet(send);
                        if (send < n) {
                            break;
                        }
                    } else {
                        out.write(buf, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // The other side went away; close both below.
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // Already closed.
                }
            }
        }, "proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        closed.set(true);
        server.close();
    }
}
